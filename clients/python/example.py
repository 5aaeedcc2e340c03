"""Connects to feed-server with redis-py's defaults and looks around."""

import os

import redis

client = redis.Redis(host="127.0.0.1", port=int(os.environ.get("FEED_PORT", "6380")), decode_responses=True)

print("PING ->", client.ping())
info = client.info("server")
print("server:", info["server_name"], "version", info["feed_server_version"], "(Redis", info["redis_version"] + ")")
print("clients connected:", client.info("clients")["connected_clients"])

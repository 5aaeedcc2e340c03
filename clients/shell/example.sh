#!/usr/bin/env bash
# Connects to feed-server with redis-cli and looks around.
set -euo pipefail
port="${FEED_PORT:-6380}"

redis-cli -p "$port" PING
redis-cli -p "$port" INFO server | grep -E '^(server_name|feed_server_version|redis_version):'
redis-cli -p "$port" CLIENT LIST

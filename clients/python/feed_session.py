"""A follow -> post -> read session with redis-py's defaults."""

import os

import redis

feed = redis.Redis(host="127.0.0.1", port=int(os.environ.get("FEED_PORT", "6380")), decode_responses=True)

# bob follows alice and carol; the reply is 1 for a new follow, 0 if already following.
print("follow:", feed.execute_command("FEED.FOLLOW", "bob", "alice"), feed.execute_command("FEED.FOLLOW", "bob", "carol"))

# Posting returns the post id as a decimal string (exact in every language;
# int(post_id) gives the number): time-ordered, so ids sort like timestamps.
first = feed.execute_command("FEED.POST", "alice", '{"text": "hello from alice"}')
second = feed.execute_command("FEED.POST", "carol", '{"text": "carol here"}')
print("posted:", first, second)

# bob's feed, newest first: [id, author, created_ms, body] per entry.
for post_id, author, created_ms, body in feed.execute_command("FEED.READ", "bob", "COUNT", 10):
    print(f"  {post_id} {author} {created_ms} {body}")

# Page with BEFORE the last id you saw.
older = feed.execute_command("FEED.READ", "bob", "COUNT", 10, "BEFORE", second)
print("before", second, "->", [entry[0] for entry in older])

feed.execute_command("FEED.LIKE", "bob", first)
print("stats:", feed.execute_command("FEED.STATS", "alice"))

"""Memory is a cache: --maxmemory and CONFIG SET maxmemory, Redis's OOM
refusal when nothing can be evicted (memory only), and, with PostgreSQL,
eviction that keeps memory near the bound while every acknowledged post
stays readable from the store."""

import random

import pytest
import redis
from conftest import command, exchange

OOM = "OOM command not allowed when used memory > 'maxmemory'."


def test_maxmemory_is_a_flag_and_a_config_parameter(start_server):
    server = start_server("--maxmemory", "100mb")
    client = server.client(decode_responses=True)
    assert client.config_get("maxmemory") == {"maxmemory": str(100 * 1024 * 1024)}
    info = client.info("memory")
    assert info["maxmemory"] == 100 * 1024 * 1024 and info["maxmemory_human"] == "100.00M"
    assert info["maxmemory_policy"] == "noeviction"  # memory only: nothing the store could give back
    assert client.config_set("maxmemory", "2gb")
    assert client.info("memory")["maxmemory"] == 2 * 1024**3
    with pytest.raises(redis.ResponseError, match="argument must be a memory value"):
        client.config_set("maxmemory", "lots")
    assert client.info("memory")["maxmemory"] == 2 * 1024**3  # a bad value changes nothing
    assert client.config_set("maxmemory", "0")
    assert client.info("memory")["maxmemory"] == 0


def test_memory_only_refuses_writes_past_maxmemory_and_changes_nothing(start_server):
    server = start_server()
    client = server.client(decode_responses=True)
    client.execute_command("FEED.FOLLOW", "bob", "alice")
    client.execute_command("FEED.POST", "alice", "before the bound")
    used = client.info("memory")["used_memory"]
    client.config_set("maxmemory", str(used + 64 * 1024))
    body = "x" * 1000
    refused = None
    for index in range(1000):
        try:
            client.execute_command("FEED.POST", "alice", f"{index} {body}")
        except redis.ResponseError as error:
            refused = error
            break
    assert isinstance(refused, redis.exceptions.OutOfMemoryError)  # redis-py knows Redis's OOM
    assert exchange(server.port, command("FEED.POST", "alice", "raw"))[0] == b"-" + OOM.encode() + b"\r\n"
    # The refused post changed nothing; the same error for every write that adds state.
    posts = client.execute_command("FEED.STATS", "alice")["posts"]
    with pytest.raises(redis.exceptions.OutOfMemoryError):
        client.execute_command("FEED.POST", "alice", "one more")
    with pytest.raises(redis.exceptions.OutOfMemoryError):
        client.execute_command("FEED.FOLLOW", "carol", "alice")
    assert client.execute_command("FEED.STATS", "alice")["posts"] == posts
    assert not client.execute_command("FEED.FOLLOWING", "carol")
    # Reads go on, and so do writes that free memory.
    assert len(client.execute_command("FEED.READ", "bob", "COUNT", 500)) == posts
    assert client.execute_command("FEED.UNFOLLOW", "bob", "alice") == 1
    info = client.info()
    assert info["oom_refusals"] >= 3 and info["errorstat_OOM"]["count"] >= 3
    # Lifting the bound lets writes in again.
    client.config_set("maxmemory", "0")
    assert client.execute_command("FEED.POST", "alice", "after the bound").isdigit()


def test_with_postgres_memory_stays_near_the_bound_and_every_post_stays_readable(start_server, tmp_path):
    server = start_server("--celebrity-threshold", "8", data_dir=tmp_path)
    client = server.client(decode_responses=True)
    rng = random.Random(3)
    users = [f"user:{index}" for index in range(40)]
    for user in users:
        for other in rng.sample(users, 6):
            if other != user:
                client.execute_command("FEED.FOLLOW", user, other)
    info = client.info("memory")
    assert info["maxmemory_policy"] == "allkeys-lru"
    bound = info["used_memory"] + 256 * 1024
    client.config_set("maxmemory", str(bound))

    posts = {}
    body = "y" * 200
    for batch in range(20):
        pipe = client.pipeline(transaction=False)
        authors = [rng.choice(users) for _ in range(200)]
        for offset, author in enumerate(authors):
            pipe.execute_command("FEED.POST", author, f"b{batch}.{offset} {body}")
        for offset, (author, post) in enumerate(zip(authors, pipe.execute())):
            posts[int(post)] = (author, f"b{batch}.{offset} {body}")
    for post in rng.sample(sorted(posts), 30):
        client.execute_command("FEED.LIKE", "liker", post)

    info = client.info()
    assert info["evicted_posts"] > 0 and info["eviction_passes"] > 0
    assert info["used_memory"] <= bound * 1.1, (info["used_memory"], bound)
    assert info["posts"] < len(posts)  # most post records left memory

    # Every acknowledged post is readable: by id, ...
    ids = sorted(posts)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        entries = client.execute_command("FEED.GET", *chunk)
        assert [int(entry[0]) for entry in entries] == chunk
        assert all((entry[1], entry[3]) == posts[int(entry[0])] for entry in entries)
    # ... in every author's own posts, paged with BEFORE, ...
    for author in rng.sample(users, 5):
        own = sorted((post for post, (who, _) in posts.items() if who == author), reverse=True)
        seen, before = [], None
        while True:
            page = client.execute_command("FEED.POSTS", author, "COUNT", 50, *(["BEFORE", before] if before else []))
            seen += [int(entry[0]) for entry in page if int(entry[0]) in posts]
            if len(page) < 50:
                break
            before = page[-1][0]
        assert seen == own
    # ... and in a reader's feed, with the likes counted.
    liked = rng.sample(ids[:100], 5)
    for post in liked:
        before = client.execute_command("FEED.LIKE", "late", post)
        assert client.execute_command("FEED.LIKE", "late", post) == before  # liking twice counts once
        assert client.execute_command("FEED.UNLIKE", "late", post) == before - 1
    assert info["store_continuations"] + client.info()["store_faults"] > 0

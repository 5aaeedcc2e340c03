"""A seconds-long smoke run of the load tool, feed-bench, against a test
feed-server and against the Redis + Lua baseline on a stock redis-server:
what it reports must match what the servers counted."""

import json
import pathlib
import subprocess

import pytest
import redis

from conftest import BINARY, ROOT, free_port, stock_redis

BENCH = str(pathlib.Path(BINARY).parent / "feed-bench")


def bench(*args, check=True, timeout=120):
    result = subprocess.run([BENCH, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                            env={"SWIFT_BACKTRACE": "enable=no", "PATH": "/usr/bin:/bin"})
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def commandstats(client):
    return client.info("commandstats")


def test_setup_loads_the_graph_and_closed_loop_counts_match_the_server(server):
    out = bench("setup", "--port", server.port, "--users", 300, "--follows", 10, "--zipf", 1.1, "--seed", 3).stdout
    assert "loaded 300 users, 3000 follows, warmed 300 timelines" in out
    client = server.client()
    feed = client.info("feed")
    assert feed["users"] == 300 and feed["follows"] == 3000
    # Zipf popularity: user 0 is followed far more than the average of 10.
    stats = client.execute_command("FEED.STATS", "user:000000000000")
    stats = stats if isinstance(stats, dict) else dict(zip(stats[::2], stats[1::2]))
    assert stats[b"followers"] > 100
    client.config_resetstat()
    report = json.loads(bench("run", "--port", server.port, "--users", 300, "--workload", "mix", "-c", 4, "-P", 4,
                              "--duration", 1.5, "--json", "--quiet").stdout)
    posts, reads = report["kinds"]["post"], report["kinds"]["read"]
    assert posts["errors"] == reads["errors"] == 0
    assert posts["requests"] > 50 and reads["requests"] > 50
    assert report["all"]["requests"] == posts["requests"] + reads["requests"]
    for figures in (posts, reads):
        assert 0 < figures["p50"] <= figures["p95"] <= figures["p99"] <= figures["p999"] <= figures["max"]
    # Every request the tool counts is one the server ran.
    stats = commandstats(client)
    assert stats["cmdstat_feed.post"]["calls"] == posts["requests"]
    assert stats["cmdstat_feed.read"]["calls"] == reads["requests"]


def test_open_loop_sends_at_the_rate_asked(server):
    report = json.loads(bench("run", "--port", server.port, "--workload", "posts", "--rate", 400, "-c", 4,
                              "--duration", 1, "--users", 50, "--json", "--quiet").stdout)
    assert report["mode"] == "open loop at 400 req/s"
    assert 390 <= report["kinds"]["post"]["requests"] <= 410
    assert server.client().info("feed")["posts"] == report["kinds"]["post"]["requests"]


def test_table_progress_and_follow_churn(server):
    result = bench("run", "--port", server.port, "--workload", "follows", "-c", 2, "--duration", 2.2, "--users", 100)
    assert "follows on 127.0.0.1" in result.stdout
    assert "follow " in result.stdout and "unfollow " in result.stdout
    assert result.stderr.count("req/s") >= 2  # a progress line each second
    follows = server.client().info("feed")["follows"]
    assert follows <= 2  # each follow was undone, but for the last pair of each connection


def test_bad_arguments_are_refused():
    result = bench("run", "--workload", "nope", check=False)
    assert result.returncode != 0 and "--workload must be one of" in result.stderr
    result = bench("run", "--rate", 0, check=False)
    assert result.returncode != 0 and "--rate must be positive" in result.stderr
    result = bench("run", "--port", free_port(), "--duration", 1, check=False)
    assert result.returncode != 0 and "cannot connect" in result.stderr


def test_pipe_file_loads_with_redis_cli(server, tmp_path):
    path = tmp_path / "graph.resp"
    bench("setup", "--users", 200, "--follows", 5, "--pipe", path)
    with open(path, "rb") as commands:
        out = subprocess.run(["redis-cli", "-p", str(server.port), "--pipe"], stdin=commands, capture_output=True,
                             text=True, timeout=60)
    assert out.returncode == 0 and "errors: 0, replies: 1200" in out.stdout, out.stdout
    assert server.client().info("feed")["follows"] == 1000
    csv = tmp_path / "graph.csv"
    bench("setup", "--users", 200, "--follows", 5, "--csv", csv)
    edges = csv.read_text().splitlines()
    assert len(edges) == 1000 and all(line.count(",") == 1 for line in edges)


def test_celebrity_post_reaches_every_follower(server):
    result = json.loads(bench("celebrity", "--port", server.port, "--followers", 400, "--json").stdout)
    assert result["followers"] == 400
    assert 0 < result["post_reply_ms"] <= result["all_followers_see_it_ms"]
    assert result["read_passes"] >= 1


@pytest.fixture(scope="module")
def lua_redis():
    """A stock redis-server of its own with bench/baselines/feed.lua loaded."""
    with stock_redis("redis-lua-") as port:
        client = redis.Redis(port=port)
        client.function_load((ROOT / "bench/baselines/feed.lua").read_text(), replace=True)
        yield port, client


def test_redis_lua_baseline_behaves_like_the_feed(lua_redis):
    port, client = lua_redis
    assert client.fcall("feed_follow", 2, "bob", "alice") == 1
    first = client.fcall("feed_post", 1, "alice", "one")
    second = client.fcall("feed_post", 1, "alice", "two")
    entries = client.fcall_ro("feed_read", 1, "bob", 10)
    assert [entry[0] for entry in entries] == [second, first]
    assert entries[0][1] == b"alice" and entries[0][3] == b"two"
    # The same tool drives it through the redis-lua dialect.
    bench("setup", "--port", port, "--dialect", "redis-lua", "--users", 200, "--follows", 10)
    report = json.loads(bench("run", "--port", port, "--dialect", "redis-lua", "--workload", "mix", "-c", 2,
                              "--duration", 1, "--users", 200, "--json", "--quiet").stdout)
    assert report["kinds"]["post"]["errors"] == report["kinds"]["read"]["errors"] == 0
    assert report["kinds"]["read"]["requests"] > 10
    result = json.loads(bench("celebrity", "--port", port, "--dialect", "redis-lua", "--followers", 300, "--json").stdout)
    assert result["read_passes"] >= 1


def test_subscribe_counts_every_message_against_the_server_and_redis(server):
    args = ["subscribe", "--subscribers", 20, "--follows", 5, "--authors", 40, "--rate", 200, "--duration", 1,
            "--throughput-seconds", 0.5, "-c", 2, "-P", 4, "--json"]
    report = json.loads(bench(*args, "--port", server.port).stdout)
    assert report["posts"] >= 190 and report["lost"] == 0 and report["repeated"] == 0 and report["outOfOrder"] == 0
    assert report["delivered"] == report["expectedMessages"] > 0
    assert 0 < report["latency"]["p50"] <= report["latency"]["p99"] <= report["latency"]["max"]
    assert report["postsPerSecondWithout"] > 0 and report["postsPerSecondWith"] > 0
    # The same messages through a stock redis-server (the ceiling mode), counted the same way.
    with stock_redis("redis-subscribe-") as port:
        ceiling = json.loads(bench(*args, "--port", port, "--redis-publish").stdout)
    assert ceiling["lost"] == 0 and ceiling["delivered"] == ceiling["expectedMessages"] > 0


def test_setup_sends_tryagain_refusals_again_until_the_graph_is_whole(start_server):
    """A durable server whose journal holds only 100 entries refuses most of
    a pipelined graph load with TRYAGAIN while PostgreSQL catches up; the
    load tool sends those again, as a client would, and every follow lands."""
    from postgres_fixture import Postgres

    postgres = Postgres()
    try:
        server = start_server("--postgres-url", postgres.url, "--max-backlog", "100")
        out = bench("setup", "--port", server.port, "--users", 300, "--follows", 10, "--seed", 5, timeout=300).stdout
        assert "loaded 300 users, 3000 follows" in out
        client = server.client()
        assert client.info("feed")["follows"] == 3000
        assert client.info("errorstats").get("errorstat_TRYAGAIN", {}).get("count", 0) > 0, \
            "the journal bound was never reached: the test did not exercise a retry"
        client.execute_command("FEED.SYNC", 60000)
        assert postgres.psql("SELECT count(*) FROM follows").strip() == "3000"
    finally:
        postgres.destroy()


def test_redis_dialect_sends_set_and_lrange_to_a_stock_redis():
    """--dialect redis, the floor a run is compared with: a post is SET of
    the body, a read LRANGE of the user's whole list, counted as the server
    counts them."""
    with stock_redis("bench-floor-") as port:
        client = redis.Redis(port=port)
        for user in range(5):
            client.rpush(f"list:user:{user:012d}", *([b"x" * 40] * 200))
        client.config_resetstat()
        report = json.loads(bench("run", "--port", port, "--dialect", "redis", "--workload", "mix", "--users", 5, "-c", 2,
                                  "--duration", 1, "--json", "--quiet").stdout)
        posts, reads = report["kinds"]["post"], report["kinds"]["read"]
        assert posts["errors"] == reads["errors"] == 0 and posts["requests"] > 10 and reads["requests"] > 10
        stats = client.info("commandstats")
        assert stats["cmdstat_set"]["calls"] == posts["requests"]
        assert stats["cmdstat_lrange"]["calls"] == reads["requests"]
        assert client.get("post:user:000000000001") == b"b" * 110

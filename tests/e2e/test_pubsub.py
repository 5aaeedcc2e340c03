"""Redis pub/sub as Redis 7 has it (the bytes compared with a stock
redis-server), through redis-cli, redis-py (RESP2 and RESP3) and node-redis;
and the feed channels: `feed:<user>` and `posts:<author>` carry a JSON event
for every entry that lands in a feed, pushed or pulled, and for deletes."""

import json
import os
import pathlib
import shutil
import socket
import subprocess
import threading
import time

import pytest
import redis
from conftest import command, exchange

NODE = pathlib.Path(__file__).resolve().parent / "node"


# Requests whose replies must be byte for byte Redis's.
SAME_AS_REDIS = [
    command("SUBSCRIBE", "a", "b") + command("ECHO", "x") + command("PING") + command("PING", "hi")
    + command("UNSUBSCRIBE", "b", "a") + command("PING"),
    # Without arguments Redis unsubscribes in its dictionary's order: one channel keeps it comparable.
    command("SUBSCRIBE", "a") + command("UNSUBSCRIBE") + command("UNSUBSCRIBE"),
    command("PSUBSCRIBE", "f*") + command("PUNSUBSCRIBE") + command("UNSUBSCRIBE") + command("PUNSUBSCRIBE"),
    command("PUBLISH", "a", "m") + command("PUBSUB", "CHANNELS") + command("PUBSUB", "NUMSUB", "a", "b")
    + command("PUBSUB", "NUMPAT"),
    command("SUBSCRIBE") + command("PUBLISH", "a"),
    command("SUBSCRIBE", "a") + command("RESET") + command("PING"),
    command("SUBSCRIBE", "a") + command("CLIENT", "LIST"),
    command("SUBSCRIBE", "a") + command("SUBSCRIBE", "a") + command("PSUBSCRIBE", "a*") + command("UNSUBSCRIBE", "a")
    + command("QUIT"),
    command("HELLO", "3") + command("SUBSCRIBE", "a") + command("PING") + command("ECHO", "in resp3")
    + command("UNSUBSCRIBE", "a", "zz"),
]


@pytest.mark.parametrize("request_bytes", SAME_AS_REDIS)
def test_subscribed_mode_replies_are_redis_bytes(server, redis_server, request_bytes):
    ours, _ = exchange(server.port, request_bytes)
    theirs, _ = exchange(redis_server, request_bytes)
    if request_bytes.startswith(command("HELLO", "3")):
        # HELLO names the server and the connection id: compare what follows.
        ours, theirs = ours[ours.index(b">3"):], theirs[theirs.index(b">3"):]
    assert ours == theirs


def test_redis_py_pubsub_in_both_protocols(server):
    for protocol in (2, 3):
        client = server.client(protocol=protocol, decode_responses=True)
        pubsub = client.pubsub()
        pubsub.subscribe("news")
        pubsub.psubscribe("sport.*")
        assert pubsub.get_message(timeout=5)["type"] == "subscribe"
        assert pubsub.get_message(timeout=5)["type"] == "psubscribe"
        assert client.publish("news", "hello") == 1
        assert client.publish("sport.tennis", "ace") == 1
        message = pubsub.get_message(timeout=5)
        assert (message["type"], message["channel"], message["data"]) == ("message", "news", "hello")
        message = pubsub.get_message(timeout=5)
        assert (message["type"], message["pattern"], message["channel"], message["data"]) == (
            "pmessage", "sport.*", "sport.tennis", "ace")
        assert client.pubsub_channels() == ["news"] and client.pubsub_numsub("news") == [("news", 1)]
        assert client.pubsub_numpat() == 1
        pubsub.close()


def test_redis_cli_subscribe_prints_messages(server):
    cli = subprocess.Popen(["redis-cli", "-p", str(server.port), "SUBSCRIBE", "news"], stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 10
        while server.client().pubsub_numsub("news")[0][1] == 0 and time.time() < deadline:
            time.sleep(0.05)
        server.client().publish("news", "from a publisher")
        lines = [cli.stdout.readline().strip() for _ in range(6)]
        assert lines == ["subscribe", "news", "1", "message", "news", "from a publisher"]
    finally:
        cli.kill()
        cli.wait()


def node_subscriber(port, channel, wanted):
    if shutil.which("node") is None or not pathlib.Path("/usr/share/nodejs/redis").exists():
        pytest.skip("node and Debian's node-redis are needed")
    process = subprocess.Popen(
        ["node", str(NODE / "subscribe.cjs"), str(port), channel, str(wanted)], stdout=subprocess.PIPE, text=True,
        env=dict(os.environ, NODE_PATH="/usr/share/nodejs"))
    assert process.stdout.readline().strip() == "ready"
    return process


def test_node_redis_subscribes_and_gets_feed_events_with_exact_ids(server):
    client = server.client(decode_responses=True)
    client.execute_command("FEED.FOLLOW", "bob", "alice")
    node = node_subscriber(server.port, "feed:bob", 2)
    try:
        first = client.execute_command("FEED.POST", "alice", "for node")
        client.execute_command("FEED.DELETE", "alice", first)
        lines = [json.loads(node.stdout.readline()) for _ in range(2)]
        assert node.wait(30) == 0
    finally:
        node.kill()
    events = [json.loads(line["message"]) for line in lines]
    assert [line["channel"] for line in lines] == ["feed:bob", "feed:bob"]
    assert events[0]["event"] == "post" and events[0]["id"] == first and events[0]["body"] == "for node"
    assert events[1] == {"event": "delete", "id": first}


def test_client_list_shows_subscriptions(server):
    pubsub = server.client().pubsub()
    pubsub.subscribe("a", "b")
    pubsub.psubscribe("c*")
    pubsub.get_message(timeout=5)
    line = next(l for l in server.client(decode_responses=True).client_list() if l["sub"] != "0")
    assert (line["sub"], line["psub"], line["flags"]) == ("2", "1", "P")
    assert server.client().info()["pubsub_channels"] == 2 and server.client().info()["pubsub_patterns"] == 1


def listen(server, *channels, protocol=3):
    pubsub = server.client(protocol=protocol, decode_responses=True).pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(*channels)
    deadline = time.time() + 5
    while time.time() < deadline:
        if all(count for _, count in server.client().pubsub_numsub(*channels)):
            return pubsub
        time.sleep(0.02)
    raise AssertionError("not subscribed")


def events(pubsub, count, timeout=10):
    got = []
    deadline = time.time() + timeout
    while len(got) < count and time.time() < deadline:
        message = pubsub.get_message(timeout=0.5)
        if message:
            got.append((message["channel"], json.loads(message["data"])))
    return got


def test_feed_channels_get_every_entry_pushed_or_pulled_and_own_posts(start_server):
    server = start_server("--celebrity-threshold", "3")
    client = server.client(decode_responses=True)
    for fan in ["f1", "f2", "f3"]:
        client.execute_command("FEED.FOLLOW", fan, "star")  # star is a celebrity: pulled, not pushed
    client.execute_command("FEED.FOLLOW", "f1", "alice")
    pubsub = listen(server, "feed:f1", "feed:f2", "feed:alice", "posts:star")
    star = client.execute_command("FEED.POST", "star", 'he said "hi"\n\tand left ☕')
    mine = client.execute_command("FEED.POST", "alice", "own post")
    got = events(pubsub, 5)
    by_channel = {}
    for channel, event in got:
        by_channel.setdefault(channel, []).append(event)
    assert [event["id"] for event in by_channel["feed:f1"]] == [star, mine]
    assert [event["id"] for event in by_channel["feed:f2"]] == [star]
    assert [event["id"] for event in by_channel["feed:alice"]] == [mine]  # an author's own posts reach their feed
    assert [event["id"] for event in by_channel["posts:star"]] == [star]
    event = by_channel["feed:f2"][0]
    assert event == {"event": "post", "id": star, "author": "star", "ts": event["ts"],
                     "body": 'he said "hi"\n\tand left ☕'}
    assert isinstance(event["ts"], int) and abs(event["ts"] - time.time() * 1000) < 10_000
    # Nobody else's feed heard anything.
    assert events(pubsub, 1, timeout=0.5) == []


def test_feed_events_reach_patterns_and_posts_channels_alone(server):
    """Whoever listens gets the feed's events, whatever else is subscribed:
    a pattern over every feed, an author's posts channel by itself, and
    unrelated channels beside them."""
    client = server.client(decode_responses=True)
    client.execute_command("FEED.FOLLOW", "bob", "alice")
    unrelated = listen(server, "news")
    quiet = client.execute_command("FEED.POST", "alice", "nobody listens to feeds yet")
    posts = listen(server, "posts:alice")
    only_posts = client.execute_command("FEED.POST", "alice", "to the posts channel")
    assert [(channel, event["id"]) for channel, event in events(posts, 1)] == [("posts:alice", only_posts)]
    pattern = server.client(decode_responses=True).pubsub(ignore_subscribe_messages=True)
    pattern.psubscribe("feed:*")
    deadline = time.time() + 5
    while client.execute_command("PUBSUB", "NUMPAT") == 0 and time.time() < deadline:
        time.sleep(0.02)
    seen = client.execute_command("FEED.POST", "alice", "to every feed")
    got = []
    deadline = time.time() + 10
    while len(got) < 2 and time.time() < deadline:
        message = pattern.get_message(timeout=0.5)
        if message:
            got.append((message["pattern"], message["channel"], json.loads(message["data"])["id"]))
    assert sorted(got) == [("feed:*", "feed:alice", seen), ("feed:*", "feed:bob", seen)]
    assert quiet not in [event["id"] for _, event in events(posts, 1, timeout=0.3)]
    assert unrelated.get_message(timeout=0.3) is None


def test_deletes_reach_those_who_could_have_seen_the_post(server):
    client = server.client(decode_responses=True)
    client.execute_command("FEED.FOLLOW", "bob", "alice")
    pubsub = listen(server, "feed:bob", "feed:carol")
    post = client.execute_command("FEED.POST", "alice", "soon gone")
    client.execute_command("FEED.DELETE", "alice", post)
    assert events(pubsub, 2) == [
        ("feed:bob", {"event": "post", "id": post, "author": "alice", "ts": int(post) >> 22 + 0 and events and
                      (int(post) >> 22) + 1_704_067_200_000, "body": "soon gone"}),
        ("feed:bob", {"event": "delete", "id": post}),
    ]


def test_each_channel_gets_its_events_in_post_order_once(server):
    client = server.client(decode_responses=True)
    for writer in range(4):
        client.execute_command("FEED.FOLLOW", "reader", f"writer{writer}")
    pubsub = listen(server, "feed:reader")

    def write(writer):
        connection = server.client()
        for index in range(100):
            connection.execute_command("FEED.POST", f"writer{writer}", f"{writer}:{index}")

    threads = [threading.Thread(target=write, args=(writer,)) for writer in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    got = [event["id"] for _, event in events(pubsub, 400, timeout=30)]
    assert len(got) == 400 and len(set(got)) == 400
    assert [int(post) for post in got] == sorted(int(post) for post in got)


def test_no_subscribers_means_no_events_and_posts_still_work(server):
    client = server.client(decode_responses=True)
    client.execute_command("FEED.FOLLOW", "bob", "alice")
    assert client.execute_command("FEED.POST", "alice", "nobody listens").isdigit()
    assert client.publish("feed:bob", "x") == 0


def test_a_subscriber_that_never_reads_is_cut_off_and_memory_stays_bounded(server):
    client = server.client()
    silent = socket.create_connection(("127.0.0.1", server.port))
    silent.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    silent.sendall(command("SUBSCRIBE", "posts:loud"))
    deadline = time.time() + 5
    while client.pubsub_numsub("posts:loud")[0][1] == 0 and time.time() < deadline:
        time.sleep(0.02)
    body = "x" * 60_000
    sent = 0
    while sent < 200 * 1024 * 1024 and "Subscriber closed" not in server.log():
        pipe = client.pipeline(transaction=False)
        for _ in range(100):
            pipe.execute_command("FEED.POST", "loud", body)
        pipe.execute()
        sent += 100 * len(body)
    assert server.wait_for_log("Subscriber closed for overcoming of output buffer limits", timeout=10)
    assert server.log().count("Subscriber closed") == 1
    assert sent < 200 * 1024 * 1024  # cut off on the way
    info = client.info()
    assert info["client_output_buffer_limit_disconnections"] == 1
    assert client.pubsub_numsub("posts:loud")[0][1] == 0
    assert info["used_memory_rss"] < 200 * 1024 * 1024
    silent.close()


def test_read_after_catches_up_oldest_first(server):
    client = server.client(decode_responses=True)
    client.execute_command("FEED.FOLLOW", "bob", "alice")
    posts = [client.execute_command("FEED.POST", "alice", f"p{index}") for index in range(20)]
    page = client.execute_command("FEED.READ", "bob", "AFTER", posts[4], "COUNT", 5)
    assert [entry[0] for entry in page] == posts[5:10]
    assert [entry[0] for entry in client.execute_command("FEED.READ", "bob", "AFTER", posts[-1])] == []
    assert [entry[0] for entry in client.execute_command("FEED.READ", "bob", "AFTER", 1)] == posts
    with pytest.raises(redis.ResponseError, match="syntax error"):
        client.execute_command("FEED.READ", "bob", "AFTER", posts[1], "BEFORE", posts[3])


def test_read_after_goes_to_postgres_below_memory(start_server, tmp_path):
    server = start_server("--timeline-cap", "10", data_dir=tmp_path)
    client = server.client(decode_responses=True)
    client.execute_command("FEED.FOLLOW", "bob", "alice")
    client.execute_command("FEED.FOLLOW", "bob", "carol")
    posts = [client.execute_command("FEED.POST", "alice" if index % 2 else "carol", f"p{index}") for index in range(60)]
    client.execute_command("FEED.SYNC")
    got, after = [], posts[2]
    while True:
        page = [entry[0] for entry in client.execute_command("FEED.READ", "bob", "AFTER", after, "COUNT", 7)]
        got += page
        if len(page) < 7:
            break
        after = page[-1]
    assert got == posts[3:]
    assert client.info("persistence")["store_reads"] > 0

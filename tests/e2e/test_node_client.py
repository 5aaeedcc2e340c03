"""clients/node (feedclient for Node.js, on node-redis 4) against the real
server: its own `node --test` suite, the README's session, and `tsc
--noEmit` of its TypeScript declarations in strict mode."""

import os
import pathlib
import shutil
import subprocess

import pytest

from conftest import ROOT

CLIENT = ROOT / "clients" / "node"
NODE_PATH = "/usr/share/nodejs"  # Debian's node-redis

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not pathlib.Path(NODE_PATH, "redis").exists(), reason="node or node-redis missing")


def node(server, *args):
    env = dict(os.environ, FEED_PORT=str(server.port), NODE_PATH=NODE_PATH)
    return subprocess.run(["node", *args], capture_output=True, text=True, timeout=120, env=env, cwd=CLIENT)


def test_the_node_suite_passes_against_the_server(server):
    result = node(server, "--test", "test/")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# pass 3" in result.stdout and "# fail 0" in result.stdout


def test_the_readme_session_runs_as_written(server):
    result = node(server, "session.js")
    assert result.returncode == 0, result.stderr
    assert "alice hello from node" in result.stdout and "Err: no such post" in result.stdout and "liked: 1" in result.stdout


@pytest.mark.skipif(shutil.which("tsc") is None, reason="tsc (Debian's node-typescript) is not installed")
def test_the_declarations_type_check_strictly():
    result = subprocess.run(["tsc", "--noEmit", "-p", str(CLIENT)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr

"""The examples in clients/ run as written against a server."""

import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def run(server, *args):
    env = dict(os.environ, FEED_PORT=str(server.port))
    result = subprocess.run(list(args), capture_output=True, text=True, timeout=60, env=env, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_python_example(server):
    out = run(server, sys.executable, "clients/python/example.py")
    assert "PING -> True" in out and "feed-server" in out


def test_shell_example(server):
    out = run(server, "bash", "clients/shell/example.sh")
    assert out.startswith("PONG") and "server_name:feed-server" in out


def test_python_feed_session(server):
    out = run(server, sys.executable, "clients/python/feed_session.py")
    assert "follow: 1 1" in out and "carol here" in out and "hello from alice" in out
    assert "'followers': 1" in out


def test_shell_feed_session(server):
    out = run(server, "bash", "clients/shell/feed_session.sh")
    lines = out.splitlines()
    assert lines[0] == "1" and lines[1].startswith("alice posted ")
    assert "hello from the shell" in out and "followers" in out

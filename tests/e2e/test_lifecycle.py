"""Start-up flags and graceful shutdown: SIGTERM, SIGINT and SHUTDOWN stop
accepting, finish the replies in flight and exit 0."""

import signal
import subprocess
import time

import pytest

from conftest import BINARY, command


def test_help_documents_every_flag_with_its_default_and_variable():
    text = subprocess.run([BINARY, "--help"], capture_output=True, text=True, timeout=30).stdout
    for flag, variable in [
        ("--bind", "FEED_BIND"),
        ("--port", "FEED_PORT"),
        ("--requirepass", "FEED_REQUIREPASS"),
        ("--maxclients", "FEED_MAXCLIENTS"),
        ("--timeout", "FEED_TIMEOUT"),
        ("--log-level", "FEED_LOG_LEVEL"),
        ("--persistence", "FEED_PERSISTENCE"),
        ("--protected-mode", "FEED_PROTECTED_MODE"),
    ]:
        assert flag in text and variable in text, flag
    assert "default: 6380" in text and "default: 127.0.0.1" in text and "default: 10000" in text


def test_bad_settings_are_refused_at_start():
    for args, env in [(["--port", "70000"], {}), (["--log-level", "loud"], {}), ([], {"FEED_MAXCLIENTS": "many"})]:
        result = subprocess.run(
            ["timeout", "60", BINARY, *args], capture_output=True, text=True, timeout=90, env={"PATH": "/usr/bin:/bin", **env}
        )
        assert result.returncode != 0, args
        assert "Error" in result.stderr or "error" in result.stderr.lower(), result.stderr


def test_shutdown_command_exits_zero(server):
    result = subprocess.run(["redis-cli", "-p", str(server.port), "shutdown"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    assert server.process.wait(30) == 0
    assert "User requested shutdown" in server.log()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signals_exit_zero(server, sig):
    assert server.client().ping()
    assert server.stop(sig) == 0
    assert "bye" in server.log()


def test_shutdown_finishes_replies_in_flight(server):
    # 20,000 replies of 1 KiB: far more than the socket buffers hold, so most
    # are still in the server when it is told to stop.
    count = 20_000
    payload = "y" * 1024
    expected = (b"$1024\r\n" + payload.encode() + b"\r\n") * count
    with server.connect() as reader:
        reader.sendall(command("ECHO", payload) * count)
        reader.settimeout(30)
        received = reader.recv(1)
        time.sleep(0.5)  # let the server read every request
        server.signal_server(signal.SIGTERM)
        while True:
            chunk = reader.recv(1 << 20)
            if not chunk:
                break
            received += chunk
    assert len(received) == len(expected)
    assert received == expected
    assert server.process.wait(30) == 0


def test_no_new_clients_after_shutdown(server):
    port = server.port
    server.stop()
    result = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True, timeout=30)
    assert "PONG" not in result.stdout

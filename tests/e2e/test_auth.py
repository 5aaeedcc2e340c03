"""--requirepass: only the handshake before AUTH, Redis's words for every
refusal, and small requests until authenticated."""

import redis
import pytest

from conftest import command, exchange


@pytest.fixture
def locked(start_server):
    return start_server("--requirepass", "s3cret")


def test_redis_cli_with_and_without_password(locked):
    assert locked.cli("ping").strip() == "NOAUTH Authentication required."
    assert locked.cli("-a", "s3cret", "--no-auth-warning", "ping").strip() == "PONG"
    # redis-cli reports the failed AUTH on stderr, then sends the command anyway.
    assert "WRONGPASS" in locked.cli("-a", "wrong", "--no-auth-warning", "ping", with_stderr=True)


def test_redis_py_authenticates_with_hello(locked):
    assert locked.client(password="s3cret").ping() is True
    assert locked.client(password="s3cret", protocol=2).ping() is True
    assert locked.client(username="default", password="s3cret").ping() is True
    with pytest.raises(redis.AuthenticationError):
        locked.client(password="wrong").ping()
    # redis-py's HELLO 3 is refused with Redis's NOAUTH HELLO message, which it
    # raises as an AuthenticationError; over RESP2 the PING gets NOAUTH.
    with pytest.raises(redis.AuthenticationError) as refused:
        locked.client().ping()
    assert str(refused.value).startswith("HELLO must be called with the client already authenticated")
    with pytest.raises(redis.AuthenticationError, match="Authentication required"):
        locked.client(protocol=2).ping()


def test_auth_flows_over_the_wire(locked):
    flows = [
        (command("PING"), b"-NOAUTH Authentication required.\r\n"),
        (command("AUTH", "wrong"), b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"),
        (command("AUTH", "bob", "s3cret"), b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"),
        (command("AUTH", "s3cret") + command("PING"), b"+OK\r\n+PONG\r\n"),
        (command("AUTH", "default", "s3cret") + command("PING"), b"+OK\r\n+PONG\r\n"),
        (command("QUIT"), b"+OK\r\n"),
    ]
    for request, expected in flows:
        reply, _ = exchange(locked.port, request, settle=0.2)
        assert reply == expected, request


def test_unauthenticated_requests_are_refused_when_large(locked):
    assert exchange(locked.port, b"*20\r\n") == (b"-ERR Protocol error: unauthenticated multibulk length\r\n", True)
    assert exchange(locked.port, b"*2\r\n$4\r\nAUTH\r\n$20000\r\n") == (
        b"-ERR Protocol error: unauthenticated bulk length\r\n",
        True,
    )
    # Once authenticated, the same requests are fine.
    client = locked.client(password="s3cret")
    assert client.echo("x" * 20000) == b"x" * 20000


def test_password_from_environment(start_server):
    locked = start_server(env={"FEED_REQUIREPASS": "envpass"})
    assert locked.cli("ping").strip() == "NOAUTH Authentication required."
    assert locked.client(password="envpass").ping()

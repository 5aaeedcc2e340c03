"""The clients our users already have work unchanged: redis-cli, and
redis-py 8 with its defaults (RESP3 negotiated by HELLO 3, CLIENT SETINFO,
hiredis when installed) and with protocol=2."""

import redis
import redis.utils
import pytest

from conftest import command, exchange


def test_redis_cli_ping(server):
    assert server.cli("ping").strip() == "PONG"


def test_redis_cli_hello_3(server):
    lines = server.cli("-3", "hello", "3").split("\n")
    assert "proto" in lines[0] or any(line.startswith("proto") for line in lines)
    text = "\n".join(lines)
    assert "server" in text and "feed-server" in text
    assert "proto" in text and "3" in text
    assert "standalone" in text and "master" in text


def test_redis_cli_info_and_errors(server):
    assert "redis_version:" in server.cli("info", "server")
    assert server.cli("nosuch", "a", "b").strip() == "ERR unknown command 'nosuch', with args beginning with: 'a' 'b'"
    assert server.cli("ping", "a", "b").strip() == "ERR wrong number of arguments for 'ping' command"


def test_default_redis_py_speaks_resp3_with_hiredis(server):
    client = server.client()
    assert client.ping() is True
    connection = client.connection_pool.get_connection()
    try:
        assert connection.protocol == 3
        assert redis.utils.HIREDIS_AVAILABLE
        assert "Hiredis" in type(connection._parser).__name__
    finally:
        client.connection_pool.release(connection)
    # It announced itself with CLIENT SETINFO, which CLIENT LIST shows.
    me = [entry for entry in client.client_list() if entry.get("lib-name") == "redis-py"]
    assert me and me[0]["resp"] == "3" and me[0]["lib-ver"] == redis.__version__


def test_default_redis_py_reads_info(server):
    client = server.client()
    info = client.info()
    assert info["redis_version"] == "7.0.15"
    assert info["loading"] == 0
    assert info["connected_clients"] >= 1
    assert info["used_memory"] > 0
    everything = client.info("all")
    for key in ["redis_version", "total_commands_processed", "connected_clients", "used_memory", "role"]:
        assert key in everything
    assert client.info("clients").keys() >= {"connected_clients", "maxclients"}


def test_redis_py_over_resp2(server):
    client = server.client(protocol=2)
    assert client.ping() is True
    assert client.echo(b"\x00\xffbinary\r\n") == b"\x00\xffbinary\r\n"
    assert client.info()["redis_mode"] == "standalone"
    assert client.config_get("maxclients") == {"maxclients": "10000"}
    assert client.client_getname() is None
    assert client.client_setname("worker") is True
    assert client.client_getname() == "worker"  # redis-py decodes this reply


def test_ten_thousand_command_pipeline(server):
    client = server.client()
    pipe = client.pipeline(transaction=False)
    for index in range(10_000):
        pipe.echo(f"message-{index}")
    replies = pipe.execute()
    assert replies == [f"message-{index}".encode() for index in range(10_000)]


def test_errors_read_like_redis_in_redis_py(server):
    client = server.client()
    with pytest.raises(redis.ResponseError) as unknown:
        client.execute_command("FEED.NOPE", "a")
    assert str(unknown.value) == "unknown command 'FEED.NOPE', with args beginning with: 'a' "
    with pytest.raises(redis.ResponseError) as arity:
        client.execute_command("ECHO")
    assert str(arity.value) == "wrong number of arguments for 'echo' command"


def test_pipelined_raw_replies_stay_in_order(server):
    data = b"".join(command("ECHO", str(index)) for index in range(2000)) + b"PING\r\n"
    reply, closed = exchange(server.port, data, settle=1.0)
    expected = b"".join(b"$%d\r\n%d\r\n" % (len(str(index)), index) for index in range(2000)) + b"+PONG\r\n"
    assert reply == expected and not closed


def test_server_commands_match_redis_shapes(server, redis_server):
    for request in [
        command("ECHO", "hi"),
        command("PING"),
        command("PING", "x"),
        command("SELECT", "0"),
        command("SELECT", "x"),
        command("CLIENT", "GETNAME"),
        command("CLIENT", "SETNAME", "a b"),
        command("CLIENT", "FOO"),
        command("CLIENT"),
        command("CONFIG", "GET", "save"),
        command("CONFIG", "GET", "appendonly"),
        command("CONFIG", "GET"),
        command("CONFIG", "FOO"),
        command("HELLO", "4"),
        command("HELLO", "x"),
        command("HELLO", "3", "FOO"),
        command("AUTH", "x"),
        command("AUTH", "a", "b", "c"),
        command("COMMAND", "FOO"),
        command("DBSIZE"),
        command("RESET"),
        command("QUIT"),
    ]:
        assert exchange(server.port, request, settle=0.1) == exchange(redis_server, request, settle=0.1), request


def test_replies_filling_exactly_a_write_chunk_arrive(server):
    """A batch of replies ending at the 64 KiB point where the server hands
    a chunk to the socket once waited, unflushed, for the client's next request."""
    client = server.client()
    assert client.echo(b"z" * 100_000) == b"z" * 100_000
    client.execute_command("FEED.FOLLOW", "reader", "writer")
    client.execute_command("FEED.POST", "writer", "w" * 9_000)
    pipe = client.pipeline(transaction=False)
    for _ in range(8):
        pipe.execute_command("FEED.READ", "reader")
    replies = pipe.execute()
    assert len(replies) == 8 and all(len(reply) == 1 for reply in replies)

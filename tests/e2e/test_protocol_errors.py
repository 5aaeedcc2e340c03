"""Each framing error gets Redis's exact reply and the connection closes;
the requests Redis ignores are ignored. Where a stock redis-server is
installed, its bytes are the expected ones."""

import pytest

from conftest import command, exchange

ERRORS = [
    (b"*abc\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    (b"*1\r\nfoo\r\n", b"-ERR Protocol error: expected '$', got 'f'\r\n"),
    (b"*1\r\n$abc\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b'set "a\r\n', b"-ERR Protocol error: unbalanced quotes in request\r\n"),
    (b"ECHO 'a'b\r\n", b"-ERR Protocol error: unbalanced quotes in request\r\n"),
    (b"*1\r\n$-1\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*01\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    (b"A" * 70000, b"-ERR Protocol error: too big inline request\r\n"),
    (b"*" + b"1" * 70000, b"-ERR Protocol error: too big mbulk count string\r\n"),
    (b"*1\r\n$" + b"1" * 70000, b"-ERR Protocol error: too big bulk count string\r\n"),
    (b"*1\r\n$536870913\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    # What came before the error is answered first.
    (command("PING") + b"*1\r\nxyz\r\n", b"+PONG\r\n-ERR Protocol error: expected '$', got 'x'\r\n"),
]

IGNORED = [
    (b"\r\nPING\r\n", b"+PONG\r\n"),
    (b"*0\r\nPING\r\n", b"+PONG\r\n"),
    (b"*-10\r\nPING\r\n", b"+PONG\r\n"),
    (b"   \r\n" + command("ECHO", "x"), b"$1\r\nx\r\n"),
]


@pytest.mark.parametrize("data,expected", ERRORS, ids=[repr(d[:16]) for d, _ in ERRORS])
def test_protocol_error_replies_then_closes(server, data, expected):
    reply, closed = exchange(server.port, data)
    assert reply == expected
    assert closed
    # The server goes on serving everyone else.
    assert server.client().ping()


@pytest.mark.parametrize("data,expected", ERRORS, ids=[repr(d[:16]) for d, _ in ERRORS])
def test_protocol_errors_match_redis_byte_for_byte(server, redis_server, data, expected):
    assert exchange(server.port, data) == exchange(redis_server, data)


@pytest.mark.parametrize("data,expected", IGNORED, ids=[repr(d[:16]) for d, _ in IGNORED])
def test_empty_requests_are_ignored(server, redis_server, data, expected):
    reply, closed = exchange(server.port, data)
    assert (reply, closed) == (expected, False)
    assert exchange(redis_server, data) == (reply, closed)


def test_garbage_without_newline_is_cut_off(server):
    # A peer streaming bytes with no newline is cut off at the inline limit
    # rather than buffered without bound.
    with server.connect() as sock:
        sent = 0
        try:
            while sent < 10 * 1024 * 1024:
                sock.sendall(b"x" * 4096)
                sent += 4096
        except (BrokenPipeError, ConnectionResetError):
            pass
        sock.settimeout(5)
        try:
            reply = sock.recv(100)
        except ConnectionResetError:
            reply = b"<reset>"
    assert sent < 10 * 1024 * 1024
    assert reply in (b"-ERR Protocol error: too big inline request\r\n", b"<reset>", b"")

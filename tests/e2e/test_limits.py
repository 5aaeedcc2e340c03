"""Limits that keep one client from hurting the others: --maxclients, the
idle --timeout, and the output limit for clients that never read."""

import socket
import time

from conftest import command, exchange


def test_one_client_more_than_maxclients_is_refused(start_server):
    server = start_server("--maxclients", "2")
    with server.connect() as first, server.connect() as second:
        for sock in (first, second):
            sock.sendall(b"PING\r\n")
            assert sock.recv(100) == b"+PONG\r\n"
        assert exchange(server.port, b"PING\r\n") == (b"-ERR max number of clients reached\r\n", True)
        first.sendall(command("INFO", "stats"))
        time.sleep(0.2)
        assert b"rejected_connections:1\r\n" in first.recv(65536)


def test_maxclients_frees_a_slot_when_a_client_leaves(start_server):
    server = start_server("--maxclients", "1")
    with server.connect() as only:
        only.sendall(b"PING\r\n")
        assert only.recv(100) == b"+PONG\r\n"
        assert exchange(server.port, b"PING\r\n")[0] == b"-ERR max number of clients reached\r\n"
    deadline = time.time() + 5
    while time.time() < deadline:
        reply, _ = exchange(server.port, b"PING\r\n", settle=0.2)
        if reply == b"+PONG\r\n":
            break
        time.sleep(0.1)
    assert reply == b"+PONG\r\n"


def test_idle_clients_are_closed_after_the_timeout(start_server):
    server = start_server("--timeout", "1")
    with server.connect() as idle:
        idle.sendall(b"PING\r\n")
        assert idle.recv(100) == b"+PONG\r\n"
        idle.settimeout(10)
        started = time.time()
        assert idle.recv(100) == b""
        assert 0.5 < time.time() - started < 8


def test_no_idle_timeout_by_default(server):
    with server.connect() as patient:
        patient.settimeout(2.5)
        try:
            data = patient.recv(100)
        except socket.timeout:
            data = None
        assert data is None  # still open, nothing sent


def test_a_client_that_never_reads_is_cut_off(start_server):
    server = start_server("--client-output-limit", "1mb")
    request = command("ECHO", "x" * 1024) * 64
    sent = 0
    with server.connect() as greedy:
        greedy.settimeout(10)
        try:
            while sent < 200 * 1024 * 1024:
                greedy.sendall(request)
                sent += len(request)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            pass
    # It was closed long before it could make the server hold its 200 MB of replies.
    assert sent < 100 * 1024 * 1024
    assert server.wait_for_log(r"Client closed for overcoming of output buffer limits")
    assert server.client().ping()
    assert server.client().info("stats")["client_output_buffer_limit_disconnections"] == 1

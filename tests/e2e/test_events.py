"""The browser event stream (`--events-port`): `GET /events/<user>?token=…`
streams what `feed:<user>` carries as server-sent events, with `id:` the
post id; FEED.TOKEN mints the tokens; a wrong or expired one gets 401; a
reconnect with `Last-Event-ID` replays what was missed, from memory or from
PostgreSQL, and then streams, so nothing is lost or repeated."""

import json
import socket
import time

import pytest
from conftest import free_port


class EventStream:
    """A raw HTTP/1.1 server-sent events reader: no client library between
    the test and the bytes."""

    def __init__(self, port, path, last_event_id=None, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        headers = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        if last_event_id is not None:
            headers += f"Last-Event-ID: {last_event_id}\r\n"
        self.sock.sendall((headers + "\r\n").encode())
        self.buffer = b""
        head = self._read_until(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:] if line)}
        self.body = b""
        self.chunked = self.headers.get("transfer-encoding") == "chunked"
        self.text = ""  # the event-stream text decoded so far

    def _read_until(self, marker):
        while marker not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk
        head, self.buffer = self.buffer.split(marker, 1)
        return head

    def read_body(self):
        """The whole body of a response that is not a stream."""
        length = int(self.headers.get("content-length", "0"))
        while len(self.buffer) < length:
            self.buffer += self.sock.recv(65536)
        return self.buffer[:length].decode()

    def _more_text(self):
        if self.chunked:
            size = int(self._read_until(b"\r\n"), 16)
            while len(self.buffer) < size + 2:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("closed")
                self.buffer += chunk
            self.text += self.buffer[:size].decode()
            self.buffer = self.buffer[size + 2:]
        else:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.text += chunk.decode()

    def next_block(self):
        """The next blank-line-terminated block, as a dict of its fields
        (comments left out; `data` parsed as JSON)."""
        while True:
            while "\n\n" not in self.text:
                self._more_text()
            block, self.text = self.text.split("\n\n", 1)
            fields = {}
            for line in block.split("\n"):
                if line.startswith(":"):
                    continue
                name, _, value = line.partition(":")
                fields[name] = value[1:] if value.startswith(" ") else value
            if not fields:
                continue
            if "data" in fields:
                fields["data"] = json.loads(fields["data"])
            return fields

    def next_event(self):
        """The next block with data (an `id:`-only block is skipped)."""
        while True:
            block = self.next_block()
            if "data" in block:
                return block

    def nothing_within(self, seconds):
        self.sock.settimeout(seconds)
        try:
            self.next_event()
            return False
        except (socket.timeout, TimeoutError):
            return True
        finally:
            self.sock.settimeout(10)

    def close(self):
        self.sock.close()


@pytest.fixture
def events_server(start_server):
    port = free_port()
    server = start_server("--events-port", str(port))
    server.events_port = port
    return server


def open_stream(server, user, token=None, last_event_id=None):
    token = token if token is not None else server.client().execute_command("FEED.TOKEN", user).decode()
    return EventStream(server.events_port, f"/events/{user}?token={token}", last_event_id)


def test_stream_carries_the_feed_with_post_ids(events_server):
    client = events_server.client(decode_responses=True)
    client.execute_command("FEED.FOLLOW", "bob", "alice")
    before = client.execute_command("FEED.POST", "alice", "before the stream")
    stream = open_stream(events_server, "bob")
    assert stream.status == 200
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert stream.headers["access-control-allow-origin"] == "*"
    opening = stream.next_block()
    # The stream starts at the newest post so far: that one is not sent, and a reconnect resumes from it.
    assert int(opening["retry"]) > 0 and opening["id"] == before and "data" not in opening

    body = 'quote " backslash \\ newline \n tab \t snow ☃ and 😀'
    first = client.execute_command("FEED.POST", "alice", body)
    own = client.execute_command("FEED.POST", "bob", "my own")
    client.execute_command("FEED.POST", "carol", "not followed")
    event = stream.next_event()
    assert event["id"] == first  # the SSE id is the post id, digit for digit
    assert event["data"] == {
        "event": "post", "id": first, "author": "alice", "ts": event["data"]["ts"], "body": body,
    }
    assert event["data"]["ts"] == client.execute_command("FEED.GET", first)[0][2]
    assert stream.next_event()["id"] == own

    client.execute_command("FEED.DELETE", "alice", first)
    deleted = stream.next_event()
    assert deleted["data"] == {"event": "delete", "id": first}
    assert "id" not in deleted  # a delete does not move the browser's last id
    assert stream.nothing_within(0.5)  # carol's post never came
    assert client.info("clients")["connected_event_streams"] == 1
    stream.close()
    deadline = time.time() + 5
    while client.info("clients")["connected_event_streams"] != 0 and time.time() < deadline:
        time.sleep(0.05)
    assert client.info("clients")["connected_event_streams"] == 0


def test_notification_groups_reach_the_stream(events_server):
    client = events_server.client(decode_responses=True)
    post = client.execute_command("FEED.POST", "alice", "a post")
    stream = open_stream(events_server, "alice")
    stream.next_block()  # the opening
    client.execute_command("FEED.LIKE", "bob", post)
    client.execute_command("FEED.LIKE", "carol", post)
    first, second = stream.next_event(), stream.next_event()
    assert "id" not in first  # a notification does not move the browser's last post id
    assert first["data"]["event"] == "notification" and first["data"]["actors"] == ["bob"]
    assert second["data"]["actors"] == ["carol", "bob"] and second["data"]["object"] == post
    stream.close()


def test_celebrity_posts_reach_the_stream_at_post_time(start_server):
    port = free_port()
    server = start_server("--events-port", str(port), "--celebrity-threshold", "3")
    server.events_port = port
    client = server.client(decode_responses=True)
    for fan in ("f1", "f2", "f3", "f4"):
        client.execute_command("FEED.FOLLOW", fan, "star")
    stats = client.execute_command("FEED.STATS", "star")
    assert stats["celebrity"] == 1
    stream = open_stream(server, "f2")
    post = client.execute_command("FEED.POST", "star", "pulled, not pushed")
    assert stream.next_event()["id"] == post
    stream.close()


def test_bad_tokens_get_401_and_nothing_else_is_served(events_server):
    client = events_server.client(decode_responses=True)
    bob = client.execute_command("FEED.TOKEN", "bob")
    port = events_server.events_port
    for path in (
        "/events/bob?token=nonsense",
        "/events/bob",
        f"/events/alice?token={bob}",  # another user's token
        f"/events/bob?token={bob[:-2]}AA",  # tampered
        "/events/bob?token=" + str(int(bob.split(".")[0]) + 3600) + "." + bob.split(".")[1],  # extended
    ):
        response = EventStream(port, path)
        assert response.status == 401, path
        assert "token" in response.read_body().lower()
        response.close()
    for path in ("/", "/metrics", "/events/", f"/other/bob?token={bob}"):
        response = EventStream(port, path)
        assert response.status == 404, path
        response.close()
    short = client.execute_command("FEED.TOKEN", "bob", 1)
    time.sleep(2.1)
    expired = EventStream(port, f"/events/bob?token={short}")
    assert expired.status == 401
    assert "expired" in expired.read_body()
    expired.close()


def test_token_command_checks_its_arguments(events_server):
    cli = events_server.cli
    assert cli("FEED.TOKEN", "bob", "0").strip() == "ERR ttl must be between 1 and 31622400 seconds"
    assert cli("FEED.TOKEN", "bob", "soon").strip() == "ERR value is not an integer or out of range"
    assert cli("FEED.TOKEN", "bob", "10", "x").strip() == "ERR syntax error"
    assert "wrong number of arguments" in cli("FEED.TOKEN")
    assert "empty" in cli("FEED.TOKEN", "").lower()
    # A user id with characters a URL must escape works once escaped.
    client = events_server.client(decode_responses=True)
    token = client.execute_command("FEED.TOKEN", "ana maría/1")
    stream = EventStream(events_server.events_port, f"/events/ana%20mar%C3%ADa%2F1?token={token}")
    assert stream.status == 200
    post = client.execute_command("FEED.POST", "ana maría/1", "hola")
    assert stream.next_event()["id"] == post
    stream.close()


def test_reconnect_with_last_event_id_replays_what_was_missed(events_server):
    client = events_server.client(decode_responses=True)
    client.execute_command("FEED.FOLLOW", "bob", "alice")
    stream = open_stream(events_server, "bob")
    seen = client.execute_command("FEED.POST", "alice", "seen live")
    assert stream.next_event()["id"] == seen
    stream.close()

    missed = [client.execute_command("FEED.POST", "alice", f"missed {n}") for n in range(3)]
    client.execute_command("FEED.DELETE", "alice", missed[1])
    resumed = open_stream(events_server, "bob", last_event_id=seen)
    # What was missed, oldest first, without the deleted one; then live, once each.
    assert resumed.next_event()["id"] == missed[0]
    assert resumed.next_event()["id"] == missed[2]
    live = client.execute_command("FEED.POST", "alice", "live again")
    assert resumed.next_event()["id"] == live
    assert resumed.nothing_within(0.5)
    resumed.close()


def test_a_drop_before_any_event_still_resumes(events_server):
    """The stream opens with an `id:` of its own, so a browser that saw no
    event yet still sends a Last-Event-ID when it reconnects."""
    client = events_server.client(decode_responses=True)
    client.execute_command("FEED.POST", "bob", "before the stream")
    stream = open_stream(events_server, "bob")
    cursor = stream.next_block()["id"]
    stream.close()
    after = client.execute_command("FEED.POST", "bob", "while away")
    resumed = open_stream(events_server, "bob", last_event_id=cursor)
    event = resumed.next_event()
    assert event["id"] == after and event["data"]["body"] == "while away"
    resumed.close()


def test_replay_pages_through_many_missed_posts_in_order(events_server):
    client = events_server.client(decode_responses=True)
    for author in ("a0", "a1"):
        client.execute_command("FEED.FOLLOW", "bob", author)
    stream = open_stream(events_server, "bob")
    cursor = stream.next_block()["id"]
    stream.close()
    pipe = client.pipeline(transaction=False)
    for n in range(1300):  # more than two replay pages of 500, all within memory's recent lists
        pipe.execute_command("FEED.POST", f"a{n % 2}", f"post {n}")
    posted = pipe.execute()
    # FEED.READ AFTER, paged, is what a RESP client catching up would get.
    expected, after = [], cursor
    while page := client.execute_command("FEED.READ", "bob", "AFTER", after, "COUNT", 500):
        expected += [entry[0] for entry in page]
        after = page[-1][0]
    assert expected == posted
    resumed = open_stream(events_server, "bob", last_event_id=cursor)
    got = [resumed.next_event()["id"] for _ in posted]
    assert got == posted
    assert resumed.nothing_within(0.3)
    resumed.close()


def test_replay_after_a_restart_comes_from_postgresql(start_server, tmp_path):
    port = free_port()
    args = ("--events-port", str(port), "--events-secret", "shared secret")
    server = start_server(*args, data_dir=tmp_path)
    server.events_port = port
    client = server.client(decode_responses=True)
    client.execute_command("FEED.FOLLOW", "bob", "alice")
    token = client.execute_command("FEED.TOKEN", "bob")
    first = client.execute_command("FEED.POST", "alice", "one")
    later = [client.execute_command("FEED.POST", "alice", f"later {n}") for n in range(3)]
    client.execute_command("FEED.SYNC")
    server.stop()

    # A restarted server has none of these posts in memory; the same secret
    # keeps the browser's token good.
    again = start_server(*args, data_dir=tmp_path)
    again.events_port = port
    resumed = open_stream(again, "bob", token=token, last_event_id=first)
    replayed = [resumed.next_event() for _ in later]
    assert [event["id"] for event in replayed] == later
    assert [event["data"]["body"] for event in replayed] == ["later 0", "later 1", "later 2"]
    resumed.close()


def test_a_stream_that_stops_reading_is_cut_off(start_server):
    port = free_port()
    server = start_server(
        "--events-port", str(port), "--client-output-buffer-limit-pubsub", "1mb 0 0", "--max-body-bytes", "70000")
    server.events_port = port
    stream = open_stream(server, "bob")
    stream.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    client = server.client()
    body = "x" * 65536
    for _ in range(200):  # 13 MB for a reader that takes nothing
        client.execute_command("FEED.POST", "bob", body)
        if server.wait_for_log("Event stream closed for overcoming of output buffer limits", timeout=0):
            break
    assert server.wait_for_log("Event stream closed for overcoming of output buffer limits")
    assert client.ping()
    stream.close()


def test_cors_preflight_and_methods(events_server):
    port = events_server.events_port
    token = events_server.client().execute_command("FEED.TOKEN", "bob").decode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"OPTIONS /events/bob?token={token} HTTP/1.1\r\nHost: x\r\nOrigin: http://a.example\r\n"
                     "Access-Control-Request-Headers: last-event-id\r\n\r\n".encode())
        reply = sock.recv(4096).decode()
    assert reply.startswith("HTTP/1.1 204")
    assert "Access-Control-Allow-Headers: Last-Event-ID" in reply
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"POST /events/bob?token={token} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".encode())
        assert sock.recv(4096).decode().startswith("HTTP/1.1 405")

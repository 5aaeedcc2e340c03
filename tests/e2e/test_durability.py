"""PostgreSQL as the source of truth, end to end: writes survive restarts,
kill -9 (sync mode, and async mode after FEED.SYNC), and PostgreSQL going
away for a while; the durability audit finds nothing acknowledged missing."""

import base64
import pathlib
import random
import sys
import time

import pytest
import redis

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "bench"))
import durability_audit  # noqa: E402
from postgres_fixture import Postgres  # noqa: E402


def ids(entries):
    """Post ids as numbers (the server sends decimal strings: ADR 0010)."""
    return [int(entry[0]) for entry in entries]


def psql(data_dir, sql):
    import subprocess

    return subprocess.run(
        durability_audit.psql_arguments(data_dir) + ["-Atqc", sql], capture_output=True, text=True, check=True
    ).stdout


def build_graph(client, users=20, follows=6, seed=7):
    rng = random.Random(seed)
    names = [f"user:{index}" for index in range(users)]
    graph = {name: set() for name in names}
    for name in names:
        for other in rng.sample([n for n in names if n != name], follows):
            client.execute_command("FEED.FOLLOW", name, other)
            graph[name].add(other)
    return names, graph


def reference_feed(data_dir, user, graph, count):
    """Every live post in PostgreSQL by the user or anyone they follow, newest first."""
    authors = ",".join(f"'{name}'" for name in graph[user] | {user})
    out = psql(
        data_dir,
        f"SELECT p.id FROM posts p JOIN users u ON u.id = p.author_id "
        f"WHERE u.name IN ({authors}) AND p.deleted_at IS NULL ORDER BY p.id DESC LIMIT {count}",
    )
    return [int(line) for line in out.split()]


def test_state_survives_a_restart(start_server, tmp_path):
    server = start_server(data_dir=tmp_path)
    client = server.client(decode_responses=True)
    client.execute_command("FEED.FOLLOW", "bob", "alice")
    posts = [client.execute_command("FEED.POST", "alice", f"post {index}") for index in range(5)]
    client.execute_command("FEED.LIKE", "bob", posts[0])
    client.execute_command("FEED.DELETE", "alice", posts[1])
    before = client.execute_command("FEED.READ", "bob")
    assert server.stop() == 0  # a graceful stop commits the journal

    again = start_server(data_dir=tmp_path)
    client = again.client(decode_responses=True)
    assert client.execute_command("FEED.READ", "bob") == before
    assert client.execute_command("FEED.STATS", "alice")["posts"] == 4
    assert client.execute_command("FEED.LIKE", "carol", posts[0]) == 2
    assert client.execute_command("FEED.GET", posts[1]) == [None]
    assert "Loaded 2 users" in again.log()
    assert again.wait_for_log("Warmed memory with the 4 newest posts")
    assert int(client.execute_command("FEED.POST", "alice", "new")) > int(posts[-1])


def test_sync_mode_loses_nothing_acknowledged_to_kill_9(start_server, tmp_path):
    server = start_server("--durability", "sync", data_dir=tmp_path)
    client = server.client(decode_responses=True)
    names, graph = build_graph(client)
    snapshot = {name: client.execute_command("FEED.READ", name, "COUNT", 200) for name in names[:5]}

    loader = durability_audit.Loader(server.port, connections=8, users=20).start()
    time.sleep(2.0)
    server.kill()  # mid-load: no shutdown, no flush
    loader.stop()
    assert len(loader.acknowledged) > 100

    restarted = start_server("--durability", "sync", data_dir=tmp_path)
    missing, extra = durability_audit.check(loader.acknowledged, data_dir=tmp_path)
    assert missing == []
    assert len(extra) <= 8  # at most one unacknowledged post per connection was in flight
    client = restarted.client(decode_responses=True)
    for name in names:
        feed = ids(client.execute_command("FEED.READ", name, "COUNT", 500))
        assert feed == reference_feed(tmp_path, name, graph, 500), name
    for name, entries in snapshot.items():
        # What a user read before the crash is still in their feed, unchanged.
        after = {entry[0]: entry for entry in client.execute_command("FEED.READ", name, "COUNT", 500)}
        assert all(after.get(entry[0]) == entry for entry in entries)


def test_async_mode_after_feed_sync_loses_nothing_to_kill_9(start_server, tmp_path):
    server = start_server(data_dir=tmp_path)  # async is the default
    client = server.client(decode_responses=True)
    acknowledged = [int(client.execute_command("FEED.POST", f"user:{index % 7}", f"p{index}")) for index in range(2000)]
    pipe = client.pipeline(transaction=False)
    for index in range(2000, 5000):
        pipe.execute_command("FEED.POST", f"user:{index % 7}", f"p{index}")
    acknowledged += [int(post) for post in pipe.execute()]
    assert client.execute_command("FEED.SYNC", 10_000) == "OK"
    server.kill()

    start_server(data_dir=tmp_path)
    missing, _ = durability_audit.check(acknowledged, data_dir=tmp_path)
    assert missing == []


def test_feed_sync_waits_for_every_connection(start_server, tmp_path):
    server = start_server(data_dir=tmp_path)
    writer, syncer = server.client(decode_responses=True), server.client(decode_responses=True)
    posts = [int(writer.execute_command("FEED.POST", "alice", f"p{index}")) for index in range(300)]
    assert syncer.execute_command("FEED.SYNC") == "OK"
    stored = durability_audit.stored_post_ids(data_dir=tmp_path)
    assert set(posts) <= stored


def test_graceful_shutdown_commits_the_journal(start_server, tmp_path):
    server = start_server("--flush-interval", "500ms", data_dir=tmp_path)
    client = server.client(decode_responses=True)
    pipe = client.pipeline(transaction=False)
    for index in range(3000):
        pipe.execute_command("FEED.POST", f"user:{index % 5}", f"p{index}")
    acknowledged = [int(post) for post in pipe.execute()]
    assert server.stop() == 0
    start_server(data_dir=tmp_path)
    assert durability_audit.check(acknowledged, data_dir=tmp_path)[0] == []


def test_migrations_applied_twice_change_nothing(start_server, tmp_path):
    first = start_server(data_dir=tmp_path)
    first.client().execute_command("FEED.POST", "alice", "x")
    assert "Applied migration 1 initial_schema" in first.log()
    rows = psql(tmp_path, "SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
    schema = psql(tmp_path, "SELECT table_name, column_name, data_type FROM information_schema.columns "
                            "WHERE table_schema = 'public' ORDER BY table_name, ordinal_position")
    assert first.stop() == 0

    second = start_server(data_dir=tmp_path)
    assert "Applied migration" not in second.log()
    assert psql(tmp_path, "SELECT version, name, applied_at FROM schema_migrations ORDER BY version") == rows
    assert psql(tmp_path, "SELECT table_name, column_name, data_type FROM information_schema.columns "
                          "WHERE table_schema = 'public' ORDER BY table_name, ordinal_position") == schema
    assert psql(tmp_path, "SELECT count(*) FROM posts").strip() == "1"


def test_evicted_bodies_are_read_back_from_postgres(start_server, tmp_path):
    server = start_server("--post-cache-mb", "1", data_dir=tmp_path)
    client = server.client(decode_responses=True)
    client.execute_command("FEED.FOLLOW", "bob", "alice")
    body = "b" * 2000
    posts = [int(client.execute_command("FEED.POST", "alice", f"{index}:{body}")) for index in range(1500)]  # 3 MB
    assert client.execute_command("FEED.SYNC") == "OK"
    assert client.info("feed")["post_cache_evictions"] > 0
    oldest = client.execute_command("FEED.GET", posts[0], posts[1])
    assert [entry[3] for entry in oldest] == [f"0:{body}", f"1:{body}"]
    page = client.execute_command("FEED.READ", "bob", "COUNT", 5, "BEFORE", posts[10])
    assert ids(page) == posts[9:4:-1]
    assert all(entry[3] == f"{index}:{body}" for entry, index in zip(page, range(9, 4, -1)))
    assert client.info("persistence")["store_reads"] >= 2


def test_paging_goes_back_to_the_first_post_past_memory(start_server, tmp_path):
    server = start_server("--timeline-cap", "10", data_dir=tmp_path)
    client = server.client(decode_responses=True)
    client.execute_command("FEED.FOLLOW", "bob", "alice")
    client.execute_command("FEED.FOLLOW", "bob", "carol")
    posts = [int(client.execute_command("FEED.POST", "alice" if index % 2 else "carol", f"p{index}")) for index in range(40)]
    assert client.execute_command("FEED.SYNC") == "OK"
    for reader in (client, ):
        seen, before = [], None
        while True:
            args = ["FEED.READ", "bob", "COUNT", 7] + (["BEFORE", before] if before else [])
            page = ids(reader.execute_command(*args))
            seen += page
            if len(page) < 7:
                break
            before = page[-1]
        assert seen == posts[::-1]
    own = ids(client.execute_command("FEED.POSTS", "alice", "COUNT", 100))
    assert own == [post for index, post in enumerate(posts) if index % 2][::-1]


def test_postgres_outage_refuses_with_tryagain_and_recovers(start_server):
    postgres = Postgres()
    try:
        server = start_server("--postgres-url", postgres.url, "--max-backlog", "3000")
        client = server.client(decode_responses=True)
        client.execute_command("FEED.FOLLOW", "bob", "user:1")
        loader = durability_audit.Loader(server.port, connections=4, users=10).start()
        time.sleep(1.0)
        assert loader.tryagain == 0  # no refusals while PostgreSQL is up
        postgres.stop()
        deadline = time.time() + 20
        while loader.tryagain == 0 and time.time() < deadline:
            time.sleep(0.1)
        assert loader.tryagain > 0, "writes must be refused once the backlog is full"
        deadline = time.time() + 20
        while client.info("persistence")["postgres_up"] == 1 and time.time() < deadline:
            time.sleep(0.2)
        info = client.info("persistence")
        assert info["journal_backlog_full"] == 1 and info["postgres_up"] == 0
        assert info["journal_backlog_entries"] <= 3000
        # Reads go on working.
        assert isinstance(client.execute_command("FEED.READ", "bob", "COUNT", 10), list)
        time.sleep(2.0)
        postgres.start()
        deadline = time.time() + 60
        while time.time() < deadline:
            info = client.info("persistence")
            if info["postgres_up"] == 1 and info["journal_backlog_full"] == 0:
                break
            time.sleep(0.2)
        assert info["postgres_up"] == 1 and info["journal_backlog_full"] == 0
        tryagain_after_recovery = loader.tryagain
        time.sleep(1.0)
        loader.stop()
        assert loader.tryagain - tryagain_after_recovery < 50  # accepted again without a restart
        assert client.execute_command("FEED.SYNC", 30_000) == "OK"
        missing, _ = durability_audit.check(loader.acknowledged, url=postgres.url)
        assert missing == []
        assert server.wait_for_log("PostgreSQL write failed") and server.wait_for_log("reachable again")
        assert server.wait_for_log("backlog full") and server.wait_for_log("room again")
    finally:
        postgres.destroy()


def test_shutdown_that_cannot_commit_says_so(start_server):
    postgres = Postgres()
    try:
        server = start_server("--postgres-url", postgres.url, "--shutdown-flush-timeout", "2s")
        client = server.client(decode_responses=True)
        postgres.stop()
        client.execute_command("FEED.POST", "alice", "acknowledged, never committed")
        assert server.stop() != 0
        assert "Giving up at shutdown: 2 acknowledged writes were not committed" in server.log()
    finally:
        postgres.destroy()


def test_bodies_reach_postgres_byte_for_byte(start_server):
    """Posts go to PostgreSQL by COPY in its text format: the characters that
    format escapes (backslash, tab, newline, carriage return), quotes and
    non-ASCII text arrive unchanged, with the post's creation time."""
    postgres = Postgres()
    try:
        server = start_server("--postgres-url", postgres.url)
        client = server.client(decode_responses=True)
        bodies = ["back\\slash \\N \\t", "tab\there", "line\nbreak\r\nwindows", "quote ' \" and é ✓ 🙂", "\\", "ends with \\"]
        posted = {int(client.execute_command("FEED.POST", "ann", body)): body for body in bodies}
        reply = client.execute_command("FEED.POST", "bob", "a\treply", "REPLYTO", next(iter(posted)))
        assert client.execute_command("FEED.SYNC", 10_000) == "OK"
        stored = {}
        for line in postgres.psql(
            "SELECT id, encode(convert_to(body, 'UTF8'), 'base64'), "
            "(extract(epoch FROM created_at) * 1000)::bigint, kind, link_id FROM posts"
        ).splitlines():
            post, body, created, kind, link = line.split("|")
            stored[int(post)] = (base64.b64decode(body.replace("\\n", "")).decode(), int(created), int(kind), link)
        for post, body in posted.items():
            assert stored[post][0] == body
            assert stored[post][1] == (post >> 22) + 1_704_067_200_000  # the id's own milliseconds
            assert stored[post][2:] == (0, "")
        assert stored[int(reply)][0] == "a\treply" and stored[int(reply)][2:] == (1, str(next(iter(posted))))
    finally:
        postgres.destroy()


def test_a_batch_committed_but_not_acknowledged_is_written_again_without_duplicates(start_server):
    """A batch whose COMMIT goes through while the server has stopped waiting
    (here: a deferred trigger holds the first COMMIT past the 5 s write
    timeout) is retried; its posts are in PostgreSQL already, which COPY
    cannot skip, so the batch is written again skipping them, and every post
    is there once. Twice: a batch with new users, then one of posts only."""
    postgres = Postgres()
    try:
        server = start_server("--postgres-url", postgres.url)
        client = server.client(decode_responses=True)
        client.execute_command("FEED.POST", "ann", "before the trap")
        assert client.execute_command("FEED.SYNC", 10_000) == "OK"
        postgres.psql(
            """
            CREATE TABLE slow_once (armed boolean);
            INSERT INTO slow_once VALUES (true);
            CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF EXISTS (SELECT 1 FROM slow_once) THEN
                    DELETE FROM slow_once;
                    PERFORM pg_sleep(7);
                END IF;
                RETURN NULL;
            END $$;
            CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON posts
                DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit();
            """
        )
        posted = [int(client.execute_command("FEED.POST", f"user:{n % 5}", f"post {n}")) for n in range(40)]
        assert client.execute_command("FEED.SYNC", 30_000) == "OK"
        assert postgres.psql("SELECT count(*) FROM slow_once") == "0\n"  # the trap went off
        assert server.wait_for_log("PostgreSQL write failed")
        assert server.wait_for_log("in PostgreSQL already")
        stored = [int(line) for line in postgres.psql("SELECT id FROM posts").split()]
        assert sorted(set(posted) - set(stored)) == [] and len(stored) == 41
        # Again with every author known, so the trapped batch is posts only.
        postgres.psql("INSERT INTO slow_once VALUES (true)")
        posted += [int(client.execute_command("FEED.POST", f"user:{n % 5}", f"again {n}")) for n in range(40)]
        assert client.execute_command("FEED.SYNC", 30_000) == "OK"
        assert postgres.psql("SELECT count(*) FROM slow_once") == "0\n"
        deadline = time.time() + 10
        while server.log().count("in PostgreSQL already") < 2 and time.time() < deadline:
            time.sleep(0.1)
        assert server.log().count("in PostgreSQL already") == 2
        stored = [int(line) for line in postgres.psql("SELECT id FROM posts").split()]
        assert sorted(set(posted) - set(stored)) == [] and len(stored) == 81
        # And the server goes on writing by COPY.
        later = int(client.execute_command("FEED.POST", "ann", "after"))
        assert client.execute_command("FEED.SYNC", 10_000) == "OK"
        assert postgres.psql(f"SELECT count(*) FROM posts WHERE id = {later}") == "1\n"
    finally:
        postgres.destroy()

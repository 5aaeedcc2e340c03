"""User identity in PostgreSQL: migration 0002 converts a database written
with the previous schema (users keyed by the engine's dense numbers)
without losing a row, and two servers writing one database agree on every
user whatever order each met them in."""

import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from postgres_fixture import Postgres  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
INITIAL_SCHEMA = ROOT / "Sources/FeedServer/Persistence/Migrations/0001_initial_schema.sql"
EPOCH_MS = 1_704_067_200_000


def post_id(ms, sequence=0, node=0):
    return ((ms - EPOCH_MS) << 22) | (node << 12) | sequence


@pytest.fixture
def postgres():
    database = Postgres()
    yield database
    database.destroy()


def test_migration_converts_a_database_written_by_the_previous_schema(start_server, postgres):
    # What the previous release wrote: its schema, its users numbered 0, 1, 2, ...
    postgres.psql(INITIAL_SCHEMA.read_text())
    postgres.psql(
        "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now());"
        "INSERT INTO schema_migrations (version, name) VALUES (1, 'initial_schema');")
    base = 1_795_000_000_000
    ids = [post_id(base + step) for step in range(4)]
    postgres.psql(
        "INSERT INTO users (id, name) VALUES (0, 'alice'), (1, 'bob'), (2, 'carol');"
        "INSERT INTO follows (follower_id, followee_id) VALUES (1, 0), (2, 0), (0, 2);"
        + "".join(
            f"INSERT INTO posts (id, author_id, body, created_at) VALUES ({post}, {author}, 'old {index}', now());"
            for index, (post, author) in enumerate(zip(ids, [0, 0, 2, 0])))
        + f"UPDATE posts SET deleted_at = now() WHERE id = {ids[3]};"
        f"INSERT INTO likes (post_id, user_id) VALUES ({ids[0]}, 1), ({ids[0]}, 2), ({ids[2]}, 0);")
    before = {table: postgres.psql(f"SELECT count(*) FROM {table}").strip() for table in ["users", "follows", "posts", "likes"]}

    server = start_server("--persistence", "postgres", "--postgres-url", postgres.url)
    assert "Applied migration 2 stable_user_ids" in server.log()
    client = server.client(decode_responses=True)
    # Every row is still there, and reads the same.
    after = {table: postgres.psql(f"SELECT count(*) FROM {table}").strip() for table in before}
    assert after == before
    assert [int(entry[0]) for entry in client.execute_command("FEED.READ", "bob")] == [ids[1], ids[0]]
    assert [entry[3] for entry in client.execute_command("FEED.READ", "alice")] == ["old 2", "old 1", "old 0"]
    assert client.execute_command("FEED.STATS", "alice")["posts"] == 2
    assert client.execute_command("FEED.LIKE", "dave", ids[0]) == 3  # bob and carol liked it before
    assert postgres.psql(f"SELECT like_count FROM posts WHERE id = {ids[2]}").strip() == "1"
    # New users get ids above the old ones, from the database.
    client.execute_command("FEED.FOLLOW", "erin", "alice")
    try:
        client.execute_command("FEED.SYNC", 20000)
    except Exception:
        print(server.log())
        raise
    rows = dict(line.split("|") for line in postgres.psql("SELECT name, id FROM users").split())
    assert [rows[name] for name in ["alice", "bob", "carol"]] == ["0", "1", "2"]
    assert int(rows["dave"]) > 2 and int(rows["erin"]) > 2 and rows["dave"] != rows["erin"]
    assert postgres.psql(
        "SELECT count(*) FROM follows f JOIN users a ON a.id = f.follower_id JOIN users b ON b.id = f.followee_id"
        " WHERE a.name = 'erin' AND b.name = 'alice'").strip() == "1"
    # A second start applies nothing and reads the same.
    assert server.stop() == 0
    again = start_server("--persistence", "postgres", "--postgres-url", postgres.url)
    assert "Applied migration" not in again.log()
    assert [int(entry[0]) for entry in again.client().execute_command("FEED.READ", "bob")] == [ids[1], ids[0]]


def test_two_servers_writing_one_database_agree_on_every_user(start_server, postgres):
    first = start_server("--persistence", "postgres", "--postgres-url", postgres.url, "--node-id", "1")
    second = start_server("--persistence", "postgres", "--postgres-url", postgres.url, "--node-id", "2")
    a, b = first.client(decode_responses=True), second.client(decode_responses=True)
    # Each meets the same users in the opposite order (so their own numbers differ).
    names = [f"user:{index}" for index in range(30)]
    for name, other in zip(names, names[1:]):
        a.execute_command("FEED.FOLLOW", name, other)
    for name, other in zip(reversed(names), list(reversed(names))[1:]):
        b.execute_command("FEED.FOLLOW", name, other)
    posts = [a.execute_command("FEED.POST", name, f"from a {name}") for name in names[:10]]
    posts += [b.execute_command("FEED.POST", name, f"from b {name}") for name in names[-10:]]
    for client in (a, b):
        client.execute_command("FEED.SYNC")
    # One row per user, every follow and post stored against the right names.
    assert postgres.psql("SELECT count(*), count(DISTINCT name) FROM users").strip() == "30|30"
    follows = set(postgres.psql(
        "SELECT a.name || '>' || b.name FROM follows f JOIN users a ON a.id = f.follower_id"
        " JOIN users b ON b.id = f.followee_id").split())
    expected = {f"{x}>{y}" for x, y in zip(names, names[1:])} | {f"{y}>{x}" for x, y in zip(names, names[1:])}
    assert follows == expected
    authors = dict(line.split("|") for line in postgres.psql(
        "SELECT p.body, u.name FROM posts p JOIN users u ON u.id = p.author_id").splitlines())
    assert len(authors) == 20 and all(body.endswith(name) for body, name in authors.items())

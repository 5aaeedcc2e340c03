"""clients/python (feedclient) against the real server: every command as a
typed method, errors as exceptions named after their code, subscriptions as
iterators, blocking and asyncio; and `mypy --strict` on the package."""

import asyncio
import subprocess
import sys
import threading
import time

import pytest
import redis

import feedclient
from feedclient import AsyncFeedClient, Entry, Err, FeedClient, FeedEvent, NotificationGroup, Oom, RankedPage, Stats, TryAgain
from conftest import ROOT


def test_a_session_through_every_kind_of_command(server):
    feed = FeedClient(port=server.port)
    assert feed.follow("bob", "alice") is True and feed.follow("bob", "alice") is False
    assert feed.follow("bob", "carol", noreposts=True) is True
    first = feed.post("alice", "hello")
    reply = feed.post("carol", "hi alice", reply_to=first)
    repost = feed.repost("dave", first)
    assert isinstance(first, str) and int(reply) > int(first)
    entries = feed.read("bob")
    # carol's reply to alice reaches bob (he follows both); dave's repost does not (bob does not follow dave).
    assert [entry.id for entry in entries] == [reply, first]
    assert isinstance(entries[1], Entry) and entries[1].author == "alice" and entries[1].body == "hello"
    assert feed.like("bob", first) == 1 and feed.unlike("bob", first) == 0 and feed.like("bob", first) == 1
    meta = feed.get(first, "999", meta=True)
    assert meta[1] is None and meta[0] is not None and (meta[0].likes, meta[0].replies, meta[0].reposts) == (1, 1, 1)
    assert [entry.id for entry in feed.replies(first)] == [reply]
    reposted = feed.posts("dave", meta=True)[0]
    assert reposted.id == repost and reposted.repost_of == first and reposted.original_author == "alice"
    page = feed.read_ranked("bob", count=1)
    assert isinstance(page, RankedPage) and len(page.entries) == 1 and page.entries[0].score is not None
    rest = feed.read_ranked("bob", count=1, page=page.next) if page.next else RankedPage([], None)
    assert {entry.id for entry in page.entries + rest.entries} == {entry.id for entry in feed.read("bob")}
    stats = feed.stats("alice")
    assert isinstance(stats, Stats) and (stats.followers, stats.following, stats.posts, stats.celebrity) == (1, 0, 1, False)
    # alice's notifications: bob's like, carol's reply, dave's repost, bob's follow.
    assert (stats.unseen, stats.unread) == (4, 4)
    groups = feed.notifications("alice")
    assert [group.verb for group in groups] == ["like", "repost", "reply", "follow"]
    assert isinstance(groups[0], NotificationGroup) and groups[0].object == first and groups[0].actors == ["bob"]
    assert groups[3].object is None and groups[3].actor_count == 1 and not groups[3].seen
    assert [group.id for group in feed.notifications("alice", count=2, before=groups[1].id)] == [groups[2].id, groups[3].id]
    assert feed.mark_seen("alice") == 4 and feed.mark_read("alice", groups[0].id, groups[1].id) == 2
    assert (feed.stats("alice").unseen, feed.stats("alice").unread) == (0, 2)
    assert feed.followers("alice") == ["bob"] and feed.following("bob") == ["alice", "carol"]
    assert feed.mute("bob", "carol") is True and feed.mutes("bob") == ["carol"] and feed.unmute("bob", "carol") is True
    assert feed.block("alice", "eve") is True and feed.blocks("alice") == ["eve"] and feed.unblock("alice", "eve") is True
    assert feed.unrepost("dave", first) is True and feed.delete("alice", first) is True
    assert [entry.id for entry in feed.read("bob", count=5)] == [reply]
    assert len(feed.token("bob", ttl_seconds=60)) > 20
    assert feed.sync() is None
    feed.close()


def test_errors_are_named_after_their_code(start_server):
    feed = FeedClient(port=start_server().port)
    with pytest.raises(Err, match="no such post"):
        feed.like("bob", "12345")
    with pytest.raises(Err, match="COUNT must be between 1 and 500"):
        feed.read("bob", count=0)
    with pytest.raises(Err, match="invalid page token"):
        feed.read_ranked("bob", page="nope")
    assert feedclient._errors.translate(redis.ResponseError("TRYAGAIN persistence backlog full")).__class__ is TryAgain
    tight = FeedClient(port=start_server("--maxmemory", "1kb").port)
    with pytest.raises(Oom):
        for index in range(100):
            tight.post("alice", f"post {index}")


def test_subscribe_yields_typed_events(server):
    feed = FeedClient(port=server.port)
    feed.follow("bob", "alice")
    events = feed.subscribe("bob")
    got = []

    def listen():
        got.append(next(events))

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    deadline = time.time() + 10
    posted = []
    while not got and time.time() < deadline:
        posted.append(FeedClient(port=server.port).post("alice", "live"))
        listener.join(0.2)
    assert got and isinstance(got[0], FeedEvent) and got[0].event == "post" and got[0].author == "alice"
    assert got[0].body == "live" and got[0].id in posted


def test_the_asyncio_client(server):
    async def session():
        feed = AsyncFeedClient(port=server.port)
        await feed.follow("bob", "alice")
        events = feed.subscribe("bob")
        first = asyncio.ensure_future(events.__anext__())
        await asyncio.sleep(0.2)
        post = await feed.post("alice", "async hello")
        event = await asyncio.wait_for(first, 10)
        assert event == FeedEvent(event="post", id=post, author="alice", ts=event.ts, body="async hello")
        assert [entry.id for entry in await feed.read("bob")] == [post]
        assert (await feed.read_ranked("bob")).entries[0].id == post
        with pytest.raises(Err, match="no such post"):
            await feed.repost("bob", "42")
        await events.aclose()
        await feed.aclose()

    asyncio.run(session())


def test_the_package_type_checks_strictly():
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", str(ROOT / "clients" / "python" / "feedclient")],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_readme_session_runs_as_written(server):
    env = dict(__import__("os").environ, FEED_PORT=str(server.port))
    result = subprocess.run([sys.executable, str(ROOT / "clients" / "python" / "typed_session.py")],
                            capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    assert "alice hello from feedclient" in result.stdout and "ranked: [(" in result.stdout and "Err: no such post" in result.stdout

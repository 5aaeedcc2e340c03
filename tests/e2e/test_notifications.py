"""Notification feeds through redis-py (docs/adr/0014-notifications.md):
FEED.NOTIFICATIONS in RESP2 and RESP3, FEED.MARK, FEED.STATS's counts, the
notifications:<user> channel, bad input, the cap flag, and a restart
against PostgreSQL."""

import json
import time

import pytest
import redis

from conftest import as_map


def groups(client, user, *args):
    return [as_map(group) for group in client.execute_command("FEED.NOTIFICATIONS", user, *args)]


def summary(client, user):
    """Each group as "verb actors… (count)", newest-updated first."""
    return [" ".join([g["verb"], *g["actors"], f"({g['actor_count']})"]) for g in groups(client, user)]


@pytest.mark.parametrize("protocol", [2, 3])
def test_actions_aggregate_into_groups_newest_first(server, protocol):
    client = server.client(decode_responses=True, protocol=protocol)
    post = client.execute_command("FEED.POST", "alice", "a post")
    client.execute_command("FEED.FOLLOW", "bob", "alice")
    for liker in ("bob", "carol", "dave", "erin", "frank", "grace"):
        client.execute_command("FEED.LIKE", liker, post)
    client.execute_command("FEED.LIKE", "bob", post)  # once per actor
    client.execute_command("FEED.REPOST", "carol", post)
    client.execute_command("FEED.POST", "dave", "@alice look", "REPLYTO", post)
    client.execute_command("FEED.LIKE", "alice", post)  # one's own: nobody hears
    assert summary(client, "alice") == [
        "mention dave (1)",
        "reply dave (1)",
        "repost carol (1)",
        "like grace frank erin dave carol (6)",
        "follow bob (1)",
    ]
    like = groups(client, "alice")[3]
    day = int(time.time() // 86400)
    assert like["id"] in (f"like:{post}:{day}", f"like:{post}:{day - 1}")  # midnight may pass
    assert like["object"] == post and like["updated_ms"] > 1_700_000_000_000
    assert like["seen"] in (False, 0) and like["read"] in (False, 0)
    if protocol == 3:
        assert like["seen"] is False  # RESP3 booleans; 0/1 in RESP2
    follow = groups(client, "alice")[4]
    assert follow["object"] is None and follow["id"].startswith("follow:0:")
    # Taking actions back takes actors out; an empty group goes.
    client.execute_command("FEED.UNREPOST", "carol", post)
    client.execute_command("FEED.UNFOLLOW", "bob", "alice")
    for liker in ("carol", "dave", "erin", "frank", "grace"):
        client.execute_command("FEED.UNLIKE", liker, post)
    assert summary(client, "alice") == ["mention dave (1)", "reply dave (1)", "like bob (1)"]


def test_pages_marks_and_stats(server):
    client = server.client(decode_responses=True)
    posts = [client.execute_command("FEED.POST", "alice", f"post {i}") for i in range(5)]
    for post in posts:
        client.execute_command("FEED.LIKE", "bob", post)
    all_ids = [g["id"] for g in groups(client, "alice")]
    assert len(all_ids) == 5
    first = groups(client, "alice", "COUNT", 2)
    rest = groups(client, "alice", "COUNT", 10, "BEFORE", first[-1]["id"])
    assert [g["id"] for g in first + rest] == all_ids
    stats = as_map(client.execute_command("FEED.STATS", "alice"))
    assert stats["unseen"] == 5 and stats["unread"] == 5
    assert client.execute_command("FEED.MARK", "alice", "SEEN") == 5
    assert client.execute_command("FEED.MARK", "alice", "READ", all_ids[0], all_ids[1], all_ids[1]) == 2
    assert client.execute_command("FEED.MARK", "alice", "READ", all_ids[0]) == 0
    stats = as_map(client.execute_command("FEED.STATS", "alice"))
    assert stats["unseen"] == 0 and stats["unread"] == 3
    # A new actor: the group moves to the top, unseen and unread again.
    client.execute_command("FEED.LIKE", "carol", posts[0])
    top = groups(client, "alice")[0]
    assert top["object"] == posts[0] and top["actors"] == ["carol", "bob"]
    assert not top["seen"] and not top["read"]
    assert as_map(client.execute_command("FEED.STATS", "alice"))["unseen"] == 1


def test_mutes_and_blocks_hide_actors(server):
    client = server.client(decode_responses=True)
    post = client.execute_command("FEED.POST", "alice", "a post")
    client.execute_command("FEED.LIKE", "bob", post)
    client.execute_command("FEED.LIKE", "troll", post)
    client.execute_command("FEED.MUTE", "alice", "troll")
    assert summary(client, "alice") == ["like bob (1)"]
    client.execute_command("FEED.BLOCK", "bob", "alice")
    assert summary(client, "alice") == []
    assert as_map(client.execute_command("FEED.STATS", "alice"))["unseen"] == 0
    client.execute_command("FEED.UNMUTE", "alice", "troll")
    assert summary(client, "alice") == ["like troll (1)"]


def test_bad_input_is_refused_and_changes_nothing(server):
    client = server.client(decode_responses=True)
    post = client.execute_command("FEED.POST", "alice", "a post")
    client.execute_command("FEED.LIKE", "bob", post)
    group = groups(client, "alice")[0]["id"]
    cases = [
        (("FEED.NOTIFICATIONS", "alice", "COUNT", "0"), "COUNT must be between"),
        (("FEED.NOTIFICATIONS", "alice", "COUNT", "x"), "not an integer"),
        (("FEED.NOTIFICATIONS", "alice", "BEFORE", "nonsense"), "invalid notification group id"),
        (("FEED.NOTIFICATIONS", "alice", "BEFORE", "like:1:1"), "no such notification group"),
        (("FEED.NOTIFICATIONS", "alice", "SINCE", "1"), "syntax error"),
        (("FEED.NOTIFICATIONS", "alice", "COUNT", "1", "COUNT", "2"), "syntax error"),
        (("FEED.MARK", "alice", "READ"), "syntax error"),
        (("FEED.MARK", "alice", "SEEN", "extra"), "syntax error"),
        (("FEED.MARK", "alice", "UNREAD", group), "syntax error"),
        (("FEED.MARK", "alice", "READ", group, "like:x:1"), "invalid notification group id"),
        (("FEED.MARK", "alice"), "wrong number of arguments"),
        (("FEED.NOTIFICATIONS",), "wrong number of arguments"),
    ]
    for args, error in cases:
        with pytest.raises(redis.ResponseError, match=error):
            client.execute_command(*args)
    # The READ with one bad id marked nothing.
    assert groups(client, "alice")[0]["read"] in (False, 0)
    assert client.execute_command("FEED.MARK", "nobody", "SEEN") == 0
    assert client.execute_command("FEED.NOTIFICATIONS", "nobody") == []


def test_subscribers_get_each_changed_group(server):
    client = server.client(decode_responses=True)
    post = client.execute_command("FEED.POST", "alice", "a post")
    listener = server.client(decode_responses=True)
    pubsub = listener.pubsub()
    pubsub.subscribe("notifications:alice")
    assert pubsub.get_message(timeout=5)["type"] == "subscribe"

    def next_event():
        message = pubsub.get_message(timeout=5)
        while message is not None and message["type"] != "message":
            message = pubsub.get_message(timeout=5)
        assert message is not None, "no notification event"
        return json.loads(message["data"])

    client.execute_command("FEED.LIKE", "bob", post)
    event = next_event()
    assert event["event"] == "notification" and event["verb"] == "like" and event["object"] == post
    assert event["actors"] == ["bob"] and event["actor_count"] == 1 and event["seen"] is False
    client.execute_command("FEED.LIKE", "carol", post)
    event = next_event()
    assert event["actors"] == ["carol", "bob"] and event["actor_count"] == 2
    assert event["id"] == groups(client, "alice")[0]["id"]
    client.execute_command("FEED.FOLLOW", "dave", "alice")
    event = next_event()
    assert event["verb"] == "follow" and event["object"] is None
    # A muted actor's action tells nobody; taking the last actor out says the group went.
    client.execute_command("FEED.MUTE", "alice", "mallory")
    client.execute_command("FEED.LIKE", "mallory", post)
    client.execute_command("FEED.UNFOLLOW", "dave", "alice")
    event = next_event()
    assert event["id"].startswith("follow:0:") and event["actor_count"] == 0 and event["actors"] == []
    pubsub.close()


def test_the_cap_is_a_flag_and_zero_turns_notifications_off(start_server):
    capped = start_server("--notifications-cap", "2")
    client = capped.client(decode_responses=True)
    assert client.config_get("notifications-cap") == {"notifications-cap": "2"}
    posts = [client.execute_command("FEED.POST", "alice", f"post {i}") for i in range(3)]
    for post in posts:
        client.execute_command("FEED.LIKE", "bob", post)
    assert [g["object"] for g in groups(client, "alice")] == [posts[2], posts[1]]
    assert client.info("feed")["notification_groups"] == 2
    off = start_server(env={"FEED_NOTIFICATIONS_CAP": "0"})
    client = off.client(decode_responses=True)
    post = client.execute_command("FEED.POST", "alice", "a post")
    client.execute_command("FEED.LIKE", "bob", post)
    assert client.execute_command("FEED.NOTIFICATIONS", "alice") == []
    with pytest.raises(Exception):
        start_server("--notifications-cap", "-1")


def test_notifications_survive_a_restart(start_server, tmp_path):
    server = start_server(data_dir=tmp_path)
    client = server.client(decode_responses=True)
    post = client.execute_command("FEED.POST", "alice", "a post")
    other = client.execute_command("FEED.POST", "alice", "another")
    client.execute_command("FEED.LIKE", "bob", post)
    client.execute_command("FEED.LIKE", "carol", post)
    client.execute_command("FEED.LIKE", "bob", other)
    client.execute_command("FEED.FOLLOW", "dave", "alice")
    client.execute_command("FEED.POST", "erin", "hello @alice")
    client.execute_command("FEED.UNLIKE", "bob", other)  # that group went
    client.execute_command("FEED.MARK", "alice", "SEEN")
    read = groups(client, "alice")[1]["id"]
    client.execute_command("FEED.MARK", "alice", "READ", read)
    client.execute_command("FEED.LIKE", "frank", post)  # unseen and unread again
    before = groups(client, "alice")
    assert [g["verb"] for g in before] == ["like", "mention", "follow"]
    assert server.stop() == 0

    again = start_server(data_dir=tmp_path)
    client = again.client(decode_responses=True)
    assert groups(client, "alice") == before
    stats = as_map(client.execute_command("FEED.STATS", "alice"))
    assert stats["unseen"] == 1 and stats["unread"] == 2
    # Taking an action back after the restart finds what the store kept.
    client.execute_command("FEED.UNLIKE", "carol", post)
    assert groups(client, "alice")[0]["actors"] == ["frank", "bob"]
    client.execute_command("FEED.LIKE", "gina", post)
    assert groups(client, "alice")[0]["actors"] == ["gina", "frank", "bob"]
    assert client.info("feed")["notification_groups"] == 3

"""Reposts, replies, NOREPOSTS follows, mutes and blocks through redis-py:
the commands, WITHMETA, bad input, and everything restored after a restart
against PostgreSQL (docs/adr/0012-reposts-replies-filters.md)."""

import redis
import pytest

from conftest import as_map, ids




def test_reposts_land_once_and_unrepost_brings_the_next_back(server):
    client = server.client(decode_responses=True)
    for followee in ("alice", "bob", "carol"):
        client.execute_command("FEED.FOLLOW", "reader", followee)
    post = client.execute_command("FEED.POST", "dave", "worth sharing")
    first = client.execute_command("FEED.REPOST", "alice", post)
    second = client.execute_command("FEED.REPOST", "bob", post)
    # Reposting twice returns the first repost; a repost of a repost reposts the original.
    assert client.execute_command("FEED.REPOST", "alice", post) == first
    third = client.execute_command("FEED.REPOST", "carol", second)
    feed = client.execute_command("FEED.READ", "reader")
    assert ids(feed) == [int(first)]  # once, however many followees repost it
    assert feed[0][1] == "alice" and feed[0][3] == "worth sharing"
    entry = as_map(client.execute_command("FEED.READ", "reader", "WITHMETA")[0])
    assert entry["author"] == "dave" and entry["reposted_by"] == "alice"
    assert entry["repost_of"] == post and entry["reposts"] == 3 and entry["reply_to"] is None
    assert client.execute_command("FEED.UNREPOST", "alice", post) == 1
    assert client.execute_command("FEED.UNREPOST", "alice", post) == 0
    assert ids(client.execute_command("FEED.READ", "reader")) == [int(second)]
    # Deleting the post takes its reposts with it, everywhere.
    assert client.execute_command("FEED.DELETE", "dave", post) == 1
    assert client.execute_command("FEED.READ", "reader") == []
    assert client.execute_command("FEED.GET", second, third) == [None, None]
    with pytest.raises(redis.ResponseError, match="no such post"):
        client.execute_command("FEED.REPOST", "alice", post)


def test_replies_reach_only_those_who_follow_both(server):
    client = server.client(decode_responses=True)
    client.execute_command("FEED.FOLLOW", "fan", "alice")  # follows alice only
    client.execute_command("FEED.FOLLOW", "friend", "alice")
    client.execute_command("FEED.FOLLOW", "friend", "bob")
    client.execute_command("FEED.FOLLOW", "bob", "alice")
    post = client.execute_command("FEED.POST", "bob", "a question")
    reply = client.execute_command("FEED.POST", "alice", "an answer", "REPLYTO", post)
    assert ids(client.execute_command("FEED.READ", "fan")) == []  # a reply to a stranger is noise
    assert ids(client.execute_command("FEED.READ", "friend")) == [int(reply), int(post)]
    assert ids(client.execute_command("FEED.READ", "bob")) == [int(reply), int(post)]  # the replied-to author
    assert ids(client.execute_command("FEED.REPLIES", post)) == [int(reply)]
    entry = as_map(client.execute_command("FEED.GET", reply, "WITHMETA")[0])
    assert entry["reply_to"] == post and entry["repost_of"] is None
    assert as_map(client.execute_command("FEED.GET", post, "WITHMETA")[0])["replies"] == 1
    with pytest.raises(redis.ResponseError, match="no such post"):
        client.execute_command("FEED.POST", "alice", "x", "REPLYTO", "12345")
    with pytest.raises(redis.ResponseError, match="syntax"):
        client.execute_command("FEED.POST", "alice", "x", "REPLY", post)


def test_noreposts_mutes_and_blocks_filter_before_count(server):
    client = server.client(decode_responses=True)
    for followee in ("alice", "bob", "spammer"):
        client.execute_command("FEED.FOLLOW", "reader", followee)
    plain = client.execute_command("FEED.POST", "bob", "original")
    spam = [client.execute_command("FEED.POST", "spammer", f"spam {i}") for i in range(10)]
    boosted = client.execute_command("FEED.REPOST", "alice", plain)
    assert client.execute_command("FEED.MUTE", "reader", "spammer") == 1
    assert client.execute_command("FEED.MUTE", "reader", "spammer") == 0
    # A full page although ten muted posts are newer: filters apply before COUNT.
    # (alice's repost is collapsed: the post itself is right below it.)
    assert ids(client.execute_command("FEED.READ", "reader", "COUNT", 1)) == [int(plain)]
    assert client.info("feed")["reposts_collapsed"] >= 1
    client.execute_command("FEED.FOLLOW", "reader", "alice", "NOREPOSTS")
    assert ids(client.execute_command("FEED.READ", "reader")) == [int(plain)]
    client.execute_command("FEED.FOLLOW", "reader", "alice")  # following again without it shows them
    assert client.execute_command("FEED.UNMUTE", "reader", "spammer") == 1
    assert ids(client.execute_command("FEED.READ", "reader", "COUNT", 3)) == [int(spam[-1]), int(spam[-2]), int(spam[-3])]
    # Past the falloff (here 40 entries) a repost brings its post back to the top.
    for index in range(40):
        client.execute_command("FEED.POST", "spammer", f"more {index}")
    again = client.execute_command("FEED.REPOST", "spammer", plain)
    assert ids(client.execute_command("FEED.READ", "reader", "COUNT", 1)) == [int(again)]
    client.execute_command("FEED.UNREPOST", "spammer", plain)
    assert client.execute_command("FEED.MUTES", "reader") == []
    # A block: follows both ways go, nobody follows back, neither sees the other.
    client.execute_command("FEED.FOLLOW", "bob", "reader")
    assert client.execute_command("FEED.BLOCK", "bob", "reader") == 1
    assert client.execute_command("FEED.BLOCKS", "bob") == ["reader"]
    assert client.execute_command("FEED.FOLLOWING", "reader") == ["alice", "spammer"]
    assert client.execute_command("FEED.FOLLOWERS", "reader") == []
    with pytest.raises(redis.ResponseError, match="has blocked you"):
        client.execute_command("FEED.FOLLOW", "reader", "bob")
    with pytest.raises(redis.ResponseError, match="FEED.UNBLOCK first"):
        client.execute_command("FEED.FOLLOW", "bob", "reader")
    assert int(plain) not in ids(client.execute_command("FEED.READ", "reader", "COUNT", 50))  # nor alice's repost of it
    for command in ("FEED.MUTE", "FEED.BLOCK"):
        with pytest.raises(redis.ResponseError, match="themselves"):
            client.execute_command(command, "reader", "reader")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments"):
        client.execute_command("FEED.MUTE", "reader")
    info = client.info("feed")
    assert info["mutes"] == 0 and info["blocks"] == 1 and info["reposts_created"] == 2


def test_everything_is_restored_after_a_restart(start_server, tmp_path):
    server = start_server(data_dir=tmp_path)
    client = server.client(decode_responses=True)
    for followee in ("alice", "bob", "mallory"):
        client.execute_command("FEED.FOLLOW", "reader", followee)
    client.execute_command("FEED.FOLLOW", "reader", "bob", "NOREPOSTS")
    post = client.execute_command("FEED.POST", "carol", "hello")
    client.execute_command("FEED.FOLLOW", "reader", "carol")
    reply = client.execute_command("FEED.POST", "alice", "hi carol", "REPLYTO", post)
    repost = client.execute_command("FEED.REPOST", "alice", post)
    client.execute_command("FEED.REPOST", "bob", post)  # hidden: NOREPOSTS
    client.execute_command("FEED.POST", "mallory", "noise")
    client.execute_command("FEED.MUTE", "reader", "mallory")
    client.execute_command("FEED.BLOCK", "carol", "troll")
    before = client.execute_command("FEED.READ", "reader", "WITHMETA")
    # alice's repost is collapsed (the post is right below it); bob's is hidden.
    assert [int(as_map(entry)["id"]) for entry in before] == [int(reply), int(post)]
    assert server.stop() == 0

    again = start_server(data_dir=tmp_path)
    client = again.client(decode_responses=True)
    assert client.execute_command("FEED.READ", "reader", "WITHMETA") == before
    assert client.execute_command("FEED.MUTES", "reader") == ["mallory"]
    assert client.execute_command("FEED.BLOCKS", "carol") == ["troll"]
    with pytest.raises(redis.ResponseError, match="blocked"):
        client.execute_command("FEED.FOLLOW", "troll", "carol")
    assert client.execute_command("FEED.REPOST", "alice", post) == repost  # still alice's one repost
    assert ids(client.execute_command("FEED.REPLIES", post)) == [int(reply)]
    assert client.execute_command("FEED.UNREPOST", "alice", post) == 1
    assert client.execute_command("FEED.DELETE", "carol", post) == 1
    assert int(repost) not in ids(client.execute_command("FEED.READ", "reader"))


def test_repost_falloff_is_a_flag(start_server):
    server = start_server("--repost-falloff", "0")
    client = server.client(decode_responses=True)
    assert client.config_get("repost-falloff") == {"repost-falloff": "0"}
    client.execute_command("FEED.FOLLOW", "reader", "alice")
    client.execute_command("FEED.FOLLOW", "reader", "bob")
    post = client.execute_command("FEED.POST", "alice", "hello")
    repost = client.execute_command("FEED.REPOST", "bob", post)
    # 0: every repost shows, the post right below it too.
    assert ids(client.execute_command("FEED.READ", "reader")) == [int(repost), int(post)]
    with pytest.raises(redis.ResponseError, match="no such post"):
        client.execute_command("FEED.LIKE", "reader", "999")
    # Liking a repost likes its original.
    assert client.execute_command("FEED.LIKE", "reader", repost) == 1
    assert as_map(client.execute_command("FEED.GET", post, "WITHMETA")[0])["likes"] == 1

"""FEED.* end to end through redis-py: each rule of the timeline engine,
observed the way an application sees it."""

import time

import pytest
import redis


def ids(entries):
    return [entry[0] for entry in entries]


@pytest.fixture
def feed(server):
    return server.client(decode_responses=True)


def test_a_post_reaches_followers_and_its_author_only(feed):
    assert feed.execute_command("FEED.FOLLOW", "bob", "alice") == 1
    post = feed.execute_command("FEED.POST", "alice", "hello")
    # A decimal string (ADR 0010): exact in every client, JavaScript's included.
    assert isinstance(post, str) and post.isdigit() and int(post) > 2**53
    assert ids(feed.execute_command("FEED.READ", "bob")) == [post]
    assert ids(feed.execute_command("FEED.READ", "alice")) == [post]
    assert feed.execute_command("FEED.READ", "carol") == []


def test_entries_are_id_author_created_body(feed):
    before = int(time.time() * 1000)
    post = feed.execute_command("FEED.POST", "alice", '{"text": "hi", "lang": "en"}')
    after = int(time.time() * 1000)
    [[entry_id, author, created, body]] = feed.execute_command("FEED.READ", "alice")
    assert (entry_id, author, body) == (post, "alice", '{"text": "hi", "lang": "en"}')
    assert before - 5 <= created <= after + 5


def test_count_defaults_to_50_and_is_exact(feed):
    feed.execute_command("FEED.FOLLOW", "bob", "alice")
    posts = [feed.execute_command("FEED.POST", "alice", f"p{index}") for index in range(120)]
    assert ids(feed.execute_command("FEED.READ", "bob")) == posts[::-1][:50]
    assert ids(feed.execute_command("FEED.READ", "bob", "COUNT", 7)) == posts[::-1][:7]
    assert ids(feed.execute_command("FEED.READ", "bob", "COUNT", 500)) == posts[::-1]


def test_before_pages_to_strictly_older_entries(feed):
    feed.execute_command("FEED.FOLLOW", "bob", "alice")
    posts = [feed.execute_command("FEED.POST", "alice", f"p{index}") for index in range(30)]
    assert ids(feed.execute_command("FEED.READ", "bob", "COUNT", 3, "BEFORE", posts[10])) == [posts[9], posts[8], posts[7]]
    seen, before = [], None
    while True:
        args = ["FEED.READ", "bob", "COUNT", 8] + (["BEFORE", before] if before else [])
        page = ids(feed.execute_command(*args))
        seen += page
        if len(page) < 8:
            break
        before = page[-1]
    assert seen == posts[::-1]


def test_a_feed_is_every_live_post_by_followees_and_self(feed):
    follows = {("ann", "ben"), ("ann", "cat"), ("ben", "ann"), ("dan", "eve")}
    for follower, followee in follows:
        feed.execute_command("FEED.FOLLOW", follower, followee)
    posts = []
    people = ["ann", "ben", "cat", "dan", "eve"]
    for index in range(50):
        author = people[index % len(people)]
        posts.append((feed.execute_command("FEED.POST", author, f"{author} {index}"), author))
    for reader in people:
        wanted = sorted((post for post, author in posts if author == reader or (reader, author) in follows), reverse=True)
        assert ids(feed.execute_command("FEED.READ", reader, "COUNT", 500)) == wanted


def test_follow_backfills_and_unfollow_takes_posts_out(feed):
    old = [feed.execute_command("FEED.POST", "alice", f"old {index}") for index in range(5)]
    assert feed.execute_command("FEED.FOLLOW", "bob", "alice") == 1
    assert feed.execute_command("FEED.FOLLOW", "bob", "alice") == 0
    assert ids(feed.execute_command("FEED.READ", "bob")) == old[::-1]
    assert feed.execute_command("FEED.UNFOLLOW", "bob", "alice") == 1
    assert feed.execute_command("FEED.UNFOLLOW", "bob", "alice") == 0
    assert feed.execute_command("FEED.READ", "bob") == []
    feed.execute_command("FEED.POST", "alice", "after unfollow")
    assert feed.execute_command("FEED.READ", "bob") == []


def test_refollowing_never_duplicates(feed):
    posts = [feed.execute_command("FEED.POST", "alice", f"p{index}") for index in range(4)]
    feed.execute_command("FEED.READ", "bob")
    for _ in range(3):
        feed.execute_command("FEED.FOLLOW", "bob", "alice")
        feed.execute_command("FEED.FOLLOW", "bob", "alice")
        assert ids(feed.execute_command("FEED.READ", "bob")) == posts[::-1]
        feed.execute_command("FEED.UNFOLLOW", "bob", "alice")
    assert feed.execute_command("FEED.READ", "bob") == []


def test_following_yourself_is_an_error(feed):
    with pytest.raises(redis.ResponseError, match="a user cannot follow themselves"):
        feed.execute_command("FEED.FOLLOW", "alice", "alice")
    assert feed.dbsize() == 0


def test_delete_removes_the_post_everywhere(feed):
    feed.execute_command("FEED.FOLLOW", "bob", "alice")
    feed.execute_command("FEED.READ", "bob")
    keep = feed.execute_command("FEED.POST", "alice", "keep")
    gone = feed.execute_command("FEED.POST", "alice", "gone")
    assert feed.execute_command("FEED.DELETE", "bob", gone) == 0
    assert feed.execute_command("FEED.DELETE", "alice", gone) == 1
    assert feed.execute_command("FEED.DELETE", "alice", gone) == 0
    assert ids(feed.execute_command("FEED.READ", "bob")) == [keep]
    assert ids(feed.execute_command("FEED.POSTS", "alice")) == [keep]
    assert feed.execute_command("FEED.GET", gone, keep)[0] is None
    assert feed.execute_command("FEED.GET", gone, keep)[1][0] == keep


def test_celebrities_are_pulled_and_crossing_hides_nothing(start_server):
    server = start_server("--celebrity-threshold", "3")
    feed = server.client(decode_responses=True)
    feed.execute_command("FEED.FOLLOW", "f1", "star")
    feed.execute_command("FEED.READ", "f1")
    pushed = feed.execute_command("FEED.POST", "star", "before fame")
    feed.execute_command("FEED.FOLLOW", "f2", "star")
    feed.execute_command("FEED.FOLLOW", "f3", "star")
    assert feed.execute_command("FEED.STATS", "star")["celebrity"] == 1
    stats_before = feed.info("feed")
    pulled = feed.execute_command("FEED.POST", "star", "famous")
    stats_after = feed.info("feed")
    assert stats_after["fanouts_skipped_celebrity"] == stats_before["fanouts_skipped_celebrity"] + 1
    assert stats_after["fanout_deliveries"] == stats_before["fanout_deliveries"]
    for fan in ["f1", "f2", "f3"]:
        assert ids(feed.execute_command("FEED.READ", fan)) == [pulled, pushed]
    feed.execute_command("FEED.UNFOLLOW", "f3", "star")
    assert feed.execute_command("FEED.STATS", "star")["celebrity"] == 0
    again = feed.execute_command("FEED.POST", "star", "back to normal")
    for fan in ["f1", "f2"]:
        assert ids(feed.execute_command("FEED.READ", fan)) == [again, pulled, pushed]
    assert ids(feed.execute_command("FEED.READ", "star")) == [again, pulled, pushed]


def test_inactive_users_get_no_fan_out_and_read_the_same_feed(start_server):
    server = start_server("--inactive-after", "300ms")
    feed = server.client(decode_responses=True)
    feed.execute_command("FEED.FOLLOW", "bob", "alice")
    first = feed.execute_command("FEED.POST", "alice", "one")
    assert ids(feed.execute_command("FEED.READ", "bob")) == [first]
    time.sleep(0.5)  # bob has not read for longer than --inactive-after
    second = feed.execute_command("FEED.POST", "alice", "two")
    info = feed.info("feed")
    assert info["fanout_inactive_skipped"] >= 1 and info["timelines_dropped"] >= 1
    assert feed.execute_command("FEED.STATS", "bob")["timeline"] == 0
    rebuilds = info["timeline_rebuilds"]
    assert ids(feed.execute_command("FEED.READ", "bob")) == [second, first]
    assert feed.info("feed")["timeline_rebuilds"] == rebuilds + 1


def test_posts_get_follow_lists_stats_and_likes(feed):
    for fan in ["f1", "f2", "f3"]:
        feed.execute_command("FEED.FOLLOW", fan, "star")
    feed.execute_command("FEED.FOLLOW", "star", "f1")
    post = feed.execute_command("FEED.POST", "star", "hi")
    assert ids(feed.execute_command("FEED.POSTS", "star")) == [post]
    assert feed.execute_command("FEED.FOLLOWERS", "star") == ["f1", "f2", "f3"]
    assert feed.execute_command("FEED.FOLLOWERS", "star", "COUNT", 1, "AFTER", "f1") == ["f2"]
    assert feed.execute_command("FEED.FOLLOWING", "star") == ["f1"]
    assert feed.execute_command("FEED.STATS", "star") == {
        "followers": 3, "following": 1, "posts": 1, "timeline": 0, "celebrity": 0,
        "unseen": 1, "unread": 1,  # one notification group: three new followers
    }
    assert feed.execute_command("FEED.LIKE", "f1", post) == 1
    assert feed.execute_command("FEED.LIKE", "f1", post) == 1
    assert feed.execute_command("FEED.LIKE", "f2", post) == 2
    assert feed.execute_command("FEED.UNLIKE", "f1", post) == 1
    with pytest.raises(redis.ResponseError, match="no such post"):
        feed.execute_command("FEED.LIKE", "f1", int(post) + 1)


def test_stats_over_resp2(server):
    client = server.client(protocol=2, decode_responses=True)
    client.execute_command("FEED.FOLLOW", "a", "b")
    assert client.execute_command("FEED.STATS", "b") == [
        "followers", 1, "following", 0, "posts", 0, "timeline", 0, "celebrity", 0, "unseen", 1, "unread", 1,
    ]


@pytest.mark.parametrize(
    "args,message",
    [
        (["FEED.POST", "alice"], "wrong number of arguments for 'feed.post' command"),
        (["FEED.POST", "", "x"], "user id must not be empty"),
        (["FEED.POST", "u" * 129, "x"], "user id is longer than 128 bytes"),
        (["FEED.POST", "alice", ""], "post body must not be empty"),
        (["FEED.POST", "alice", "b" * 65537], "post body is longer than max-body-bytes (65536)"),
        (["FEED.POST", b"\xff\xfe", "x"], "user id must be valid UTF-8"),
        (["FEED.POST", "alice", b"\xc3"], "post body must be valid UTF-8"),
        (["FEED.READ", "bob", "COUNT", "x"], "value is not an integer or out of range"),
        (["FEED.READ", "bob", "COUNT", 0], "COUNT must be between 1 and 500"),
        (["FEED.READ", "bob", "COUNT", 501], "COUNT must be between 1 and 500"),
        (["FEED.READ", "bob", "BEFORE", -5], "value is not an integer or out of range"),
        (["FEED.READ", "bob", "RANKED", "BEFORE", "5"], "syntax error"),
        (["FEED.READ", "bob", "PAGE", "1-1"], "syntax error"),
        (["FEED.READ", "bob", "NOPE", 1], "syntax error"),
        (["FEED.DELETE", "alice", "abc"], "value is not an integer or out of range"),
        (["FEED.GET", 1, "x"], "value is not an integer or out of range"),
    ],
)
def test_bad_input_gets_a_redis_style_error_and_changes_nothing(server, args, message):
    client = server.client()
    with pytest.raises(redis.ResponseError) as error:
        client.execute_command(*args)
    assert str(error.value) == message
    assert client.dbsize() == 0
    assert client.info("feed")["posts"] == 0


def test_redis_cli_sees_feed_hints(server):
    docs = server.cli("COMMAND", "DOCS", "feed.read")
    assert "feed.read" in docs and "BEFORE" in docs and "COUNT" in docs
    assert server.cli("FEED.FOLLOW", "bob", "alice").strip() == "1"
    assert server.cli("FEED.POST", "alice", "from the shell").strip().isdigit()
    out = server.cli("FEED.READ", "bob")
    assert "alice" in out and "from the shell" in out

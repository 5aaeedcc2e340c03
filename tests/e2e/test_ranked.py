"""The ranked feed through redis-py: FEED.READ … RANKED's reply, PAGE
tokens, WITHMETA's score and factors, the --rank-* settings (flags,
environment, CONFIG GET/SET), bad input, and affinity kept across a restart
against PostgreSQL (docs/adr/0013-ranked-feed.md)."""

import math
import re
import subprocess
import time

import pytest
import redis

from conftest import BINARY, ROOT, as_map, ids




def ranked(client, user, *args):
    token, entries = client.execute_command("FEED.READ", user, "RANKED", *args)
    return token, entries


def walk(client, user, count, between=lambda: None):
    """Every page of a ranked feed; `between` runs before each page after the first."""
    token, entries = ranked(client, user, "COUNT", count)
    pages = [entries]
    while token != "0":
        between()
        token, entries = ranked(client, user, "COUNT", count, "PAGE", token)
        pages.append(entries)
    return pages


@pytest.mark.parametrize("protocol", [2, 3])
def test_pages_walk_one_ranking_while_posts_and_likes_arrive(server, protocol):
    client = server.client(decode_responses=True, protocol=protocol)
    for followee in ("alice", "bob", "carol"):
        client.execute_command("FEED.FOLLOW", "reader", followee)
    posts = [client.execute_command("FEED.POST", ("alice", "bob", "carol")[i % 3], f"post {i}") for i in range(23)]
    chronological = ids(client.execute_command("FEED.READ", "reader", "COUNT", 500))
    counter = iter(range(1000))

    def life_goes_on():
        n = next(counter)
        client.execute_command("FEED.POST", "bob", f"late {n}")
        client.execute_command("FEED.LIKE", f"fan{n}", posts[n])

    pages = walk(client, "reader", 5, life_goes_on)
    assert [len(page) for page in pages] == [5, 5, 5, 5, 3]
    seen = [entry_id for page in pages for entry_id in ids(page)]
    # Every candidate exactly once: no repeats, no skips, nothing that came later.
    assert sorted(seen) == sorted(chronological) and len(set(seen)) == len(seen)
    assert all(len(entry) == 4 for page in pages for entry in page)
    # A new first page is a new ranking: it has the late posts, and the old tokens are gone.
    token, first = ranked(client, "reader", "COUNT", 500)
    assert token == "0" and len(first) == 23 + 4
    # An unknown user has an empty ranked feed.
    assert ranked(client, "nobody") == ("0", [])


def test_withmeta_explains_each_score(server):
    client = server.client(decode_responses=True)
    client.execute_command("FEED.FOLLOW", "reader", "alice")
    client.execute_command("FEED.FOLLOW", "reader", "carol")
    liked = client.execute_command("FEED.POST", "alice", "liked")
    client.execute_command("FEED.LIKE", "reader", liked)
    client.execute_command("FEED.POST", "alice", "second by alice", "REPLYTO", liked)
    client.execute_command("FEED.REPOST", "stranger", liked)
    carol = client.execute_command("FEED.POST", "carol", "carol's")
    client.execute_command("FEED.LIKE", "stranger", carol)
    client.execute_command("FEED.LIKE", "another", carol)
    _, entries = ranked(client, "reader", "WITHMETA")
    now = time.time() * 1000
    by_body = {as_map(entry)["body"]: as_map(entry) for entry in entries}
    top = by_body["liked"]
    # The reader liked alice's post: affinity 1 (following) + 1 (a like, barely decayed).
    assert top["affinity"] == pytest.approx(2, rel=1e-4)
    # One like, one reply, one repost: (1 + 1 + 2 + 3) ^ 0.5.
    assert (top["likes"], top["replies"], top["reposts"]) == (1, 1, 1)
    assert top["engagement"] == pytest.approx(math.sqrt(7))
    assert top["recency"] == pytest.approx(0.5 ** ((now - top["ts"]) / 21_600_000), rel=1e-3)
    for entry in by_body.values():
        assert entry["score"] == pytest.approx(entry["recency"] * entry["affinity"] * entry["engagement"] * entry["diversity"])
    # alice's second entry (affinity 2, engagement 1) gives way to carol's
    # (affinity 1, engagement √3): (1 - 0.25) * 0.5 + 0.25 = 0.625.
    assert by_body["second by alice"]["diversity"] == 0.625 and top["diversity"] == 1
    assert by_body["carol's"]["affinity"] == 1
    scores = [as_map(entry)["score"] for entry in entries]
    assert scores == sorted(scores, reverse=True)
    assert [as_map(entry)["body"] for entry in entries] == ["liked", "carol's", "second by alice"]
    info = client.info("feed")
    # reader→alice (a like), stranger→alice (a repost), stranger→carol and another→carol (likes).
    assert info["affinity_entries"] == 4 and info["ranked_reads"] == 1 and info["ranked_snapshots"] == 1
    assert info["used_memory_ranking"] > 0
    # The chronological read's WITHMETA has no score.
    assert "score" not in as_map(client.execute_command("FEED.READ", "reader", "WITHMETA")[0])


def test_config_set_reweighs_the_next_ranking(server):
    client = server.client(decode_responses=True)
    client.execute_command("FEED.FOLLOW", "reader", "alice")
    client.execute_command("FEED.FOLLOW", "reader", "carol")
    popular = client.execute_command("FEED.POST", "alice", "popular")
    for fan in range(8):
        client.execute_command("FEED.LIKE", f"fan{fan}", popular)
    newer = client.execute_command("FEED.POST", "carol", "newer")
    assert ids(ranked(client, "reader")[1]) == [int(popular), int(newer)]
    assert client.config_set("rank-engagement-like", "0")
    assert client.config_get("rank-engagement-like") == {"rank-engagement-like": "0"}
    assert ids(ranked(client, "reader")[1]) == [int(newer), int(popular)]
    # Bad values are refused and change nothing.
    for name, value in [("rank-half-life", "0"), ("rank-candidates", "0"), ("rank-diversity-floor", "2"), ("rank-affinity-like", "x")]:
        with pytest.raises(redis.ResponseError, match=f"CONFIG SET failed.*'{name}'"):
            client.config_set(name, value)
    settings = client.config_get("rank-*")
    assert settings["rank-half-life"] == "6h" and settings["rank-candidates"] == "500"
    assert settings["rank-diversity-floor"] == "0.25" and settings["rank-affinity-like"] == "1"
    assert len(settings) == 16


def test_settings_come_from_flags_and_the_environment(start_server):
    server = start_server("--rank-candidates", "2", "--rank-half-life=1h", env={"FEED_RANK_PAGE_TTL": "5m"})
    client = server.client(decode_responses=True)
    assert client.config_get("rank-candidates") == {"rank-candidates": "2"}
    assert client.config_get("rank-half-life") == {"rank-half-life": "1h"}
    assert client.config_get("rank-page-ttl") == {"rank-page-ttl": "5m"}
    client.execute_command("FEED.FOLLOW", "reader", "alice")
    posts = [client.execute_command("FEED.POST", "alice", f"p{i}") for i in range(4)]
    # Only the two newest are candidates.
    assert sorted(ids(ranked(client, "reader")[1])) == sorted(int(p) for p in posts[2:])
    bad = subprocess.run([BINARY, "--rank-half-life", "soon"], capture_output=True, text=True, timeout=30)
    assert bad.returncode != 0 and "--rank-half-life soon" in bad.stderr
    unknown = subprocess.run([BINARY, "--rank-nothing", "1"], capture_output=True, text=True, timeout=30)
    assert unknown.returncode != 0 and "Unknown option '--rank-nothing'" in unknown.stderr


def test_every_rank_setting_is_in_help_and_readme():
    help_text = subprocess.run([BINARY, "--help"], capture_output=True, text=True, timeout=30).stdout
    names = sorted(set(re.findall(r"--(rank-[a-z-]+) <value>", help_text)))
    assert len(names) == 16
    readme = (ROOT / "README.md").read_text()
    for name in names:
        variable = "FEED_" + name.upper().replace("-", "_")
        assert f"| `--{name}` | `{variable}` |" in readme, name


def test_bad_input_gets_redis_style_errors(start_server):
    server = start_server("--rank-page-ttl", "300ms")
    client = server.client(decode_responses=True)
    client.execute_command("FEED.FOLLOW", "reader", "alice")
    for i in range(3):
        client.execute_command("FEED.POST", "alice", f"p{i}")
    for args, error in [
        (("RANKED", "BEFORE", "5"), "syntax error"),
        (("RANKED", "AFTER", "5"), "syntax error"),
        (("PAGE", "1-1"), "syntax error"),
        (("RANKED", "PAGE"), "syntax error"),
        (("RANKED", "RANKED"), "syntax error"),
        (("RANKED", "COUNT", "0"), "COUNT must be between 1 and 500"),
        (("RANKED", "PAGE", "not-a-token"), "invalid page token"),
        (("RANKED", "PAGE", "12-1"), "page token expired"),
    ]:
        with pytest.raises(redis.ResponseError, match=error):
            client.execute_command("FEED.READ", "reader", *args)
    token, _ = ranked(client, "reader", "COUNT", 1)
    assert ranked(client, "reader", "COUNT", 1, "PAGE", token)[1]
    time.sleep(0.4)
    with pytest.raises(redis.ResponseError, match="^page token expired; read the first page again$"):
        ranked(client, "reader", "COUNT", 1, "PAGE", token)
    # PAGE 0 is the first page, as SCAN's cursor.
    assert len(ranked(client, "reader", "PAGE", "0")[1]) == 3


def test_affinity_is_kept_across_a_restart(start_server, tmp_path):
    server = start_server(data_dir=tmp_path)
    client = server.client(decode_responses=True)
    for followee in ("alice", "bob"):
        client.execute_command("FEED.FOLLOW", "reader", followee)
    first = client.execute_command("FEED.POST", "alice", "first")
    client.execute_command("FEED.LIKE", "reader", first)
    client.execute_command("FEED.POST", "reader", "a reply", "REPLYTO", first)
    client.execute_command("FEED.REPOST", "reader", first)
    for i in range(30):
        client.execute_command("FEED.POST", ("alice", "bob")[i % 2], f"p{i}")
    _, before = ranked(client, "reader", "COUNT", 500, "WITHMETA")
    affinity = {as_map(e)["reposted_by"] or as_map(e)["author"]: as_map(e)["affinity"] for e in before}
    # 1 + a like (1) + a reply (2) + a repost (3) for alice; bob only followed.
    assert affinity["alice"] == pytest.approx(7, rel=1e-4) and affinity["bob"] == 1
    assert server.stop() == 0

    again = start_server("--warm-posts", "5", data_dir=tmp_path)
    client = again.client(decode_responses=True)
    chronological = ids(client.execute_command("FEED.READ", "reader", "COUNT", 500))
    # Memory holds five posts: the candidates come with the store's help.
    _, after = ranked(client, "reader", "COUNT", 500, "WITHMETA")
    assert sorted(int(as_map(e)["id"]) for e in after) == sorted(chronological)
    assert sorted(int(as_map(e)["id"]) for e in after) == sorted(int(as_map(e)["id"]) for e in before)
    restored = {as_map(e)["reposted_by"] or as_map(e)["author"]: as_map(e)["affinity"] for e in after}
    assert restored["alice"] == pytest.approx(affinity["alice"], rel=1e-4)
    # Pages after the first come from the same snapshot, with the store filling in what memory lacks.
    pages = walk(client, "reader", 7)
    assert sorted(e for page in pages for e in ids(page)) == sorted(chronological)


def test_shared_reads_answer_as_exclusive_ones(start_server):
    """--shared-reads yes: chronological and ranked reads run under the shared
    engine lock; they answer as with the lock exclusive, pages walk on, the
    INFO counters see them, and CONFIG SET switches the mode live."""
    server = start_server("--shared-reads", "yes")
    client = server.client(decode_responses=True)
    assert client.config_get("shared-reads") == {"shared-reads": "yes"}
    for author in ("alice", "bob", "carol"):
        client.execute_command("FEED.FOLLOW", "reader", author)
    posts = [int(client.execute_command("FEED.POST", ("alice", "bob", "carol")[i % 3], f"post {i}")) for i in range(30)]
    client.execute_command("FEED.LIKE", "reader", posts[3])
    answers = {}
    for mode in ("yes", "no", "yes"):
        assert client.config_set("shared-reads", mode)
        assert client.config_get("shared-reads") == {"shared-reads": mode}
        chronological = ids(client.execute_command("FEED.READ", "reader", "COUNT", 10))
        assert chronological == sorted(posts, reverse=True)[:10]
        token, first = ranked(client, "reader", "COUNT", 10)
        _, second = ranked(client, "reader", "COUNT", 10, "PAGE", token)
        walked = ids(first) + ids(second)
        assert len(set(walked)) == 20 and set(walked) <= set(posts)
        answers.setdefault(mode, []).append(ids(first))
    # The same first ranked page either way (nothing changed between them).
    assert answers["yes"][0] == answers["no"][0] == answers["yes"][1]
    feed = client.info("feed")
    assert feed["ranked_reads"] == 3 and feed["ranked_pages"] == 3
    assert "argument must be 'yes' or 'no'" in str(pytest.raises(redis.ResponseError, client.config_set, "shared-reads", "maybe").value)

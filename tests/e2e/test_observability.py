"""Observability as an operator meets it: /metrics scraped by Prometheus's
own checker while a load runs, INFO through redis-py, SLOWLOG, the ops files."""

import json
import pathlib
import re
import subprocess
import threading
import time
import urllib.error
import urllib.request

from conftest import free_port

ROOT = pathlib.Path(__file__).resolve().parents[2]
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$")


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return response.read().decode()


def samples(text):
    """Every sample line as {'name{labels}': value}."""
    values = {}
    for line in text.splitlines():
        match = SAMPLE.match(line)
        if match:
            values[match.group(1) + (match.group(2) or "")] = float(match.group(3))
    return values


def promtool_check(text):
    result = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def metrics_server(start_server, *args, **options):
    port = free_port()
    server = start_server("--metrics-port", str(port), *args, **options)
    assert server.wait_for_log(rf"Serving Prometheus metrics on http://127\.0\.0\.1:{port}/metrics")
    return server, port


def test_metrics_scraped_during_load_pass_promtool_and_count_the_load(start_server):
    server, port = metrics_server(start_server)
    client = server.client()
    followers, posts, reads = 40, 3000, 1500
    setup = client.pipeline(transaction=False)
    for index in range(followers):
        setup.execute_command("FEED.FOLLOW", f"reader{index}", "author")
        setup.execute_command("FEED.READ", f"reader{index}")  # a resident timeline gets pushes
    setup.execute_command("FEED.READ", "nobody", "COUNT", "zero")  # one error reply
    setup.execute_command("FEED.POST", "author")  # one arity rejection
    setup.execute(raise_on_error=False)
    writer = server.client()
    writer.ping()  # connected (and its handshake counted) before the baseline
    baseline = samples(scrape(port))
    log_lines = len(server.log().splitlines())

    def load():
        for start in range(0, posts, 250):
            batch = writer.pipeline(transaction=False)
            for index in range(start, start + 250):
                batch.execute_command("FEED.POST", "author", f"post {index}")
                if index % 2 == 0:
                    batch.execute_command("FEED.READ", f"reader{index % followers}", "COUNT", "20")
            batch.execute()

    loader = threading.Thread(target=load)
    loader.start()
    scrapes = []
    while loader.is_alive() or not scrapes:
        scrapes.append(scrape(port))
        time.sleep(0.05)
    loader.join()
    scrapes.append(scrape(port))
    assert len(scrapes) >= 3, "the load ended before it could be scraped"
    for text in scrapes:
        promtool_check(text)
    # Counters never go backwards between scrapes.
    previous = baseline
    for text in scrapes:
        current = samples(text)
        for series, value in previous.items():
            if series.startswith("feed_") and series.split("{")[0].endswith("_total"):
                assert current.get(series, 0) >= value, series
        previous = current

    final = samples(scrapes[-1])
    def moved(series):
        return final.get(series, 0) - baseline.get(series, 0)
    assert moved("feed_posts_created_total") == posts
    assert moved('feed_command_duration_seconds_count{command="feed.post"}') == posts
    assert moved('feed_command_duration_seconds_count{command="feed.read"}') == reads
    assert moved("feed_reads_total") == reads
    assert moved("feed_fanout_deliveries_total") == posts * followers
    assert moved("feed_fanouts_skipped_celebrity_total") == 0
    assert final["feed_users"] == followers + 1  # the bad FEED.READ created no user
    assert final["feed_follows"] == followers
    assert final["feed_posts"] == posts
    assert final['feed_command_rejections_total{command="feed.post"}'] == 1
    assert final['feed_command_failures_total{command="feed.read"}'] == 1
    # Both, and nothing else the load did, replied ERR. (redis-py's own
    # connection handshake may add some: it asks for things Redis 7.0 lacks.)
    assert moved('feed_errors_total{code="ERR"}') == 0 and baseline['feed_errors_total{code="ERR"}'] >= 2
    assert final["feed_connected_clients"] >= 1
    assert sum(v for k, v in final.items() if k.startswith("feed_memory_bytes{")) > 0
    bucket = 'feed_command_duration_seconds_bucket{command="feed.post",le="+Inf"}'
    assert final[bucket] == final['feed_command_duration_seconds_count{command="feed.post"}']
    # A load of thousands of requests logs no line per request.
    assert len(server.log().splitlines()) == log_lines


def test_metrics_endpoint_answers_only_metrics(start_server):
    _, port = metrics_server(start_server)
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10)
        raise AssertionError("/ must be 404")
    except urllib.error.HTTPError as error:
        assert error.code == 404
    head = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", method="HEAD")
    with urllib.request.urlopen(head, timeout=10) as response:
        assert response.status == 200 and response.read() == b""


def test_metrics_port_zero_serves_nothing(start_server):
    server = start_server()  # the suite passes --metrics-port 0 unless asked
    assert "Serving Prometheus metrics" not in server.log()
    assert server.client().config_get("metrics-port") == {"metrics-port": "0"}


def test_persistence_metrics_follow_the_writer(start_server, tmp_path):
    server, port = metrics_server(start_server, data_dir=tmp_path)
    client = server.client()
    for index in range(200):
        client.execute_command("FEED.POST", f"user{index % 7}", f"body {index}")
    client.execute_command("FEED.SYNC")
    text = scrape(port)
    promtool_check(text)
    values = samples(text)
    assert values["feed_postgres_up"] == 1
    assert values["feed_persistence_entries_written_total"] >= 200
    assert values["feed_persistence_flush_batch_entries_sum"] >= 200
    assert values["feed_persistence_flush_duration_seconds_count"] >= 1
    assert values["feed_persistence_backlog_full"] == 0
    assert values["feed_tryagain_replies_total"] == 0


def test_redis_py_parses_every_info_section(start_server):
    server = start_server("--slowlog-log-slower-than", "0")
    client = server.client()
    client.config_resetstat()  # after redis-py's handshake
    client.execute_command("FEED.FOLLOW", "bob", "alice")
    client.execute_command("FEED.POST", "alice", "hello")
    client.execute_command("FEED.READ", "bob")
    try:
        client.execute_command("FEED.READ", "bob", "COUNT", "-1")
    except Exception:
        pass
    sections = {
        "server": ["redis_version", "uptime_in_seconds", "tcp_port"],
        "clients": ["connected_clients", "maxclients"],
        "memory": ["used_memory", "used_memory_rss"],
        "persistence": ["loading", "persistence_mode"],
        "stats": ["total_commands_processed", "total_error_replies", "total_connections_received"],
        "commandstats": ["cmdstat_feed.post", "cmdstat_feed.read"],
        "errorstats": ["errorstat_ERR"],
        "feed": ["users", "posts", "follows", "resident_timelines", "celebrities", "post_cache_hit_ratio"],
    }
    for section, keys in sections.items():
        info = client.info(section)
        for key in keys:
            assert key in info, f"{section} lacks {key}"
    default = client.info()
    for section in ["server", "clients", "memory", "persistence", "stats", "feed"]:
        for key in sections[section]:
            assert key in default, key
    assert "cmdstat_feed.post" not in default  # commandstats are not a default section, as in Redis
    for selector in ["all", "everything"]:
        info = client.info(selector)
        for keys in sections.values():
            for key in keys:
                assert key in info, f"INFO {selector} lacks {key}"
        post = info["cmdstat_feed.post"]
        assert post["calls"] == 1 and post["usec"] >= 0 and post["failed_calls"] == 0
        assert info["cmdstat_feed.read"]["failed_calls"] == 1
        assert info["errorstat_ERR"] == {"count": 1}
        assert info["users"] == 2 and info["posts"] == 1 and info["follows"] == 1
        assert isinstance(info["post_cache_hit_ratio"], float)


def test_slowlog_records_a_slow_fanout_and_not_the_fast_commands(start_server):
    # 1 ms: a post pushed into 30,000 timelines takes longer than that; the
    # follows and reads that set it up take microseconds each.
    server = start_server(
        "--slowlog-log-slower-than", "1000", "--slowlog-max-len", "1000", "--celebrity-threshold", "100000")
    client = server.client()
    followers = 30000
    setup = client.pipeline(transaction=False)
    for index in range(followers):
        setup.execute_command("FEED.FOLLOW", f"fan{index}", "star")
        setup.execute_command("FEED.READ", f"fan{index}", "COUNT", "1")
    setup.execute()
    client.client_setname("poster")
    client.execute_command("FEED.POST", "star", "to everyone")
    entries = client.slowlog_get(1000)
    posts = [entry for entry in entries if entry["command"] == b"FEED.POST star to everyone"]
    assert len(posts) == 1, entries[:3]
    assert posts[0]["duration"] >= 1000
    assert posts[0]["client_name"] == b"poster"
    assert posts[0]["client_address"].startswith(b"127.0.0.1:")
    assert len(entries) < 2 * followers / 100  # the fast setup commands stay out
    # SLOWLOG GET of a thousand entries can itself pass 1 ms on a debug
    # build and log itself: LEN counts it too.
    assert client.slowlog_len() - len(entries) in (0, 1)
    assert client.slowlog_reset() is True
    assert client.slowlog_len() <= 1
    # CONFIG SET changes the threshold at run time.
    client.config_set("slowlog-log-slower-than", "0")
    client.ping()
    assert any(entry["command"] == b"PING" for entry in client.slowlog_get())


def test_ops_files_are_valid_and_name_real_metrics(start_server, tmp_path):
    for check in [["check", "config", "ops/prometheus.yml"], ["test", "rules", "ops/feed-alerts.test.yml"]]:
        result = subprocess.run(["promtool", *check], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr
    # Every metric the dashboard and the alerts query is one the server exports.
    _, port = metrics_server(start_server, data_dir=tmp_path)
    exported = {re.sub(r"_(bucket|sum|count)$", "", name.split("{")[0]) for name in samples(scrape(port))}
    dashboard = json.loads((ROOT / "ops/grafana/feed-dashboard.json").read_text())
    queries = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    queries.append((ROOT / "ops/feed-alerts.yml").read_text())
    named = {re.sub(r"_(bucket|sum|count)$", "", name) for text in queries for name in re.findall(r"\b(feed_[a-z_]+|process_[a-z_]+)", text)}
    assert named and named <= exported, named - exported
    assert len(dashboard["panels"]) >= 10

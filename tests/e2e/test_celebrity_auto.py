"""`--celebrity-threshold auto` (issue 17): authors are pulled when pushing
their posts costs more than their followers' reads pay for pulling them,
with the costs measured by the server as it runs."""

import subprocess

from conftest import BINARY, as_map


def test_auto_pulls_an_author_whose_followers_do_not_read_and_measures_pushes(start_server):
    server = start_server("--celebrity-threshold", "auto", "--celebrity-recheck", "1ms")
    client = server.client(decode_responses=True)
    info = client.info("feed")
    assert info["celebrity_threshold"] == "auto"
    assert client.config_get("celebrity-threshold") == {"celebrity-threshold": "auto"}
    start_push_ns = info["celebrity_push_ns"]
    # Twenty followers who never read: pushing to them pays for nothing.
    for index in range(20):
        client.execute_command("FEED.FOLLOW", f"fan:{index}", "star")
    posts = [client.execute_command("FEED.POST", "star", f"post {index}") for index in range(5)]
    assert as_map(client.execute_command("FEED.STATS", "star"))["celebrity"] in (1, True)
    info = client.info("feed")
    assert info["celebrities_pulled_by_cost"] == 1 and info["celebrities"] == 1
    assert info["fanouts_skipped_celebrity"] == 5 and info["fanout_deliveries"] == 0
    # Pulled, the posts are still every follower's.
    assert [entry[0] for entry in client.execute_command("FEED.READ", "fan:3")] == posts[::-1]
    # Ten followers who read a lot: an author they follow is pushed to them,
    # and the server measures what a push costs.
    for index in range(10):
        client.execute_command("FEED.FOLLOW", f"reader:{index}", "friend")
        for _ in range(20):
            client.execute_command("FEED.READ", f"reader:{index}")
    for index in range(10):
        client.execute_command("FEED.POST", "friend", f"hello {index}")
    assert as_map(client.execute_command("FEED.STATS", "friend"))["celebrity"] in (0, False)
    info = client.info("feed")
    assert info["fanout_deliveries"] == 100 and info["celebrity_push_ns"] != start_push_ns, info


def test_a_threshold_is_a_number_or_auto():
    result = subprocess.run([BINARY, "--celebrity-threshold", "sometimes"], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and "is not a valid --celebrity-threshold" in result.stderr, result.stderr
    result = subprocess.run([BINARY, "--celebrity-threshold", "0"], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and "or auto" in result.stderr, result.stderr

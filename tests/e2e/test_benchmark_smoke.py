"""redis-benchmark runs against the server unchanged (the figures themselves
are a benchmark, recorded in the README, not a test)."""

import re
import subprocess


def test_redis_benchmark_ping_inline_and_mbulk(server):
    result = subprocess.run(
        ["redis-benchmark", "-p", str(server.port), "-t", "ping_inline,ping_mbulk", "-n", "2000", "-q"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    text = result.stdout.replace("\r", "\n")
    for test in ["PING_INLINE", "PING_MBULK"]:
        match = re.search(test + r": ([\d.]+) requests per second", text)
        assert match and float(match.group(1)) > 0, text
    assert "WARNING" not in result.stderr, result.stderr

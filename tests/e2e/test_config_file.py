"""A configuration file in redis.conf syntax: `feed-server path`, one
`name value` per line, comments, `include`; the command line wins over the
environment, the environment over the file; bad lines are refused with
where they are. ops/feed-server.conf lists every setting with its default."""

import re
import subprocess

from conftest import BINARY, ROOT

EXAMPLE = ROOT / "ops" / "feed-server.conf"


def normalized(value):
    """CONFIG GET writes sizes in bytes, as Redis does."""
    match = re.fullmatch(r"(\d+)(kb|mb|gb)", value)
    return str(int(match.group(1)) * 1024 ** ("kb mb gb".split().index(match.group(2)) + 1)) if match else value


def refused(*args, env=None):
    result = subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=30, env=env)
    assert result.returncode != 0
    return result.stderr


def test_the_example_lists_every_setting_with_its_default(start_server):
    help_text = " ".join(subprocess.run([BINARY, "--help"], capture_output=True, text=True, timeout=30).stdout.split())
    flags = set(re.findall(r"--([a-z][a-z0-9-]+) <", help_text))
    example = EXAMPLE.read_text()
    named = set(re.findall(r"^#? ?([a-z][a-z0-9-]+) ", example, flags=re.M))
    assert flags - {"help"} <= named, sorted(flags - named)
    # Started with it, the server runs on the defaults it states.
    server = start_server(str(EXAMPLE), "--persistence", "none")
    client = server.client(decode_responses=True)
    settings = client.config_get("*")
    for name, value in re.findall(r"^([a-z][a-z0-9-]+) (.+)$", example, flags=re.M):
        if name in settings and name not in ("port", "persistence", "metrics-port"):
            assert settings[name] == normalized(value.strip('"')), name


def test_command_line_over_environment_over_file_and_includes(start_server, tmp_path):
    extra = tmp_path / "extra.conf"
    extra.write_text("celebrity-threshold 7\nslowlog-max-len 5\n")
    config = tmp_path / "feed.conf"
    config.write_text(
        "# a comment\n\n"
        "timeline-cap 100\n"
        "repost-falloff 9\n"
        "rank-half-life 2h\n"
        "   rank-candidates 40   \n"
        'client-output-buffer-limit-pubsub "16mb 4mb 30"\n'
        "include extra.conf\n"
        "slowlog-max-len 6\n")  # a later line wins, as in Redis
    server = start_server(str(config), "--rank-half-life", "3h", env={"FEED_REPOST_FALLOFF": "5"})
    client = server.client(decode_responses=True)
    settings = client.config_get("*")
    assert settings["timeline-cap"] == "100" and settings["celebrity-threshold"] == "7"
    assert settings["repost-falloff"] == "5"  # the environment over the file
    assert settings["rank-half-life"] == "3h"  # the command line over the file
    assert settings["rank-candidates"] == "40" and settings["slowlog-max-len"] == "6"
    assert settings["client-output-buffer-limit"].endswith("pubsub 16777216 4194304 30")


def test_bad_files_are_refused_with_where(tmp_path):
    config = tmp_path / "bad.conf"
    config.write_text("timeline-cap 100\nno-such-setting 3\n")
    assert f"{config}:2: no-such-setting 3: no such setting" in refused(str(config))
    config.write_text("# fine\ntimeline-cap many\n")
    assert f"{config}:2: timeline-cap many is not a valid --timeline-cap" in refused(str(config))
    config.write_text("rank-diversity-floor 3\n")
    assert f"{config}:1: rank-diversity-floor 3: argument must be between 0 and 1 inclusive" in refused(str(config))
    config.write_text("timeline-cap\n")
    assert "has no value" in refused(str(config))
    config.write_text(f"include {config}\n")
    assert "include loop" in refused(str(config))
    assert "cannot read the configuration file" in refused(str(tmp_path / "missing.conf"))
    assert "one configuration file at most" in refused(str(config), str(config))

"""ops/feed-server.service passes `systemd-analyze verify` (with its
ExecStart pointed at the binary under test) with no warnings, and keeps
the hardening and file limit the README promises."""

import re
import shutil
import subprocess

import pytest

from conftest import BINARY, ROOT

UNIT = ROOT / "ops" / "feed-server.service"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_the_unit_verifies_without_warnings(tmp_path):
    unit = tmp_path / "feed-server.service"
    unit.write_text(UNIT.read_text().replace("/usr/local/bin/feed-server", BINARY))
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr


def test_the_unit_runs_unprivileged_and_hardened():
    text = UNIT.read_text()
    settings = dict(re.findall(r"^(\w+)=(.*)$", text, flags=re.M))
    assert settings["DynamicUser"] == "yes" and settings["NoNewPrivileges"] == "yes"
    assert settings["ProtectSystem"] == "strict" and settings["PrivateTmp"] == "yes"
    maxclients = int(re.search(r"--maxclients <value>[\s\S]*?\(default: (\d+)",
                               subprocess.run([BINARY, "--help"], capture_output=True, text=True, timeout=30).stdout).group(1))
    assert int(settings["LimitNOFILE"]) >= maxclients + 32
    assert settings["KillSignal"] == "SIGTERM"

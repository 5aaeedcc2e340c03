"""A throwaway PostgreSQL that a test starts, stops and restarts itself
(for the outage test; other tests use the server's embedded instance).
Debian's server programs; run as the postgres user when we are root; on a
unix socket only; data in a temporary directory, no fsync."""

import os
import pathlib
import pwd
import shutil
import subprocess
import tempfile


def binaries():
    out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
    if out.returncode == 0 and pathlib.Path(out.stdout.strip(), "postgres").exists():
        return out.stdout.strip()
    versions = sorted(pathlib.Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    return str(versions[-1].parent)


class Postgres:
    def __init__(self):
        self.root = pathlib.Path(tempfile.mkdtemp(prefix="feed-pg-"))
        self.data = self.root / "data"
        self.socket_dir = pathlib.Path(tempfile.mkdtemp(prefix="fpg-", dir="/tmp"))
        self.log = self.root / "postgres.log"
        self.bin = binaries()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            account = pwd.getpwnam("postgres")
            for path in (self.root, self.socket_dir):
                os.chown(path, account.pw_uid, account.pw_gid)
        self._run([f"{self.bin}/initdb", "-D", str(self.data), "-U", "feed", "--auth=trust", "--no-sync", "-E", "UTF8"])
        self.start()

    @property
    def url(self):
        return f"postgres:///postgres?host={self.socket_dir}&user=feed"

    def _run(self, arguments):
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_root else []
        subprocess.run(prefix + arguments, check=True, capture_output=True, timeout=120)

    def start(self):
        options = f"-k {self.socket_dir} -c listen_addresses= -c fsync=off"
        self._run([f"{self.bin}/pg_ctl", "start", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "-t", "60"])

    def stop(self):
        self._run([f"{self.bin}/pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w", "-t", "60"])

    def psql(self, sql):
        return subprocess.run(
            ["psql", "-h", str(self.socket_dir), "-U", "feed", "postgres", "-Atqc", sql],
            capture_output=True, text=True, check=True, timeout=60,
        ).stdout

    def destroy(self):
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.rmtree(self.socket_dir, ignore_errors=True)

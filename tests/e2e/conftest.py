"""Fixtures that run the real feed-server binary (and, for comparison, a real
redis-server) on loopback, each on a free port, each stopped by pid at the end
of its test. Every process runs under `timeout`, so none outlives a killed
test run by more than a few minutes."""

import contextlib
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest
import redis

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = os.environ.get("FEED_SERVER_BIN", str(ROOT / ".build" / "debug" / "feed-server"))
READY = re.compile(r"Ready to accept connections on (\S+):(\d+)")
# A test server outlives a stuck test run by at most this long.
PROCESS_LIFETIME = "900"


class FeedServer:
    """One feed-server process started with `args` (plus --port 0). Memory
    only unless `args` choose persistence; `data_dir` keeps an embedded
    PostgreSQL's data (throwaway: no fsync) across restarts."""

    def __init__(self, *args, env=None, port="0", data_dir=None):
        self.log_file = tempfile.NamedTemporaryFile(prefix="feed-server-", suffix=".log", delete=False)
        environment = dict(os.environ)
        environment.update(env or {})
        self.data_dir = data_dir
        if data_dir is not None:
            args = ("--persistence", "postgres", "--data-dir", str(data_dir), "--postgres-fsync", "no") + args
        elif "--persistence" not in args and "--postgres-url" not in args and "FEED_PERSISTENCE" not in (env or {}):
            args = ("--persistence", "none") + args
        if "--metrics-port" not in args and "FEED_METRICS_PORT" not in (env or {}):
            # Many servers run side by side in the suite: metrics only where a test asks.
            args = ("--metrics-port", "0") + args
        self.args = args
        self.process = subprocess.Popen(
            ["timeout", "-k", "120", PROCESS_LIFETIME, BINARY, "--port", port, *args],
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            env=environment,
        )
        self.port = self._wait_until_ready()

    def _wait_until_ready(self, timeout=120.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            match = READY.search(self.log())
            if match:
                return int(match.group(2))
            if self.process.poll() is not None:
                raise RuntimeError(f"feed-server exited with {self.process.returncode}:\n{self.log()}")
            time.sleep(0.02)
        raise RuntimeError(f"feed-server did not start:\n{self.log()}")

    def log(self):
        return pathlib.Path(self.log_file.name).read_text(errors="replace")

    def wait_for_log(self, pattern, timeout=10.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if re.search(pattern, self.log()):
                return True
            time.sleep(0.05)
        return False

    def client(self, **options):
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=30, **options)

    def connect(self):
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)

    def cli(self, *args, check=True, with_stderr=False):
        result = subprocess.run(
            ["redis-cli", "-p", str(self.port), *args], capture_output=True, text=True, timeout=60
        )
        if check:
            assert result.returncode == 0, result.stderr
        return result.stdout + (result.stderr if with_stderr else "")

    def signal_server(self, sig):
        """Signals the server itself: it is the child of `timeout`, which would
        otherwise forward the signal and kill it a while later."""
        children = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout.split()
        for child in children:
            os.kill(int(child), sig)

    def kill(self):
        """kill -9: no shutdown, no flush."""
        self.signal_server(signal.SIGKILL)
        self.process.wait(30)

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Signals the server and returns its exit code."""
        if self.process.poll() is None:
            self.signal_server(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def cleanup(self):
        self.stop()
        self.log_file.close()
        os.unlink(self.log_file.name)


@pytest.fixture
def start_server():
    """Starts feed-servers for a test and stops each by pid afterwards."""
    started = []

    def start(*args, **options):
        server = FeedServer(*args, **options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.cleanup()


@pytest.fixture
def server(start_server):
    return start_server()


@pytest.fixture
def tmp_path():
    """A data directory the postgres system user can reach (pytest's own
    temporary directories are private to root)."""
    path = pathlib.Path(tempfile.mkdtemp(prefix="feed-data-", dir="/tmp"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def stock_redis(prefix, *extra):
    """A stock redis-server of its own on loopback (with `extra` arguments); yields its port."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix=prefix)
    process = subprocess.Popen(
        ["timeout", "-k", "5", PROCESS_LIFETIME, "redis-server", "--port", str(port), "--bind", "127.0.0.1",
         "--save", "", "--appendonly", "no", "--dir", workdir, *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            if redis.Redis(port=port).ping():
                break
        except redis.ConnectionError:
            time.sleep(0.05)
    try:
        yield port
    finally:
        process.terminate()
        process.wait(20)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_server():
    """A stock redis-server on loopback, the reference for byte-exact replies."""
    with stock_redis("redis-ref-") as port:
        yield port


def exchange(port, data, settle=0.3):
    """Sends raw bytes, then reads until the server closes or goes quiet.
    Returns (reply bytes, closed?)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        sock.settimeout(settle)
        received = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                return received, False
            except ConnectionResetError:
                return received, True
            if not chunk:
                return received, True
            received += chunk


def command(*args):
    """A request as clients encode it."""
    out = b"*%d\r\n" % len(args)
    for arg in args:
        arg = arg.encode() if isinstance(arg, str) else arg
        out += b"$%d\r\n%s\r\n" % (len(arg), arg)
    return out


def ids(entries):
    """The post ids of plain entries, as numbers."""
    return [int(entry[0]) for entry in entries]


def as_map(entry):
    """A WITHMETA entry (or any map reply) as a dict: RESP2 sends field/value pairs."""
    return entry if isinstance(entry, dict) else dict(zip(entry[::2], entry[1::2]))

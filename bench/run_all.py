#!/usr/bin/env python3
"""Runs feed-server against what its users would build instead, one target at
a time on loopback, with the same graph and the same load tool, and writes
bench/results/run-all.{md,json} and latency plots (PNG).

Targets:
  sql         naive pull: PostgreSQL 15, a JOIN per read (pgbench, custom scripts)
  redis-lua   the hybrid feed as Redis Functions on a stock redis-server
  feed-none   feed-server, memory only
  feed-async  feed-server, PostgreSQL (embedded, fsync on) written asynchronously

Scenarios:
  throughput  closed loop, 50 connections: FEED.POST, then FEED.READ COUNT 50
  seeds       open loop: 10,000 posts/s and 10,000 reads/s for 60 s (feed-none, feed-async)
  celebrity   a 100,000-follower author posts: time until every follower sees it
  push-pull   the same mixed load with every author pushed vs every author pulled
  goals       issue 17's goals, each as measured / this machine's ceiling, pass or not:
              bench/ceilings (FEED.READ vs LRANGE, FEED.POST vs SET), durable posts for
              --goal-duration s (async and sync, every post counted in PostgreSQL), and
              --goal-runs open-loop runs at 20,000 req/s beside a stock redis-server at
              the same rate (feed-bench --dialect redis)

Use bench/run-all (it builds, sets up the venv, installs redis-server if absent).
"""

import argparse
import contextlib
import json
import os
import pathlib
import platform
import pwd
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
BASELINES = ROOT / "bench" / "baselines"


def log(message):
    print(f"[run-all {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port, process, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
                connection.sendall(b"PING\r\n")
                if connection.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"nothing answered on port {port}")


class Bench:
    """feed-bench, the one load tool every RESP target is measured with."""

    def __init__(self, binary):
        self.binary = binary

    def run(self, *args, timeout=3600):
        command = [self.binary, *map(str, args)]
        log(" ".join(command[1:]))
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"feed-bench {' '.join(map(str, args))} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def load(self, port, dialect, graph):
        return self.run("setup", "--port", port, "--dialect", dialect, *graph).strip()

    def workload(self, port, dialect, *args):
        return json.loads(self.run("run", "--port", port, "--dialect", dialect, "--json", "--quiet", *args))

    def celebrity(self, port, dialect, followers):
        return json.loads(self.run("celebrity", "--port", port, "--dialect", dialect, "--followers", followers, "--json"))


class Process:
    def __init__(self, command, log_path, port):
        self.log = open(log_path, "wb")
        self.process = subprocess.Popen(["timeout", "-k", "30", "7200", *command], stdout=self.log, stderr=subprocess.STDOUT)
        self.port = port
        wait_for_port(port, self.process)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


class Postgres:
    """A private PostgreSQL 15 for the SQL baseline: unix socket only, run as
    the postgres user when we are root, removed afterwards."""

    def __init__(self, workdir):
        bindir = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip()
        if not pathlib.Path(bindir, "postgres").exists():
            bindir = str(sorted(pathlib.Path("/usr/lib/postgresql").glob("*/bin/postgres"))[-1].parent)
        self.bin = bindir
        self.root = pathlib.Path(tempfile.mkdtemp(prefix="bench-pg-", dir=workdir))
        self.socket_dir = pathlib.Path(tempfile.mkdtemp(prefix="bpg-", dir="/tmp"))
        self.as_root = os.geteuid() == 0
        if self.as_root:
            account = pwd.getpwnam("postgres")
            for path in (self.root, self.socket_dir):
                os.chown(path, account.pw_uid, account.pw_gid)
        self.data = self.root / "data"
        self._run([f"{self.bin}/initdb", "-D", str(self.data), "-U", "bench", "--auth=trust", "-E", "UTF8"])
        options = f"-k {self.socket_dir} -c listen_addresses= -c shared_buffers=1GB -c max_connections=200"
        self._run([f"{self.bin}/pg_ctl", "start", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "-t", "120"])

    def _run(self, arguments):
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_root else []
        subprocess.run(prefix + arguments, check=True, capture_output=True, timeout=600)

    def psql(self, *args):
        return subprocess.run(
            ["psql", "-h", str(self.socket_dir), "-U", "bench", "-X", "-q", "-v", "ON_ERROR_STOP=1", "postgres", *args],
            check=True, capture_output=True, text=True, timeout=3600).stdout

    def pgbench(self, script, seconds, clients, users, logdir):
        """Runs a pgbench custom script; returns the same figures feed-bench reports."""
        for old in pathlib.Path(logdir).glob("pgbench_log*"):
            old.unlink()
        command = [
            shutil.which("pgbench") or f"{self.bin}/pgbench", "-h", str(self.socket_dir), "-U", "bench", "-n",
            "-c", str(clients), "-j", "2", "-T", str(seconds), "-D", f"users={users}", "-f", str(script), "-l", "postgres",
        ]
        log(" ".join(command[1:]))
        out = subprocess.run(command, check=True, capture_output=True, text=True, cwd=logdir, timeout=seconds + 600).stdout
        latencies = []
        for path in pathlib.Path(logdir).glob("pgbench_log*"):
            for line in path.read_text().splitlines():
                fields = line.split()
                latencies.append(int(fields[2]) / 1000.0)  # µs -> ms
        tps = float(re.search(r"tps = ([0-9.]+)", out).group(1))
        return summarize(latencies, tps)

    def destroy(self):
        try:
            self._run([f"{self.bin}/pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w", "-t", "120"])
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.rmtree(self.socket_dir, ignore_errors=True)


def percentile(ordered, p):
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, int(round(p / 100.0 * len(ordered) + 0.5)) - 1))
    return ordered[index]


def summarize(latencies_ms, per_second):
    ordered = sorted(latencies_ms)
    points = [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100]
    return {
        "requests": len(ordered), "errors": 0, "requestsPerSecond": per_second,
        "p50": percentile(ordered, 50), "p95": percentile(ordered, 95), "p99": percentile(ordered, 99),
        "p999": percentile(ordered, 99.9), "max": ordered[-1] if ordered else 0.0,
        "mean": sum(ordered) / len(ordered) if ordered else 0.0,
        "distribution": [[p, percentile(ordered, p)] for p in points],
    }


def build():
    log("building feed-server and feed-bench (release)")
    subprocess.run(["swift", "build", "-c", "release", "--product", "feed-server"], cwd=ROOT, check=True)
    subprocess.run(["swift", "build", "-c", "release", "--product", "feed-bench"], cwd=ROOT, check=True)
    bindir = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout.strip()
    return f"{bindir}/feed-server", f"{bindir}/feed-bench"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=20, help="seconds per throughput run")
    parser.add_argument("--seeds-duration", type=float, default=60, help="seconds of the 10,000 posts/s scenario")
    parser.add_argument("--users", type=int, default=10000)
    parser.add_argument("--follows", type=int, default=100)
    parser.add_argument("--zipf", type=float, default=1.0)
    parser.add_argument("--celebrity-followers", type=int, default=100000)
    parser.add_argument("--posts-per-user", type=int, default=50, help="posts in the SQL baseline's table")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--pipeline", type=int, default=16, help="-P of the pipelined throughput runs (1: none)")
    parser.add_argument("--targets", default="sql,redis-lua,feed-none,feed-async,goals",
                        help="goals: issue 17's goals, each measured against this machine's ceiling")
    parser.add_argument("--goal-duration", type=float, default=60, help="seconds of each sustained or open-loop goal run")
    parser.add_argument("--goal-runs", type=int, default=3, help="open-loop runs that must all pass")
    parser.add_argument("--ceiling-requests", type=int, default=200_000, help="redis-benchmark requests per ceiling run")
    parser.add_argument("--out", default=str(RESULTS / "run-all"), help="path prefix of the result files")
    args = parser.parse_args()
    targets = args.targets.split(",")

    server_binary, bench_binary = build()
    bench = Bench(bench_binary)
    graph = ["--users", args.users, "--follows", args.follows, "--zipf", args.zipf]
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="run-all-", dir="/tmp"))
    os.chmod(workdir, 0o755)
    common = ["-c", args.connections, "--duration", args.duration, "--users", args.users]
    pipelined = ["-P", args.pipeline, *common]

    def throughput(port, dialect, target):
        """FEED.POST, then FEED.READ COUNT 50: without pipelining, then with -P."""
        results["throughput"][target] = {
            "post": bench.workload(port, dialect, "--workload", "posts", *common)["kinds"]["post"],
            "read": bench.workload(port, dialect, "--workload", "reads", "--count", 50, *common)["kinds"]["read"],
        }
        if args.pipeline > 1:
            results["pipelined"][target] = {
                "post": bench.workload(port, dialect, "--workload", "posts", *pipelined)["kinds"]["post"],
                "read": bench.workload(port, dialect, "--workload", "reads", "--count", 50, *pipelined)["kinds"]["read"],
            }
    results = {
        "machine": {"cores": os.cpu_count(), "system": platform.platform(), "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)},
        "settings": vars(args), "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "throughput": {}, "pipelined": {}, "setup": {}, "celebrity": {}, "push_pull": {}, "seeds": {}, "goals": {},
    }

    def seeds_run(port, duration=None):
        return bench.workload(
            port, "feed", "--workload", "mix", "--read-ratio", 0.5, "--rate", 20000, "--count", 50,
            "-c", args.connections, "--duration", duration or args.seeds_duration, "--users", args.users)

    def feed_server(name, *flags):
        port = free_port()
        command = [server_binary, "--port", port, "--metrics-port", "0", "--log-level", "warning", *flags]
        return Process(list(map(str, command)), workdir / f"{name}.log", port)

    @contextlib.contextmanager
    def loaded_server(name, *flags):
        """A fresh feed-server with a data directory of its own (yielded
        with it), holding just the graph, every write of the load committed."""
        data = workdir / name
        data.mkdir()
        os.chmod(data, 0o755)
        server = feed_server(name, *flags, "--data-dir", data)
        try:
            bench.load(server.port, "feed", graph)
            subprocess.run(["redis-cli", "-p", str(server.port), "FEED.SYNC", "120000"], check=True, capture_output=True,
                           timeout=300)
            yield server, data
        finally:
            server.stop()

    try:
        if "sql" in targets:
            log("target sql: PostgreSQL naive pull")
            postgres = Postgres(workdir)
            try:
                csv = workdir / "graph.csv"
                bench.run("setup", *graph, "--csv", csv)
                os.chmod(csv, 0o644)
                started = time.time()
                postgres.psql("-f", str(BASELINES / "schema.sql"))
                postgres.psql("-c", f"\\copy follows FROM '{csv}' WITH (FORMAT csv)")
                postgres.psql("-v", f"users={args.users}", "-v", f"posts_per_user={args.posts_per_user}", "-f", str(BASELINES / "load.sql"))
                results["setup"]["sql"] = f"loaded {args.users} users, {args.users * args.follows} follows, {args.users * args.posts_per_user} posts in {time.time() - started:.1f} s"
                logdir = workdir / "pgbench"
                logdir.mkdir(exist_ok=True)
                results["throughput"]["sql"] = {
                    "post": postgres.pgbench(BASELINES / "post.sql", int(args.duration), args.connections, args.users, logdir),
                    "read": postgres.pgbench(BASELINES / "read.sql", int(args.duration), args.connections, args.users, logdir),
                }
            finally:
                postgres.destroy()

        if "redis-lua" in targets:
            log("target redis-lua: redis-server + Redis Functions")
            port = free_port()
            redis = Process(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(workdir), "--loglevel", "warning"], workdir / "redis.log", port)
            try:
                subprocess.run(["redis-cli", "-p", str(port), "-x", "FUNCTION", "LOAD", "REPLACE"], check=True,
                               stdin=open(BASELINES / "feed.lua", "rb"), capture_output=True)
                results["setup"]["redis-lua"] = bench.load(port, "redis-lua", graph)
                throughput(port, "redis-lua", "redis-lua")
                results["celebrity"]["Redis + Lua functions (pull: over the threshold)"] = bench.celebrity(port, "redis-lua", args.celebrity_followers)
            finally:
                redis.stop()

        if "feed-none" in targets:
            log("target feed-none: feed-server --persistence none")
            server = feed_server("feed-none", "--persistence", "none")
            try:
                results["setup"]["feed-none"] = bench.load(server.port, "feed", graph)
                throughput(server.port, "feed", "feed-none")
                results["celebrity"]["feed-none (pull: over the celebrity threshold)"] = bench.celebrity(
                    server.port, "feed", args.celebrity_followers)
            finally:
                server.stop()
            # The same author pushed to all 100,000 timelines instead.
            server = feed_server("feed-push", "--persistence", "none", "--celebrity-threshold", 10_000_000)
            try:
                results["celebrity"]["feed-none (push: threshold raised)"] = bench.celebrity(server.port, "feed", args.celebrity_followers)
            finally:
                server.stop()
            # Push versus pull: the same mixed load, every author pushed, then every author pulled.
            for label, threshold in [("push (every author pushed)", 10_000_000), ("pull (every author pulled)", 1)]:
                server = feed_server("feed-" + label.split()[0], "--persistence", "none", "--celebrity-threshold", threshold)
                try:
                    bench.load(server.port, "feed", graph)
                    results["push_pull"][label] = bench.workload(
                        server.port, "feed", "--workload", "mix", "--read-ratio", 0.8, "--count", 50, *common)["kinds"]
                finally:
                    server.stop()

        if "feed-async" in targets:
            log("target feed-async: feed-server with embedded PostgreSQL, async")
            data = workdir / "feed-data"
            data.mkdir()
            os.chmod(data, 0o755)
            server = feed_server("feed-async", "--persistence", "postgres", "--data-dir", data)
            try:
                results["setup"]["feed-async"] = bench.load(server.port, "feed", graph)
                throughput(server.port, "feed", "feed-async")
            finally:
                server.stop()

        # The seeds' target, 10,000 posts/s with as many reads (open loop), each
        # on a fresh server holding just the graph, as the other scenarios start.
        for label, target, flags in [("memory only", "feed-none", ["--persistence", "none"]),
                                     ("PostgreSQL async", "feed-async", ["--persistence", "postgres"])]:
            if target not in targets:
                continue
            log(f"seeds scenario: feed-server, {label}")
            with loaded_server(f"seeds-{target}", *flags) as (server, _):
                results["seeds"][label] = seeds_run(server.port)
        if "goals" in targets:
            results["goals"] = goals(args, server_binary, bench, workdir, loaded_server, seeds_run)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(f"{out}.json").write_text(json.dumps(results, indent=2) + "\n")
    markdown = report(results, args)
    pathlib.Path(f"{out}.md").write_text(markdown)
    plot(results, out)
    print(markdown)


def load_ceilings():
    """bench/ceilings as a module (its file has no .py)."""
    import importlib.machinery
    import importlib.util
    loader = importlib.machinery.SourceFileLoader("ceilings", str(ROOT / "bench" / "ceilings"))
    spec = importlib.util.spec_from_loader("ceilings", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def durable_run(args, bench, loaded_server, durability, connections):
    """FEED.POST for --goal-duration seconds with the embedded PostgreSQL
    (fsync on), closed loop; the journal backlog sampled every second; then
    FEED.SYNC and every acknowledged post counted in PostgreSQL."""
    with loaded_server(f"durable-{durability}", "--persistence", "postgres", "--durability", durability) as (server, data):
        cli = ["redis-cli", "-p", str(server.port)]
        socket_dir = (data / "postgres.socket").read_text().strip()

        def count_posts():
            return int(subprocess.run(["psql", "-h", socket_dir, "-U", "feed", "-X", "-Atqc", "SELECT count(*) FROM posts", "postgres"],
                                      check=True, capture_output=True, text=True, timeout=300).stdout)
        before = count_posts()
        backlog, stop = [], threading.Event()

        def sample():
            while not stop.wait(1):
                info = subprocess.run([*cli, "INFO", "persistence"], capture_output=True, text=True).stdout
                found = re.search(r"journal_backlog_entries:(\d+)", info)
                if found:
                    backlog.append(int(found.group(1)))
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        run = bench.workload(server.port, "feed", "--workload", "posts", "-c", connections, "--duration", args.goal_duration,
                             "--users", args.users)
        stop.set()
        sampler.join()
        subprocess.run([*cli, "FEED.SYNC", "300000"], check=True, capture_output=True, timeout=600)
        post = run["kinds"]["post"]
        return {"posts_per_second": post["requestsPerSecond"], "acknowledged": post["requests"] - post["errors"],
                "errors": post["errors"], "try_again": run["tryAgain"], "in_postgres": count_posts() - before,
                "peak_backlog": max(backlog, default=0), "p99": post["p99"], "connections": connections}


def goals(args, server_binary, bench, workdir, loaded_server, seeds_run):
    """Issue 17's goals, each as measured / what this machine does at all."""
    ceilings = load_ceilings()
    found = {}
    log("goals: FEED.READ / LRANGE and FEED.POST / SET (bench/ceilings)")
    out = workdir / "ceilings.json"
    subprocess.run([sys.executable, str(ROOT / "bench" / "ceilings"), "--rounds", "3", "--requests", str(args.ceiling_requests),
                    "--binary", server_binary, "--json", str(out), "--out", str(workdir / "ceilings.md")],
                   check=True, timeout=7200)
    found["ceilings"] = json.loads(out.read_text())
    for durability, connections in (("async", 50), ("sync", 200)):
        log(f"goals: durable FEED.POST, {durability}, {args.goal_duration:g} s")
        found[f"durable_{durability}"] = durable_run(args, bench, loaded_server, durability, connections)
    found["open_loop"] = []
    for run in range(args.goal_runs):
        log(f"goals: open loop 20,000 req/s with PostgreSQL async, run {run + 1} of {args.goal_runs}")
        with loaded_server(f"open-loop-{run}", "--persistence", "postgres") as (server, _):
            found["open_loop"].append(seeds_run(server.port, args.goal_duration))
    log("goals: the floor, a stock redis-server at the same rate moving the same bytes")
    port = free_port()
    redis = Process(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                     "--dir", str(workdir), "--loglevel", "warning"], workdir / "redis-floor.log", port)
    try:
        ceilings.fill_lists(port, found["ceilings"]["read_reply_bytes"], "list:user:{key:012d}", keys=args.users)
        found["open_loop_floor"] = bench.workload(
            port, "redis", "--workload", "mix", "--read-ratio", 0.5, "--rate", 20000, "--count", 50,
            "-c", args.connections, "--duration", args.goal_duration, "--users", args.users)
    finally:
        redis.stop()
    return found


def goal_rows(found):
    """(goal, measured, ceiling or floor, ratio, met) for each goal run."""
    rows = []
    if "ceilings" in found:
        c = found["ceilings"]
        read, lrange, post, set_ = (c["median"][k] for k in ("read", "lrange", "post", "set"))
        rows.append(("FEED.READ COUNT 50 ≥ 0.9× redis-server LRANGE of an equal reply", f"{read:,.0f} req/s",
                     f"{lrange:,.0f} req/s ({c['lrange_reply_bytes']:,} B)", f"{read / lrange:.2f}×", read / lrange >= 0.9))
        rows.append(("FEED.POST ≥ 0.85× redis-server SET of 110 bytes", f"{post:,.0f} req/s", f"{set_:,.0f} req/s",
                     f"{post / set_:.2f}×", post / set_ >= 0.85))
    for durability, goal in (("async", 50_000), ("sync", 25_000)):
        run = found.get(f"durable_{durability}")
        if run:
            whole = run["in_postgres"] == run["acknowledged"] and run["try_again"] == 0
            rows.append((f"--durability {durability}: ≥ {goal:,} posts/s sustained, every post in PostgreSQL",
                         f"{run['posts_per_second']:,.0f} posts/s; {run['in_postgres']:,} of {run['acknowledged']:,} in PostgreSQL; "
                         f"peak backlog {run['peak_backlog']:,}; TRYAGAIN {run['try_again']}",
                         f"{goal:,} posts/s (goal)", f"{run['posts_per_second'] / goal:.2f}×",
                         run["posts_per_second"] >= goal and whole))
    if found.get("open_loop"):
        runs = found["open_loop"]
        floor = found.get("open_loop_floor", {}).get("all")
        measured = "; ".join(f"p99 {r['all']['p99']:.2f} / p99.9 {r['all']['p999']:.2f} ms" for r in runs)
        floor_text = f"p99 {floor['p99']:.2f} / p99.9 {floor['p999']:.2f} ms" if floor else "not run"
        met = all(r["all"]["p99"] < 1 and r["all"]["p999"] < 5 for r in runs)
        rows.append((f"open loop 20,000 req/s, PostgreSQL async: p99 < 1 ms and p99.9 < 5 ms in {len(runs)} of {len(runs)}",
                     measured, f"redis-server at the same rate: {floor_text}",
                     f"{statistics.median(r['all']['p99'] for r in runs) / floor['p99']:.1f}× the floor's p99" if floor else "", met))
    return rows


TARGET_LABELS = {
    "sql": "naive pull (PostgreSQL JOIN)",
    "redis-lua": "Redis + Lua functions",
    "feed-none": "feed-server, memory only",
    "feed-async": "feed-server, PostgreSQL async",
}


def ratio(a, b):
    return f"{a / b:,.1f}×" if b else "n/a"


def report(results, args):
    lines = ["# bench/run-all", ""]
    machine = results["machine"]
    lines.append(f"{machine['cores']} cores, {machine['memory_gb']} GiB, {machine['system']}; {results['started']}.")
    lines.append(f"Graph: {args.users:,} users × {args.follows} follows, Zipf {args.zipf} (feed-bench setup). "
                 f"Closed loop: {args.connections} connections, {args.duration:g} s per run, no pipelining.")
    lines.append("")
    rows = goal_rows(results.get("goals", {}))
    if rows:
        lines.append("## Goals against this machine's ceiling (issue 17)")
        lines.append("")
        lines.append("| goal | measured | ceiling | ratio | |")
        lines.append("|---|---|---|---|---|")
        for goal, measured, ceiling, ratio_text, met in rows:
            lines.append(f"| {goal} | {measured} | {ceiling} | {ratio_text} | {'**pass**' if met else 'not met'} |")
        lines.append("")
        lines.append("Ceilings: bench/ceilings (redis-benchmark, 50 clients, -r 10000, 3 alternating rounds, medians). "
                     f"Durable and open-loop runs: feed-bench, {args.goal_duration:g} s each, embedded PostgreSQL with fsync on; "
                     "the open-loop floor is a stock redis-server sent SET and LRANGE (of lists whose reply is FEED.READ's size) "
                     "at the same rate by the same tool.")
        lines.append("")
    if results["throughput"]:
        lines.append("## Throughput (closed loop)")
        lines.append("")
        lines.append("| target | FEED.POST req/s | p50 ms | p95 ms | p99 ms | FEED.READ COUNT 50 req/s | p50 ms | p95 ms | p99 ms |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for target, figures in results["throughput"].items():
            post, read = figures["post"], figures["read"]
            lines.append(f"| {TARGET_LABELS.get(target, target)} | {post['requestsPerSecond']:,.0f} | {post['p50']:.3f} | {post['p95']:.3f} | "
                         f"{post['p99']:.3f} | {read['requestsPerSecond']:,.0f} | {read['p50']:.3f} | {read['p95']:.3f} | {read['p99']:.3f} |")
        lines.append("")
    if results["pipelined"]:
        lines.append(f"Pipelined (-P {args.pipeline}, {args.connections} connections): the maximum each target reaches when "
                     "round trips are not the limit.")
        lines.append("")
        lines.append("| target | FEED.POST req/s | p99 ms | FEED.READ COUNT 50 req/s | p99 ms |")
        lines.append("|---|---:|---:|---:|---:|")
        for target, figures in results["pipelined"].items():
            post, read = figures["post"], figures["read"]
            lines.append(f"| {TARGET_LABELS.get(target, target)} | {post['requestsPerSecond']:,.0f} | {post['p99']:.3f} | "
                         f"{read['requestsPerSecond']:,.0f} | {read['p99']:.3f} |")
        lines.append("")
    throughput = results["throughput"]
    if "feed-none" in throughput and "redis-lua" in throughput:
        feed, lua = throughput["feed-none"], throughput["redis-lua"]
        lines.append(f"- FEED.POST: feed-server (memory) / Redis + Lua = **{ratio(feed['post']['requestsPerSecond'], lua['post']['requestsPerSecond'])}** (goal 30×)")
        lines.append(f"- FEED.READ: feed-server (memory) / Redis + Lua = **{ratio(feed['read']['requestsPerSecond'], lua['read']['requestsPerSecond'])}** (goal 25×)")
    pipelined = results["pipelined"]
    if "feed-none" in pipelined and "redis-lua" in pipelined:
        feed, lua = pipelined["feed-none"], pipelined["redis-lua"]
        lines.append(f"- Pipelined (-P {args.pipeline}): FEED.POST **{ratio(feed['post']['requestsPerSecond'], lua['post']['requestsPerSecond'])}**, "
                     f"FEED.READ **{ratio(feed['read']['requestsPerSecond'], lua['read']['requestsPerSecond'])}** the Redis + Lua baseline")
    if "feed-async" in throughput and "redis-lua" in throughput:
        feed, lua = throughput["feed-async"], throughput["redis-lua"]
        lines.append(f"- With PostgreSQL async: FEED.POST {ratio(feed['post']['requestsPerSecond'], lua['post']['requestsPerSecond'])}, "
                     f"FEED.READ {ratio(feed['read']['requestsPerSecond'], lua['read']['requestsPerSecond'])} the Redis + Lua baseline")
    if "sql" in throughput:
        sql_p95 = throughput["sql"]["read"]["p95"]
        for target in ("feed-none", "feed-async"):
            if target in throughput:
                lines.append(f"- FEED.READ p95: naive pull {sql_p95:.2f} ms / {TARGET_LABELS[target]} {throughput[target]['read']['p95']:.3f} ms = "
                             f"**{ratio(sql_p95, throughput[target]['read']['p95'])}** lower (goal 100×)")
    lines.append("")
    if results["seeds"]:
        lines.append(f"## The seeds' target: 10,000 posts/s with 10,000 reads/s, open loop, {args.seeds_duration:g} s")
        lines.append("")
        lines.append(f"{args.connections} connections; latency measured from each request's intended send time (no coordinated omission).")
        lines.append("")
        lines.append("| feed-server | request | sent | req/s | p50 ms | p95 ms | p99 ms | p99.9 ms | max ms | errors |")
        lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for threads, seeds in results["seeds"].items():
            for kind, figures in sorted(seeds["kinds"].items()):
                lines.append(f"| {threads} | {kind} | {figures['requests']:,} | {figures['requestsPerSecond']:,.0f} | {figures['p50']:.3f} | "
                             f"{figures['p95']:.3f} | {figures['p99']:.3f} | {figures['p999']:.3f} | {figures['max']:.3f} | {figures['errors']} |")
        lines.append("")
    if results["celebrity"]:
        lines.append(f"## A celebrity with {args.celebrity_followers:,} followers posts")
        lines.append("")
        lines.append("| target | post reply ms | every follower's read shows it after ms | read passes |")
        lines.append("|---|---:|---:|---:|")
        for target, figures in results["celebrity"].items():
            lines.append(f"| {target} | {figures['post_reply_ms']:.2f} | {figures['all_followers_see_it_ms']:,.1f} | {figures['read_passes']:.0f} |")
        lines.append("")
        lines.append("Every follower has read once before the post (resident timelines). The time to see it is until the "
                     "last of the followers' reads, which go 8 connections × 500 in flight, showed it.")
        lines.append("")
    if results["push_pull"]:
        lines.append("## Push versus pull, same load (feed-server, memory only; 80% reads, 20% posts, closed loop)")
        lines.append("")
        lines.append("| model | FEED.READ req/s | read p50 ms | read p95 ms | read p99 ms | FEED.POST req/s | post p95 ms | post p99 ms |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        for label, kinds in results["push_pull"].items():
            read, post = kinds["read"], kinds["post"]
            lines.append(f"| {label} | {read['requestsPerSecond']:,.0f} | {read['p50']:.3f} | {read['p95']:.3f} | {read['p99']:.3f} | "
                         f"{post['requestsPerSecond']:,.0f} | {post['p95']:.3f} | {post['p99']:.3f} |")
        if "sql" in throughput:
            read = throughput["sql"]["read"]
            lines.append(f"| naive pull in SQL (reads only, from the throughput table) | {read['requestsPerSecond']:,.0f} | {read['p50']:.3f} | "
                         f"{read['p95']:.3f} | {read['p99']:.3f} | | | |")
        lines.append("")
    lines.append("## Setup")
    lines.append("")
    for target, text in results["setup"].items():
        lines.append(f"- {TARGET_LABELS.get(target, target)}: {text}")
    lines.append("")
    lines.append(f"Command: `bench/run-all` ({results['started']} – {results['finished']}). Plots: run-all-throughput.png, "
                 "run-all-read-latency.png, run-all-post-latency.png, run-all-seeds-latency.png.")
    return "\n".join(lines) + "\n"


def plot(results, out):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib is missing: no plots")
        return
    throughput = results["throughput"]
    if not throughput:
        return  # e.g. --targets goals: tables only
    targets = list(throughput)
    labels = [TARGET_LABELS.get(t, t).replace(", ", ",\n") for t in targets]
    figure, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for axis, kind, title in [(axes[0], "post", "FEED.POST"), (axes[1], "read", "FEED.READ COUNT 50")]:
        values = [throughput[t][kind]["requestsPerSecond"] for t in targets]
        bars = axis.bar(labels, values, color=["#999999", "#d62728", "#1f77b4", "#2ca02c"][: len(targets)])
        axis.set_yscale("log")
        axis.set_title(f"{title}: requests/s (log scale)")
        for bar, value in zip(bars, values):
            axis.annotate(f"{value:,.0f}", (bar.get_x() + bar.get_width() / 2, value), ha="center", va="bottom", fontsize=9)
        axis.tick_params(axis="x", labelsize=8)
    figure.suptitle(f"Closed loop, {results['settings']['connections']} connections, {results['machine']['cores']} cores")
    figure.tight_layout()
    figure.savefig(f"{out}-throughput.png", dpi=110)
    plt.close(figure)
    curves = {kind: {TARGET_LABELS.get(t, t): throughput[t][kind]["distribution"] for t in targets} for kind in ("read", "post")}
    titles = {"read": "FEED.READ COUNT 50 latency by percentile, closed loop at maximum throughput",
              "post": "FEED.POST latency by percentile, closed loop at maximum throughput"}
    if results["seeds"]:
        curves["seeds"] = {f"{kind}, {threads}": seeds["kinds"][kind]["distribution"]
                           for threads, seeds in results["seeds"].items() for kind in sorted(seeds["kinds"])}
        titles["seeds"] = "feed-server at 10,000 posts/s + 10,000 reads/s, open loop"
    for kind, lines_by_label in curves.items():
        figure, axis = plt.subplots(figsize=(8, 5))
        for label, distribution in lines_by_label.items():
            points = [(p, ms) for p, ms in distribution if p < 100]
            xs = [1 / (1 - p / 100) for p, _ in points]
            axis.plot(xs, [max(ms, 0.001) for _, ms in points], marker="o", label=label)
        axis.set_xscale("log")
        axis.set_yscale("log")
        ticks = [1, 2, 10, 100, 1000, 10000]
        axis.set_xticks(ticks)
        axis.set_xticklabels(["p0", "p50", "p90", "p99", "p99.9", "p99.99"])
        axis.set_ylabel("latency, ms (log scale)")
        axis.set_title(titles[kind])
        axis.grid(True, which="both", alpha=0.3)
        axis.legend()
        figure.tight_layout()
        figure.savefig(f"{out}-{kind}-latency.png", dpi=110)
        plt.close(figure)


if __name__ == "__main__":
    main()

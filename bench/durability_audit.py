#!/usr/bin/env python3
"""The durability audit: load a feed-server with posts, record every post id
it acknowledged, then check with psql that each one is in PostgreSQL.

    bench/durability_audit.py load --port 6380 --seconds 30 --ids acked.txt [--connections 8]
    bench/durability_audit.py check --ids acked.txt --data-dir data          # embedded PostgreSQL
    bench/durability_audit.py check --ids acked.txt --psql "postgres://..."   # any PostgreSQL

`load` writes one acknowledged id per line as soon as the reply arrives, so
the file is complete even when the server is killed mid-load. `check` prints
how many acknowledged ids are missing from PostgreSQL (must be 0) and how
many posts PostgreSQL has that were never acknowledged (possible: a post
committed just before a crash whose reply never came back), and exits 1 if
any are missing."""

import argparse
import os
import pathlib
import subprocess
import sys
import threading
import time

import redis


def psql_arguments(data_dir=None, url=None):
    if url:
        return ["psql", url]
    socket_dir = (pathlib.Path(data_dir) / "postgres.socket").read_text().strip()
    return ["psql", "-h", socket_dir, "-U", "feed", "postgres"]


def stored_post_ids(data_dir=None, url=None, live_only=True):
    where = " WHERE deleted_at IS NULL" if live_only else ""
    out = subprocess.run(
        psql_arguments(data_dir, url) + ["-Atqc", f"SELECT id FROM posts{where}"],
        capture_output=True, text=True, check=True,
    ).stdout
    return {int(line) for line in out.split()}


def check(acknowledged, data_dir=None, url=None):
    """(missing, extra): acknowledged but not stored, stored but not acknowledged."""
    stored = stored_post_ids(data_dir, url, live_only=False)
    return sorted(set(acknowledged) - stored), sorted(stored - set(acknowledged))


class Loader:
    """Posts from several connections until stopped or the server goes away,
    recording every acknowledged id (and counting TRYAGAIN refusals)."""

    def __init__(self, port, connections=8, users=50, ids_file=None, host="127.0.0.1"):
        self.port, self.host, self.users = port, host, users
        self.acknowledged = []
        self.tryagain = 0
        self.errors = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.ids_file = open(ids_file, "a", buffering=1) if ids_file else None
        self.threads = [threading.Thread(target=self._run, args=(index,), daemon=True) for index in range(connections)]

    def start(self):
        for thread in self.threads:
            thread.start()
        return self

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(30)
        if self.ids_file:
            self.ids_file.close()

    def _run(self, index):
        client = redis.Redis(host=self.host, port=self.port, socket_timeout=30, protocol=2)
        sequence = 0
        while not self.stopping.is_set():
            sequence += 1
            author = f"user:{(index * 7919 + sequence) % self.users}"
            try:
                post = int(client.execute_command("FEED.POST", author, f"post {index}-{sequence}"))
            except redis.ResponseError as error:
                with self.lock:
                    if str(error).startswith("persistence backlog full"):
                        self.tryagain += 1
                    else:
                        self.errors += 1
                time.sleep(0.001)
                continue
            except (redis.ConnectionError, redis.TimeoutError, OSError):
                return  # the server went away
            with self.lock:
                self.acknowledged.append(post)
                if self.ids_file:
                    self.ids_file.write(f"{post}\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    load = commands.add_parser("load", help="post for a while, recording acknowledged ids")
    load.add_argument("--port", type=int, default=6380)
    load.add_argument("--seconds", type=float, default=30)
    load.add_argument("--connections", type=int, default=8)
    load.add_argument("--ids", required=True)
    verify = commands.add_parser("check", help="check the recorded ids against PostgreSQL")
    verify.add_argument("--ids", required=True)
    verify.add_argument("--data-dir")
    verify.add_argument("--psql")
    args = parser.parse_args()

    if args.command == "load":
        loader = Loader(args.port, args.connections, ids_file=args.ids).start()
        deadline = time.time() + args.seconds
        while time.time() < deadline and any(thread.is_alive() for thread in loader.threads):
            time.sleep(0.1)
        loader.stop()
        print(f"acknowledged {len(loader.acknowledged)} posts, {loader.tryagain} TRYAGAIN, {loader.errors} other errors")
        return
    acknowledged = [int(line) for line in pathlib.Path(args.ids).read_text().split()]
    missing, extra = check(acknowledged, data_dir=args.data_dir, url=args.psql)
    print(f"acknowledged: {len(acknowledged)}  missing from PostgreSQL: {len(missing)}  stored but never acknowledged: {len(extra)}")
    for post in missing[:20]:
        print(f"  missing {post}")
    sys.exit(1 if missing else 0)


if __name__ == "__main__":
    main()

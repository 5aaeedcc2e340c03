#!/usr/bin/env python3
"""Memory stays bounded however long the history grows: posts POSTS posts
(110-byte bodies, pipelined) from USERS users who follow each other, to a
feed-server started with --maxmemory, recording RSS and INFO every STEP
posts; then checks that every acknowledged post is still readable from
PostgreSQL: all of them by FEED.GET (bodies compared), whole feeds paged
with FEED.READ … BEFORE against the feeds the ids say they must be, and
like counts of old posts.

    bench/memory_bound.py --binary .build/release/feed-server [--posts 5000000] [--maxmemory 128mb]

Writes bench/results/memory-bound.md (and prints it)."""

import argparse
import os
import pathlib
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import redis

ROOT = pathlib.Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def body(index, author):
    text = f"post {index} by {author} "
    return text + "b" * (110 - len(text))


def size(text):
    number, unit = float(text[:-2]), text[-2:].lower()
    return int(number * {"kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30}[unit])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=str(ROOT / ".build/release/feed-server"))
    parser.add_argument("--posts", type=int, default=5_000_000)
    parser.add_argument("--step", type=int, default=500_000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--follows", type=int, default=20)
    parser.add_argument("--maxmemory", default="128mb")
    parser.add_argument("--readers", type=int, default=20)
    parser.add_argument("--out", default=str(ROOT / "bench/results/memory-bound.md"))
    options = parser.parse_args()
    bound = size(options.maxmemory)

    data = pathlib.Path(tempfile.mkdtemp(prefix="feed-memory-", dir="/tmp"))
    os.chmod(data, 0o755)
    port = free_port()
    log = open(data / "server.log", "w")
    server = subprocess.Popen(
        ["timeout", "7200", options.binary, "--port", str(port), "--data-dir", str(data), "--maxmemory",
         options.maxmemory, "--metrics-port", "0"],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        while "Ready to accept connections" not in (data / "server.log").read_text():
            if server.poll() is not None:
                sys.exit((data / "server.log").read_text())
            time.sleep(0.05)
        client = redis.Redis(port=port, socket_timeout=600)
        rng = random.Random(5)
        names = [f"user:{index:012d}" for index in range(options.users)]
        follows = {}
        pipe = client.pipeline(transaction=False)
        for follower in range(options.users):
            chosen = set()
            while len(chosen) < options.follows:
                other = rng.randrange(options.users)
                if other != follower:
                    chosen.add(other)
            follows[follower] = chosen
            for other in chosen:
                pipe.execute_command("FEED.FOLLOW", names[follower], names[other])
            if follower % 500 == 499:
                pipe.execute()
        pipe.execute()
        print(f"graph: {options.users} users x {options.follows} follows", file=sys.stderr)

        ids = []  # post index -> id
        authors = []  # post index -> user number
        rows = []
        started = time.time()
        batch = 1000
        for start in range(0, options.posts, batch):
            pipe = client.pipeline(transaction=False)
            for index in range(start, min(start + batch, options.posts)):
                author = rng.randrange(options.users)
                authors.append(author)
                pipe.execute_command("FEED.POST", names[author], body(index, names[author]))
            ids.extend(int(post) for post in pipe.execute())
            if len(ids) % options.step == 0:
                info = client.info()
                rows.append((len(ids), info["used_memory_rss"], info["used_memory"], info["posts"],
                             info["evicted_posts"], info["evicted_timelines"], time.time() - started))
                print(f"{len(ids)} posts: rss {info['used_memory_rss'] >> 20} MB, used {info['used_memory'] >> 20} MB,"
                      f" records {info['posts']}, {len(ids) / (time.time() - started):.0f} posts/s", file=sys.stderr)
        posting = time.time() - started
        client.execute_command("FEED.SYNC")

        # Every acknowledged post, by id, with its body.
        checked = time.time()
        for start in range(0, len(ids), 1000):
            chunk = ids[start:start + 1000]
            entries = client.execute_command("FEED.GET", *chunk)
            for offset, entry in enumerate(entries):
                index = start + offset
                assert entry is not None, f"post {chunk[offset]} is missing"
                assert int(entry[0]) == ids[index] and entry[1].decode() == names[authors[index]]
                assert entry[3].decode() == body(index, names[authors[index]]), entry
        get_seconds = time.time() - checked

        # Whole feeds, paged with BEFORE, against what the ids say.
        by_author = {}
        for index, author in enumerate(authors):
            by_author.setdefault(author, []).append(ids[index])
        paged = 0
        checked = time.time()
        for reader in rng.sample(range(options.users), options.readers):
            expected = sorted((post for author in follows[reader] | {reader} for post in by_author.get(author, [])),
                              reverse=True)
            seen, before = [], None
            while True:
                args = ["FEED.READ", names[reader], "COUNT", 500] + (["BEFORE", before] if before else [])
                page = [int(entry[0]) for entry in client.execute_command(*args)]
                paged += 1
                seen += page
                if len(page) < 500:
                    break
                before = page[-1]
            assert seen == expected, f"feed of {names[reader]}: {len(seen)} entries, {len(expected)} expected"
        read_seconds = time.time() - checked

        # Likes of old posts, counted once each.
        for index in rng.sample(range(len(ids) // 2), 500):
            assert client.execute_command("FEED.LIKE", "liker:a", ids[index]) == 1
            assert client.execute_command("FEED.LIKE", "liker:b", ids[index]) == 2
            assert client.execute_command("FEED.LIKE", "liker:a", ids[index]) == 2
            assert client.execute_command("FEED.UNLIKE", "liker:b", ids[index]) == 1
        info = client.info()
    finally:
        server.terminate()
        server.wait(120)
        log.close()
        shutil.rmtree(data, ignore_errors=True)

    reached = next((row for row in rows if row[1] >= bound * 0.9), None)
    after = [row for row in rows if reached and row[0] >= reached[0]]
    worst = max((abs(row[1] - bound) / bound for row in after), default=float("nan"))
    tracking = max(abs(row[2] - row[1]) / row[1] for row in rows)
    lines = [
        f"{options.posts:,} posts (110-byte bodies) from {options.users:,} users following {options.follows} others each,"
        f" pipelined 1,000 at a time, to feed-server --maxmemory {options.maxmemory} with the embedded PostgreSQL"
        f" (async, fsync on), release build, {os.cpu_count()} cores.",
        "",
        "| posts | RSS MB | used_memory MB | post records in memory | posts evicted | timelines evicted | seconds |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for posts, rss, used, records, evicted, timelines, seconds in rows:
        lines.append(f"| {posts:,} | {rss / 2**20:.1f} | {used / 2**20:.1f} | {records:,} | {evicted:,} | {timelines:,} | {seconds:.0f} |")
    lines += [
        "",
        f"Bound {bound / 2**20:.0f} MB: RSS within {worst * 100:.1f}% of it from {reached[0] if reached else '-':,} posts on;"
        f" used_memory within {tracking * 100:.1f}% of RSS at every step.",
        f"Posting: {options.posts / posting:,.0f} posts/s. Then every acknowledged post read back by FEED.GET"
        f" ({get_seconds:.0f} s, bodies compared), {options.readers} whole feeds paged with FEED.READ … BEFORE"
        f" ({paged} pages, {read_seconds:.0f} s, compared with the feeds the ids make), and 500 old posts liked and"
        f" unliked with their counts checked: nothing missing. At the end: {info['store_continuations']:,} reads went"
        f" on in PostgreSQL, {info['store_faults']:,} commands fetched a post first.",
        "",
        f"Command: `bench/memory_bound.py --posts {options.posts} --maxmemory {options.maxmemory}`.",
    ]
    text = "\n".join(lines) + "\n"
    pathlib.Path(options.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# A follow -> post -> read session with redis-cli.
set -euo pipefail
cli() { redis-cli -p "${FEED_PORT:-6380}" "$@"; }

cli FEED.FOLLOW bob alice                 # 1: a new follow
id=$(cli FEED.POST alice "hello from the shell")
echo "alice posted $id"
cli FEED.READ bob COUNT 10                # id, author, created_ms, body per entry
cli FEED.STATS alice

#!/usr/bin/env bash
# Where a one-file reload's time goes: `tidings serve` on a copy of an N-post corpus, then
# EDITS appends to one post, 0.6 s apart, with nothing else asking the server for anything;
# `perf record` of the server meanwhile. Prints each reload's time from the server's log
# ("reloaded … ms=N": watcher → new index in place) and the top symbols (BENCHMARKS.md,
# "Size is free"). Needs perf (Debian: linux-perf).
#
# Usage: bash bench/profile_reload.sh [POSTS]      (default 100000)
# Environment: TIDINGS (binary, default /tmp/bench-target/release/tidings), BENCH_ROOT,
# EDITS (default 20).
set -euo pipefail
POSTS="${1:-100000}"
EDITS="${EDITS:-20}"
TIDINGS="${TIDINGS:-/tmp/bench-target/release/tidings}"
BENCH_ROOT="${BENCH_ROOT:-/tmp/tidings-bench}"
HERE="$(cd "$(dirname "$0")" && pwd)"
CORPUS="$(python3 -c "import sys; sys.path.insert(0, '$HERE'); import cold_start as cs; print(cs.bb.ensure_corpus('$BENCH_ROOT', $POSTS, 1))")"
COPY="$BENCH_ROOT/reload-$POSTS"
rm -rf "$COPY" && cp -r "$CORPUS" "$COPY"
mkdir -p "$BENCH_ROOT/empty-feeds"
LOG="$BENCH_ROOT/profile-reload.log" DATA="$BENCH_ROOT/profile-reload.data"
TIDINGS_LOG=info "$TIDINGS" serve --content "$COPY" --feeds "$BENCH_ROOT/empty-feeds" \
  --addr 127.0.0.1:18121 > "$LOG" 2>&1 &
pid=$!
until curl -sf -o /dev/null http://127.0.0.1:18121/healthz; do sleep 0.1; done
sleep 4  # the watches and the catch-up are set up in the background
perf record -F 2000 -p "$pid" -o "$DATA" -- sleep "$(python3 -c "print($EDITS * 0.6 + 2)")" > /dev/null 2>&1 &
perf_pid=$!
sleep 0.5
post="$COPY/_posts/$(ls "$COPY/_posts" | tail -1)"
for _ in $(seq 1 "$EDITS"); do echo >> "$post"; sleep 0.6; done
wait "$perf_pid"
kill "$pid"; wait "$pid" || true
echo "# reload ms (watcher -> new index in place), $EDITS edits of one post at $POSTS posts:"
grep -o 'reloaded reread=1 .*ms=[0-9]*' "$LOG" | grep -o 'ms=[0-9]*$' | cut -d= -f2 | sort -n | tr '\n' ' '; echo
echo "# top symbols over the whole run (nothing but the reloads ran):"
perf report -i "$DATA" --no-children --sort sym --stdio 2>/dev/null | grep -E '^ +[0-9.]+%' | head -15
rm -rf "$COPY"

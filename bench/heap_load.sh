#!/usr/bin/env bash
# The heap that loading an N-post corpus leaves (library and first index, as `tidings serve`
# has them when it starts listening): the bytes its allocations ask for, live and at their
# peak, counted by examples/load_heap.rs; beside the RSS `tidings serve` itself has at that
# point (mimalloc). The difference is the binary, the runtime and what the allocator holds
# beyond the live data (BENCHMARKS.md, "Size is free").
#
# Usage: bash bench/heap_load.sh [POSTS]      (default 100000)
# Environment: TIDINGS (default /tmp/bench-target/release/tidings), BENCH_ROOT.
set -euo pipefail
POSTS="${1:-100000}"
source "$(dirname "$0")/common.sh"
HERE="$(cd "$(dirname "$0")" && pwd)"
(cd "$HERE/.." && CARGO_TARGET_DIR=/tmp/bench-target cargo build --release --locked --example load_heap -q)
corpus_dir=$(corpus "$POSTS")
feeds_dir="$BENCH_ROOT/empty-feeds"; mkdir -p "$feeds_dir"
find "$corpus_dir" -type f -print0 | xargs -0 cat > /dev/null   # a warm page cache
echo "$POSTS posts, load_heap: $(/tmp/bench-target/release/examples/load_heap "$corpus_dir" "$feeds_dir")"
TIDINGS_LOG=warn "$TIDINGS" serve --content "$corpus_dir" --feeds "$feeds_dir" --addr 127.0.0.1:18096 > /dev/null 2>&1 &
pid=$!
wait_http "http://127.0.0.1:18096/healthz"
echo "$POSTS posts, tidings serve (mimalloc) when listening: $(grep -E 'VmRSS|VmHWM' /proc/$pid/status | tr -s ' \t' ' ' | tr '\n' ' ')"
kill -INT "$pid"; wait "$pid" || true

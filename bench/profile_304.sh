#!/usr/bin/env bash
# Where a 304 poll's time goes: `perf record` of `tidings serve` and of examples/bare_hyper.rs
# (the floor: one file from memory, one ETag comparison) while wrk polls each with the
# ETag it gave (`-t1 -c64`, 1,000-post corpus, /feed.atom), one after the other; then, for
# each, samples per request in the kernel, the server's own code and libc, and the top
# user-space symbols; then inclusive shares from call graphs (the handler, reading, writing)
# (BENCHMARKS.md, "Size is free"). Needs perf (Debian: linux-perf).
#
# Usage: bash bench/profile_304.sh
# Environment: TIDINGS (binary, default /tmp/bench-target/release/tidings), HYPER (default
# /tmp/bench-target/release/examples/bare_hyper), BENCH_ROOT, SECONDS_EACH (default 8).
set -euo pipefail
source "$(dirname "$0")/common.sh"
HYPER=${HYPER:-/tmp/bench-target/release/examples/bare_hyper}
SECONDS_EACH=${SECONDS_EACH:-8}
[ -x "$TIDINGS" ] && [ -x "$HYPER" ] || { echo "build first: cargo build --release --bins --examples" >&2; exit 2; }
corpus_dir=$(corpus 1000)
feeds_dir="$BENCH_ROOT/empty-feeds"; mkdir -p "$feeds_dir"
export_dir="$BENCH_ROOT/profile-304-export"
rm -rf "$export_dir"
"$TIDINGS" build --content "$corpus_dir" --feeds "$feeds_dir" --out "$export_dir" --base-url http://127.0.0.1:18087 > /dev/null

profile() {  # profile NAME PORT CMD...: wrk with If-None-Match against the server, perf on it
  local name=$1 port=$2; shift 2
  TOKIO_WORKER_THREADS=2 TIDINGS_LOG=warn "$@" > /dev/null 2>&1 &
  local pid=$!
  wait_http "http://127.0.0.1:$port/feed.atom"
  local etag; etag=$(curl -s -o /dev/null -D - "http://127.0.0.1:$port/feed.atom" | tr -d '\r' | awk 'tolower($1)=="etag:" {print $2}')
  WRK_IF_NONE_MATCH=$etag wrk -t1 -c64 -d$((SECONDS_EACH + 3))s -s "$SHARED_BENCH/wrk/bench.lua" \
    "http://127.0.0.1:$port/feed.atom" > "$BENCH_ROOT/profile-304-$name.wrk" 2>&1 &
  local wrk=$!
  sleep 1
  perf record -F 2000 -p "$pid" -o "$BENCH_ROOT/profile-304-$name.data" -- sleep "$SECONDS_EACH" 2> /dev/null
  wait "$wrk"
  kill "$pid"; wait "$pid" 2> /dev/null || true
  local rps; rps=$(awk '/^Requests\/sec/ {print $2}' "$BENCH_ROOT/profile-304-$name.wrk")
  echo "## $name: $rps req/s under perf"
  perf report -i "$BENCH_ROOT/profile-304-$name.data" --no-children --sort dso --stdio 2>/dev/null \
    | awk '/%/ { printf "  %7s  %s\n", $1, $2 }'
  local samples; samples=$(perf report -i "$BENCH_ROOT/profile-304-$name.data" --stdio 2>/dev/null | awk '/^# Samples:/ {print $3}')
  python3 -c "import sys; s=sys.argv[1]; n=float(s[:-1])*1000 if s.endswith('K') else float(s); print('  samples per 1,000 requests: %.2f (at 2,000 samples/s)' % (n / (float(sys.argv[2]) * $SECONDS_EACH) * 1000))" "$samples" "$rps"
  echo "  top user-space symbols:"
  # Whole report first, then the top: `head` on perf's pipe would fail it under pipefail.
  perf report -i "$BENCH_ROOT/profile-304-$name.data" --no-children --sort dso,sym --stdio 2>/dev/null \
    > "$BENCH_ROOT/profile-304-$name.txt"
  grep '%' "$BENCH_ROOT/profile-304-$name.txt" | grep -v kernel | sed -n 1,15p | sed 's/  */ /g; s/^/   /'
}

profile tidings 18087 "$TIDINGS" serve --content "$corpus_dir" --feeds "$feeds_dir" --addr 127.0.0.1:18087 --base-url http://127.0.0.1:18087
profile hyper 18088 "$HYPER" "$export_dir/feed.atom" 127.0.0.1:18088

# Inclusive shares from call graphs (DWARF unwinding, 1,000 samples/s, 3 s under the same
# load): what part of each server's CPU reads and parses requests, writes responses, waits
# for events, and, for tidings, runs its own request handler (the service future: routing,
# the cache lookup, the response headers) and drops the request.
callgraph() {  # callgraph NAME PORT CMD...
  local name=$1 port=$2; shift 2
  TOKIO_WORKER_THREADS=2 TIDINGS_LOG=warn "$@" > /dev/null 2>&1 &
  local pid=$!
  wait_http "http://127.0.0.1:$port/feed.atom"
  local etag; etag=$(curl -s -o /dev/null -D - "http://127.0.0.1:$port/feed.atom" | tr -d '\r' | awk 'tolower($1)=="etag:" {print $2}')
  wrk -t1 -c64 -d6s -H "If-None-Match: $etag" "http://127.0.0.1:$port/feed.atom" > /dev/null 2>&1 &
  local wrk=$!
  sleep 1
  perf record -F 1000 --call-graph dwarf,16384 -p "$pid" -o "$BENCH_ROOT/profile-304-$name.cg" -- sleep 3 > /dev/null 2>&1
  wait "$wrk"
  kill "$pid"; wait "$pid" 2> /dev/null || true
  perf script -i "$BENCH_ROOT/profile-304-$name.cg" -F ip,sym 2> /dev/null | python3 -c '
import re, sys
name = sys.argv[1]
parts = {
    "read and parse the request (hyper, recv)": "Conn<I,B,T>::poll_read_head",
    "write the response (hyper, writev)": "Buffered<T,B>::poll_flush",
    "wait for events (epoll)": "park_internal",
    "the request handler (service future)": "tidings::http::serve::{{closure}}::{{closure}}::{{closure}}::{{closure}}",
    "  of which routing, cache lookup, headers": "tidings::http::routes::route::{{closure}}",
    "  of which the cache lookup": "tidings::cache::FeedCache::hit",
    "  of which header map inserts": "HeaderMap<T>::try_insert2",
    "  of which dropping the request": "drop_in_place<http::request::Parts>",
}
counts = dict.fromkeys(parts, 0)
total = 0
for sample in sys.stdin.read().split("\n\n"):
    frames = [re.sub(r"::h[0-9a-f]{16}", "", line.strip()) for line in sample.strip().splitlines()]
    if not frames:
        continue
    total += 1
    for part, marker in parts.items():
        if any(marker in f for f in frames):
            counts[part] += 1
print("## %s: inclusive share of %d call-graph samples" % (name, total))
for part, n in counts.items():
    if part.startswith("  ") or "handler" in part:
        if name != "tidings":
            continue
    print("  %5.1f %%  %s" % (100 * n / max(total, 1), part))
' "$name"
}

callgraph tidings 18087 "$TIDINGS" serve --content "$corpus_dir" --feeds "$feeds_dir" --addr 127.0.0.1:18087 --base-url http://127.0.0.1:18087
callgraph hyper 18088 "$HYPER" "$export_dir/feed.atom" 127.0.0.1:18088

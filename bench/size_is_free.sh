#!/usr/bin/env bash
# Issue 11 ("size is free"): every figure of its target table, one after the other (never two
# benchmarks at once), raw results into bench/results/size-*.
#
# Usage: bash bench/size_is_free.sh            (about 55 minutes; the 1M corpus takes ~17 more
#                                               minutes to generate the first time, 2.5 GiB)
# Environment: TIDINGS (binary, default /tmp/bench-target/release/tidings), BENCH_ROOT
# (default /tmp/tidings-bench), STEPS (default "cold million change crawl crawl-heap polls serve").
#
#   cold     cold_start.py: Hugo vs `tidings serve` → the 213 site/category/author feeds,
#            10k and 100k posts, 3 alternating runs, clients asking for identity and (as
#            feed readers do) for gzip or Brotli; peak RSS (VmHWM) against content bytes
#   million  cold_start.py at 1,000,000 posts, tidings only: start → first feed, → all 213,
#            peak RSS
#   change   change_to_feed.py at 100k posts: write → new bytes served, 25 edits
#   crawl    crawl_memory.py at 100k posts, --cache-bytes 64M: RSS after every page of every
#            feed, against RSS after start (the index) + the budget
#   crawl-heap  the same with a binary built with `--features heap-stats` (into
#            BENCH_ROOT/target-heap-stats): the heap itself against its size after start + the
#            budget, which tells tidings' own memory apart from what the allocator keeps
#   polls    poll_under_edits.py at 100k: p99 of 304 polls while 100 edits a second arrive,
#            against idle, 3 alternating rounds
#   serve    serve.sh with the issue's settings: 1,000 posts, /feed.atom, 64 connections, 3 s,
#            3 alternating rounds, tidings vs nginx on the same bytes: plain, gzip, 304
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
RESULTS="$HERE/results"
export TIDINGS="${TIDINGS:-/tmp/bench-target/release/tidings}"
export BENCH_ROOT="${BENCH_ROOT:-/tmp/tidings-bench}"
STEPS="${STEPS:-cold million change crawl crawl-heap polls serve}"
mkdir -p "$RESULTS"
log() { echo "## $(date -u +%H:%M:%S) $*"; }
# Reading a cold page cache is the disk's speed, not tidings'; every tool gets a warm one.
warm() { find "$1" -type f -print0 | xargs -0 cat > /dev/null; }

for step in $STEPS; do
  case "$step" in
    cold)
      log "cold start, 10k and 100k, Hugo vs tidings serve"
      python3 "$HERE/cold_start.py" --sizes 10000,100000 --runs 3 --tools hugo,tidings-serve,tidings-serve-gzip \
        --json "$RESULTS/size-cold.json" | tee "$RESULTS/size-cold.txt" ;;
    million)
      log "1,000,000 posts"
      warm "$BENCH_ROOT/corpus-1000000"
      python3 "$HERE/cold_start.py" --sizes 1000000 --runs 1 --tools tidings-serve --quiet-wait 20 \
        --timeout 1800 --json "$RESULTS/size-million.json" | tee "$RESULTS/size-million.txt" ;;
    change)
      log "change to feed at 100k"
      python3 "$HERE/change_to_feed.py" --posts 100000 --changes 25 \
        --json "$RESULTS/size-change-100k.json" | tee "$RESULTS/size-change-100k.txt" ;;
    crawl)
      log "crawl every page at 100k, 64 MiB budget"
      warm "$BENCH_ROOT/corpus-100000"
      python3 "$HERE/crawl_memory.py" --posts 100000 --cache-bytes 64M \
        --json "$RESULTS/size-crawl-100k.json" | tee "$RESULTS/size-crawl-100k.txt" ;;
    crawl-heap)
      log "crawl every page at 100k, 64 MiB budget, heap counted"
      cargo build --release --quiet --features heap-stats --manifest-path "$HERE/../Cargo.toml" \
        --target-dir "$BENCH_ROOT/target-heap-stats"
      warm "$BENCH_ROOT/corpus-100000"
      TIDINGS="$BENCH_ROOT/target-heap-stats/release/tidings" python3 "$HERE/crawl_memory.py" --posts 100000 \
        --cache-bytes 64M --json "$RESULTS/size-crawl-heap-100k.json" | tee "$RESULTS/size-crawl-heap-100k.txt" ;;
    polls)
      log "304 polls under 100 edits/s at 100k"
      python3 "$HERE/poll_under_edits.py" --posts 100000 --rate 100 --seconds 10 --rounds 3 \
        --json "$RESULTS/size-polls-100k.json" | tee "$RESULTS/size-polls-100k.txt" ;;
    serve)
      log "serving vs nginx, the issue's settings"
      POSTS=1000 FEED=/feed.atom CONNS=64 DURATION=3s REPEAT=3 bash "$HERE/serve.sh" "$BENCH_ROOT/serve-size"
      cp "$BENCH_ROOT/serve-size/summary.md" "$RESULTS/size-serve-summary.md"
      cp "$BENCH_ROOT/serve-size/runs.tsv" "$RESULTS/size-serve-runs.tsv" ;;
    *) echo "unknown step $step" >&2; exit 2 ;;
  esac
done
log "done"

#!/usr/bin/env bash
# Two or more tidings binaries side by side in one run, alternating, so that a change can be
# judged on this noisy machine without comparing figures from two runs (BENCHMARKS.md,
# "Size is free"):
#   start  `tidings serve` on an N-post corpus (page cache warm): seconds until /healthz
#          answers, then the first /feed.atom; server CPU seconds (user + system); VmHWM.
#   feeds  `tidings serve` on an N-post corpus until all 213 site, category and author feeds
#          have been fetched once by 4 clients asking `Accept-Encoding: $ACCEPT` (default
#          "gzip, br", as feed readers do), as bench/cold_start.py's tidings-serve-gzip does:
#          seconds, server CPU seconds, VmHWM, VmRSS after and the server's threads.
#   poll   304 polls on the 1,000-post corpus's /feed.atom (`wrk -t1 -c64`, 2 s warm-up,
#          4 s measured): req/s and server CPU microseconds per request.
#
# Usage: bash bench/compare_binaries.sh start|feeds|poll BIN...
# Environment: POSTS (start, feeds; default 100000), ACCEPT (feeds), ROUNDS (default 3),
# BENCH_ROOT.
set -euo pipefail
source "$(dirname "$0")/common.sh"
what=$1; shift
ROUNDS=${ROUNDS:-3}
PORT=18095
feeds_dir="$BENCH_ROOT/empty-feeds"; mkdir -p "$feeds_dir"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
start_server() {  # start_server BIN CORPUS: runs it in the background, sets $pid
  TOKIO_WORKER_THREADS=2 TIDINGS_LOG=warn "$1" serve --content "$2" --feeds "$feeds_dir" \
    --addr "127.0.0.1:$PORT" --base-url "http://127.0.0.1:$PORT" > /dev/null 2>&1 &
  pid=$!
}

case "$what" in
  start)
    corpus_dir=$(corpus "${POSTS:-100000}")
    find "$corpus_dir" -type f -print0 | xargs -0 cat > /dev/null
    for round in $(seq 1 "$ROUNDS"); do
      for bin in "$@"; do
        t0=$(date +%s.%N)
        start_server "$bin" "$corpus_dir"
        until curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz"; do sleep 0.02; done
        t1=$(date +%s.%N)
        curl -sf -o /dev/null "http://127.0.0.1:$PORT/feed.atom"
        t2=$(date +%s.%N)
        hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
        cpu=$(cpu_ticks "$pid")
        kill "$pid"; wait "$pid" 2> /dev/null || true
        python3 -c 'import sys; b, r, t0, t1, t2, cpu, hwm = sys.argv[1:]; print("%s round %s: listening %.2f s, first feed +%.2f s, CPU %.1f s, VmHWM %d MiB" % (b, r, float(t1) - float(t0), float(t2) - float(t1), int(cpu) / 100, int(hwm) // 1024))' \
          "$(basename "$bin")" "$round" "$t0" "$t1" "$t2" "$cpu" "$hwm"
        sleep 1
      done
    done ;;
  feeds)
    corpus_dir=$(corpus "${POSTS:-100000}")
    find "$corpus_dir" -type f -print0 | xargs -0 cat > /dev/null
    python3 - "$BENCH_DIR" "$corpus_dir" "$feeds_dir" "${ACCEPT:-gzip, br}" "$ROUNDS" "$@" <<'EOF'
import os, sys, time
bench_dir, corpus, feeds, accept, rounds, bins = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6:]
sys.path.insert(0, bench_dir)
import cold_start as cs
cs.TIDINGS = bins[0]
paths = cs.feed_paths(corpus, feeds)
for r in range(1, rounds + 1):
    for b in bins:
        cs.TIDINGS = b
        rec = cs.run_serve(corpus, feeds, paths, 600, accept_encoding=accept)
        print("%s round %d: %d feeds (%d not 200) after %.2f s (listening %.2f s), CPU %.1f s, VmHWM %d MiB, VmRSS %d MiB, %d threads"
              % (os.path.basename(b), r, rec["feeds"], rec["feeds_not_200"], rec["wall_s"], rec["listen_s"],
                 rec["cpu_s"], rec["maxrss_kb"] // 1024, rec["rss_kb"] // 1024, rec["threads"]), flush=True)
        time.sleep(1)
EOF
    ;;
  poll)
    corpus_dir=$(corpus 1000)
    for round in $(seq 1 "$ROUNDS"); do
      for bin in "$@"; do
        start_server "$bin" "$corpus_dir"
        wait_http "http://127.0.0.1:$PORT/feed.atom"
        etag=$(curl -s -o /dev/null -D - "http://127.0.0.1:$PORT/feed.atom" | tr -d '\r' | awk 'tolower($1)=="etag:" {print $2}')
        wrk -t1 -c64 -d2s -H "If-None-Match: $etag" "http://127.0.0.1:$PORT/feed.atom" > /dev/null 2>&1
        c0=$(cpu_ticks "$pid")
        out=$(wrk -t1 -c64 -d4s -H "If-None-Match: $etag" "http://127.0.0.1:$PORT/feed.atom" 2>&1)
        c1=$(cpu_ticks "$pid")
        kill "$pid"; wait "$pid" 2> /dev/null || true
        rps=$(echo "$out" | awk '/^Requests\/sec/ {print $2}')
        python3 -c 'import sys; b, r, rps, c0, c1 = sys.argv[1:]; rps = float(rps); print("%s round %s: %.0f req/s, %.2f server CPU-us per request" % (b, r, rps, (int(c1) - int(c0)) / 100 / (rps * 4) * 1e6))' \
          "$(basename "$bin")" "$round" "$rps" "$c0" "$c1"
      done
    done ;;
  *) echo "usage: bash bench/compare_binaries.sh start|feeds|poll BIN..." >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Every benchmark in BENCHMARKS.md, in the order it was run. About an hour on 2 cores (the
# 100k `tidings build` alone takes ~20 min and writes ~9 GiB under $BENCH_ROOT; skip it with
# SKIP_100K_BUILD=1). Needs: apt-get install -y hugo jekyll ruby-jekyll-feed nginx-light wrk time curl
set -euo pipefail
source "$(dirname "$0")/common.sh"
build_tidings
export TIDINGS TIDINGS_NO_BUILD=1
bash "$BENCH_DIR/serve.sh" "$BENCH_ROOT/serve"
python3 "$BENCH_DIR/cold_start.py" --sizes 1000,10000 --runs 3 --json "$BENCH_ROOT/cold_1k_10k.json"
python3 "$BENCH_DIR/change_to_feed.py" --posts 10000 --changes 25 --json "$BENCH_ROOT/change_10k.json"
python3 "$BENCH_DIR/cold_start.py" --sizes 100000 --runs 3 --tools hugo,tidings-serve --json "$BENCH_ROOT/cold_100k.json"
if [ "${SKIP_100K_BUILD:-0}" != 1 ]; then
  python3 "$BENCH_DIR/cold_start.py" --sizes 100000 --runs 1 --tools tidings-build --timeout 2400 \
    --json "$BENCH_ROOT/cold_100k_build.json"
fi
bash "$BENCH_DIR/render.sh" 1000
rm -rf "$BENCH_ROOT/corpus-100000" "$BENCH_ROOT"/work-*-100000   # the 100k corpora take ~1 GiB

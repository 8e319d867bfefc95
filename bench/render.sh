#!/usr/bin/env bash
# Benchmark 5, render: the criterion benches in benches/render.rs over a generated corpus.
# Usage: bash bench/render.sh [POSTS]   (default 1000; then `cargo bench --bench render`)
# Uses CARGO_TARGET_DIR=/tmp/bench-target unless set; results in that target's criterion/.
source "$(dirname "$0")/common.sh"
corpus_dir=$(corpus "${1:-1000}")
cd "$REPO"
machine_info
TIDINGS_BENCH_CONTENT=$corpus_dir CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/tmp/bench-target} \
  cargo bench --bench render -- "${@:2}"

#!/usr/bin/env bash
# deploy_figures.sh: the figures of BENCHMARKS.md's "Past one machine" section.
#
# Usage: bench/deploy_figures.sh TIDINGS_BINARY CORPUS_100K
#   CORPUS_100K: a folder of 100,000 posts (../shared/bench/gen_corpus.py --posts 100000)
#
# 1. scripts/replicas-smoke.sh: two replicas behind the shipped nginx cache; prints requests
#    and errors under wrk while a replica is killed and restarted, the delay of an edit
#    through the cache, and the hit rate for 14 real readers and browsers, naive vs shipped.
# 2. bench/poll_cost.sh: the CPU one `--watch poll` costs at 100k posts when nothing changed.
# Outputs go to bench/results/replicas-smoke.txt and bench/results/poll-cost.txt.
# Run them alone: the wrk figures and CPU times are the machine's.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=$(realpath "$1")
CORPUS=$(realpath "$2")
mkdir -p "$ROOT/bench/results"
bash "$ROOT/scripts/replicas-smoke.sh" "$BIN" | tee "$ROOT/bench/results/replicas-smoke.txt"
bash "$ROOT/bench/poll_cost.sh" "$BIN" "$CORPUS" 30 | tee "$ROOT/bench/results/poll-cost.txt"

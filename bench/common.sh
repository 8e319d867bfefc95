# Shared settings for the bench/ scripts (sourced, not run).
#   TIDINGS      the release binary    (default /tmp/bench-target/release/tidings)
#   BENCH_ROOT   scratch: corpora, outputs, logs (default /tmp/tidings-bench)
#   SHARED_BENCH the shared anchor helpers (default ../shared/bench beside the repository)
# Corpora are made by gen_corpus.py as BENCH_ROOT/corpus-N (seed 1), in the layout that
# ../shared/bench/bench_builds.py uses, so both reuse the same ones.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
SHARED_BENCH=${SHARED_BENCH:-$(cd "$REPO/../shared/bench" && pwd)}
BENCH_ROOT=${BENCH_ROOT:-/tmp/tidings-bench}
TIDINGS=${TIDINGS:-/tmp/bench-target/release/tidings}
mkdir -p "$BENCH_ROOT"

# build_tidings: the release binary in its own target dir (not ./target)
build_tidings() {
  if [ "${TIDINGS_NO_BUILD:-0}" != 1 ]; then
    (cd "$REPO" && CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/tmp/bench-target} cargo build --release --quiet)
  fi
  [ -x "$TIDINGS" ] || { echo "no tidings binary at $TIDINGS" >&2; exit 2; }
}

# corpus N: prints the corpus dir, generating it once
corpus() {
  local n=$1 d="$BENCH_ROOT/corpus-$1"
  if [ "$(cat "$d/.complete" 2>/dev/null)" != "posts=$n seed=1" ]; then
    rm -rf "$d"
    python3 "$SHARED_BENCH/gen_corpus.py" --posts "$n" --seed 1 --out "$d" >&2
    echo "posts=$n seed=1" > "$d/.complete"
  fi
  printf '%s\n' "$d"
}

# wait_http URL [tries]: until URL answers 200 (0.05 s steps)
wait_http() {
  local url=$1 tries=${2:-2000}
  for _ in $(seq 1 "$tries"); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$url" || true)" = 200 ] && return 0
    sleep 0.05
  done
  echo "timed out waiting for $url" >&2; return 1
}

machine_info() {
  echo "# $(date -u +%FT%TZ) $(uname -srm), $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "# cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "# tidings binary: $TIDINGS ($("$TIDINGS" --version 2>&1)); repository HEAD $(git -C "$REPO" rev-parse --short HEAD)$(git -C "$REPO" diff --quiet HEAD -- src Cargo.toml || echo ' with uncommitted src changes')"
  echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
}

#!/usr/bin/env bash
# run.sh - the interop suite: real feed clients and validators judge every feed tidings
# serves, on the sample site and on a generated site of 300 posts.
#
# Usage: tests/interop/run.sh [TIDINGS_BINARY]
#
# Without TIDINGS_BINARY it runs `cargo build --release --locked` and uses that binary
# ($CARGO_TARGET_DIR/release/tidings, default target/release/tidings). Then it
#   1. runs install.sh (Debian packages, a Python venv and npm packages under
#      $INTEROP_HOME, default /tmp/tidings-interop; idempotent);
#   2. generates a 300-post site with tests/interop/gen_site.py (--seed 7);
#   3. starts `tidings serve` on free loopback ports: the sample site (content/, feeds/), the
#      generated one (with an empty feeds folder: every default), posts of hostile markup, and
#      the Jekyll site in tests/data/jekyll (its own _config.yml, no tidings configuration);
#   4. waits for /healthz, runs check_feeds.py on both, and stops the servers.
# Prints "PASS check url" / "FAIL check url: reason" lines and ends with one line
# "N passed, M failed". Exit 0 when nothing failed, 1 otherwise.
# INTEROP_TIMEOUT (seconds, default 540) bounds the checks; the servers never outlive it.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export INTEROP_HOME=${INTEROP_HOME:-/tmp/tidings-interop}
CHECK_TIMEOUT=${INTEROP_TIMEOUT:-540}
GEN_POSTS=300
GEN_SEED=7

say() { echo "run.sh: $*"; }
# A failure before the checks run still ends in the suite's summary line.
abort() {
  echo "FAIL interop-setup $1"
  shift
  for d in "$@"; do [ -z "$d" ] || printf '%s\n' "$d" | sed 's/^/      /'; done
  echo "0 passed, 1 failed"
  exit 1
}

cd "$ROOT"
if [ $# -gt 1 ]; then
  echo "usage: $0 [TIDINGS_BINARY]" >&2
  exit 2
elif [ $# -eq 1 ]; then
  BIN=$(realpath "$1")
else
  say "cargo build --release --locked"
  cargo build --release --locked || abort "cargo build --release --locked failed"
  BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/tidings"
  [[ "$BIN" = /* ]] || BIN="$ROOT/$BIN"
fi
[ -x "$BIN" ] || abort "$BIN: no tidings binary there (build it, or pass its path)"
say "binary $BIN"

bash "$HERE/install.sh" || abort "tests/interop/install.sh failed (see its output above)"
PY="$INTEROP_HOME/venv/bin/python"

TMP=$(mktemp -d /tmp/tidings-interop-run.XXXXXX)
PIDS=()
stop_servers() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    if kill -0 "$pid" 2>/dev/null; then
      say "tidings (pid $pid) still running 15 s after SIGTERM; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
}
# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
  stop_servers
  if [ "${INTEROP_KEEP:-0}" = 1 ]; then say "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --------------------------------------------------------------- generated site
# The repository's own generator: the suite needs nothing beside the repository.
GEN_SCRIPT="$HERE/gen_site.py"
say "generating $GEN_POSTS posts (seed $GEN_SEED) in $TMP/gen"
python3 "$GEN_SCRIPT" --posts "$GEN_POSTS" --seed "$GEN_SEED" --out "$TMP/gen" >"$TMP/gen.log" 2>&1 \
  || abort "gen_site.py failed" "$(tail -5 "$TMP/gen.log")"
mkdir -p "$TMP/gen-feeds"   # empty: the generated site runs on every default

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# start NAME CONTENT FEEDS -> sets ORIGIN
start() {
  local name=$1 content=$2 feeds=$3 port pid log
  port=$(free_port)
  ORIGIN="http://127.0.0.1:$port"
  log="$TMP/$name.log"
  say "starting tidings for the $name site on $ORIGIN (log: $log)"
  TIDINGS_LOG=${TIDINGS_LOG:-info} NO_COLOR=1 \
    "$BIN" serve --content "$content" --feeds "$feeds" --addr "127.0.0.1:$port" --base-url "$ORIGIN" \
    </dev/null >"$log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  if ! "$PY" - "$ORIGIN/healthz" "$pid" <<'EOF'
import os, sys, time, urllib.request
url, pid = sys.argv[1], int(sys.argv[2])
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
deadline = time.time() + 60
while time.time() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("tidings exited before answering %s" % url)
    try:
        with opener.open(url, timeout=2) as r:
            if r.status == 200:
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.2)
sys.exit("no answer from %s within 60 s" % url)
EOF
  then
    abort "tidings serve for the $name site did not come up" "$(tail -20 "$log")"
  fi
  say "$name site up: $(grep -m1 -o 'listening on .*' "$log" | sed 's/\x1b\[[0-9;]*m//g' || true)"
}

start sample "$ROOT/content" "$ROOT/feeds"
SAMPLE=$ORIGIN
start generated "$TMP/gen" "$TMP/gen-feeds"
GENERATED=$ORIGIN
start hostile "$ROOT/tests/data/hostile/content" "$ROOT/tests/data/hostile/feeds"
HOSTILE=$ORIGIN
# A Jekyll site as it is: its own _config.yml and no tidings configuration.
mkdir -p "$TMP/no-feeds"
start jekyll "$ROOT/tests/data/jekyll" "$TMP/no-feeds"
JEKYLL=$ORIGIN
# tidings reports content problems as it loads; show them (they are not failures here).
for name in sample generated; do
  if grep -qE '\b(ERROR|WARN)\b' "$TMP/$name.log"; then
    say "tidings logged problems for the $name site (first 10 lines):"
    grep -E '\b(ERROR|WARN)\b' "$TMP/$name.log" | sed 's/\x1b\[[0-9;]*m//g' | head -10 | sed 's/^/  /'
  fi
done

# --------------------------------------------------------------- checks
say "checking every feed (bounded to $CHECK_TIMEOUT s)"
set +e
timeout --kill-after=10 "$CHECK_TIMEOUT" "$PY" "$HERE/check_feeds.py" \
  --site "sample=$SAMPLE" --site "generated=$GENERATED" --site "jekyll=$JEKYLL" \
  --expect-pages generated --site-items "generated=$GEN_POSTS" | tee "$TMP/feeds.out"
rc=${PIPESTATUS[0]}
set -e
if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
  echo "FAIL interop-timeout check_feeds.py: still running after $CHECK_TIMEOUT s, stopped"
  echo "0 passed, 1 failed"
  exit 1
fi

# The browser view: headless Chromium renders feeds through their XSL stylesheet.
# Screenshots are kept in test-artifacts/browser for a person to look at.
say "checking the browser view in headless Chromium"
set +e
timeout --kill-after=10 300 python3 "$ROOT/tests/browser/feed_view.py" "$SAMPLE" \
  /feed.rss /feed.atom /feed.json /categories/operations/feed.rss /feeds/behind-the-scenes.atom \
  --out "$ROOT/test-artifacts/browser" | tee "$TMP/browser.out"
browser_rc=${PIPESTATUS[0]}

# The headlines widget, embedded from a second origin, on the sample site and on posts
# made of hostile markup.
say "checking the headlines widget in headless Chromium"
timeout --kill-after=10 300 python3 "$ROOT/tests/browser/embed_check.py" "$SAMPLE" \
  --out "$ROOT/test-artifacts/browser" | tee "$TMP/embed.out"
embed_rc=${PIPESTATUS[0]}
timeout --kill-after=10 300 python3 "$ROOT/tests/browser/embed_check.py" "$HOSTILE" \
  --feeds /feed.rss /feed.atom --hostile-feed /tags/xss/feed.rss \
  --out "$ROOT/test-artifacts/browser/hostile" | tee "$TMP/hostile.out"
hostile_rc=${PIPESTATUS[0]}
set -e
stop_servers

# One closing line for both parts: the sums of their own closing lines.
count() {
  local n
  n=$(tail -n 1 "$1" | sed -nE "s/^([0-9]+) passed, ([0-9]+) failed.*/\\$2/p")
  echo "${n:-0}"
}
passed=0
failed=0
for part in feeds browser embed hostile; do
  passed=$(( passed + $(count "$TMP/$part.out" 1) ))
  failed=$(( failed + $(count "$TMP/$part.out" 2) ))
done
all_ok=0
[ $rc -eq 0 ] && [ $browser_rc -eq 0 ] && [ $embed_rc -eq 0 ] && [ $hostile_rc -eq 0 ] || all_ok=1
if [ "$failed" -eq 0 ] && [ $all_ok -ne 0 ]; then failed=1; fi
echo "interop: $passed passed, $failed failed"
exit $all_ok

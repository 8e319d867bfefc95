#!/usr/bin/env bash
# poll_cost.sh: what `--watch poll` costs while nothing changes, at 100k posts.
#
# Usage: bench/poll_cost.sh TIDINGS_BINARY CONTENT_DIR [SECONDS]
#   (CONTENT_DIR e.g. a corpus from ../shared/bench/gen_corpus.py --posts 100000)
#
# Starts `tidings serve --watch off` and `tidings serve --watch poll=1s` on the same
# content, one after the other, lets each run idle for SECONDS (default 60) after it answers
# /readyz, and reads the CPU time each used in that window from /proc/PID/stat. The
# difference, divided by the number of polls, is the CPU one poll costs (a walk of the
# folder and a stat of every file; nothing is read when nothing changed). Prints one line
# per mode and the per-poll figure. Run it alone: the machine's other load adds noise.
set -euo pipefail
BIN=$(realpath "$1")
CONTENT=$(realpath "$2")
WINDOW=${3:-60}
TMP=$(mktemp -d /tmp/poll-cost.XXXXXX)
mkdir -p "$TMP/feeds"
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
TICKS=$(getconf CLK_TCK)

cpu_ms() { # utime + stime of PID, in milliseconds
  awk -v t="$TICKS" '{ print ($14 + $15) * 1000 / t }' "/proc/$1/stat"
}

measure() { # mode -> prints CPU ms used while idle for WINDOW seconds
  local mode=$1 port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$BIN" serve --content "$CONTENT" --feeds "$TMP/feeds" --addr "127.0.0.1:$port" --watch "$mode" \
    >"$TMP/$mode.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 1200); do
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.25
  done
  sleep 5 # the first rescan after start
  local before after
  before=$(cpu_ms "$PID")
  sleep "$WINDOW"
  after=$(cpu_ms "$PID")
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=
  python3 -c "print(round($after - $before))"
}

posts=$(find "$CONTENT" -name '*.md' | wc -l)
off=$(measure off)
poll=$(measure poll=1s)
echo "posts: $posts, idle window: ${WINDOW} s"
echo "cpu --watch off:    ${off} ms"
echo "cpu --watch poll=1s: ${poll} ms (${WINDOW} polls)"
echo "per poll: $(python3 -c "print(round(($poll - $off) / $WINDOW, 1))") ms of CPU"

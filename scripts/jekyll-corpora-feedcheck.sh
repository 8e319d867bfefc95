#!/usr/bin/env bash
# jekyll-corpora-feedcheck.sh - serve each Jekyll blog in ../shared/corpora as a new user would
# (`tidings serve --content SITE`, with the _config.yml jekyll-feed was run with and nothing
# else) and judge every feed it serves with ../shared/tools/feedcheck --strict: every feed
# in /feeds.opml, jekyll-feed's URLs (/feed.xml, /feed/CATEGORY.xml, /feed/by_tag/TAG.xml)
# and WordPress's /feed/ and /feed/atom/.
#
# Usage: scripts/jekyll-corpora-feedcheck.sh [TIDINGS_BINARY] [CORPUS...]
# Needs `feedcheck --install` first (with FEEDVALIDATOR_MIRROR set for the W3C validator).
# Prints feedcheck's lines per corpus and a last line "N passed, M failed".
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED="$ROOT/../shared"
BIN=${1:-$ROOT/target/release/tidings}
shift || true
CORPORA=("$@")
[ ${#CORPORA[@]} -gt 0 ] || CORPORA=(jekyll-news elixir-blog bitcoincore 18f-blog)
TMP=$(mktemp -d /tmp/tidings-jekyll-check.XXXXXX)
PID=
cleanup() { [ -z "$PID" ] || kill "$PID" 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT

passed=0
failed=0
for corpus in "${CORPORA[@]}"; do
  src="$SHARED/corpora/$corpus"
  site="$TMP/$corpus"
  mkdir -p "$site"
  cp -r "$src/_posts" "$site/"
  [ -d "$src/_authors" ] && cp -r "$src/_authors" "$site/"
  if [ -f "$src/reference/_config.used.yml" ]; then cp "$src/reference/_config.used.yml" "$site/_config.yml"
  else cp "$src/site.yml" "$site/_config.yml"; fi
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  origin="http://127.0.0.1:$port"
  "$BIN" serve --content "$site" --addr "127.0.0.1:$port" --base-url "$origin" >"$TMP/$corpus.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 120); do curl -sf "$origin/healthz" >/dev/null && break; sleep 0.5; done
  urls=()
  while IFS= read -r url; do urls+=("$url"); done < <(
    curl -s "$origin/feeds.opml" | grep -o 'xmlUrl="[^"]*"' | sed 's/^xmlUrl="//; s/"$//; s/&amp;/\&/g'
    echo "$origin/feed.xml"; echo "$origin/feed/"; echo "$origin/feed/atom/"
    # jekyll-feed's category and tag feeds, named as its settings (or its reference output) name them.
    if [ -d "$src/reference/feed" ]; then
      find "$src/reference/feed" -name '*.xml' | sed "s|^$src/reference|$origin|; s| |%20|g"
    fi
  )
  echo "== $corpus: ${#urls[@]} feeds at $origin"
  set +e
  "$SHARED/tools/feedcheck" --strict "${urls[@]}" >"$TMP/$corpus.out" 2>&1
  set -e
  grep -E '^FAIL' -A3 "$TMP/$corpus.out" | head -40 || true
  last=$(tail -n 1 "$TMP/$corpus.out")
  echo "$corpus: $last"
  passed=$(( passed + $(sed -nE 's/^([0-9]+) passed.*/\1/p' <<<"$last") ))
  failed=$(( failed + $(sed -nE 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/p' <<<"$last") ))
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

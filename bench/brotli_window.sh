#!/usr/bin/env bash
# What Brotli's window costs on a site's own feeds: starts `tidings serve` on an N-post
# corpus, saves the 213 site, category and author feeds (RSS, Atom, JSON Feed; identity), and
# compresses each with examples/brotli_window.rs at windows 16, 17, 18 and 22: time per file
# and the most one compression asked the allocator for, for the feeds that fit a 64 KiB window
# and for the rest (BENCHMARKS.md, "Brotli's smallest window").
#
# Usage: bash bench/brotli_window.sh [POSTS]      (default 10000)
# Environment: TIDINGS (default /tmp/bench-target/release/tidings), BENCH_ROOT.
set -euo pipefail
POSTS="${1:-10000}"
source "$(dirname "$0")/common.sh"
(cd "$REPO" && CARGO_TARGET_DIR=/tmp/bench-target cargo build --release --locked --example brotli_window -q)
corpus_dir=$(corpus "$POSTS")
feeds_dir="$BENCH_ROOT/empty-feeds"; mkdir -p "$feeds_dir"
out="$BENCH_ROOT/brotli-window-$POSTS"; rm -rf "$out"; mkdir -p "$out"
TIDINGS_LOG=warn "$TIDINGS" serve --content "$corpus_dir" --feeds "$feeds_dir" --addr 127.0.0.1:18097 \
  --base-url https://example.org/ --watch off > /dev/null 2>&1 &
pid=$!
trap 'kill "$pid" 2> /dev/null || true' EXIT
wait_http "http://127.0.0.1:18097/healthz"
curl -s http://127.0.0.1:18097/feeds.opml | grep -o 'xmlUrl="https://example.org/[^"]*\.rss"' | sed 's/.*example.org\///; s/"$//' \
  | grep -E '^(feed\.rss|(categories|authors)/[^/]+/feed\.rss)$' | sort -u | while read -r rss; do
    for ext in rss atom json; do
      path="${rss%.rss}.$ext"
      curl -sf -H 'Accept-Encoding: identity' -o "$out/$(echo "$path" | tr / _)" "http://127.0.0.1:18097/$path"
    done
  done
echo "$POSTS posts: $(ls "$out" | wc -l) feeds"
/tmp/bench-target/release/examples/brotli_window "$out"/*

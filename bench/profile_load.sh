#!/usr/bin/env bash
# Where start-up time goes: `perf record` of `tidings serve` on an N-post corpus from exec
# until the port answers, then the samples grouped by kind of work (BENCHMARKS.md, "Size is
# free"). Needs perf (Debian: linux-perf).
#
# Usage: bash bench/profile_load.sh [POSTS]      (default 100000)
# Environment: TIDINGS (binary, default /tmp/bench-target/release/tidings), BENCH_ROOT.
set -euo pipefail
POSTS="${1:-100000}"
TIDINGS="${TIDINGS:-/tmp/bench-target/release/tidings}"
BENCH_ROOT="${BENCH_ROOT:-/tmp/tidings-bench}"
HERE="$(cd "$(dirname "$0")" && pwd)"
CORPUS="$(python3 -c "import sys; sys.path.insert(0, '$HERE'); import cold_start as cs; print(cs.bb.ensure_corpus('$BENCH_ROOT', $POSTS, 1))")"
mkdir -p "$BENCH_ROOT/empty-feeds"
find "$CORPUS" -type f -print0 | xargs -0 cat > /dev/null   # a warm page cache
DATA="$BENCH_ROOT/profile-load.data"
perf record -F 999 -g -o "$DATA" -- "$TIDINGS" serve --content "$CORPUS" --feeds "$BENCH_ROOT/empty-feeds" \
  --addr 127.0.0.1:18086 > /dev/null 2>&1 &
until curl -s -o /dev/null http://127.0.0.1:18086/healthz; do sleep 0.05; done
pkill -INT -f "addr 127.0.0.1:18086"
wait
perf report -i "$DATA" --no-children --sort sym --stdio 2>/dev/null | python3 -c '
import collections, re, sys
groups = collections.Counter()
for line in sys.stdin:
    m = re.match(r"\s+([\d.]+)%\s+\[(.)\]\s+(.*)", line)
    if not m:
        continue
    pct, kind, sym = float(m.group(1)), m.group(2), m.group(3)
    if kind == "k": k = "kernel (stat, read, page faults)"
    elif re.search(r"saphyr|granit|RawFrontMatter|serde", sym): k = "YAML and front-matter deserializing"
    elif re.search(r"flat_yaml|frontmatter::", sym): k = "flat front-matter reader"
    elif re.search(r"malloc|free|realloc|memmove|memcpy|memset|memcmp|_int_", sym): k = "malloc, free, memcpy"
    elif re.search(r"path::|Components|compare_components|walkdir", sym): k = "paths and the folder walk"
    elif re.search(r"nesting_depth", sym): k = "nesting scan"
    elif re.search(r"sip::|foldhash|hash", sym): k = "hashing"
    elif re.search(r"slugify|jekyll::url|Url|url::|idna|percent", sym): k = "URLs and slugs"
    elif re.search(r"CharSearcher|str::|trim|split|lines|pattern", sym): k = "string scans"
    else: k = "other"
    groups[k] += pct
for k, v in groups.most_common():
    print("%5.1f%%  %s" % (v, k))
'

#!/usr/bin/env bash
# Where the first renders go: `perf record` of `tidings serve` on an N-post corpus while the
# cold-start client fetches the 213 site/category/author feeds once (RSS, Atom, JSON; identity,
# 4 connections), then the samples grouped by kind of work (BENCHMARKS.md, "Size is free").
# Loading is in the profile too; at 10k posts it is a small part. Needs perf (linux-perf).
#
# Usage: bash bench/profile_render.sh [POSTS]      (default 10000)
# Environment: TIDINGS (binary, default /tmp/bench-target/release/tidings), BENCH_ROOT, ACCEPT
# (the clients' Accept-Encoding, default identity; "gzip, br" as feed readers send it).
set -euo pipefail
POSTS="${1:-10000}"
TIDINGS="${TIDINGS:-/tmp/bench-target/release/tidings}"
BENCH_ROOT="${BENCH_ROOT:-/tmp/tidings-bench}"
HERE="$(cd "$(dirname "$0")" && pwd)"
ACCEPT="${ACCEPT:-identity}"
export TIDINGS BENCH_ROOT ACCEPT
CORPUS="$(python3 -c "import sys; sys.path.insert(0, '$HERE'); import cold_start as cs; print(cs.bb.ensure_corpus('$BENCH_ROOT', $POSTS, 1))")"
mkdir -p "$BENCH_ROOT/empty-feeds"
find "$CORPUS" -type f -print0 | xargs -0 cat > /dev/null   # a warm page cache
PATHS="$BENCH_ROOT/profile-render.paths"
python3 -c "import sys; sys.path.insert(0, '$HERE'); import cold_start as cs; print('\n'.join(cs.feed_paths('$CORPUS', '$BENCH_ROOT/empty-feeds')))" > "$PATHS"
DATA="$BENCH_ROOT/profile-render.data"
TIDINGS_LOG=warn perf record -F 999 -g -o "$DATA" -- "$TIDINGS" serve --content "$CORPUS" \
  --feeds "$BENCH_ROOT/empty-feeds" --addr 127.0.0.1:18082 --base-url https://example.org/ > /dev/null 2>&1 &
python3 - "$PATHS" <<'PY'
import os, sys, threading, time
sys.path.insert(0, "bench")
import cold_start as cs
paths = open(sys.argv[1]).read().split()
class Running:  # perf's child: wait_listening only asks whether it exited
    def poll(self):
        return None
t0 = time.time()
cs.wait_listening(Running(), 600)
t_listen = time.time()
todo, lock = list(paths), threading.Lock()
def worker():
    c = cs.http.client.HTTPConnection("127.0.0.1", cs.PORT, timeout=600)
    while True:
        with lock:
            if not todo:
                return
            path = todo.pop(0)
        status, _ = cs.get(c, path, os.environ["ACCEPT"])
        assert status == 200, (path, status)
threads = [threading.Thread(target=worker) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
print("listening after %.2f s; %d feeds took %.2f s" % (t_listen - t0, len(paths), time.time() - t_listen))
PY
pkill -INT -f "addr 127.0.0.1:18082"
wait
# Every thread's samples, then the body render pool's alone (its threads are `tidings-render-N`).
group() {
  python3 -c '
import collections, re, sys
groups = collections.Counter()
top = []
for line in sys.stdin:
    m = re.match(r"\s+([\d.]+)%\s+\[(.)\]\s+(.*)", line)
    if not m:
        continue
    pct, kind, sym = float(m.group(1)), m.group(2), m.group(3)
    top.append((pct, sym))
    if kind == "k": k = "kernel"
    elif re.search(r"brotli|Brotli", sym): k = "Brotli"
    elif re.search(r"deflate|miniz|flate2|crc32|adler", sym): k = "gzip"
    elif re.search(r"ammonia|html5ever|markup5ever|tendril|string_cache|phf", sym): k = "sanitizing (ammonia, html5ever)"
    elif re.search(r"lol_html|selectors|cssparser", sym): k = "absolute URLs (lol_html)"
    elif re.search(r"pulldown_cmark", sym): k = "Markdown (pulldown-cmark)"
    elif re.search(r"quick_xml|rss::|atom_syndication|feed::|serde_json|escape", sym): k = "feed XML/JSON"
    elif re.search(r"TwoWay|str::|replace", sym): k = "string searches"
    elif re.search(r"malloc|free|realloc|memmove|memcpy|memset|memcmp|_mi_|mi_", sym): k = "malloc, free, memcpy"
    elif re.search(r"saphyr|flat_yaml|frontmatter|walkdir|path::", sym): k = "loading"
    else: k = "other"
    groups[k] += pct
total = sum(groups.values()) or 1
for k, v in groups.most_common():
    print("%5.1f%%  %s" % (100 * v / total, k))
if sys.argv[1] == "top":
    print("top symbols (share of all samples):")
    for pct, sym in sorted(top, reverse=True)[:25]:
        print("%5.1f%%  %s" % (pct, sym[:110]))
' "$1"
}
echo "== every thread"
perf report -i "$DATA" --no-children --sort sym --stdio 2>/dev/null | group top
echo "== the body render pool"
perf report -i "$DATA" --no-children --comm tidings-render- --sort sym --stdio 2>/dev/null | group groups
echo "== the document pool (rendering feeds, compressing them)"
# One `tidings-work-N` per core (short enough for the kernel to keep whole).
workers=$(seq -s, -f 'tidings-work-%g' 0 $(( $(nproc) - 1 )))
perf report -i "$DATA" --no-children --comm "$workers" --sort sym --stdio 2>/dev/null | group groups

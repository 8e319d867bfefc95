#!/usr/bin/env bash
# jekyll_and_hardening.sh - the figures of BENCHMARKS.md's "Jekyll sites and hostile input"
# section, in one run:
#   1. `tidings check` on the four Jekyll corpora (each with the _config.yml jekyll-feed was
#      run with) and, side by side with OLD_BINARY when given, on a generated 20,000-post site
#      (hyperfine, 1 warm-up, 5 runs; peak RSS from /usr/bin/time);
#   2. a post nesting 32,000 `>` given to `tidings check` (time to the refusal);
#   3. live reload under a burst: `tidings serve` on one post, 50,000 posts written into
#      _posts/many/, then one more post; seconds from the burst's end until /feed.json has it.
#
# Usage: bench/jekyll_and_hardening.sh BINARY [OLD_BINARY]
# Needs hyperfine and ../shared (corpora and bench/gen_corpus.py) beside the repository.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED="$ROOT/../shared"
BIN=$(realpath "$1")
OLD=${2:+$(realpath "$2")}
TMP=$(mktemp -d /tmp/tidings-jekyll-bench.XXXXXX)
PID=
trap '[ -z "$PID" ] || kill "$PID" 2>/dev/null; rm -rf "$TMP"' EXIT
mkdir -p "$TMP/no-feeds"

echo "== 1. check: Jekyll corpora"
for corpus in jekyll-news elixir-blog bitcoincore 18f-blog; do
  src="$SHARED/corpora/$corpus"
  mkdir -p "$TMP/$corpus"
  cp -r "$src/_posts" "$TMP/$corpus/"
  [ -d "$src/_authors" ] && cp -r "$src/_authors" "$TMP/$corpus/"
  if [ -f "$src/reference/_config.used.yml" ]; then cp "$src/reference/_config.used.yml" "$TMP/$corpus/_config.yml"
  else cp "$src/site.yml" "$TMP/$corpus/_config.yml"; fi
  hyperfine -N -w 1 -r 5 "$BIN check --content $TMP/$corpus" 2>&1 | grep -E "Time \(mean"
  sed -n 's/^/   /; $p' < <("$BIN" check --content "$TMP/$corpus")
done

echo "== 1. check: 20,000 generated posts"
python3 "$SHARED/bench/gen_corpus.py" --posts 20000 --seed 7 --out "$TMP/gen20k" >/dev/null
cmds=("$BIN check --content $TMP/gen20k --feeds $TMP/no-feeds")
[ -z "$OLD" ] || cmds=("$OLD check --content $TMP/gen20k --feeds $TMP/no-feeds" "${cmds[@]}")
hyperfine -N -w 1 -r 5 "${cmds[@]}" 2>&1 | grep -E "Benchmark|Time \(mean|times faster|±"
for b in $OLD $BIN; do
  /usr/bin/time -f "   peak RSS %M KiB: $b" "$b" check --content "$TMP/gen20k" --feeds "$TMP/no-feeds" >/dev/null
done

echo "== 2. a post nesting 32,000 '>'"
mkdir -p "$TMP/deep/_posts"
python3 -c "print('---\ntitle: Deep\n---\n' + '>' * 32000)" > "$TMP/deep/_posts/2024-01-01-deep.md"
hyperfine -N -w 1 -r 10 -i "$BIN check --content $TMP/deep --feeds $TMP/no-feeds" 2>&1 | grep -E "Time \(mean"

echo "== 3. live reload after a burst of 50,000 new posts"
mkdir -p "$TMP/burst/_posts"
printf -- '---\ntitle: First\n---\nx\n' > "$TMP/burst/_posts/2024-01-01-first.md"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
TIDINGS_LOG=warn "$BIN" serve --content "$TMP/burst" --feeds "$TMP/no-feeds" --addr "127.0.0.1:$port" >"$TMP/serve.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
python3 - "$TMP/burst/_posts" "$port" <<'EOF'
import json, os, sys, time, urllib.request
posts, port = sys.argv[1], sys.argv[2]
os.makedirs(os.path.join(posts, "many"))
started = time.time()
for i in range(50000):
    with open(os.path.join(posts, "many", "2024-02-01-p%d.md" % i), "w") as f:
        f.write("---\ntitle: P%d\n---\nbody\n" % i)
ended = time.time()
with open(os.path.join(posts, "2025-01-01-marker.md"), "w") as f:
    f.write("---\ntitle: Marker\n---\nx\n")
print("   wrote 50,000 posts in %.1f s" % (ended - started))
while time.time() - ended < 600:
    try:
        with urllib.request.urlopen("http://127.0.0.1:%s/feed.json" % port, timeout=5) as r:
            if any(item["title"] == "Marker" for item in json.load(r)["items"]):
                print("   the next post was served %.1f s after the burst ended" % (time.time() - ended))
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.25)
sys.exit("   the next post was not served within 600 s")
EOF

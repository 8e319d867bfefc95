#!/usr/bin/env python3
"""Two tidings binaries serve the same bytes: starts each on one corpus in turn, fetches the
213 site/category/author feeds (RSS, Atom, JSON Feed), the second page of the first 20,
/headlines.json and /feeds.opml, and compares every body and ETag. A change meant to leave
output alone (BENCHMARKS.md, "Re-measured at 8c2e676") is checked with it.

Usage: python3 bench/same_bytes.py CORPUS OLD_BINARY NEW_BINARY
"""
import hashlib
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cold_start as cs  # noqa: E402

FEEDS_DIR = os.path.join(os.environ.get("BENCH_ROOT", "/tmp/tidings-bench"), "empty-feeds")


def documents(binary, corpus, paths, port):
    """Each path's (sha256 of the body, ETag) as `binary` serves it, or (status, None)."""
    server = subprocess.Popen(
        [binary, "serve", "--content", corpus, "--feeds", FEEDS_DIR, "--addr", "127.0.0.1:%d" % port,
         "--base-url", "https://example.org/", "--watch", "off"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ, TIDINGS_LOG="warn"))
    try:
        for _ in range(1200):
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/healthz" % port)
                break
            except OSError:
                time.sleep(0.05)
        seen = {}
        for path in paths:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path)) as r:
                    seen[path] = (hashlib.sha256(r.read()).hexdigest(), r.headers.get("ETag"))
            except urllib.error.HTTPError as e:
                seen[path] = (e.code, None)
        return seen
    finally:
        server.terminate()
        server.wait()


def main():
    corpus, old, new = sys.argv[1:4]
    os.makedirs(FEEDS_DIR, exist_ok=True)
    paths = cs.feed_paths(corpus, FEEDS_DIR)
    paths += [p + "?page=2" for p in paths[:20]] + ["/headlines.json", "/feeds.opml"]
    a, b = documents(old, corpus, paths, 18201), documents(new, corpus, paths, 18202)
    differ = [p for p in paths if a[p] != b[p]]
    print("%d documents compared, %d differ%s" % (len(paths), len(differ), (": " + " ".join(differ[:10])) if differ else ""))
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())

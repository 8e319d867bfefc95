#!/usr/bin/env python3
"""Benchmark 3, change to feed: with N posts loaded in `tidings serve`, the time from one post's
file being written (its title changed) to the new bytes being served from its category feed.

For each change: pick a post among the newest of a category (so that it is on page 1 of the
category feed), note the feed's current ETag, take t0, rewrite the file in place with a new
title, then poll GET /categories/SLUG/feed.json with If-None-Match in a tight loop over one
keep-alive connection until a 200 whose body has the new title arrives (t1). Reports
t1 - t0: median, p90, min, max over --changes changes (a pause of --pause s between them, so
each change is its own burst for the watcher's debounce).

The corpus is copied first (the posts are edited), to ROOT/change-N.

Usage: python3 bench/change_to_feed.py [--posts 10000] [--changes 25] [--pause 0.5]
           [--root /tmp/tidings-bench] [--json FILE]
Environment: TIDINGS (binary, default /tmp/bench-target/release/tidings), SHARED_BENCH.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SHARED = os.environ.get("SHARED_BENCH") or os.path.normpath(os.path.join(REPO, "..", "shared", "bench"))
sys.path.insert(0, SHARED)
import bench_builds as bb  # noqa: E402

TIDINGS = os.environ.get("TIDINGS", "/tmp/bench-target/release/tidings")
PORT = int(os.environ.get("TIDINGS_PORT", "18083"))


def slugify(s):
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


def category_of(text):
    m = re.search(r"^category:\s*(.+?)\s*$", text.split("\n---", 1)[0], re.M)
    if not m:
        return None
    v = m.group(1)
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"":
        v = v[1:-1]
    return v


def pct(vals, q):
    s = sorted(vals)
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--posts", type=int, default=10000)
    ap.add_argument("--changes", type=int, default=25)
    ap.add_argument("--pause", type=float, default=0.5)
    ap.add_argument("--root", default=os.environ.get("BENCH_ROOT", "/tmp/tidings-bench"))
    ap.add_argument("--json")
    ap.add_argument("--timeout", type=float, default=10, help="give up on one change after this many s")
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    corpus = bb.ensure_corpus(root, args.posts, 1)
    work = os.path.join(root, "change-%d" % args.posts)
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(corpus, work)
    feeds_dir = os.path.join(root, "empty-feeds")
    os.makedirs(feeds_dir, exist_ok=True)

    # the newest posts of each category, newest first (file names start with the date)
    posts_dir = os.path.join(work, "_posts")
    by_cat = {}
    for name in sorted(os.listdir(posts_dir), reverse=True):
        with open(os.path.join(posts_dir, name), encoding="utf-8") as f:
            text = f.read()
        cat = category_of(text)
        if cat and re.search(r"^title:", text, re.M) and "published: false" not in text:
            by_cat.setdefault(slugify(cat), []).append(name)
    cats = sorted(by_cat)
    targets = [(cats[i % len(cats)], by_cat[cats[i % len(cats)]][(i // len(cats)) % 3]) for i in range(args.changes)]

    log = open(os.path.join(root, "change-%d.serve.log" % args.posts), "w")
    cmd = [TIDINGS, "serve", "--content", work, "--feeds", feeds_dir, "--addr", "127.0.0.1:%d" % PORT,
           "--base-url", "http://127.0.0.1:%d" % PORT]
    print("# %s" % " ".join(cmd), flush=True)
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, TIDINGS_LOG="info"))
    results = []
    try:
        t_start = time.time()
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
                c.request("GET", "/healthz")
                if c.getresponse().read() and True:
                    break
            except OSError:
                if p.poll() is not None:
                    raise SystemExit("tidings exited")
                time.sleep(0.05)
        print("# listening after %.2f s" % (time.time() - t_start), flush=True)
        time.sleep(2.0)  # let the watcher's first rescan finish

        def fetch(path, etag=None):
            h = {"Accept-Encoding": "identity"}
            if etag:
                h["If-None-Match"] = etag
            c.request("GET", path, headers=h)
            r = c.getresponse()
            return r.status, r.getheader("ETag"), r.read()

        for i, (slug, name) in enumerate(targets, 1):
            path = "/categories/%s/feed.json" % slug
            status, etag, body = fetch(path)
            assert status == 200, (path, status)
            fpath = os.path.join(posts_dir, name)
            with open(fpath, encoding="utf-8") as f:
                text = f.read()
            marker = "Edited %d at %d" % (i, time.time_ns())
            new = re.sub(r"^title:.*$", "title: \"%s\"" % marker, text, count=1, flags=re.M)
            polls = 0
            seen_other = 0
            t0_wall = time.time()
            t0 = time.perf_counter()
            with open(fpath, "w", encoding="utf-8") as f:
                f.write(new)
            t_written = time.perf_counter()
            while True:
                status, new_etag, body = fetch(path, etag)
                polls += 1
                if status == 200:
                    if marker.encode() in body:
                        break
                    seen_other += 1
                    etag = new_etag
                if time.perf_counter() - t0 > args.timeout:
                    raise SystemExit("change %d (%s) not served within %s s" % (i, name, args.timeout))
            t1 = time.perf_counter()
            rec = {"change": i, "post": name, "feed": path, "ms": round((t1 - t0) * 1000, 2),
                   "write_ms": round((t_written - t0) * 1000, 3), "polls": polls, "other_200s": seen_other,
                   "t0_unix": t0_wall}
            results.append(rec)
            print(json.dumps(rec), flush=True)
            time.sleep(args.pause)
        with open("/proc/%d/status" % p.pid) as f:
            hwm = [l for l in f if l.startswith(("VmHWM", "VmRSS"))]
        print("# server " + " ".join(l.split(":")[0] + "=" + l.split(":")[1].strip() for l in hwm))
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait()
        log.close()
    # Breakdown from the server's log: "reloaded reread=1 ... ms=N" is logged when the new index
    # is in place; its timestamp minus t0 is watcher + debounce + reload; the rest of the time
    # is the first request's render and compression (cache miss) plus the client's polling.
    with open(os.path.join(root, "change-%d.serve.log" % args.posts)) as f:
        reloads = []
        for line in f:
            m = re.match(r"(\S+)Z\s+INFO tidings::watch: reloaded reread=(\d+) .*ms=(\d+)", line)
            if m and m.group(2) != "0":
                ts = time.mktime(time.strptime(m.group(1)[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
                ts += float("0." + m.group(1)[20:]) if len(m.group(1)) > 20 else 0
                reloads.append((ts, int(m.group(3))))
    if len(reloads) == len(results):
        for r, (ts, reload_ms) in zip(results, reloads):
            r["index_swapped_ms"] = round((ts - r["t0_unix"]) * 1000, 1)
            r["reload_ms"] = reload_ms
            r["after_swap_ms"] = round(r["ms"] - r["index_swapped_ms"], 1)
    ms = [r["ms"] for r in results]
    summary = {"posts": args.posts, "changes": len(ms), "median_ms": round(statistics.median(ms), 1),
               "p90_ms": round(pct(ms, 0.9), 1), "min_ms": min(ms), "max_ms": max(ms),
               "mean_polls": round(statistics.mean(r["polls"] for r in results), 1)}
    if all("index_swapped_ms" in r for r in results):
        for k in ("index_swapped_ms", "reload_ms", "after_swap_ms"):
            summary[k + "_median"] = round(statistics.median(r[k] for r in results), 1)
    print("SUMMARY " + json.dumps(summary), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"summary": summary, "changes": results}, f, indent=1)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

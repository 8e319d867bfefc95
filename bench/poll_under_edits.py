#!/usr/bin/env python3
"""Polls while the content changes: `tidings serve` on an N-post corpus; wrk sends
conditional GETs (If-None-Match: the current ETag) for one category feed that no edit touches,
first on an idle server, then while a writer edits 100 old posts a second (each edit rewrites
one post's title; the posts are far down the archive, so the polled page never changes);
alternated 3 times. Reports wrk's latency percentiles (p50, p90, p99) and the 304 rate of
each round, and the ratio busy/idle of p99 per pair of rounds.

Usage: python3 bench/poll_under_edits.py [--posts 100000] [--rate 100] [--seconds 10] [--rounds 3]
Environment: TIDINGS (binary, default /tmp/bench-target/release/tidings), BENCH_ROOT, WRK (wrk).
"""
import argparse
import glob
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cold_start as cs  # noqa: E402

TIDINGS = os.environ.get("TIDINGS", "/tmp/bench-target/release/tidings")
WRK = os.environ.get("WRK", "wrk")
PORT = int(os.environ.get("TIDINGS_PORT", "18085"))


def wrk_round(path, etag, seconds):
    script = "/tmp/tidings-poll.lua"
    with open(script, "w") as f:
        f.write('wrk.headers["If-None-Match"] = %s\n' % json.dumps(etag))
        f.write('wrk.headers["Accept-Encoding"] = "gzip"\n')
        f.write('done = function(summary, latency, requests)\n'
                '  io.write(string.format("STATS %d %d %d %d %d\\n", summary.requests, latency:percentile(50),'
                ' latency:percentile(90), latency:percentile(99), summary.errors.status))\nend\n')
    out = subprocess.run([WRK, "-t1", "-c16", "-d%ds" % seconds, "-s", script, "http://127.0.0.1:%d%s" % (PORT, path)],
                         capture_output=True, text=True, check=True).stdout
    n, p50, p90, p99, non2xx = map(int, re.search(r"STATS (\d+) (\d+) (\d+) (\d+) (\d+)", out).groups())
    return {"requests": n, "rps": round(n / seconds), "p50_us": p50, "p90_us": p90, "p99_us": p99,
            "not_304_or_2xx": non2xx}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--posts", type=int, default=100000)
    ap.add_argument("--rate", type=float, default=100, help="edits per second")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--root", default=os.environ.get("BENCH_ROOT", "/tmp/tidings-bench"))
    ap.add_argument("--json")
    args = ap.parse_args()
    source = cs.bb.ensure_corpus(args.root, args.posts, 1)
    corpus = os.path.join(args.root, "poll-%d" % args.posts)
    shutil.rmtree(corpus, ignore_errors=True)
    shutil.copytree(source, corpus)
    # The oldest 2,000 posts: far down every feed, so no polled first page changes.
    feeds_dir = os.path.join(args.root, "empty-feeds")
    os.makedirs(feeds_dir, exist_ok=True)
    old = sorted(glob.glob(os.path.join(corpus, "_posts", "**", "*.md"), recursive=True))[:2000]
    p = subprocess.Popen([TIDINGS, "serve", "--content", corpus, "--feeds", feeds_dir,
                          "--addr", "127.0.0.1:%d" % PORT, "--base-url", "https://example.org/"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ, TIDINGS_LOG="warn"))
    results = []
    try:
        cs.PORT = PORT
        cs.wait_listening(p, 1200)
        c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        c.request("GET", "/feeds.opml")
        opml = c.getresponse().read().decode()
        path = "/" + re.search(r'xmlUrl="https://example.org/(categories/[^"]+/feed\.rss)"', opml).group(1)
        path = path[: -len("rss")] + "atom"
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        etag = r.getheader("ETag")
        print("# polling %s (ETag %s) on %d posts" % (path, etag, args.posts), flush=True)
        for rnd in range(1, args.rounds + 1):
            for busy in (False, True):
                stop = threading.Event()
                edits = [0]

                def writer():
                    i = 0
                    next_t = time.time()
                    while not stop.is_set():
                        f = old[i % len(old)]
                        with open(f) as fh:
                            text = fh.read()
                        text = re.sub(r"^title: .*$", "title: \"Edited %d\"" % i, text, count=1, flags=re.M)
                        with open(f, "w") as fh:
                            fh.write(text)
                        i += 1
                        edits[0] = i
                        next_t += 1.0 / args.rate
                        time.sleep(max(0.0, next_t - time.time()))

                w = threading.Thread(target=writer)
                if busy:
                    w.start()
                rec = wrk_round(path, etag, args.seconds)
                stop.set()
                if busy:
                    w.join()
                rec.update({"round": rnd, "busy": busy, "edits": edits[0]})
                results.append(rec)
                print(json.dumps(rec), flush=True)
                time.sleep(2)
        c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)  # the old one idled out
        c.request("GET", path, headers={"If-None-Match": etag})
        r = c.getresponse()
        r.read()
        print("# after the edits the polled page is still %s" % r.status, flush=True)
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait()
        shutil.rmtree(corpus, ignore_errors=True)
    ratios = []
    for rnd in range(1, args.rounds + 1):
        idle = next(r for r in results if r["round"] == rnd and not r["busy"])
        busy = next(r for r in results if r["round"] == rnd and r["busy"])
        ratios.append(busy["p99_us"] / max(1, idle["p99_us"]))
    summary = {"p99_busy_over_idle": [round(x, 2) for x in ratios], "median": round(statistics.median(ratios), 2)}
    print(json.dumps(summary))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rounds": results, "summary": summary}, f, indent=1)


if __name__ == "__main__":
    main()

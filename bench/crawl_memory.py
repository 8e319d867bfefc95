#!/usr/bin/env python3
"""Memory under a crawler: `tidings serve` on an N-post corpus with a cache budget, then every
page of every feed listed in /feeds.opml, in all three formats, following `next` links, by 2
keep-alive clients. Records the server's RSS after start (the index), its peak (VmHWM) and
RSS after the crawl, and the cache's own weighed size from /metrics, against the budget.
A binary built with `--features heap-stats` also reports its heap (bytes allocated and not
freed) after start, at its peak and after the crawl, which tells the program's own memory
apart from what the allocator keeps resident; size_is_free.sh's crawl-heap step builds one.

Usage: python3 bench/crawl_memory.py [--posts 100000] [--cache-bytes 64M] [--json FILE]
Environment: TIDINGS (binary, default /tmp/bench-target/release/tidings), BENCH_ROOT.
"""
import argparse
import gzip
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cold_start as cs  # noqa: E402  (wait_listening, proc_status, the shared corpus helper)

TIDINGS = os.environ.get("TIDINGS", "/tmp/bench-target/release/tidings")
PORT = int(os.environ.get("TIDINGS_PORT", "18084"))
BASE = "https://example.org/"


def fetch(conn, path):
    """(status, bytes on the wire, decoded body): requests gzip, as feed readers do."""
    conn.request("GET", path, headers={"Accept-Encoding": "gzip"})
    r = conn.getresponse()
    raw = r.read()
    body = gzip.decompress(raw) if r.getheader("Content-Encoding") == "gzip" else raw
    return r.status, len(raw), body


def gauge(metrics_text, name):
    """A gauge's value in /metrics' text, or None."""
    m = re.search(r"^%s (\d+)" % name, metrics_text, re.M)
    return int(m.group(1)) if m else None


def heap_stats(conn):
    """(live, peak) heap bytes from /metrics when the binary counts them, else None."""
    _, _, metrics = fetch(conn, "/metrics")
    text = metrics.decode()
    live, peak = gauge(text, "tidings_heap_live_bytes"), gauge(text, "tidings_heap_peak_bytes")
    return (live, peak) if live is not None else None


def next_link(path, body):
    """The path of the page after this one, if any (RFC 5005 `next`, or JSON Feed's next_url)."""
    if path.split("?")[0].endswith(".json"):
        url = json.loads(body).get("next_url")
    else:
        m = re.search(rb'<(?:atom:)?link[^>]*rel="next"[^>]*>', body)
        url = None
        if m:
            href = re.search(rb'href="([^"]+)"', m.group(0))
            url = href.group(1).decode().replace("&amp;", "&") if href else None
    return "/" + url[len(BASE):] if url else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--posts", type=int, default=100000)
    ap.add_argument("--cache-bytes", default="64M")
    ap.add_argument("--root", default=os.environ.get("BENCH_ROOT", "/tmp/tidings-bench"))
    ap.add_argument("--json")
    args = ap.parse_args()
    corpus = cs.bb.ensure_corpus(args.root, args.posts, 1)
    feeds_dir = os.path.join(args.root, "empty-feeds")
    os.makedirs(feeds_dir, exist_ok=True)
    cs.PORT = PORT
    p = subprocess.Popen([TIDINGS, "serve", "--content", corpus, "--feeds", feeds_dir, "--addr",
                          "127.0.0.1:%d" % PORT, "--base-url", BASE, "--cache-bytes", args.cache_bytes],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ, TIDINGS_LOG="warn"))
    rec = {"posts": args.posts, "cache_bytes": args.cache_bytes}
    try:
        t0 = time.time()
        cs.wait_listening(p, 1200)
        rec["listen_s"] = round(time.time() - t0, 2)
        rec["rss_after_start_kb"] = cs.proc_status(p.pid)["VmRSS"]
        c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
        heap = heap_stats(c)
        if heap:
            rec["heap_after_start_kb"] = heap[0] // 1024
        _, _, opml = fetch(c, "/feeds.opml")
        starts = []
        for el in ET.fromstring(opml).iter("outline"):
            url = el.get("xmlUrl")
            if url:
                path = "/" + url[len(BASE):]
                starts += [path[: -len("rss")] + ext for ext in ("rss", "atom", "json")]
        todo, lock, counts = list(starts), threading.Lock(), {"pages": 0, "bytes": 0, "bad": 0}
        peak_rss = [0]

        def worker():
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
            while True:
                with lock:
                    if not todo:
                        return
                    path = todo.pop()
                status, wire, body = fetch(conn, path)
                nxt = next_link(path, body) if status == 200 else None
                with lock:
                    counts["pages"] += 1
                    counts["bytes"] += wire
                    counts["bad"] += status != 200
                    if nxt:
                        todo.append(nxt)

        def sampler():
            while any(t.is_alive() for t in threads):
                peak_rss[0] = max(peak_rss[0], cs.proc_status(p.pid)["VmRSS"])
                time.sleep(0.2)

        t1 = time.time()
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for t in threads:
            t.start()
        s = threading.Thread(target=sampler)
        s.start()
        for t in threads:
            t.join()
        s.join()
        rec["crawl_s"] = round(time.time() - t1, 1)
        rec.update(counts)
        st = cs.proc_status(p.pid)
        rec["peak_rss_sampled_kb"] = peak_rss[0]
        rec["vmhwm_kb"], rec["rss_after_crawl_kb"] = st["VmHWM"], st["VmRSS"]
        # A new connection: the server closes ones idle for 10 s.
        _, _, metrics = fetch(http.client.HTTPConnection("127.0.0.1", PORT, timeout=60), "/metrics")
        text = metrics.decode()
        for name in ("tidings_cache_bytes", "tidings_cache_budget_bytes", "tidings_cache_entries"):
            rec[name] = gauge(text, name)
        if heap:
            rec["heap_peak_kb"] = gauge(text, "tidings_heap_peak_bytes") // 1024
            rec["heap_after_crawl_kb"] = gauge(text, "tidings_heap_live_bytes") // 1024
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait()
    budget_kb = rec["tidings_cache_budget_bytes"] / 1024
    rec["over_index_plus_budget_kb"] = rec["vmhwm_kb"] - (rec["rss_after_start_kb"] + budget_kb)
    if "heap_peak_kb" in rec:
        rec["heap_over_index_plus_budget_kb"] = rec["heap_peak_kb"] - (rec["heap_after_start_kb"] + budget_kb)
    print(json.dumps(rec, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rec, f, indent=1)


if __name__ == "__main__":
    main()

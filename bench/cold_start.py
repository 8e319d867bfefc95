#!/usr/bin/env python3
"""Benchmarks 2 and 4: cold start and memory, tidings against Hugo and Jekyll, side by side.

For each corpus size and each repetition, runs one after the other (so that a busy spell on
the shared machine hits every tool of that repetition alike):
  hugo           ../shared/bench/hugo_feeds.sh    (site + category + author RSS, page 1)
  tidings-build  tidings build --out DIR          (every feed, every format, every page,
                                                   + .gz/.br twins; tags included)
  tidings-serve  tidings serve, from process start until every site, category and author
                 feed has been fetched once in all three formats (page 1), by 4 client
                 threads with keep-alive, asking for identity (the bytes Hugo writes);
                 then VmHWM/VmRSS of the server are read, and the same feeds are fetched
                 again (from the cache) to show what the client itself costs. The client
                 is a raw-socket one (`--client http.client` for the one of earlier runs)
  tidings-serve-gzip  the same, the clients asking `Accept-Encoding: gzip, br` as feed
                 readers do: every feed is also compressed (Brotli, made on first ask)
  jekyll         ../shared/bench/jekyll_feeds.sh  (site + category Atom), not at 100k
Hugo and Jekyll are timed by the shared scripts (/usr/bin/time -v around the build only),
tidings-build by /usr/bin/time -v around the whole command. The anchors' first run per size
prepares their site (a copy of the corpus), later runs reuse it; every run deletes the
previous output.

Usage:
  python3 bench/cold_start.py [--sizes 1000,10000,100000] [--runs 3]
      [--tools hugo,tidings-build,tidings-serve,jekyll] [--skip jekyll:100000]
      [--timeout 1200] [--quiet-wait 20] [--json FILE] [--root DIR]
  python3 bench/cold_start.py --table-from FILE
Environment: TIDINGS (binary, default /tmp/bench-target/release/tidings), BENCH_ROOT
(default /tmp/tidings-bench), SHARED_BENCH (default ../shared/bench beside the repository).
"""
import argparse
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SHARED = os.environ.get("SHARED_BENCH") or os.path.normpath(os.path.join(REPO, "..", "shared", "bench"))
sys.path.insert(0, SHARED)
import bench_builds as bb  # noqa: E402  (the shared anchors' runner: run_one, ensure_corpus, wait_quiet)

TIDINGS = os.environ.get("TIDINGS", "/tmp/bench-target/release/tidings")
BASE_URL = "https://example.org/"
PORT = int(os.environ.get("TIDINGS_PORT", "18082"))


def dir_size(path):
    """(apparent bytes, allocated bytes) of the files under path."""
    apparent = allocated = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            st = os.lstat(os.path.join(root, name))
            apparent += st.st_size
            allocated += st.st_blocks * 512
    return apparent, allocated


def proc_status(pid):
    d = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmHWM", "VmRSS", "Threads"):
                d[k] = int(v.split()[0])  # kB (a count for Threads)
    return d


def proc_cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / float(os.sysconf("SC_CLK_TCK"))


def get(conn, path, accept_encoding="identity"):
    conn.request("GET", path, headers={"Accept-Encoding": accept_encoding})
    r = conn.getresponse()
    body = r.read()
    return r.status, body


class RawClient:
    """A keep-alive HTTP/1.1 client on a plain socket: one request at a time, the status line
    and `Content-Length` read, the body read whole. http.client parses every response's
    headers with the email package; fetching the 10k corpus's 213 feeds (17 MB) a second
    time, from tidings' cache, took that client 0.051 s and this one 0.020 s (BENCHMARKS.md,
    "Re-measured at 90e9978")."""

    def __init__(self, port, timeout):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def get(self, path, accept_encoding):
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: %s\r\n\r\n"
                           % (path, accept_encoding)).encode())
        while b"\r\n\r\n" not in self.buf:
            self._more()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length = None
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length is None:
            raise RuntimeError("%s: no Content-Length in the response" % path)
        chunks, have = [self.buf[:length]], len(self.buf[:length])
        self.buf = self.buf[length:]
        while have < length:
            chunk = self.sock.recv(min(1 << 20, length - have))
            if not chunk:
                raise RuntimeError("%s: connection closed mid-body" % path)
            chunks.append(chunk)
            have += len(chunk)
        return status, b"".join(chunks)

    def _more(self):
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise RuntimeError("connection closed mid-head")
        self.buf += chunk

    def close(self):
        self.sock.close()


class HttpLibClient:
    """The same interface on http.client (the client of every run before 2026-12-02)."""

    def __init__(self, port, timeout):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def get(self, path, accept_encoding):
        return get(self.conn, path, accept_encoding)

    def close(self):
        self.conn.close()


CLIENTS = {"raw": RawClient, "http.client": HttpLibClient}


def fetch_all(paths, clients, client_kind, timeout, accept_encoding):
    """Fetches every path once, `clients` connections taking the next path in turn. Returns
    [(path, status, body length, time answered)] in the order answered."""
    todo = list(paths)
    lock = threading.Lock()
    results = []

    def worker():
        c = CLIENTS[client_kind](PORT, timeout)
        try:
            while True:
                with lock:
                    if not todo:
                        break
                    path = todo.pop(0)
                status, body = c.get(path, accept_encoding)
                with lock:
                    results.append((path, status, len(body), time.time()))
        finally:
            c.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def warm(corpus):
    """Reads every file of the corpus twice, so that its pages are cached and recently used."""
    for _ in range(2):
        for folder, _dirs, files in os.walk(corpus):
            for name in files:
                with open(os.path.join(folder, name), "rb") as f:
                    while f.read(1 << 20):
                        pass


def feed_paths(corpus, feeds_dir):
    """Site, category and author feed paths, from tidings' own OPML: every RSS one first,
    then the same feeds as Atom and as JSON Feed."""
    p = subprocess.Popen([TIDINGS, "serve", "--content", corpus, "--feeds", feeds_dir,
                          "--addr", "127.0.0.1:%d" % PORT, "--base-url", BASE_URL],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         env=dict(os.environ, TIDINGS_LOG="warn"))
    try:
        wait_listening(p, 1200)
        with urllib.request.urlopen("http://127.0.0.1:%d/feeds.opml" % PORT) as r:
            opml = r.read()
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait()
    rss = []
    for el in ET.fromstring(opml).iter("outline"):
        url = el.get("xmlUrl")
        if not url:
            continue
        path = "/" + url[len(BASE_URL):]
        if path == "/feed.rss" or re.fullmatch(r"/(categories|authors)/[^/]+/feed\.rss", path):
            rss.append(path)
    rss = sorted(set(rss))
    # RSS first (what the Hugo anchor writes), then the same feeds in Atom and JSON Feed
    return rss + [p[: -len("rss")] + ext for ext in ("atom", "json") for p in rss]


def wait_listening(p, timeout):
    t_end = time.time() + timeout
    while time.time() < t_end:
        if p.poll() is not None:
            raise RuntimeError("tidings serve exited with %s" % p.returncode)
        try:
            c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=5)
            status, _ = get(c, "/healthz")
            c.close()
            if status == 200:
                return time.time()
        except OSError:
            pass
        time.sleep(0.005)
    raise RuntimeError("tidings serve did not listen within %ss" % timeout)


def run_serve(corpus, feeds_dir, paths, timeout, clients=4, accept_encoding="identity", client_kind="raw"):
    busy0 = bb.cpu_busy_s()
    t0 = time.time()
    p = subprocess.Popen([TIDINGS, "serve", "--content", corpus, "--feeds", feeds_dir,
                          "--addr", "127.0.0.1:%d" % PORT, "--base-url", BASE_URL],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         env=dict(os.environ, TIDINGS_LOG="warn"))
    rec = {"tool": "tidings-serve"}
    try:
        t_listen = wait_listening(p, timeout)
        results = fetch_all(paths, clients, client_kind, timeout, accept_encoding)
        t_done = time.time()
        st = proc_status(p.pid)
        cpu = proc_cpu_s(p.pid)
        # The client's own share: the same documents again, now from the cache.
        again = time.time()
        fetch_all(paths, clients, client_kind, timeout, accept_encoding)
        client_s = time.time() - again
        n_rss = sum(1 for q in paths if q.endswith(".rss"))
        done_rss = [r[3] for r in results if r[0].endswith(".rss")]
        ok_times = [r[3] for r in results if r[1] == 200]
        bad = [r for r in results if r[1] != 200]
        rec.update({
            "rc": 0 if not bad and len(results) == len(paths) else 1,
            "timed_out": False,
            "client": client_kind,
            "wall_s": round(t_done - t0, 3),
            "listen_s": round(t_listen - t0, 3),
            "first_feed_s": round(min(ok_times) - t0, 3) if ok_times else None,
            "feeds_s": round(t_done - t_listen, 3),
            "again_s": round(client_s, 3),
            "rss_feeds": n_rss,
            "rss_wall_s": round(max(done_rss) - t0, 3) if len(done_rss) == n_rss else None,
            "feeds": len(results), "feeds_not_200": len(bad),
            "feed_bytes": sum(r[2] for r in results),
            "maxrss_kb": st["VmHWM"], "rss_kb": st["VmRSS"], "threads": st["Threads"],
            "cpu_s": round(cpu, 2), "user_s": cpu, "sys_s": 0.0,
        })
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    rec["other_cpu_s"] = round(bb.cpu_busy_s() - busy0 - rec.get("cpu_s", 0), 2)
    return rec


def run_build(corpus, work, run_idx, timeout, logdir):
    # A --feeds folder must exist, and run_one empties {work} before each run.
    feeds = os.path.join(os.path.dirname(os.path.abspath(work)), "tidings-no-feeds")
    os.makedirs(feeds, exist_ok=True)
    tpl = "%s build --content {corpus} --feeds %s --out {work}/out --base-url %s" % (TIDINGS, feeds, BASE_URL)
    rec = bb.run_one("tidings-build", tpl, corpus, work, run_idx, timeout, logdir)
    olog = os.path.join(logdir, "tidings-build-%s-run%d.out" % (os.path.basename(corpus), run_idx))
    with open(olog, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = re.match(r"build: (\d+) documents, (\d+) files, (\d+) bytes in ([\d.]+) s \((\d+) posts\)", line)
            if m:
                rec.update({"documents": int(m.group(1)), "files": int(m.group(2)),
                            "out_bytes": int(m.group(3)), "reported_s": float(m.group(4))})
    subprocess.run(["rm", "-rf", os.path.join(work, "out")], check=True)
    return rec


def fmt(vals, scale=1.0, nd=2):
    vals = [v * scale for v in vals]
    if not vals:
        return "-"
    med = statistics.median(vals)
    if len(vals) == 1:
        return "%.*f" % (nd, med)
    return "%.*f (%.*f-%.*f)" % (nd, med, nd, min(vals), nd, max(vals))


def ok(r):
    return not r.get("timed_out") and r.get("rc") == 0 and "wall_s" in r


def print_tables(results, sizes_info):
    print("| posts | content on disk (apparent / allocated MiB) | tool | runs | wall s | peak RSS MiB | CPU s | notes |")
    print("|---:|---|---|---:|---|---|---|---|")
    keys = []
    for r in results:
        if (r["posts"], r["tool"]) not in keys:
            keys.append((r["posts"], r["tool"]))
    for n, tool in keys:
        rs = [r for r in results if (r["posts"], r["tool"]) == (n, tool) and ok(r)]
        nbad = len([r for r in results if (r["posts"], r["tool"]) == (n, tool)]) - len(rs)
        info = sizes_info.get(str(n)) or sizes_info.get(n) or {}
        disk = "%.1f / %.1f" % (info.get("apparent", 0) / 2**20, info.get("allocated", 0) / 2**20)
        notes = []
        if tool.startswith("tidings-serve") and rs:
            notes.append("listening after %s s; all %d RSS feeds served after %s s; all %d feeds (RSS, Atom, JSON) "
                         "took %s s after listening" % (
                             fmt([r["listen_s"] for r in rs]), rs[0]["rss_feeds"], fmt([r["rss_wall_s"] for r in rs]),
                             rs[0]["feeds"], fmt([r["feeds_s"] for r in rs])))
            notes.append("RSS after: %s MiB" % fmt([r["rss_kb"] for r in rs], 1 / 1024.0, 0))
            if all("again_s" in r for r in rs):
                notes.append("%s client: the same feeds again, from the cache, %s s" % (
                    rs[0].get("client", "raw"), fmt([r["again_s"] for r in rs], 1.0, 3)))
        if tool == "tidings-build" and rs and "documents" in rs[0]:
            notes.append("%d documents, %d files, %.0f MiB written" % (
                rs[0]["documents"], rs[0]["files"], rs[0]["out_bytes"] / 2**20))
        if tool in ("hugo", "jekyll") and rs and rs[0].get("feeds"):
            notes.append("%d feed files" % rs[0]["feeds"])
        dist = sum(1 for r in rs if r.get("other_cpu_s", 0) > max(0.5, 0.1 * r["wall_s"]))
        if dist:
            notes.append("%d run(s) disturbed by other processes (other CPU %s s)" % (
                dist, fmt([r.get("other_cpu_s", 0) for r in rs], 1, 1)))
        if nbad:
            notes.append("%d failed/timed out" % nbad)
        cpu = [r.get("user_s", 0) + r.get("sys_s", 0) for r in rs]
        print("| %d | %s | %s | %d | %s | %s | %s | %s |" % (
            n, disk, tool, len(rs), fmt([r["wall_s"] for r in rs]),
            fmt([r["maxrss_kb"] for r in rs], 1 / 1024.0, 0), fmt(cpu), "; ".join(notes)))
    print()
    print("Ratios per repetition (anchor / tidings; > 1 means tidings is faster or smaller), median (min-max):")
    print()
    print("| posts | anchor | tidings | reps | wall ratio | peak RSS ratio |")
    print("|---:|---|---|---:|---|---|")
    sizes = sorted({r["posts"] for r in results})
    for n in sizes:
        for anchor in ("hugo", "jekyll"):
            for t, wall_key in (("tidings-build", "wall_s"), ("tidings-serve", "wall_s"),
                                ("tidings-serve", "rss_wall_s"), ("tidings-serve-gzip", "wall_s")):
                label = t + (" (RSS feeds only)" if wall_key == "rss_wall_s" else "")
                w, m = [], []
                for rep in sorted({r["run"] for r in results if r["posts"] == n}):
                    a = [r for r in results if (r["posts"], r["tool"], r["run"]) == (n, anchor, rep) and ok(r)]
                    b = [r for r in results if (r["posts"], r["tool"], r["run"]) == (n, t, rep) and ok(r)]
                    if a and b:
                        w.append(a[-1]["wall_s"] / b[-1][wall_key])
                        m.append(a[-1]["maxrss_kb"] / b[-1]["maxrss_kb"])
                if w:
                    print("| %d | %s | %s | %d | %s | %s |" % (n, anchor, label, len(w), fmt(w, 1, 3), fmt(m, 1, 2)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.environ.get("BENCH_ROOT", "/tmp/tidings-bench"))
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tools", default="hugo,tidings-build,tidings-serve,jekyll")
    ap.add_argument("--skip", default="jekyll:100000")
    ap.add_argument("--timeout", type=float, default=1200)
    ap.add_argument("--quiet-wait", type=float, default=20,
                    help="wait up to this many seconds for an idle machine before each run")
    ap.add_argument("--json", help="write every run here (default ROOT/cold_start.json)")
    ap.add_argument("--table-from")
    ap.add_argument("--client", choices=sorted(CLIENTS), default="raw",
                    help="the feed client of tidings-serve runs (http.client: every run before 2026-12-02)")
    args = ap.parse_args()
    if args.table_from:
        with open(args.table_from) as f:
            data = json.load(f)
        print_tables(data["runs"], data["sizes"])
        return 0
    root = os.path.abspath(args.root)
    logdir = os.path.join(root, "logs")
    os.makedirs(logdir, exist_ok=True)
    out_json = args.json or os.path.join(root, "cold_start.json")
    tools = [t for t in args.tools.split(",") if t]
    skip = set(filter(None, args.skip.split(",")))
    feeds_dir = os.path.join(root, "empty-feeds")
    os.makedirs(feeds_dir, exist_ok=True)
    def version(*command):
        try:
            return subprocess.run(list(command), capture_output=True, text=True).stdout.strip()
        except FileNotFoundError:
            return "%s: not installed" % command[0]

    print("# tidings %s; %s; %s; %s" % (
        version(TIDINGS, "--version"), version("hugo", "version"), version("jekyll", "--version"),
        "%d cores" % os.cpu_count()), flush=True)
    results, sizes_info = [], {}

    def save():
        with open(out_json, "w") as f:
            json.dump({"runs": results, "sizes": sizes_info}, f, indent=1)

    for n in [int(x) for x in args.sizes.split(",") if x]:
        corpus = bb.ensure_corpus(root, n, 1)
        apparent, allocated = dir_size(os.path.join(corpus, "_posts"))
        sizes_info[str(n)] = {"apparent": apparent, "allocated": allocated}
        paths = feed_paths(corpus, feeds_dir) if any(t.startswith("tidings-serve") for t in tools) else []
        print("# %d posts: %d site/category/author feeds to fetch; _posts %.1f MiB apparent, %.1f MiB allocated"
              % (n, len(paths), apparent / 2**20, allocated / 2**20), flush=True)
        for i in range(1, args.runs + 1):
            for tool in tools:
                if "%s:%d" % (tool, n) in skip:
                    continue
                # Every run starts from the same machine state. What the run before wrote (Hugo
                # writes its whole site) is flushed: left to the kernel, its write-back runs
                # during the next run and is counted against that tool. And the posts are read
                # again: after Hugo's build the page cache holds gigabytes of its output, and
                # the next reader of the posts paid to bring their pages back to the front
                # (the tool run right after Hugo took 1.6 s to load 100k posts, the same
                # binary run after that 1.2 s).
                os.sync()
                warm(corpus)
                waited, load = bb.wait_quiet(args.quiet_wait) if args.quiet_wait > 0 else (0, None)
                work = os.path.join(root, "work-%s-%d" % (tool, n))
                if tool in ("hugo", "jekyll"):
                    rec = bb.run_one(tool, None, corpus, work, i, args.timeout, logdir)
                elif tool == "tidings-build":
                    rec = run_build(corpus, work, i, args.timeout, logdir)
                elif tool == "tidings-serve":
                    rec = run_serve(corpus, feeds_dir, paths, args.timeout, client_kind=args.client)
                elif tool == "tidings-serve-gzip":
                    rec = run_serve(corpus, feeds_dir, paths, args.timeout, accept_encoding="gzip, br",
                                    client_kind=args.client)
                else:
                    raise SystemExit("unknown tool %s" % tool)
                rec.update({"tool": tool, "posts": n, "run": i, "quiet_wait_s": waited, "cpu_before": load})
                results.append(rec)
                print(json.dumps(rec), flush=True)
                save()
    print()
    print_tables(results, sizes_info)
    return 0


if __name__ == "__main__":
    sys.exit(main())

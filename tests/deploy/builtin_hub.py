#!/usr/bin/env python3
"""tidings' built-in WebSub hub (`serve --hub`) against a real subscriber nobody here wrote.

What it proves, with tidings serving a copy of the repo's sample site with `--hub`
(`--hub-allow-private`, since every callback here is on 127.0.0.1) and counting subscribers
into a SQLite file:
  1. the feeds advertise the built-in hub, and flask-websub's `discover` finds it;
  2. flask-websub's subscriber subscribes to a category feed with a `hub.secret`, and the hub
     verifies the intent (the GET with hub.challenge) before answering anything else;
  3. after a post of that category gets a new title, the subscriber receives the new feed
     within DELIVERY_TIMEOUT seconds, byte for byte what tidings serves, with an
     `X-Hub-Signature: sha256=` HMAC that this test and flask-websub both verify; a feed the
     edit does not touch gets nothing;
  4. tidings is stopped and started again on the same database: the next edit is delivered
     too (the subscription survived the restart);
  5. `tidings stats` shows the subscription (websub 1) and an aggregator's announced count
     (a poll with a Feedly User-Agent), `/stats` answers with the token and is a 401 without;
  6. after unsubscribing (verified too), an edit delivers nothing;
  7. a second tidings with `--hub` but without `--hub-allow-private` refuses callbacks at
     127.0.0.1 and 10.0.0.1 with a 400 that says why, and never calls them.
The one concession: flask-websub's subscriber sends a `hub.secret` only to an https hub, so
the subscriber reaches the hub through a small https front (werkzeug, throwaway certificate)
that forwards POST /hub to tidings, as a TLS-terminating proxy does in production.

Usage: builtin_hub.py TIDINGS_BINARY [--repo DIR] [--verbose]
Run by scripts/hub-smoke.sh, which installs flask-websub. Everything listens on 127.0.0.1.
"""

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import requests
from flask import Flask, Response, request

sys.path.insert(0, str(Path(__file__).resolve().parent))
import websub_hub as common  # noqa: E402  (the shared helpers of the other WebSub test)
from flask_websub.subscriber import discover  # noqa: E402

ok, fail, check, poll = common.ok, common.fail, common.check, common.poll
STARTUP_TIMEOUT = 20.0
DELIVERY_TIMEOUT = 10.0
QUIET = 2.0
OVERALL_TIMEOUT = 180
FEEDLY = "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 123 subscribers; like FeedFetcher-Google)"


def start_tls_front(tidings_base, cert, key):
    """https://127.0.0.1:PORT/hub, forwarding POSTs to tidings' /hub (a TLS terminator)."""
    app = Flask("tls_front")

    @app.route("/hub", methods=["POST"])
    def forward():
        upstream = requests.post(f"{tidings_base}/hub", data=request.get_data(),
                                 headers={"Content-Type": request.headers.get("Content-Type", "")},
                                 timeout=10)
        return Response(upstream.content, status=upstream.status_code,
                        content_type=upstream.headers.get("Content-Type"))

    return common.Server(app, ssl_context=(str(cert), str(key)))


def start_tidings(binary, site, db, port, log, extra=()):
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([str(binary), "serve", "--content", str(site / "content"),
                             "--feeds", str(site / "feeds"), "--addr", f"127.0.0.1:{port}",
                             "--base-url", base, "--hub", "--database", str(db),
                             "--count-subscribers", "--counts-every", "1", "--stats-token", "s3cret",
                             *extra], stdout=log, stderr=subprocess.STDOUT)

    def ready():
        if proc.poll() is not None:
            return "exited"
        try:
            return requests.get(f"{base}/readyz", timeout=1).status_code == 200
        except requests.RequestException:
            return False
    return proc, base, poll("tidings /readyz", STARTUP_TIMEOUT, ready) is True


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    return proc.returncode


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("tidings", help="path to the tidings binary")
    parser.add_argument("--repo", default=str(Path(__file__).resolve().parents[2]))
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()

    def overall_timeout(*_):
        raise TimeoutError(f"the whole run took over {OVERALL_TIMEOUT}s")
    signal.signal(signal.SIGALRM, overall_timeout)
    signal.alarm(OVERALL_TIMEOUT)
    import logging
    logging.basicConfig(level=logging.WARNING, format="     [%(name)s] %(message)s")
    if not args.verbose:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)

    binary = Path(args.tidings).resolve()
    if not os.access(binary, os.X_OK):
        sys.exit(f"error: {binary} is not an executable")
    workdir = Path(tempfile.mkdtemp(prefix="tidings-hub-"))
    running = []
    try:
        run(binary, Path(args.repo), workdir, running)
    finally:
        for thing in reversed(running):
            if isinstance(thing, subprocess.Popen):
                stop(thing)
            else:
                thing.stop()
        log = workdir / "tidings.log"
        if log.exists() and (common.failures or args.verbose):
            lines = log.read_text(errors="replace").splitlines()
            print("---- tidings log (last 40 lines)\n" + "\n".join(lines[-40:]))
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"builtin-hub: {'FAILED' if common.failures else 'PASS'}"
          f"{' (' + str(len(common.failures)) + ' failed)' if common.failures else ''}")
    return 1 if common.failures else 0


def run(binary, repo, workdir, running):
    site = workdir / "site"
    shutil.copytree(repo / "content", site / "content")
    shutil.copytree(repo / "feeds", site / "feeds")
    staging = workdir / "staging"
    staging.mkdir()
    db = workdir / "tidings.db"
    log = open(workdir / "tidings.log", "ab")
    port = common.free_port()
    proc, base, ready = start_tidings(binary, site, db, port, log, ["--hub-allow-private"])
    running.append(proc)
    if not check(ready, f"tidings --hub serves the sample site at {base}"):
        return
    hub_url = f"{base}/hub"

    cert, key = common.make_certificate(workdir)
    os.environ["REQUESTS_CA_BUNDLE"] = str(cert)
    front = start_tls_front(base, cert, key)
    running.append(front)
    hub_tls_url = f"https://127.0.0.1:{front.port}/hub"
    sub_record = common.SubscriberRecord()
    sub_app, subscriber, sub_server = common.start_subscriber(workdir, sub_record)
    running.append(sub_server)
    sub_base = f"http://127.0.0.1:{sub_server.port}"

    # A post with one category, its category feed, and a category feed without it.
    opml = ET.fromstring(requests.get(f"{base}/feeds.opml", timeout=5).content)
    category_feeds = sorted({o.get("xmlUrl").removesuffix(".rss") + ".atom" for o in opml.iter("outline")
                             if "/categories/" in (o.get("xmlUrl") or "") and o.get("xmlUrl").endswith("/feed.rss")})
    listed = {u: common.entry_titles(requests.get(u, timeout=5).content) for u in category_feeds}
    choice = None
    for path in sorted((site / "content" / "_posts").glob("*.md")):
        meta = common.front_matter(path.read_text(encoding="utf-8"))
        if not meta:
            continue
        holders = [u for u, titles in listed.items() if meta[1] in titles]
        others = [u for u, titles in listed.items() if meta[1] not in titles and titles]
        if len(holders) == 1 and others:
            choice = (path, meta, holders[0], others[0])
            break
    if not check(choice is not None, "the sample site has a single-category post and another category feed"):
        return
    post, (title_line, old_title, _category), target_url, other_url = choice
    lines = post.read_text(encoding="utf-8").split("\n")
    found = discover(target_url, timeout=5)
    check(found == {"hub_url": hub_url, "topic_url": target_url},
          "flask-websub discovers the built-in hub and the self URL from the feed", str(found))
    in_body = {link.get("rel"): link.get("href")
               for link in ET.fromstring(requests.get(target_url, timeout=5).content).findall(f"{common.ATOM}link")}
    check(in_body.get("hub") == hub_url, "the feed's <link rel=hub> names the built-in hub", str(in_body))

    secret = secrets.token_hex(16)
    t_sub = time.monotonic()
    with sub_app.test_request_context(base_url=sub_base):
        target_id = subscriber.subscribe(topic_url=target_url, hub_url=hub_tls_url, secret=secret,
                                         lease_seconds=3600)
        other_id = subscriber.subscribe(topic_url=other_url, hub_url=hub_tls_url, secret=secret,
                                        lease_seconds=3600)
    verified = poll("both subscriptions verified", STARTUP_TIMEOUT,
                    lambda: sub_record.event("success", target_id, "subscribe")
                    and sub_record.event("success", other_id, "subscribe"))
    if not check(verified, f"the built-in hub verified both subscriptions in {time.monotonic() - t_sub:.2f}s",
                 str(sub_record.events)):
        return

    def edit(label):
        title = f"{label} {secrets.token_hex(4)}"
        lines[title_line] = f'title: "{title}"'
        return title, common.write_atomically(post, "\n".join(lines), staging)

    def expect_delivery(title, t_write, what):
        got = poll(what, DELIVERY_TIMEOUT, lambda: sub_record.posts_to(target_id, t_write), interval=0.005)
        if not check(got, f"{what}: the subscriber received {target_url} "
                     f"{'in ' + str(round((got[0][0] - t_write) * 1000)) + ' ms' if got else ''}"):
            return
        _, _, body, headers = got[0]
        served = requests.get(target_url, timeout=5, headers={"Accept-Encoding": "identity"}).content
        check(title in common.entry_titles(body), "... the delivered feed lists the new title")
        check(body == served, f"... byte for byte what tidings serves ({len(body)} bytes)")
        check(headers.get("Content-Type", "").startswith("application/atom+xml"),
              "... as application/atom+xml", headers.get("Content-Type", ""))
        sig = headers.get("X-Hub-Signature", "")
        good, algo = common.signature_ok(body, sig, secret) if sig else (False, "none")
        check(good and algo == "sha256", f"... X-Hub-Signature ({algo}) is the HMAC-SHA256 of the body", sig[:30])
        check(poll("flask-websub's listener", 2.0, lambda: sub_record.valid_for(target_id, t_write)),
              "... and flask-websub's subscriber accepted the signature")
        links = headers.get("Link", "")
        check(f"<{hub_url}>" in links and f"<{target_url}>" in links, "... with Link rel=hub and rel=self", links)

    title, t_write = edit("Built-in hub delivery")
    expect_delivery(title, t_write, "edit 1")
    time.sleep(QUIET)
    check(not sub_record.posts_to(other_id), f"the untouched feed {other_url} got no delivery")
    check(len(sub_record.posts_to(target_id, t_write)) == 1, "the edited feed was delivered once")

    # ---- restart on the same database
    check(stop(proc) == 0, "tidings stops with exit code 0 on SIGTERM")
    proc, base2, ready = start_tidings(binary, site, db, port, log, ["--hub-allow-private"])
    running.append(proc)
    if not check(ready and base2 == base, "tidings starts again on the same database"):
        return
    title, t_write = edit("After restart")
    expect_delivery(title, t_write, "edit after a restart")

    # ---- counts
    requests.get(target_url, timeout=5, headers={"User-Agent": FEEDLY})
    requests.get(target_url, timeout=5, headers={"User-Agent": "NetNewsWire (RSS Reader; https://netnewswire.com/)"})
    time.sleep(2.5)  # two writes of the counts (--counts-every 1)
    out = subprocess.run([str(binary), "stats", "--database", str(db)], capture_output=True, text=True, timeout=30)
    print("     tidings stats:\n" + "\n".join("       " + line for line in out.stdout.splitlines()))
    path = target_url.removeprefix(base)
    row = next((line for line in out.stdout.splitlines() if line.strip().startswith(path)), "")
    check(out.returncode == 0 and row, f"`tidings stats` lists {path}", out.stderr.strip())
    check("123" in row, "... with Feedly's announced 123 subscribers", row)
    cells = row.split()
    check(len(cells) >= 4 and cells[2] == "1", "... and 1 WebSub subscription", row)
    page = requests.get(f"{base}/stats", timeout=5, headers={"Authorization": "Bearer s3cret"})
    check(page.status_code == 200 and path in page.text and "<svg" in page.text,
          "/stats with the token shows the feed and its chart", str(page.status_code))
    check(requests.get(f"{base}/stats", timeout=5).status_code == 401, "/stats without the token is a 401")
    gauge = f'tidings_feed_subscribers{{feed="{path}",source="websub"}} 1'
    metrics = requests.get(f"{base}/metrics", timeout=5, headers={"Authorization": "Bearer s3cret"}).text
    check(gauge in metrics, "/metrics with the token has the subscriber gauges")
    check("tidings_feed_subscribers" not in requests.get(f"{base}/metrics", timeout=5).text,
          "/metrics without the token has none")

    # ---- unsubscribe
    t_unsub = time.monotonic()
    with sub_app.test_request_context(base_url=sub_base):
        subscriber.unsubscribe(target_id)
    check(poll("the unsubscription verified", STARTUP_TIMEOUT,
               lambda: sub_record.event("success", target_id, "unsubscribe")),
          f"the hub verified the unsubscription in {time.monotonic() - t_unsub:.2f}s")
    title, t_write = edit("After unsubscribe")
    served = poll("the edit served", DELIVERY_TIMEOUT,
                  lambda: title in common.entry_titles(requests.get(target_url, timeout=5).content))
    time.sleep(QUIET)
    check(served and not sub_record.posts_to(target_id, t_unsub), "after unsubscribing, an edit delivers nothing")

    # ---- a hub that keeps to public addresses
    strict_port = common.free_port()
    strict, strict_base, ready = start_tidings(binary, site, workdir / "strict.db", strict_port, log)
    running.append(strict)
    if not check(ready, "a second tidings --hub without --hub-allow-private"):
        return
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.5)
    trap = f"http://127.0.0.1:{listener.getsockname()[1]}/cb"
    for callback in (trap, "http://10.0.0.1/cb", "http://169.254.169.254/latest/meta-data", "http://[::1]:9/cb"):
        answer = requests.post(f"{strict_base}/hub", timeout=5, data={
            "hub.mode": "subscribe", "hub.topic": f"{strict_base}/feed.atom", "hub.callback": callback})
        check(answer.status_code == 400 and "--hub-allow-private" in answer.text,
              f"callback {callback} refused: {answer.status_code} {answer.text.strip()[:100]}")
    try:
        listener.accept()
        fail("the refused callback at 127.0.0.1 was connected to")
    except (socket.timeout, TimeoutError):
        ok("... and the callback at 127.0.0.1 was never connected to")
    listener.close()


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""WebSub publishing against a real hub and a real subscriber, neither written here.

What it proves, with tidings serving a copy of the repo's sample site:
  1. a feed response advertises the hub and its own URL in `Link` headers, and
     flask-websub's own discovery (`flask_websub.subscriber.discover`) finds both;
  2. flask-websub's subscriber subscribes, with a `hub.secret`, to a category feed and to
     a second category feed, and flask-websub's hub verifies both intents;
  3. after a post of the first category gets a new title (one atomic rename into the
     content folder), the subscriber receives the feed within DELIVERY_TIMEOUT seconds;
     the body names the new title and not the old one (a delivery of the old bytes would
     mean the ping went out before the new index was served), it is byte for byte what
     tidings serves at that URL right after, and its `X-Hub-Signature` is the HMAC of the
     body under the secret (checked here, and by flask-websub, which drops bad ones);
  4. the second category feed, which the edit does not touch, gets no delivery, and the
     hub is never even told about it;
  5. after the subscriber unsubscribes (the hub verifies that too), another edit makes
     tidings ping the hub again but delivers nothing;
  6. when site.yaml is edited, while serving, to name a second flask-websub hub instead,
     the feeds advertise it, tidings tells it (and, this once, the hub being left, whose
     subscribers get the feed naming its successor), a subscription there gets the next
     edit, and the old hub hears nothing more.
It prints how long each step took, the write-to-delivery time first of all.

The one concession: flask-websub's subscriber refuses to send a `hub.secret` to a hub
that is not https (WebSub 5.1 says the secret SHOULD only go over https), and tidings
trusts only the public web PKI for its pings, so the hub app listens twice: on http,
the URL in site.yaml that tidings pings and advertises, and on https with a throwaway
self-signed certificate, which the subscriber uses instead of the discovered http URL.
Both listeners serve the same Flask app with the same SQLite subscription store (and the
same for the second hub of step 6).

Usage: websub_hub.py TIDINGS_BINARY [--repo DIR] [--verbose]
Needs flask-websub, celery and openssl (scripts/websub-smoke.sh installs them).
Everything listens on 127.0.0.1; every wait is bounded; exit 0 only if every check passed.
"""

import argparse
import hashlib
import hmac
import logging
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
from celery import Celery
from celery.signals import task_failure
from flask import Flask, request
from flask_websub.hub import Hub, SQLite3HubStorage
from flask_websub.subscriber import (SQLite3SubscriberStorage, SQLite3TempSubscriberStorage,
                                     Subscriber, discover)
from werkzeug.serving import make_server

ATOM = "{http://www.w3.org/2005/Atom}"
STARTUP_TIMEOUT = 20.0     # tidings ready, servers up
DELIVERY_TIMEOUT = 10.0    # file write -> content at the subscriber
QUIET = 1.0                # no hub traffic for this long = every ping of an edit handled
QUIET_TIMEOUT = 15.0       # ... and waiting for that quiet is bounded too
OVERALL_TIMEOUT = 180      # the whole run

failures = []
lock = threading.Lock()


def ok(msg):
    print(f"ok   {msg}", flush=True)


def fail(msg):
    print(f"FAIL {msg}", flush=True)
    failures.append(msg)


def check(cond, msg, detail=""):
    if cond:
        ok(msg)
    else:
        fail(f"{msg}{': ' + detail if detail else ''}")
    return cond


def poll(what, timeout, done, interval=0.02):
    """Waits until done() is truthy; returns its value, or None after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = done()
        if value:
            return value
        if time.monotonic() >= deadline:
            print(f"     (timed out after {timeout:.1f}s waiting for {what})", flush=True)
            return None
        time.sleep(interval)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A threaded werkzeug server on 127.0.0.1 (port chosen by the OS), run in a thread."""

    def __init__(self, app, ssl_context=None):
        self.server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=ssl_context)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.thread.join(timeout=5)


# ------------------------------------------------------------------------------ the hub

class HubRecord:
    """What the hub saw: publish pings (topic, arrival, finished) and failed hub tasks."""

    def __init__(self):
        self.publishes = []          # [topic, t_arrived, t_finished or None]
        self.task_failures = []
        self.last_activity = time.monotonic()

    def topics_since(self, t):
        with lock:
            return [p[0] for p in self.publishes if p[1] >= t]

    def busy(self):
        with lock:
            return any(p[2] is None for p in self.publishes)


def make_certificate(workdir):
    """A throwaway self-signed certificate for 127.0.0.1: (cert path, key path)."""
    cert, key = workdir / "hub-cert.pem", workdir / "hub-key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def start_hub(name, workdir, record, cert, key):
    """flask-websub's hub, on http and on https: (http server, https server)."""
    celery = Celery(name, broker="memory://")
    # No broker: tasks run inside the request that queued them, so a publish is fetched
    # and delivered before the hub answers the ping (DEPLOY.md section 5).
    celery.conf.update(task_always_eager=True, broker_connection_retry_on_startup=False)

    def on_failure(sender=None, exception=None, **_):
        if getattr(sender, "app", None) is not celery:
            return
        with lock:
            record.task_failures.append(f"{getattr(sender, 'name', sender)}: {exception!r}")
    # Eager tasks that raise leave the hub answering 202 all the same: this is how a dropped
    # publish shows. (weak=False: the signal would otherwise forget this local function.)
    task_failure.connect(on_failure, weak=False)

    hub = Hub(SQLite3HubStorage(str(workdir / f"{name}.db")), celery,
              PUBLISH_SUPPORTED=True, REQUEST_TIMEOUT=3, MAX_ATTEMPTS=2, BACKOFF_BASE=0.2)
    app = Flask(name)
    app.config["PUBLISH_SUPPORTED"] = True
    app.register_blueprint(hub.build_blueprint(url_prefix="/hub"))

    @app.before_request
    def note_publish():
        record.last_activity = time.monotonic()
        if request.method == "POST" and request.form.get("hub.mode") == "publish":
            entry = [request.form.get("hub.topic"), time.monotonic(), None]
            with lock:
                record.publishes.append(entry)
            request.environ["tidings.publish"] = entry

    @app.after_request
    def note_done(response):
        entry = request.environ.get("tidings.publish")
        if entry is not None:
            with lock:
                entry[2] = time.monotonic()
        record.last_activity = time.monotonic()
        return response

    plain = Server(app)
    tls = Server(app, ssl_context=(str(cert), str(key)))
    return plain, tls


# ----------------------------------------------------------------------- the subscriber

class SubscriberRecord:
    def __init__(self):
        self.posts = []        # every POST to a callback: (t, callback_id, body, headers)
        self.valid = []        # what flask-websub passed to its listeners: (t, topic, id, body)
        self.events = []       # success/error handler calls: (kind, topic, id, mode/reason)

    def posts_to(self, callback_id, since=0.0):
        with lock:
            return [p for p in self.posts if p[1] == callback_id and p[0] >= since]

    def valid_for(self, callback_id, since=0.0):
        with lock:
            return [v for v in self.valid if v[2] == callback_id and v[0] >= since]

    def event(self, kind, callback_id, mode):
        with lock:
            return any(e[0] == kind and e[2] == callback_id and e[3] == mode for e in self.events)


def start_subscriber(workdir, record):
    app = Flask("flask_websub_subscriber")
    subscriber = Subscriber(SQLite3SubscriberStorage(str(workdir / "sub.db")),
                            SQLite3TempSubscriberStorage(str(workdir / "sub-temp.db")))
    app.register_blueprint(subscriber.build_blueprint(url_prefix="/callbacks"))

    @app.before_request
    def note_post():
        if request.method == "POST" and request.path.startswith("/callbacks/"):
            body = request.get_data(cache=True)
            with lock:
                record.posts.append((time.monotonic(), request.path.rsplit("/", 1)[1], body,
                                     dict(request.headers)))

    @subscriber.add_listener
    def on_content(topic, callback_id, body):
        with lock:
            record.valid.append((time.monotonic(), topic, callback_id, body))

    @subscriber.add_success_handler
    def on_success(topic, callback_id, mode):
        with lock:
            record.events.append(("success", topic, callback_id, mode))

    @subscriber.add_error_handler
    def on_error(topic, callback_id, reason):
        with lock:
            record.events.append(("error", topic, callback_id, reason))

    server = Server(app)
    return app, subscriber, server


# ----------------------------------------------------------------------------- the site

def front_matter(text):
    """(title line index, title, category) of a post with one `category:`, else None."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return None
    title = category = None
    for i, line in enumerate(lines[1:], 1):
        if line.strip() == "---":
            break
        if line.startswith("title:"):
            title = (i, line[len("title:"):].strip().strip("\"'"))
        elif line.startswith("category:"):
            category = line[len("category:"):].strip()
    if title and category:
        return title[0], title[1], category
    return None


def entry_titles(body):
    root = ET.fromstring(body)
    return [(e.findtext(f"{ATOM}title") or "").strip() for e in root.iter(f"{ATOM}entry")]


def write_atomically(path, text, staging):
    """The whole new file appears at once (an editor's save-by-rename)."""
    tmp = staging / path.name
    tmp.write_text(text, encoding="utf-8")
    t = time.monotonic()
    os.replace(tmp, path)
    return t


def signature_ok(body, header, secret):
    try:
        algo, given = header.split("=", 1)
        expected = hmac.new(secret.encode(), body, getattr(hashlib, algo)).hexdigest()
    except (AttributeError, TypeError, ValueError):
        return False, "unusable header"
    return hmac.compare_digest(given, expected), algo


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("tidings", help="path to the tidings binary")
    parser.add_argument("--repo", default=str(Path(__file__).resolve().parents[2]))
    parser.add_argument("--verbose", action="store_true", help="show tidings' and the servers' logs")
    args = parser.parse_args()

    def overall_timeout(*_):
        raise TimeoutError(f"the whole run took over {OVERALL_TIMEOUT}s")
    signal.signal(signal.SIGALRM, overall_timeout)
    signal.alarm(OVERALL_TIMEOUT)
    logging.basicConfig(level=logging.WARNING, format="     [%(name)s] %(message)s")
    if not args.verbose:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        logging.getLogger("kombu").setLevel(logging.ERROR)
        # A failed hub task is recorded and reported as a FAIL line; the control check's
        # expected failure would otherwise print a traceback.
        logging.getLogger("celery.app.trace").setLevel(logging.CRITICAL)

    binary = Path(args.tidings).resolve()
    repo = Path(args.repo)
    if not os.access(binary, os.X_OK):
        sys.exit(f"error: {binary} is not an executable")
    workdir = Path(tempfile.mkdtemp(prefix="tidings-websub-"))
    servers = []
    try:
        return run(binary, repo, workdir, servers, args.verbose)
    finally:
        for server in reversed(servers):
            if isinstance(server, subprocess.Popen):
                if server.poll() is None:
                    server.terminate()
                    try:
                        server.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        server.kill()
                        server.wait(timeout=5)
            else:
                server.stop()
        log = workdir / "tidings.log"
        if log.exists() and (failures or args.verbose):
            lines = log.read_text(errors="replace").splitlines()
            print("---- tidings log (last 40 lines)\n" + "\n".join(lines[-40:]))
        shutil.rmtree(workdir, ignore_errors=True)


def run(binary, repo, workdir, servers, verbose):
    hub_record, sub_record = HubRecord(), SubscriberRecord()
    cert, key = make_certificate(workdir)
    hub_plain, hub_tls = start_hub("hub", workdir, hub_record, cert, key)
    servers += [hub_plain, hub_tls]
    # The subscriber's https requests to the hub trust the hub's own certificate only.
    os.environ["REQUESTS_CA_BUNDLE"] = str(cert)
    hub_url = f"http://127.0.0.1:{hub_plain.port}/hub"
    hub_tls_url = f"https://127.0.0.1:{hub_tls.port}/hub"
    sub_app, subscriber, sub_server = start_subscriber(workdir, sub_record)
    servers.append(sub_server)
    sub_base = f"http://127.0.0.1:{sub_server.port}"
    print(f"     hub {hub_url} (and {hub_tls_url}), subscriber {sub_base}")

    # The site: the repo's sample, with the hub in site.yaml.
    site = workdir / "site"
    shutil.copytree(repo / "content", site / "content")
    shutil.copytree(repo / "feeds", site / "feeds")
    staging = workdir / "staging"
    staging.mkdir()
    site_yaml = site / "feeds" / "site.yaml"
    original = site_yaml.read_text(encoding="utf-8")
    if "websub" in original:
        sys.exit("error: the sample site.yaml already configures websub; this test adds its own")
    site_yaml.write_text(original.rstrip("\n") + f"\nwebsub:\n  hubs: [{hub_url}]\n", encoding="utf-8")

    log = open(workdir / "tidings.log", "wb")
    base = None
    for _attempt in range(3):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = subprocess.Popen([str(binary), "serve", "--content", str(site / "content"),
                                 "--feeds", str(site / "feeds"), "--addr", f"127.0.0.1:{port}",
                                 "--base-url", base], stdout=log, stderr=subprocess.STDOUT)
        servers.append(proc)

        def ready():
            if proc.poll() is not None:
                return "exited"
            try:
                return requests.get(f"{base}/readyz", timeout=1).status_code == 200
            except requests.RequestException:
                return False
        state = poll("tidings /readyz", STARTUP_TIMEOUT, ready)
        if state is True:
            break
        servers.remove(proc)
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=5)
    else:
        fail("tidings did not become ready (see its log below)")
        servers.append(proc)
        return 1
    ok(f"tidings serves the sample site at {base}, hub in site.yaml")

    # Control: the hub drops a publish for a topic without the Link headers (the OPML has
    # none), still answering 202. That failure is what the task-failure checks below detect.
    control = requests.post(hub_url, data={"hub.mode": "publish", "hub.topic": f"{base}/feeds.opml"},
                            timeout=10)
    with lock:
        caught = [f for f in hub_record.task_failures if "Link" in f]
        hub_record.task_failures.clear()
        hub_record.publishes.clear()
    check(control.status_code == 202 and caught,
          "control: the hub answers 202 but drops a publish whose topic has no Link headers",
          f"{control.status_code}, task failures {caught}")

    # Pick a post with one category whose category feed lists it, and a category feed that
    # does not list it: the feed the edit must not touch.
    opml = ET.fromstring(requests.get(f"{base}/feeds.opml", timeout=5).content)
    # The OPML lists each feed once, as RSS; the Atom feed is beside it.
    category_feeds = sorted({o.get("xmlUrl").removesuffix(".rss") + ".atom" for o in opml.iter("outline")
                             if "/categories/" in (o.get("xmlUrl") or "")
                             and o.get("xmlUrl").endswith("/feed.rss")})
    listed = {url: entry_titles(requests.get(url, timeout=5, headers={"Accept-Encoding": "identity"}).content)
              for url in category_feeds}
    choice = None
    for path in sorted((site / "content" / "_posts").glob("*.md")):
        meta = front_matter(path.read_text(encoding="utf-8"))
        if not meta:
            continue
        holders = [u for u, titles in listed.items() if meta[1] in titles]
        others = [u for u, titles in listed.items() if meta[1] not in titles and titles]
        if len(holders) == 1 and others:
            choice = (path, meta, holders[0], others[0])
            break
    if not check(choice is not None, f"the OPML lists {len(category_feeds)} category Atom feeds; "
                 "one lists a single-category post, another does not"):
        return 1
    post, (title_line, old_title, category), target_url, other_url = choice
    print(f"     editing {post.name} ({category}: {old_title!r}); "
          f"subscribing to {target_url} and, untouched, {other_url}")

    # Discovery, as a subscriber does it: flask-websub reads the Link headers.
    head = requests.get(target_url, timeout=5)
    links = head.headers.get("Link", "")
    found = discover(target_url, timeout=5)
    check(found == {"hub_url": hub_url, "topic_url": target_url},
          "flask-websub discovers the hub and the self URL from the feed's Link headers",
          f"discovered {found}; Link: {links}")
    found_other = discover(other_url, timeout=5)
    check(found_other == {"hub_url": hub_url, "topic_url": other_url},
          "... and for the untouched feed", f"discovered {found_other}")
    check('rel="hub"' in links and 'rel="self"' in links and links.count("<") == 2,
          "the feed response carries exactly one hub and one self Link", links)
    in_body = {link.get("rel"): link.get("href") for link in ET.fromstring(head.content).findall(f"{ATOM}link")}
    check(in_body.get("hub") == hub_url and in_body.get("self") == target_url,
          "the feed's own <link rel=hub|self> agree with its Link headers", str(in_body))

    secret = secrets.token_hex(16)
    # The hub URL the subscriber uses is the discovered hub's https listener (see above).
    assert found["hub_url"] == hub_url
    callback_ids = {}
    t_sub = time.monotonic()
    with sub_app.test_request_context(base_url=sub_base):
        for url in (target_url, other_url):
            callback_ids[url] = subscriber.subscribe(topic_url=url, hub_url=hub_tls_url,
                                                     secret=secret, lease_seconds=3600)
    target_id, other_id = callback_ids[target_url], callback_ids[other_url]
    subscribed = poll("both subscriptions verified", STARTUP_TIMEOUT,
                      lambda: sub_record.event("success", target_id, "subscribe")
                      and sub_record.event("success", other_id, "subscribe"))
    check(subscribed, f"the hub verified both subscriptions (with hub.secret) "
          f"in {time.monotonic() - t_sub:.2f}s", str(sub_record.events))
    if not subscribed:
        return 1
    check(not sub_record.posts and not hub_record.publishes,
          "nothing is published or delivered before an edit")

    # ------------------------------------------------------------------ edit 1
    new_title = f"WebSub delivery check {secrets.token_hex(4)}"
    lines = post.read_text(encoding="utf-8").split("\n")
    lines[title_line] = f'title: "{new_title}"'
    t_write = write_atomically(post, "\n".join(lines), staging)

    def delivered():
        return sub_record.posts_to(target_id, t_write)
    got = poll("the delivery of the edited feed", DELIVERY_TIMEOUT, delivered, interval=0.005)
    if not check(got, f"the subscriber received {target_url} within {DELIVERY_TIMEOUT:.0f}s of the write"):
        print(f"     hub saw publishes: {hub_record.topics_since(t_write)}; "
              f"hub task failures: {hub_record.task_failures}")
        return 1
    t_delivered, _, body, headers = got[0]
    served = requests.get(target_url, timeout=5, headers={"Accept-Encoding": "identity"}).content
    latency = t_delivered - t_write
    with lock:
        t_ping = min(p[1] for p in hub_record.publishes if p[0] == target_url and p[1] >= t_write)
    print(f"     write -> delivery: {latency * 1000:.0f} ms "
          f"(write -> ping at the hub {(t_ping - t_write) * 1000:.0f} ms, "
          f"hub fetch + delivery {(t_delivered - t_ping) * 1000:.0f} ms)")
    if verbose:
        print(f"     delivery headers: {headers}")
    if headers.get("Content-Encoding"):
        # flask-websub copies the topic response's headers onto the delivery, after requests
        # has decoded the body: a subscriber honouring the header would fail. Not tidings'.
        print(f"     note: the hub labels the (decoded) delivery Content-Encoding: "
              f"{headers['Content-Encoding']} (flask-websub forwards the topic's headers)")
    titles = entry_titles(body)
    check(new_title in titles, "the delivered feed lists the new title")
    check(old_title not in titles, "the delivered feed no longer lists the old title "
          "(no delivery of the old index: the ping followed the swap)")
    check(body == served, f"the delivered body ({len(body)} bytes) is byte for byte what tidings "
          "serves at that URL right after", f"served {len(served)} bytes")
    sig = headers.get("X-Hub-Signature", "")
    good, algo = signature_ok(body, sig, secret) if sig else (False, "none")
    check(good, f"X-Hub-Signature ({algo}) is the HMAC of the body under the secret", sig[:40])
    check(not signature_ok(body, sig, secret + "x")[0] if sig else False,
          "... and not under another secret")
    check(poll("flask-websub's listener", 2.0, lambda: sub_record.valid_for(target_id, t_write)),
          "flask-websub's subscriber verified the signature and passed the content on")

    # Every ping this edit causes, handled: no hub traffic for QUIET seconds.
    quiet = poll("the hub to go quiet", QUIET_TIMEOUT,
                 lambda: not hub_record.busy() and time.monotonic() - hub_record.last_activity >= QUIET)
    check(quiet, f"the hub went quiet after the edit ({len(hub_record.topics_since(t_write))} pings)")
    if verbose:
        print("     pinged: " + " ".join(sorted(u.removeprefix(base) for u in hub_record.topics_since(t_write))))
    deliveries = sub_record.posts_to(target_id, t_write)
    check(len(deliveries) == 1, "the edited feed was delivered exactly once",
          f"{len(deliveries)} deliveries")
    check(all(new_title in entry_titles(d[2]) for d in deliveries),
          "every delivery of it carries the new title")
    check(not sub_record.posts_to(other_id), f"the untouched feed {other_url} got no delivery")
    published = hub_record.topics_since(t_write)
    check(target_url in published and other_url not in published,
          "tidings pinged the hub about the edited feed and not about the untouched one",
          str(published))
    check(len(published) == len(set(published)), "... each changed feed once", str(published))
    check(not hub_record.task_failures, "the hub's tasks all succeeded", str(hub_record.task_failures))

    # ------------------------------------------------------------------ unsubscribe, edit 2
    t_unsub = time.monotonic()
    with sub_app.test_request_context(base_url=sub_base):
        subscriber.unsubscribe(target_id)
    check(poll("the unsubscription verified", STARTUP_TIMEOUT,
               lambda: sub_record.event("success", target_id, "unsubscribe")),
          f"the hub verified the unsubscription in {time.monotonic() - t_unsub:.2f}s")
    third_title = f"WebSub after unsubscribe {secrets.token_hex(4)}"
    lines[title_line] = f'title: "{third_title}"'
    t_write2 = write_atomically(post, "\n".join(lines), staging)
    pinged = poll("tidings to ping the hub about the second edit", DELIVERY_TIMEOUT,
                  lambda: target_url in hub_record.topics_since(t_write2))
    check(pinged, f"the second edit made tidings ping the hub about {target_url} "
          f"({(time.monotonic() - t_write2) * 1000:.0f} ms)")
    quiet = poll("the hub to go quiet", QUIET_TIMEOUT,
                 lambda: not hub_record.busy() and time.monotonic() - hub_record.last_activity >= QUIET)
    check(quiet, "the hub went quiet after the second edit")
    served = requests.get(target_url, timeout=5, headers={"Accept-Encoding": "identity"}).content
    check(third_title in entry_titles(served), "tidings serves the second edit")
    check(not sub_record.posts_to(target_id, t_unsub),
          "after unsubscribing, the second edit delivered nothing")
    check(not sub_record.posts_to(other_id), "the untouched feed still got no delivery")
    check(not hub_record.task_failures, "the hub's tasks all succeeded", str(hub_record.task_failures))

    # ------------------------------------------------------------------ moving hubs, live
    # site.yaml is read again when it changes: the hub it names now is the one every feed
    # advertises, so it must be the one tidings tells, and the old one no longer.
    hub2_record = HubRecord()
    hub2_plain, hub2_tls = start_hub("hub2", workdir, hub2_record, cert, key)
    servers += [hub2_plain, hub2_tls]
    hub2_url = f"http://127.0.0.1:{hub2_plain.port}/hub"
    hub2_tls_url = f"https://127.0.0.1:{hub2_tls.port}/hub"
    other_before = len(sub_record.posts_to(other_id))
    t_move = write_atomically(site_yaml, original.rstrip("\n") + f"\nwebsub:\n  hubs: [{hub2_url}]\n", staging)
    moved = poll("the feeds to advertise the new hub", DELIVERY_TIMEOUT,
                 lambda: hub2_url in requests.get(target_url, timeout=5).headers.get("Link", ""))
    check(moved, f"site.yaml edited to name another hub: within {(time.monotonic() - t_move) * 1000:.0f} ms "
          "the feed's Link header names it instead")
    found = discover(target_url, timeout=5)
    check(found == {"hub_url": hub2_url, "topic_url": target_url},
          "flask-websub discovers the new hub", str(found))

    def both_quiet():
        now = time.monotonic()
        return all(not r.busy() and now - r.last_activity >= QUIET for r in (hub_record, hub2_record))
    check(poll("both hubs to go quiet", QUIET_TIMEOUT, both_quiet), "both hubs went quiet after the move")
    check(target_url in hub2_record.topics_since(t_move),
          "the new hub was told about the feeds the move rewrote (their hub link changed)",
          f"new hub saw {len(hub2_record.topics_since(t_move))} pings, old hub "
          f"{len(hub_record.topics_since(t_move))}")
    moved_to_other = sub_record.posts_to(other_id)[other_before:]
    check(moved_to_other and all(hub2_url in d[3].get("Link", "") for d in moved_to_other),
          "the old hub's subscriber got the feed that names the new hub", f"{len(moved_to_other)} deliveries")

    with sub_app.test_request_context(base_url=sub_base):
        moved_id = subscriber.subscribe(topic_url=target_url, hub_url=hub2_tls_url, secret=secret,
                                        lease_seconds=3600)
    check(poll("the subscription at the new hub", STARTUP_TIMEOUT,
               lambda: sub_record.event("success", moved_id, "subscribe")),
          "the new hub verified a subscription to the edited feed")
    fourth_title = f"WebSub via the new hub {secrets.token_hex(4)}"
    lines[title_line] = f'title: "{fourth_title}"'
    t_write3 = write_atomically(post, "\n".join(lines), staging)
    got = poll("the delivery through the new hub", DELIVERY_TIMEOUT,
               lambda: sub_record.posts_to(moved_id, t_write3), interval=0.005)
    if check(got, f"the new hub delivered the next edit within {DELIVERY_TIMEOUT:.0f}s"):
        t3, _, body3, headers3 = got[0]
        print(f"     write -> delivery through the new hub: {(t3 - t_write3) * 1000:.0f} ms")
        check(fourth_title in entry_titles(body3), "... with the new title")
        check(signature_ok(body3, headers3.get("X-Hub-Signature", ""), secret)[0], "... and a valid signature")
    check(poll("both hubs to go quiet", QUIET_TIMEOUT, both_quiet), "both hubs went quiet after the edit")
    check(not hub_record.topics_since(t_write3), "tidings no longer pings the hub site.yaml stopped naming",
          f"{len(hub_record.topics_since(t_write3))} pings")
    check(not hub_record.task_failures and not hub2_record.task_failures, "the hubs' tasks all succeeded",
          str(hub_record.task_failures + hub2_record.task_failures))

    metrics = requests.get(f"{base}/metrics", timeout=5).text
    failed_pings = [l for l in metrics.splitlines() if l.startswith('tidings_websub_pings_total{result="failed"}')]
    check(failed_pings and failed_pings[0].split()[-1] == "0",
          "tidings' metrics count no failed ping", str(failed_pings))
    print(f"     timing: write -> delivery {latency * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    code = 1
    try:
        code = main()
    except Exception as e:  # noqa: BLE001 - any crash is a failure, reported as such
        fail(f"the test crashed: {e!r}")
        import traceback
        traceback.print_exc()
    if failures or code:
        print(f"websub_hub: {len(failures)} check(s) FAILED")
        sys.exit(1)
    print("websub_hub: every check passed")
    sys.exit(0)

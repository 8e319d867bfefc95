#!/usr/bin/env python3
"""A WebSub subscriber in one file (Python's standard library only), to try `tidings serve --hub`.

It listens on 127.0.0.1, subscribes its callback to FEED_URL at the hub the feed names
(its `Link: <…>; rel="hub"` header), with a random secret; answers the hub's verification
GET for the (mode, topic) it asked for, and only that (WebSub §5.3: any other challenge
is refused with 404, so a stranger can neither unsubscribe it nor subscribe it to another
feed); then prints every delivery: its size, whether X-Hub-Signature is the HMAC-SHA256 of the
body under the secret, and the feed's first titles. Ctrl-C unsubscribes and stops.

Usage: scripts/hub-subscriber.py FEED_URL [--port PORT]
The hub calls back to 127.0.0.1, so serve with --hub-allow-private to try it on one machine.
"""

import argparse
import hashlib
import hmac
import re
import secrets
import sys
import threading
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = secrets.token_hex(16)
verified = threading.Event()
# The (hub.mode, hub.topic) this subscriber has asked the hub for and not yet seen confirmed;
# a verification GET for anything else is refused.
pending = set()
pending_lock = threading.Lock()


def expect(mode, topic):
    """Remember that a verification of (mode, topic) is awaited."""
    with pending_lock:
        pending.add((mode, topic))


def take_expected(mode, topic):
    """Whether (mode, topic) was awaited; it is awaited once."""
    with pending_lock:
        if (mode, topic) in pending:
            pending.discard((mode, topic))
            return True
        return False


def titles(body):
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return []
    return [el.text or "" for el in root.iter() if el.tag.split("}")[-1] == "title"][1:4]


class Callback(BaseHTTPRequestHandler):
    def do_GET(self):
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        challenge = query.get("hub.challenge", [""])[0]
        mode = query.get("hub.mode", ["?"])[0]
        topic = query.get("hub.topic", ["?"])[0]
        asked = bool(challenge) and take_expected(mode, topic)
        print(f"hub asks to confirm: {mode} {topic} (lease {query.get('hub.lease_seconds', ['-'])[0]} s) -> "
              f"{'confirmed' if asked else 'REFUSED (not asked for by this subscriber)'}", flush=True)
        if not asked:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(challenge)))
        self.end_headers()
        self.wfile.write(challenge.encode())
        verified.set()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        given = self.headers.get("X-Hub-Signature", "")
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        valid = hmac.compare_digest(given, expected)
        print(f"delivery: {len(body)} bytes of {self.headers.get('Content-Type')}, "
              f"signature {'valid' if valid else 'INVALID'}; titles: {titles(body)}", flush=True)
        self.send_response(204 if valid else 400)
        self.end_headers()

    def log_message(self, *_):
        pass


def hub_request(hub, mode, topic, callback):
    expect(mode, topic)
    form = {"hub.mode": mode, "hub.topic": topic, "hub.callback": callback}
    if mode == "subscribe":
        form["hub.secret"] = SECRET
    data = urllib.parse.urlencode(form).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(hub, data=data), timeout=10) as answer:
            status, text = answer.status, answer.read().decode(errors="replace").strip()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode(errors="replace").strip()
    if status != 202:
        take_expected(mode, topic)  # the hub will not ask: stop waiting for it
    return status, text


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("feed")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    with urllib.request.urlopen(args.feed, timeout=10) as answer:
        links = answer.headers.get_all("Link") or []
    hub = next((m.group(1) for link in links for m in re.finditer(r'<([^>]+)>;\s*rel="hub"', link)), None)
    topic = next((m.group(1) for link in links for m in re.finditer(r'<([^>]+)>;\s*rel="self"', link)), args.feed)
    if not hub:
        sys.exit(f"{args.feed} names no hub in its Link headers: serve it with `tidings serve --hub`")
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Callback)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    callback = f"http://127.0.0.1:{server.server_port}/callback"
    status, text = hub_request(hub, "subscribe", topic, callback)
    print(f"subscribe {topic} at {hub}: {status} {text}", flush=True)
    if status != 202:
        return 1
    if not verified.wait(15):
        print("the hub never asked to confirm", flush=True)
        return 1
    print("waiting for deliveries: edit a post in that feed (Ctrl-C to unsubscribe and stop)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        verified.clear()
        status, text = hub_request(hub, "unsubscribe", topic, callback)
        print(f"\nunsubscribe: {status} {text}", flush=True)
        verified.wait(15)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Checks that scripts/hub-subscriber.py confirms only the verifications it asked for
(WebSub §5.3): a stranger's forged GET to its callback, to unsubscribe it or to subscribe it
to another feed, is refused, and the one it awaits is echoed once. Local only (127.0.0.1),
no hub needed, done in seconds (each request bounded to 5 s).

Usage: scripts/hub-subscriber-check.py   (exit 0 when every check passes)
"""

import importlib.util
import pathlib
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import ThreadingHTTPServer

HERE = pathlib.Path(__file__).resolve().parent
spec = importlib.util.spec_from_file_location("hub_subscriber", HERE / "hub-subscriber.py")
subscriber = importlib.util.module_from_spec(spec)
spec.loader.exec_module(subscriber)


def verify(port, mode, topic, challenge):
    query = urllib.parse.urlencode({"hub.mode": mode, "hub.topic": topic, "hub.challenge": challenge})
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/callback?{query}", timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), subscriber.Callback)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_port
    feed, other = "http://127.0.0.1:1/feed.atom", "http://127.0.0.1:1/other.atom"
    failures = []

    def check(what, got, expected):
        ok = got == expected
        print(f"{'ok  ' if ok else 'FAIL'} {what}: {got}", flush=True)
        if not ok:
            failures.append(what)

    check("a stranger's unsubscribe is refused", verify(port, "unsubscribe", feed, "c1")[0], 404)
    check("a stranger's subscribe is refused", verify(port, "subscribe", other, "c2")[0], 404)
    subscriber.expect("subscribe", feed)
    check("another topic is refused while one is awaited", verify(port, "subscribe", other, "c3")[0], 404)
    check("another mode is refused while one is awaited", verify(port, "unsubscribe", feed, "c4")[0], 404)
    check("the awaited one is confirmed", verify(port, "subscribe", feed, "c5"), (200, "c5"))
    check("it is confirmed once", verify(port, "subscribe", feed, "c6")[0], 404)
    subscriber.expect("unsubscribe", feed)
    check("an unsubscribe it asked for is confirmed", verify(port, "unsubscribe", feed, "c7"), (200, "c7"))
    server.shutdown()
    if failures:
        print(f"{len(failures)} check(s) failed", flush=True)
        return 1
    print("hub-subscriber.py confirms only what it asked for", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""slot-flood.py: issue 11's attack against a real `tidings serve`, within one minute.

One client (127.0.0.1) keeps FLOOD sockets open that each send half a request head and
reconnect as soon as the server closes them; another client (127.0.0.2) makes PROBES
requests meanwhile. With the default limits (1,024 connections, 64 per address) every probe
must be answered 200. Then it measures how long a connection that sends half a head just
before the idle timeout is held (the README says --idle-timeout, 10 s by default).

Usage: scripts/slot-flood.py TIDINGS_BINARY [FLOOD] [PROBES]
Exit 0 when every probe was answered and the half head was held no longer than the timeout
(plus one second of slack); prints the figures either way. Loopback only.
"""

import os
import selectors
import socket
import subprocess
import sys
import time

HALF_HEAD = b"GET /feed.rss HTTP/1.1\r\nHost: x\r\n"
DEADLINE = time.monotonic() + 55  # the whole script stays within a minute


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port):
    end = time.monotonic() + 15
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit("the server did not start")


def probe(port):
    """One GET from 127.0.0.2; its status, or 0 when refused, reset or not answered in 5 s."""
    try:
        s = socket.socket()
        s.settimeout(5)
        s.bind(("127.0.0.2", 0))
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /feed.rss HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        head = s.recv(12)
        s.close()
        return int(head[9:12]) if head.startswith(b"HTTP/1.1 ") else 0
    except (OSError, ValueError):
        return 0


def flood_socket(port):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    return s


def main():
    binary = sys.argv[1]
    flood = int(sys.argv[2]) if len(sys.argv) > 2 else 1100
    probes = int(sys.argv[3]) if len(sys.argv) > 3 else 60
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    port = free_port()
    server = subprocess.Popen(
        [binary, "serve", "--content", "tests/data/site/content", "--feeds", "tests/data/site/feeds",
         "--addr", f"127.0.0.1:{port}", "--watch", "off"],
        cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(port)
        answered, reconnects = run_flood(port, flood, probes)
        held = half_head_hold(port)
    finally:
        server.kill()
        server.wait()
    print(f"flood of {flood} half-head sockets from 127.0.0.1 ({reconnects} reconnects): "
          f"{answered} of {probes} probes from 127.0.0.2 answered 200")
    print(f"a head begun 9.5 s after connecting was held {held:.1f} s from connect (--idle-timeout 10)")
    ok = answered == probes and held <= 11.0
    print("ok" if ok else "FAILED")
    sys.exit(0 if ok else 1)


def run_flood(port, flood, probes):
    """Floods for the probes' duration; returns (probes answered 200, reconnects)."""
    sel = selectors.DefaultSelector()
    for _ in range(flood):
        sel.register(flood_socket(port), selectors.EVENT_WRITE)
    answered = reconnects = 0
    next_probe = time.monotonic() + 1.0
    done = 0
    while done < probes and time.monotonic() < DEADLINE - 15:
        for key, events in sel.select(timeout=0.05):
            s = key.fileobj
            if events & selectors.EVENT_WRITE:
                try:
                    s.send(HALF_HEAD)
                    sel.modify(s, selectors.EVENT_READ)
                    continue
                except OSError:
                    pass
            else:
                try:
                    if s.recv(4096):
                        continue  # a 503 before the close
                except BlockingIOError:
                    continue
                except OSError:
                    pass
            # Closed by the server: reconnect at once.
            sel.unregister(s)
            s.close()
            sel.register(flood_socket(port), selectors.EVENT_WRITE)
            reconnects += 1
        if time.monotonic() >= next_probe:
            answered += probe(port) == 200
            done += 1
            next_probe = time.monotonic() + 0.25
    for key in list(sel.get_map().values()):
        key.fileobj.close()
    sel.close()
    return answered, reconnects


def half_head_hold(port):
    """Seconds from connect until the server closes a socket that sent half a head at 9.5 s."""
    started = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port))
    time.sleep(9.5)
    s.sendall(HALF_HEAD)
    s.settimeout(max(1.0, DEADLINE - time.monotonic()))
    try:
        while s.recv(4096):
            pass
    except OSError:
        pass
    held = time.monotonic() - started
    s.close()
    return held


if __name__ == "__main__":
    main()

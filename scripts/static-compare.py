#!/usr/bin/env python3
"""static-compare.py NAME EXPORT_DIR NGINX_HOST:PORT SERVE_HOST:PORT

Part of scripts/static-smoke.sh: asks nginx (serving EXPORT_DIR with the shipped static
configuration) and `tidings serve` (on the same content and base URL) for every feed URL
the export holds, the OPML list and the home page, as a reader, a gzip reader, a browser and
a conditional request would, and checks that nginx gives what serve gives. Prints one line
per check that fails and a summary; exit status 1 on any failure.
"""

import gzip
import http.client
import os
import sys
import urllib.parse

FEED_EXTENSIONS = (".rss", ".atom", ".json", ".xml")
BROWSER = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8", "Sec-Fetch-Dest": "document"}


def ask(hostport, path, headers=None):
    """One GET on a new connection: (status, headers with lower-case names, body)."""
    host, port = hostport.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def media_type(headers):
    """The Content-Type, lower-case, without spaces: `application/atom+xml;charset=utf-8`."""
    return headers.get("content-type", "").lower().replace(" ", "")


def urls(export):
    """Every feed URL of the export (pages as `?page=N`) and every feed's page at its own
    address (`feed.atom.html`, `feed.xml.html`), then the OPML list and `/`."""
    found = []
    for folder, _, files in os.walk(export):
        for file in files:
            if not file.endswith(FEED_EXTENSIONS) and not file.endswith(tuple(e + ".html" for e in FEED_EXTENSIONS)):
                continue
            relative = os.path.relpath(os.path.join(folder, file), export).split(os.sep)
            query = ""
            if len(relative) >= 3 and relative[-3] == "page" and relative[-2].isdigit():
                query = f"?page={relative[-2]}"
                relative = relative[:-3] + relative[-1:]
            found.append("/" + "/".join(urllib.parse.quote(p) for p in relative) + query)
    return sorted(found) + ["/feeds.opml", "/"]


def main():
    name, export, nginx, serve = sys.argv[1:5]
    failures, checks = [], 0

    def check(ok, what):
        nonlocal checks
        checks += 1
        if not ok:
            failures.append(what)
            print(f"FAIL {name}: {what}")

    paths = urls(export)
    check(any(p.endswith(".xml") for p in paths) or name != "jekyll", "the Jekyll export holds jekyll-feed's .xml URLs")
    for path in paths:
        is_feed = path.split("?")[0].endswith(FEED_EXTENSIONS)  # not its `.html` page
        n_status, n_headers, n_body = ask(nginx, path)
        s_status, s_headers, s_body = ask(serve, path)
        check(n_status == s_status == 200, f"{path}: status nginx {n_status}, serve {s_status}")
        check(media_type(n_headers) == media_type(s_headers),
              f"{path}: Content-Type nginx {n_headers.get('content-type')!r}, serve {s_headers.get('content-type')!r}")
        check(n_body == s_body, f"{path}: nginx sends other bytes than serve ({len(n_body)} vs {len(s_body)})")
        # A gzip reader.
        g_status, g_headers, g_body = ask(nginx, path, {"Accept-Encoding": "gzip"})
        zipped = g_headers.get("content-encoding") == "gzip"
        check(g_status == 200 and zipped, f"{path}: gzip asked, got status {g_status}, coding {g_headers.get('content-encoding')!r}")
        if zipped:
            check(gzip.decompress(g_body) == n_body, f"{path}: the gzip bytes are not the identity bytes")
        # A conditional request with what nginx sent.
        etag = n_headers.get("etag")
        check(etag is not None, f"{path}: no ETag")
        if etag:
            c_status, _, c_body = ask(nginx, path, {"If-None-Match": etag})
            check(c_status == 304 and not c_body, f"{path}: If-None-Match {etag} got {c_status}")
        # A browser at a feed's own URL (first pages: the export writes their pages).
        if is_feed and "?page=" not in path:
            b_status, b_headers, b_body = ask(nginx, path, BROWSER)
            sb_status, sb_headers, _ = ask(serve, path, BROWSER)
            check(sb_headers.get("content-type", "").startswith("text/html"), f"{path}: serve shows browsers no page")
            check(b_status == 200 and b_headers.get("content-type", "").startswith("text/html") and b"<html" in b_body.lower(),
                  f"{path}: a browser gets status {b_status}, {b_headers.get('content-type')!r} from nginx, "
                  f"{sb_status}, {sb_headers.get('content-type')!r} from serve")
    print(f"static-smoke: {name}: {len(paths)} URLs, {checks - len(failures)} of {checks} checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Browser check: do tidings headlines embed on another site with embed.js?

Starts a second origin of its own (an http.server on another 127.0.0.1 port)
serving tests/browser/embed_page.html: a page of "another site" that embeds
tidings widgets the way the README says, with
<script src="{tidings}/embed.js" async>. Debian's headless Chromium opens it
(--dump-dom) and the rendered DOM is checked against what
{tidings}/headlines.json says for the same feed and limit:

  - /categories/operations/feed.rss (or the first of --feeds), limit 3, data-title: the feed title as a
    heading, exactly the expected headlines in order, absolute http(s) links,
    <time datetime> and author of every item;
  - /feed.atom (or the second of --feeds), limit 2, data-images, data-target=_blank: the same, plus one
    thumbnail per item with an image, and target=_blank rel=noopener links;
  - a feed that does not exist: a .tidings-error message, and nothing else
    breaks;
  - a widget added after embed.js ran, picked up by window.tidings.refresh();
  - with --hostile-feed PATH (e.g. the tag feed of a post titled
    <img src=x onerror=alert(1)>): that title shows as literal text, there is
    no <img src="x"> element and no alert() was called (the page replaces
    window.alert with a function that marks <body data-alerted>).

It also checks the HTTP side (CORS header and JSON errors of /headlines.json,
the media type of /embed.js) and saves screenshots for a person to look at.

    python3 tests/browser/embed_check.py http://127.0.0.1:8080
    python3 tests/browser/embed_check.py http://127.0.0.1:8080 --hostile-feed /tags/xss/feed.rss --out /tmp/shots
    python3 tests/browser/embed_check.py http://127.0.0.1:8081 --feeds /feed.rss /feed.atom --hostile-feed /tags/xss/feed.rss

Standard library only. Needs /usr/bin/chromium (Debian: apt-get install -y
chromium); this script never installs anything. Prints `PASS name` or
`FAIL name: reason` per check, then `N passed, M failed`; exits 1 if any
check failed.
"""

import argparse
import html
import html.parser
import json
import os
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import browser  # noqa: E402  (tests/browser/browser.py)
from browser import CHROMIUM_TIMEOUT_S, check, is_png, squash, stderr_tail  # noqa: E402

FETCH_TIMEOUT_S = 20
TEMPLATE = os.path.join(HERE, "embed_page.html")


MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
# Far from UTC and from the sample site's +01:00, so a date shown in the reader's time zone
# (2026-10-06T08:15:00+01:00 is Oct 5 in Honolulu) is caught.
BROWSER_TZ = "Pacific/Honolulu"


def human_date(iso):
    """What en-US toLocaleDateString({year:'numeric', month:'short', day:'numeric'}) shows
    for the calendar day of an RFC 3339 date."""
    try:
        y, m, d = int(iso[0:4]), int(iso[5:7]), int(iso[8:10])
        return f"{MONTHS[m - 1]} {d}, {y}"
    except (TypeError, ValueError, IndexError):
        return None


def is_web_url(u):
    try:
        p = urllib.parse.urlsplit(u or "")
    except ValueError:
        return False
    return p.scheme in ("http", "https") and bool(p.netloc)


# ------------------------------------------------------------ the widgets


class Widget:
    def __init__(self, wid, feed, limit, attrs=None, heading=None):
        self.id = wid
        self.feed = feed
        self.limit = limit
        self.attrs = attrs or {}
        self.heading = heading
        self.expected = None  # the headlines.json answer
        self.hostile = False

    def html(self):
        attrs = {"id": self.id, "data-tidings-feed": self.feed, "data-limit": str(self.limit)}
        attrs.update(self.attrs)
        a = " ".join(f'{k}="{html.escape(v, quote=True)}"' for k, v in attrs.items())
        head = f"<h2>{html.escape(self.heading)}</h2>\n" if self.heading else ""
        return f"<section>\n{head}<div {a}></div>\n</section>"


def headlines_url(base, feed, limit=None):
    q = {"feed": feed}
    if limit is not None:
        q["limit"] = str(limit)
    return f"{base}/headlines.json?{urllib.parse.urlencode(q)}"


def get(url):
    """(status, headers, body bytes); status None and the error text if it failed."""
    req = urllib.request.Request(url, headers={"Origin": "http://embed-check.invalid"})
    try:
        with urllib.request.urlopen(req, timeout=FETCH_TIMEOUT_S) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()
    except (urllib.error.URLError, OSError) as e:
        return None, {}, str(e).encode()


def check_http(base, widgets):
    status, headers, body = get(f"{base}/embed.js")
    media = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if status is None:
        return check(False, "tidings answers", f"{base}/embed.js: {body.decode(errors='replace')}; is tidings running there?")
    if check(status == 200, "/embed.js is served", f"status {status}: {body[:200]!r}"):
        check(media in ("text/javascript", "application/javascript"), f"/embed.js is {media or '(no type)'}",
              "a script must be served as text/javascript (browsers refuse other types under nosniff)")

    for w in widgets:
        url = headlines_url(base, w.feed, w.limit)
        status, headers, body = get(url)
        name = f"headlines.json {w.feed} limit {w.limit}"
        if not check(status == 200, f"{name} answers 200", f"{url}: status {status}: {body[:300]!r}"):
            continue
        check(headers.get("Access-Control-Allow-Origin") == "*", f"{name} has Access-Control-Allow-Origin: *",
              f"got {headers.get('Access-Control-Allow-Origin')!r}; without it no other site can fetch it")
        try:
            data = json.loads(body)
            items = data["items"]
            assert isinstance(items, list) and isinstance(data["feed"], dict)
        except (ValueError, KeyError, AssertionError, TypeError) as e:
            check(False, f"{name} is headlines JSON", f"{e}: {body[:300]!r}")
            continue
        if not check(0 < len(items) <= w.limit, f"{name} has 1..{w.limit} items", f"{len(items)} items"):
            continue
        bad = [i for i in items if not is_web_url(i.get("url"))]
        if not w.hostile:
            check(not bad, f"{name} links are absolute http(s)",
                  f"e.g. {bad[0].get('url')!r}" if bad else "")
        w.expected = data

    status, headers, body = get(headlines_url(base, "/no/such/feed.rss", 3))
    check(status == 404 and b'"error"' in body, "headlines.json of an unknown feed is a 404 with a JSON error",
          f"status {status}: {body[:200]!r}")
    status, headers, body = get(headlines_url(base, widgets[0].feed, "lots"))
    check(status == 400 and b'"error"' in body, "headlines.json with limit=lots is a 400 with a JSON error",
          f"status {status}: {body[:200]!r}")
    check(headers.get("Access-Control-Allow-Origin") == "*", "headlines.json errors have Access-Control-Allow-Origin: *",
          "without it the widget cannot read the error and only sees a network failure")
    return True


# ------------------------------------------------------- the other origin


def start_page_server(pages):
    """Serves pages (path -> HTML text) on 127.0.0.1, another port than tidings."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.get(urllib.parse.urlsplit(self.path).path)
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            data = body.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# Where a page puts embed.js. The README's way is async in <head>, which may run before or
# after the widgets are parsed; the others pin down each case.
PLACEMENTS = {
    # async: whenever it arrives.
    "head-async": ('<script src="%SRC%" async></script>', ""),
    # Runs before <body> is parsed: no widget exists yet, so it must wait for DOMContentLoaded.
    "head-sync": ('<script src="%SRC%"></script>', ""),
    # Runs while the document is still loading, but after the widgets.
    "body-end": ("", '<script src="%SRC%"></script>'),
    # Added after the load event: the document is complete, so it must run at once.
    "after-load": ("", "<script>window.addEventListener('load', function () { setTimeout(function () {"
                   " var s = document.createElement('script'); s.src = %SRC_JS%; s.async = true;"
                   " document.head.appendChild(s); }, 30); });</script>"),
}


def page_html(template, tidings, widgets, late=None, placement="head-async"):
    blocks = [w.html() for w in widgets]
    if late is not None:
        blocks.append(f'<section id="late-slot" data-feed="{html.escape(late.feed)}" data-limit="{late.limit}">'
                      "<h2>Added later</h2></section>")
    src = f"{tidings}/embed.js"
    head, body = (x.replace("%SRC%", html.escape(src, quote=True)).replace("%SRC_JS%", json.dumps(src))
                  for x in PLACEMENTS[placement])
    return (template.replace("{{HEAD_SCRIPT}}", head).replace("{{BODY_SCRIPT}}", body)
            .replace("{{WIDGETS}}", "\n".join(blocks)))


# ------------------------------------------------------------ rendered DOM


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag = tag
        self.attrs = dict(attrs)
        self.parent = parent
        self.children = []  # Node or str

    def classes(self):
        return (self.attrs.get("class") or "").split()

    def text(self):
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def walk(self):
        for c in self.children:
            if isinstance(c, Node):
                yield c
                yield from c.walk()

    def find(self, pred):
        return [n for n in self.walk() if pred(n)]

    def by_class(self, cls):
        return self.find(lambda n: cls in n.classes())


class TreeBuilder(html.parser.HTMLParser):
    """Chromium's --dump-dom is serialized DOM: every non-void element is closed."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", [], None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def parse_dom(dom):
    t = TreeBuilder()
    t.feed(dom)
    t.close()
    return t.root


# ---------------------------------------------------------------- Chromium


def run_chromium(chromium, extra):
    """browser.run_chromium with this script's settings: a 5 s virtual time
    budget, and en-US in BROWSER_TZ so that the dates shown are predictable."""
    return browser.run_chromium(chromium, extra, virtual_time_budget_ms=5000, flags=["--lang=en-US"],
                                env={"TZ": BROWSER_TZ, "LANG": "en_US.UTF-8", "LANGUAGE": "en_US"},
                                profile_prefix="embed-check-profile-")


# ------------------------------------------------------------------ checks


def check_widget(doc, w):
    tag = f"widget {w.feed} limit {w.limit}"
    boxes = doc.find(lambda n: n.attrs.get("id") == w.id)
    if not check(len(boxes) == 1, f"{tag} is on the page", f"{len(boxes)} elements with id {w.id}"):
        return
    box = boxes[0]
    errors = box.by_class("tidings-error")
    if not check(not errors, f"{tag} shows no error", f"it says {squash(errors[0].text()) if errors else ''!r} "
                 "(see the browser console: embed.js warns with the reason)"):
        return
    check("data-tidings-ready" in box.attrs, f"{tag} is marked data-tidings-ready",
          "embed.js never processed it (did /embed.js load? is the origin taken from its src?)")
    data = w.expected
    feed_title = squash((data.get("feed") or {}).get("title"))
    items = data["items"]

    lists = [n for n in box.find(lambda n: n.tag == "ul") if "tidings-list" in n.classes()]
    if not check(len(lists) == 1, f"{tag} has one ul.tidings-list", f"found {len(lists)}"):
        return
    ul = lists[0]
    check(squash(ul.attrs.get("aria-label")) == feed_title, f"{tag} list is labelled with the feed title",
          f"aria-label {ul.attrs.get('aria-label')!r}, feed title {feed_title!r}")
    lis = [n for n in ul.children if isinstance(n, Node)]
    check(all(n.tag == "li" and "tidings-item" in n.classes() for n in lis), f"{tag} list holds li.tidings-item",
          f"children: {[(n.tag, n.classes()) for n in lis]!r}")

    links = [li.by_class("tidings-link") for li in lis]
    got = [squash(l[0].text()) if l else None for l in links]
    want = [squash(i.get("title")) for i in items]
    check(got == want, f"{tag} shows exactly the {len(want)} expected headlines in order",
          f"expected {want!r}, got {got!r}")

    anchors = [l[0] for l in links if l]
    hrefs = [a.attrs.get("href") for a in anchors]
    want_hrefs = [i.get("url") for i in items]
    check(all(a.tag == "a" for a in anchors) and hrefs == want_hrefs and all(map(is_web_url, hrefs)),
          f"{tag} links to every item with its absolute http(s) URL",
          f"expected {want_hrefs!r}, got {[(a.tag, a.attrs.get('href')) for a in anchors]!r}")

    target = w.attrs.get("data-target")
    if target:
        bad = [a.attrs for a in anchors if a.attrs.get("target") != target or "noopener" not in (a.attrs.get("rel") or "").split()]
        check(not bad, f"{tag} links open in {target} with rel=noopener", f"e.g. {bad[0] if bad else ''!r}")
    else:
        bad = [a.attrs for a in anchors if "target" in a.attrs]
        check(not bad, f"{tag} links open in the same tab", f"e.g. {bad[0] if bad else ''!r}")

    times = [li.find(lambda n: n.tag == "time") for li in lis]
    got = [t[0].attrs.get("datetime") if t else None for t in times]
    want = [i.get("date") for i in items]
    check(got == want, f"{tag} dates every item with <time datetime>", f"expected {want!r}, got {got!r}")
    got = [squash(t[0].text()) if t else None for t in times]
    want = [human_date(i.get("date")) for i in items]
    check(got == want, f"{tag} shows the day each item was published, as a human date",
          f"expected {want!r}, got {got!r} (Chromium runs in TZ={BROWSER_TZ}, en-US: the day must be the "
          "one in the item's own date, not the reader's)")

    got = [squash(a[0].text()) if a else None for a in (li.by_class("tidings-author") for li in lis)]
    want = [squash(i.get("author")) or None for i in items]
    check(got == want, f"{tag} shows each author", f"expected {want!r}, got {got!r}")

    imgs = [li.find(lambda n: n.tag == "img") for li in lis]
    if "data-images" in w.attrs:
        want = [[i["image"]] if is_web_url(i.get("image")) else [] for i in items]
        got = [[m.attrs.get("src") for m in im] for im in imgs]
        check(got == want, f"{tag} shows a thumbnail for each item with an image", f"expected {want!r}, got {got!r}")
        odd = [m.attrs for im in imgs for m in im
               if m.attrs.get("alt") != "" or m.attrs.get("loading") != "lazy" or "tidings-thumb" not in m.classes()]
        check(not odd, f"{tag} thumbnails are img.tidings-thumb alt=\"\" loading=lazy", f"e.g. {odd[0] if odd else ''!r}")
    else:
        n = sum(len(im) for im in imgs)
        check(n == 0, f"{tag} shows no images without data-images", f"{n} <img> elements")

    heads = box.by_class("tidings-title")
    if w.attrs.get("data-title") == "true":
        check(len(heads) == 1 and squash(heads[0].text()) == feed_title, f"{tag} shows the feed title",
              f"expected one .tidings-title {feed_title!r}, got {[squash(h.text()) for h in heads]!r}")
    else:
        check(not heads, f"{tag} shows no feed title without data-title", f"{len(heads)} .tidings-title")


def check_page(doc, widgets, missing, late, hostile):
    styles = doc.find(lambda n: n.tag == "style" and n.attrs.get("id") == "tidings-embed-style")
    check(len(styles) == 1, "one <style id=tidings-embed-style> is injected", f"found {len(styles)}")
    for w in widgets:
        if w.expected is not None:
            check_widget(doc, w)

    boxes = doc.find(lambda n: n.attrs.get("id") == missing.id)
    errors = boxes[0].by_class("tidings-error") if boxes else []
    check(len(errors) == 1 and squash(errors[0].text()) and not boxes[0].by_class("tidings-list"),
          "an unknown feed shows .tidings-error instead of a list",
          f"{len(boxes)} boxes; contents {squash(boxes[0].text()) if boxes else ''!r}")

    if late.expected is not None:
        boxes = doc.find(lambda n: n.attrs.get("id") == late.id)
        if check(len(boxes) == 1, "the page added a widget after embed.js ran", "the page script did not run"):
            got = [squash(a.text()) for a in boxes[0].by_class("tidings-link")]
            want = [squash(i.get("title")) for i in late.expected["items"]]
            check(got == want, "window.tidings.refresh() renders a widget added later",
                  f"expected {want!r}, got {got!r}")

    body = doc.find(lambda n: n.tag in ("body", "html") and "data-alerted" in n.attrs)
    check(not body, "no feed data ran as script (alert() never called)", "alert() was called")
    handlers = [n.tag for n in doc.walk() if any(k.startswith("on") for k in n.attrs)]
    check(not handlers, "no element carries an on* handler attribute", f"on {handlers!r}")

    if hostile is not None and hostile.expected is not None:
        titles = [squash(i.get("title")) for i in hostile.expected["items"]]
        check(any("<" in t for t in titles), f"hostile feed {hostile.feed} has a title with markup in it",
              f"its titles are {titles!r}: pick the feed of a post titled like <img src=x onerror=alert(1)>")
        boxes = doc.find(lambda n: n.attrs.get("id") == hostile.id)
        if not check(len(boxes) == 1, "hostile widget is on the page", f"{len(boxes)} elements"):
            return
        box = boxes[0]
        got = [squash(n.text()) for n in box.walk() if {"tidings-link", "tidings-text"} & set(n.classes())]
        check(got == titles, "hostile titles show as literal text", f"expected {titles!r}, got {got!r}")
        want = squash((hostile.expected.get("feed") or {}).get("title"))
        heads = [squash(h.text()) for h in box.by_class("tidings-title")]
        check(heads == [want], "hostile feed title shows as literal text", f"expected {want!r}, got {heads!r}")
        hrefs = [n.attrs.get("href") for n in box.walk() if n.tag == "a"]
        n_web = sum(1 for i in hostile.expected["items"] if is_web_url(i.get("url")))
        check(all(map(is_web_url, hrefs)) and len(box.find(lambda n: n.tag == "a" and "tidings-link" in n.classes())) == n_web,
              "hostile widget links only to http(s) URLs", f"hrefs {hrefs!r}, {n_web} items have http(s) URLs")
        srcs = [n.attrs.get("src") for n in box.walk() if n.tag == "img"]
        check(all(map(is_web_url, srcs)), "hostile widget shows only http(s) images", f"srcs {srcs!r}")
        xs = [n.attrs for n in doc.walk() if n.tag == "img" and n.attrs.get("src") == "x"]
        check(not xs, 'no <img src="x"> element exists', f"found {xs!r}")
        scripts = [n.tag for n in box.walk() if n.tag in ("script", "iframe", "object", "embed", "svg", "b", "i")]
        check(not scripts, "hostile widget holds no element made from feed markup", f"{scripts!r}")


def check_console(err, missing):
    """Chromium's --enable-logging=stderr writes the page's console as INFO:CONSOLE lines."""
    console = [l for l in err.splitlines() if ":CONSOLE" in l]
    warned = [l for l in console if f"tidings: no headlines for {missing.feed}" in l]
    check(bool(warned), "an unknown feed is explained with console.warn",
          f"no 'tidings: no headlines for {missing.feed}' in the console; it said {console[-3:]!r}")
    others = [l for l in console if ("tidings:" in l or "/embed.js" in l) and l not in warned]
    check(not others, "embed.js logs nothing else (no errors, no other warnings)", f"{others[:3]!r}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("base_url", help="where tidings serves, e.g. http://127.0.0.1:8080")
    ap.add_argument("--hostile-feed", help="a feed whose posts have markup in their titles, e.g. /tags/xss/feed.rss")
    ap.add_argument("--out", default="test-artifacts/browser",
                    help="folder for screenshots and the DOM dump (default: test-artifacts/browser)")
    ap.add_argument("--chromium", default=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                    help="Chromium binary (default: $CHROMIUM or /usr/bin/chromium)")
    ap.add_argument("--feeds", nargs=2, metavar=("FEED1", "FEED2"),
                    default=["/categories/operations/feed.rss", "/feed.atom"],
                    help="the two main widgets' feeds (default: /categories/operations/feed.rss /feed.atom, "
                         "which the sample site has)")
    args = ap.parse_args()
    base = args.base_url.rstrip("/")

    widgets = [
        Widget("w-ops", args.feeds[0], 3, {"data-title": "true"}),
        Widget("w-site", args.feeds[1], 2, {"data-images": "", "data-target": "_blank"}, heading="Latest from the blog"),
    ]
    missing = Widget("w-missing", "/no/such/feed.rss", 3, heading="A feed that does not exist")
    late = Widget("w-late", "/feed.json", 4)
    hostile = None
    if args.hostile_feed:
        hostile = Widget("w-hostile", args.hostile_feed, 5, {"data-images": "", "data-title": "true"})
        hostile.hostile = True

    up = False
    if browser.chromium_present(args.chromium):
        up = check_http(base, widgets + [late] + ([hostile] if hostile else []))
    if up:
        os.makedirs(args.out, exist_ok=True)
        with open(TEMPLATE, encoding="utf-8") as f:
            template = f.read()
        full = widgets + [missing] + ([hostile] if hostile else [])
        pages = {
            "/": page_html(template, base, full, late),
            "/showcase.html": page_html(template, base, widgets),
        }
        for placement in PLACEMENTS:
            pages[f"/{placement}.html"] = page_html(template, base, widgets, placement=placement)
        server = start_page_server(pages)
        origin = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            run_checks(args, origin, widgets, missing, late, hostile)
        finally:
            server.shutdown()

    return browser.summary()


def run_checks(args, origin, widgets, missing, late, hostile):
    url = origin + "/"
    rc, dom, err = run_chromium(args.chromium, ["--enable-logging=stderr", "--v=0", "--dump-dom", url])
    if rc is None:
        check(False, "chromium dump-dom of the embedding page", f"timed out after {CHROMIUM_TIMEOUT_S}s")
        return
    if not check(rc == 0 and "<body" in dom, f"chromium dump-dom of the embedding page ({origin})",
                 f"exit {rc}, {len(dom)} bytes of DOM; {stderr_tail(err)}"):
        return
    with open(os.path.join(args.out, "embed.dom.html"), "w", encoding="utf-8") as f:
        f.write(dom)
    check_page(parse_dom(dom), widgets, missing, late, hostile)
    check_console(err, missing)

    for placement in PLACEMENTS:
        rc, dom, err = run_chromium(args.chromium, ["--dump-dom", f"{origin}/{placement}.html"])
        doc = parse_dom(dom) if rc == 0 else None
        for w in widgets:
            if w.expected is None:
                continue
            name = f"embed.js loaded {placement} renders {w.feed}"
            if doc is None:
                check(False, name, f"chromium exit {rc}; {stderr_tail(err)}")
                continue
            boxes = doc.find(lambda n: n.attrs.get("id") == w.id)
            got = [squash(a.text()) for a in boxes[0].by_class("tidings-link")] if boxes else None
            want = [squash(i.get("title")) for i in w.expected["items"]]
            check(got == want, name, f"expected {want!r}, got {got!r}")

    # prefers-color-scheme: Blink's PreferredColorScheme is 0 = dark, 1 = light.
    shots = [("embed.png", "/showcase.html", 1), ("embed-dark.png", "/showcase.html", 0),
             ("embed-all.png", "/", 1)]
    for name, path, scheme in shots:
        shot = os.path.join(args.out, name)
        if os.path.exists(shot):
            os.remove(shot)
        rc, _, err = run_chromium(args.chromium, [f"--blink-settings=preferredColorScheme={scheme}",
                                                  f"--screenshot={shot}", "--window-size=1000,900", origin + path])
        if rc is None:
            check(False, f"screenshot {name}", f"timed out after {CHROMIUM_TIMEOUT_S}s")
        elif rc != 0 or not is_png(shot):
            check(False, f"screenshot {name}", f"exit {rc}, no PNG at {shot}; {stderr_tail(err)}")
        else:
            check(True, f"screenshot -> {shot}")


if __name__ == "__main__":
    sys.exit(main())

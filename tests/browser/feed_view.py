#!/usr/bin/env python3
"""Browser check: does a browser that opens a feed's address see a readable page?

tidings answers a browser navigation to a feed URL (Sec-Fetch-Dest: document,
or an Accept that prefers text/html) with a server-rendered HTML page, and
feed readers with the feed itself: no XSLT, which browsers are removing
(Chromium 156+ draws a red banner over XSLT pages; 158 turns XSLT off).
For every feed this opens it in Debian's headless Chromium and checks that
the DOM is that page (not Chromium's raw XML viewer, no XSLT banner), that it
shows the feed title, every item title in order and the feed's own address
to copy; that a reader asking for the same URL gets the feed's own media
type and a parseable feed; and saves light and dark screenshots for a person
to look at.

    python3 tests/browser/feed_view.py http://127.0.0.1:8080
    python3 tests/browser/feed_view.py http://127.0.0.1:8080 /feed.rss /tags/rust/feed.atom --out /tmp/shots

Standard library only. Needs /usr/bin/chromium (Debian: apt-get install -y
chromium); this script never installs anything. Prints `PASS name` or
`FAIL name: reason` per check, then `N passed, M failed`; exits 1 if any
check failed.
"""

import argparse
import html.parser
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import json
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import browser  # noqa: E402  (tests/browser/browser.py)
from browser import CHROMIUM_TIMEOUT_S, check, is_png, squash, stderr_tail  # noqa: E402

ATOM = "{http://www.w3.org/2005/Atom}"
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json")
FETCH_TIMEOUT_S = 20


# ---------------------------------------------------------------- the feed


class Feed:
    def __init__(self, kind, title, items, self_href):
        self.kind = kind
        self.title = title
        self.items = items
        self.self_href = self_href
        self.content_type = ""


# A feed reader's request (SimplePie's Accept, as FreshRSS and WordPress send it), and a
# browser's navigation (Chromium's Accept).
READER_ACCEPT = ("application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, "
                 "application/xml;q=0.8, text/xml;q=0.8, text/html;q=0.7, */*;q=0.1")
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


def fetch(url, headers):
    req = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(req, timeout=FETCH_TIMEOUT_S) as resp:
        return resp.read(), resp.headers


def fetch_feed(url):
    body, headers = fetch(url, {"Accept": READER_ACCEPT})
    feed = parse_feed(body)
    feed.content_type = headers.get("Content-Type", "")
    return feed


def self_link(element):
    """The href of the first atom:link rel="self" child of `element`, or ""."""
    for link in element.findall(ATOM + "link"):
        if link.get("rel") == "self":
            return squash(link.get("href"))
    return ""


def parse_feed(body):
    if body.lstrip()[:1] == b"{":
        doc = json.loads(body)
        items = [squash(it.get("title")) for it in doc.get("items", [])]
        return Feed("JSON Feed", squash(doc.get("title")), items, squash(doc.get("feed_url")))
    root = ET.fromstring(body)
    if root.tag == "rss":
        channel = root.find("channel")
        if channel is None:
            raise ValueError("<rss> without <channel>")
        title = squash(channel.findtext("title"))
        items = [squash(it.findtext("title")) for it in channel.findall("item")]
        return Feed("RSS", title, items, self_link(channel))
    if root.tag == ATOM + "feed":
        title = squash(root.findtext(ATOM + "title"))
        items = [squash(e.findtext(ATOM + "title")) for e in root.findall(ATOM + "entry")]
        return Feed("Atom", title, items, self_link(root))
    raise ValueError(f"root element is {root.tag}, not <rss>, Atom <feed> or JSON Feed")


# ------------------------------------------------------------ rendered DOM


class PageReader(html.parser.HTMLParser):
    """Collects what the checks need from Chromium's --dump-dom output."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.h1 = []
        self.article_titles = []
        self.articles = 0
        self.inputs = []
        self.html_lang = None
        self.page_title = ""
        self.xml_viewer = False
        self.xslt_banner = False
        self.elements = []
        self._stack = []
        self._in_article = 0
        self._buf = None

    @property
    def pre_only(self):
        return "pre" in self.elements and not self.h1

    @property
    def empty_body(self):
        return not (set(self.elements) - {"html", "head", "body", "meta"})

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.elements.append(tag)
        if tag == "html" and self.html_lang is None:
            self.html_lang = a.get("lang")
        if tag == "style" and a.get("id") == "xml-viewer-style":
            self.xml_viewer = True
        if tag == "xslt-warning-banner":
            self.xslt_banner = True
        if tag == "input":
            self.inputs.append(a)
            return
        if tag == "article":
            self.articles += 1
            self._in_article += 1
        if tag in ("h1", "title") or (tag == "h2" and self._in_article):
            self._buf = []
        self._stack.append(tag)

    def handle_endtag(self, tag):
        if tag in ("h1", "h2", "title") and self._buf is not None:
            text = squash("".join(self._buf))
            if tag == "h1":
                self.h1.append(text)
            elif tag == "h2":
                self.article_titles.append(text)
            else:
                self.page_title = text
            self._buf = None
        if tag == "article" and self._in_article:
            self._in_article -= 1
        while self._stack:
            if self._stack.pop() == tag:
                break

    def handle_data(self, data):
        if self._buf is not None:
            self._buf.append(data)


# ---------------------------------------------------------------- Chromium


def run_chromium(chromium, extra):
    """browser.run_chromium with this script's settings. Chromium's XSLT banner is left on:
    the page must not need it hidden."""
    return browser.run_chromium(chromium, extra, virtual_time_budget_ms=3000, flags=[],
                                profile_prefix="feed-view-profile-")


def artifact_name(path):
    name = path.strip("/").replace("/", "_") or "index"
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)


# ------------------------------------------------------------------ checks


def check_feed(base, path, chromium, out_dir):
    url = urllib.parse.urljoin(base.rstrip("/") + "/", path.lstrip("/"))
    tag = path

    try:
        feed = fetch_feed(url)
    except (urllib.error.URLError, OSError, ET.ParseError, ValueError) as e:
        check(False, f"{tag} fetch and parse as a reader", f"{url}: {e}")
        return
    check(True, f"{tag} fetch and parse as a reader")
    media = feed.content_type.split(";")[0].strip().lower()
    check(media in FEED_TYPES, f"{tag} served to readers as {media or '(no type)'}",
          "a feed reader must get the feed's own media type, never the browser page")
    try:
        _, headers = fetch(url, {"Accept": BROWSER_ACCEPT, "Sec-Fetch-Dest": "document"})
        page_type = headers.get("Content-Type", "").split(";")[0].strip().lower()
        vary = headers.get("Vary", "")
    except (urllib.error.URLError, OSError) as e:
        page_type, vary = f"(error: {e})", ""
    check(page_type == "text/html", f"{tag} served to a browser navigation as {page_type}",
          "a navigation must get the HTML page")
    check("sec-fetch-dest" in vary.lower() and "accept" in vary.lower(), f"{tag} Vary names what picks the page",
          f"Vary: {vary!r}")

    rc, dom, err = run_chromium(chromium, ["--dump-dom", url])
    if rc is None:
        check(False, f"{tag} chromium dump-dom", f"timed out after {CHROMIUM_TIMEOUT_S}s")
        return
    if rc != 0 or (not dom.strip() and "ERR_ABORTED" in err):
        hint = ""
        if "ERR_ABORTED" in err:
            hint = " (the page was downloaded, not shown: check its Content-Type)"
        check(False, f"{tag} chromium dump-dom", f"exit {rc}, {len(dom)} bytes of DOM{hint}; {stderr_tail(err)}")
        return
    check(True, f"{tag} chromium dump-dom")
    with open(os.path.join(out_dir, artifact_name(path) + ".dom.html"), "w", encoding="utf-8") as f:
        f.write(dom)

    page = PageReader()
    page.feed(dom)
    page.close()

    rendered = not page.xml_viewer and page.h1 and (page.articles > 0 or not feed.items)
    if page.xml_viewer:
        why = "Chromium shows its raw XML tree: the navigation got the feed, not the page"
    elif page.pre_only:
        why = "Chromium shows the feed as plain text: the navigation got the feed, not the page"
    elif page.empty_body:
        why = "the page is empty"
    else:
        why = f"no <h1> / <article> in the DOM (h1={len(page.h1)}, articles={page.articles})"
    if not check(bool(rendered), f"{tag} rendered as HTML page", why):
        return
    check(not page.xslt_banner, f"{tag} has no XSLT banner", "Chromium drew its XSLT deprecation banner")

    want = feed.title or "Untitled feed"
    check(want in page.h1, f"{tag} shows feed title", f"expected h1 {want!r}, got {page.h1!r}")

    expected = [t or "(untitled)" for t in feed.items]
    missing = [t for t in expected if t not in page.article_titles]
    if missing:
        check(False, f"{tag} shows every item title",
              f"{len(missing)} of {len(expected)} missing, e.g. {missing[0]!r}")
    elif page.article_titles != expected:
        check(False, f"{tag} shows every item title", "all present but not in feed order")
    else:
        check(True, f"{tag} shows every item title ({len(expected)})")

    if feed.self_href:
        values = [i.get("value") for i in page.inputs]
        check(feed.self_href in values, f"{tag} shows subscribe URL",
              f"no input with value {feed.self_href!r}; inputs: {values!r}")

    check(bool(page.html_lang), f"{tag} has html lang", "no lang attribute on <html>")

    base_name = os.path.join(out_dir, artifact_name(path))
    # prefers-color-scheme: Blink's PreferredColorScheme is 0 = dark, 1 =
    # light. (--force-dark-mode does not reach web content in headless.)
    for suffix, extra in (("", ["--blink-settings=preferredColorScheme=1"]),
                          ("-dark", ["--blink-settings=preferredColorScheme=0"])):
        shot = f"{base_name}{suffix}.png"
        if os.path.exists(shot):
            os.remove(shot)
        rc, _, err = run_chromium(
            chromium, extra + [f"--screenshot={shot}", "--window-size=1200,1600", url])
        name = f"{tag} screenshot{suffix or ' light'}"
        if rc is None:
            check(False, name, f"timed out after {CHROMIUM_TIMEOUT_S}s")
        elif rc != 0 or not is_png(shot):
            check(False, name, f"exit {rc}, no PNG at {shot}; {stderr_tail(err)}")
        else:
            check(True, f"{name} -> {shot}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("base_url", help="where tidings serves, e.g. http://127.0.0.1:8080")
    ap.add_argument("paths", nargs="*", default=["/feed.rss", "/feed.atom"],
                    help="feed paths to open (default: /feed.rss /feed.atom)")
    ap.add_argument("--out", default="test-artifacts/browser",
                    help="folder for screenshots and DOM dumps (default: test-artifacts/browser)")
    ap.add_argument("--chromium", default=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                    help="Chromium binary (default: $CHROMIUM or /usr/bin/chromium)")
    args = ap.parse_args()

    if browser.chromium_present(args.chromium):
        os.makedirs(args.out, exist_ok=True)
        for path in args.paths:
            check_feed(args.base_url, path, args.chromium, args.out)

    return browser.summary()


if __name__ == "__main__":
    sys.exit(main())

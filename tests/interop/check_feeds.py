#!/usr/bin/env python3
"""check_feeds.py - judge every feed a running tidings serves with tools nobody on the
project wrote: xmllint, jing (RFC 4287's RELAX NG schema), Python's feedparser, the npm
rss-parser, jsonschema (JSON Feed 1.1) and Debian's newsboat.

Usage (tests/interop/run.sh starts the servers and calls this):
  check_feeds.py [options] --site NAME=ORIGIN [--site NAME=ORIGIN ...]

  --site NAME=ORIGIN     a running tidings, e.g. sample=http://127.0.0.1:8080 (loopback only)
  --expect-pages NAME    that site has more posts than one page holds: its whole-site feed
                         must link a second page (rel="next" / next_url)
  --site-items NAME=N    all pages of that site's whole-site feed together list N items
  --work DIR             where fetched documents are kept (default: a temporary folder)

Feeds are found in /feeds.opml (OPML 2.0; every outline type="rss" with an xmlUrl); when
that is missing or broken, in the hrefs ending in .rss/.atom/.json on the page at /. Each
feed is checked as .rss, .atom and .json (the same path, other extension), on page 1 and,
following the `next` link, page 2; the whole-site feed on every page.

Output: one line per check, "PASS check url" or "FAIL check url: reason" (details indented
below), lines starting with "#" for context, and last, alone on its line, "N passed,
M failed". Exit 0 when nothing failed, 1 otherwise, 2 on usage errors.

Checks:
  opml           /feeds.opml: HTTP 200, well-formed, <opml version="2.0">, head/title, a body
                 with outlines, every type="rss" outline has text and an absolute xmlUrl
  discovery      the page at / links the same feeds the OPML lists
  fetch          HTTP 200 with a body
  content-type   application/rss+xml, application/atom+xml, application/feed+json (or
                 application/json), text/x-opml (or application/xml, text/xml)
  xmllint        xmllint --noout --nonet: exit 0 and nothing on stderr (namespace errors are
                 printed but exit 0)
  jing           jing -c atom.rnc: valid Atom per RFC 4287's schema (Atom only)
  feedparser     bozo == 0, the right version (rss20/atom10), every entry has title, link,
                 id and a parsed date (published_parsed or updated_parsed), ids unique
  dates          RSS only: every pubDate/lastBuildDate is an RFC 822 date-time on the right
                 weekday (Atom's dates are jing's job, JSON Feed's the schema's)
  rss-parser     the npm rss-parser reads it, sees as many items as feedparser, each with
                 title, link and a date
  json           strict JSON: UTF-8, no BOM, no duplicate keys, no NaN/Infinity
  jsonschema     valid against jsonfeed-1.1.schema.json (JSON Schema draft 2020-12)
  json-ids       every item id is a non-empty string, unique in the document
  paging         the pages walked list no item twice, `next` never loops or leaves the
                 server; with --expect-pages / --site-items, the expected pages and items
  formats-agree  the .rss, .atom and .json of one feed list the same number of items
  newsboat       newsboat_check.sh: newsboat reads the whole-site RSS and Atom feeds and
                 stores every item with a title, a link and its own date
  clients        every feed asked for with the real request headers of a dozen readers
                 (clients.txt) gets the feed's own media type and entity (the ETag of its
                 bytes, whatever the coding), never the browser page; with a browser's
                 navigation headers, the HTML page
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from html import unescape
from urllib.parse import urljoin, urlsplit

HERE = os.path.dirname(os.path.realpath(__file__))
INTEROP_HOME = os.environ.get("INTEROP_HOME", "/tmp/tidings-interop")
VENV_PY = os.path.join(INTEROP_HOME, "venv", "bin", "python")
NODE_MODULES = os.path.join(INTEROP_HOME, "node", "node_modules")
ATOM_RNC = os.path.join(HERE, "atom.rnc")
JSONFEED_SCHEMA = os.path.join(HERE, "jsonfeed-1.1.schema.json")

ATOM_NS = "http://www.w3.org/2005/Atom"
FORMATS = ("rss", "atom", "json")
EXT = {"rss": ".rss", "atom": ".atom", "json": ".json"}
CONTENT_TYPES = {
    "rss": ("application/rss+xml",),
    "atom": ("application/atom+xml",),
    "json": ("application/feed+json", "application/json"),
    "opml": ("text/x-opml", "application/xml", "text/xml"),
}
FP_VERSION = {"rss": "rss20", "atom": "atom10"}
LOOPBACK = ("127.0.0.1", "localhost", "::1")
TIMEOUT = 20
MAX_PAGES = 60  # whole-site feed walk; 300 posts at 20 a page is 15
DETAILS = 8


def maybe_reexec_into_venv():
    """Run under the suite's venv (feedparser, jsonschema) when started with another python."""
    try:
        import feedparser  # noqa: F401
        import jsonschema  # noqa: F401
        return
    except ImportError:
        pass
    if os.path.exists(VENV_PY) and os.path.realpath(sys.executable) != os.path.realpath(VENV_PY) \
            and not os.environ.get("TIDINGS_INTEROP_REEXEC"):
        os.environ["TIDINGS_INTEROP_REEXEC"] = "1"
        os.execv(VENV_PY, [VENV_PY, os.path.realpath(__file__)] + sys.argv[1:])
    sys.exit("check_feeds.py: feedparser/jsonschema missing; run tests/interop/install.sh "
             "(venv expected at %s)" % VENV_PY)


# ----------------------------------------------------------------------------- output
class Report:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def ok(self, check, url):
        self.passed += 1
        print("PASS %s %s" % (check, url), flush=True)

    def fail(self, check, url, reason, details=()):
        self.failed += 1
        print("FAIL %s %s: %s" % (check, url, reason), flush=True)
        details = [str(d) for d in details if d]
        for d in details[:DETAILS]:
            print("      " + d.replace("\n", " ")[:300])
        if len(details) > DETAILS:
            print("      ... and %d more" % (len(details) - DETAILS))
        sys.stdout.flush()

    def check(self, check, url, problems, reason=None):
        """PASS when `problems` is empty, else FAIL: a lone problem is the reason, several
        are listed below `reason` (or below the first of them)."""
        if len(problems) == 1:
            self.fail(check, url, problems[0])
        elif problems:
            self.fail(check, url, reason or problems[0], problems if reason else problems[1:])
        else:
            self.ok(check, url)


def note(text):
    print("# " + text, flush=True)


def run(cmd, timeout=300, env=None):
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=timeout, env=env)
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        return 124, "", "timed out after %d s" % timeout
    except OSError as e:
        return 127, "", str(e)


# ----------------------------------------------------------------------------- http
class Fetcher:
    """GETs from the servers under test only: loopback hosts on the ports given."""

    def __init__(self, origins):
        self.allowed = {(urlsplit(o).hostname, urlsplit(o).port) for o in origins}
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def refuse(self, url):
        u = urlsplit(url)
        if u.scheme != "http" or u.hostname not in LOOPBACK:
            return "refusing to fetch %s: not a loopback http URL (every link must point at the server under test)" % url
        if (u.hostname, u.port) not in self.allowed:
            return "refusing to fetch %s: not the server under test" % url
        return None

    def get(self, url):
        """(status, content_type, body) or (None, None, error)."""
        why = self.refuse(url)
        if why:
            return None, None, why
        req = urllib.request.Request(url, headers={"User-Agent": "tidings-interop/1", "Accept-Encoding": "identity"})
        try:
            with self.opener.open(req, timeout=TIMEOUT) as r:
                return r.status, r.headers.get("Content-Type", ""), r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type", ""), e.read()
        except (urllib.error.URLError, OSError) as e:
            return None, None, "cannot connect: %s" % getattr(e, "reason", e)


# ----------------------------------------------------------------------------- tools
def xmllint(path):
    """Problems xmllint reports: a non-zero exit or anything at all on stderr."""
    rc, out, err = run(["xmllint", "--noout", "--nonet", path], timeout=60)
    lines = [ln.replace(path + ":", "line ") for ln in err.splitlines() if ln.strip()]
    if rc != 0:
        return ["xmllint exited %d%s" % (rc, " (not well-formed)" if rc == 1 else "")] + lines
    if lines:
        return ["xmllint printed %d line(s) on stderr (exit 0)" % len(lines)] + lines
    return []


def jing_batch(paths):
    """{path: [problems]} for every path, from as few jing runs (JVM starts) as possible.
    jing stops at the first document that is not well-formed ("fatal:"), so the documents
    after that one are validated again in another run."""
    results = {p: [] for p in paths}
    for i in range(0, len(paths), 200):
        remaining = paths[i:i + 200]
        while remaining:
            rc, out, err = run(["jing", "-c", ATOM_RNC] + remaining, timeout=300)
            attributed, last_fatal = False, -1
            for ln in (out + err).splitlines():
                if not ln.strip() or ln.startswith("[warning]"):
                    continue
                for k, p in enumerate(remaining):
                    if ln.startswith(p + ":"):
                        msg = ln[len(p) + 1:].strip()
                        results[p].append(msg)
                        attributed = True
                        if "fatal:" in msg:
                            last_fatal = max(last_fatal, k)
                        break
            if rc != 0 and not attributed:  # jing itself failed (schema, JVM, ...)
                msg = "jing exited %d: %s" % (rc, (err or out).strip()[-300:] or "no output")
                for p in remaining:
                    results[p].append(msg)
            remaining = remaining[last_fatal + 1:] if last_fatal >= 0 else []
    return results


def rss_parser_batch(paths):
    """{path: {"items": N, "missing": [...]} | {"error": why}} from the npm rss-parser."""
    results = {}
    env = dict(os.environ, NODE_PATH=NODE_MODULES)
    script = os.path.join(HERE, "rss_parser_check.js")
    for i in range(0, len(paths), 200):
        chunk = paths[i:i + 200]
        rc, out, err = run(["node", script] + chunk, timeout=300, env=env)
        try:
            res = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            res = {}
        for p in chunk:
            results[p] = res.get(p) or {"error": "rss_parser_check.js failed (exit %d): %s"
                                        % (rc, (err or out).strip()[-300:] or "no output")}
    return results


class DuplicateKey(ValueError):
    pass


def _no_dupes(pairs):
    seen = {}
    for k, v in pairs:
        if k in seen:
            raise DuplicateKey("duplicate key %r" % k)
        seen[k] = v
    return seen


def _bad_constant(name):
    raise ValueError("non-standard JSON constant %s" % name)


def strict_json(data):
    """(document, problems)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return None, ["starts with a UTF-8 byte order mark (RFC 8259: MUST NOT)"]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        return None, ["not UTF-8: %s" % e]
    try:
        return json.loads(text, object_pairs_hook=_no_dupes, parse_constant=_bad_constant), []
    except ValueError as e:
        return None, ["not valid JSON: %s" % e]


def json_path(parts):
    out = "$"
    for p in parts:
        out += "[%d]" % p if isinstance(p, int) else "." + str(p)
    return out


_VALIDATOR = None


def jsonschema_problems(doc):
    global _VALIDATOR
    import jsonschema
    if _VALIDATOR is None:
        with open(JSONFEED_SCHEMA, encoding="utf-8") as f:
            schema = json.load(f)
        jsonschema.Draft202012Validator.check_schema(schema)
        _VALIDATOR = jsonschema.Draft202012Validator(schema)
    errs = sorted(_VALIDATOR.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])
    return ["%s: %s" % (json_path(e.absolute_path), e.message[:250]) for e in errs]


# ----------------------------------------------------------------------------- discovery
def feed_base(url):
    """The feed's URL without its format extension, or None when it is not a feed URL."""
    u = urlsplit(url)
    for ext in EXT.values():
        if u.path.endswith(ext) and not u.query:
            return url[: -len(ext)]
    return None


def scrape_html(html):
    hrefs = re.findall(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)')""", html)
    return [unescape(a or b) for a, b in hrefs]


def check_opml(rep, fetcher, origin, work):
    """Checks /feeds.opml. Returns the feed URLs it lists, or None when it is unusable."""
    url = origin + "/feeds.opml"
    status, ctype, body = fetcher.get(url)
    if status != 200:
        rep.fail("opml", url, "HTTP %s: no OPML list of feeds (feeds are taken from the links on / instead)"
                 % status if status else body)
        return None
    mt = (ctype or "").split(";")[0].strip().lower()
    if mt in CONTENT_TYPES["opml"]:
        rep.ok("content-type", url)
    else:
        rep.fail("content-type", url, "%r; expected %s" % (ctype, " or ".join(CONTENT_TYPES["opml"])))
    path = os.path.join(work, "%s-feeds.opml" % urlsplit(origin).port)
    with open(path, "wb") as f:
        f.write(body)
    lint = xmllint(path)
    rep.check("xmllint", url, lint)
    problems, urls = [], []
    try:
        root = ET.fromstring(body)
    except ET.ParseError as e:
        rep.fail("opml", url, "not well-formed: %s (feeds are taken from the links on / instead)" % e)
        return None
    if root.tag != "opml":
        problems.append("root element is <%s>, not <opml>" % root.tag)
    if root.get("version") != "2.0":
        problems.append('<opml version=%r>, expected "2.0"' % root.get("version"))
    head, body_el = root.find("head"), root.find("body")
    if head is None or not (head.findtext("title") or "").strip():
        problems.append("no <head><title> with text")
    outlines = list(body_el.iter("outline")) if body_el is not None else []
    if body_el is None:
        problems.append("no <body>")
    for i, o in enumerate(outlines, 1):
        label = "outline %d (%r)" % (i, (o.get("text") or o.get("title") or "")[:40])
        if (o.get("type") or "").lower() != "rss":
            if o.get("text") is None:
                problems.append("%s has no text attribute (required by OPML 2.0)" % label)
            continue
        if o.get("type") != "rss":
            problems.append('%s has type=%r; OPML 2.0 says type="rss"' % (label, o.get("type")))
        if not (o.get("text") or "").strip():
            problems.append("%s is type=rss without text" % label)
        x = (o.get("xmlUrl") or "").strip()
        if not x:
            problems.append("%s is type=rss without xmlUrl" % label)
        elif not re.match(r"^https?://", x):
            problems.append("%s xmlUrl %r is not an absolute URL" % (label, x))
        else:
            urls.append(x)
    if not urls:
        problems.append("no outline type=\"rss\" with an xmlUrl")
    rep.check("opml", url, problems, "%d problem(s)" % len(problems) if problems else None)
    return urls or None


def discover(rep, fetcher, origin, work):
    """The feed bases (URL without extension) of one site, in listing order."""
    opml_urls = check_opml(rep, fetcher, origin, work)
    home = origin + "/"
    status, _, body = fetcher.get(home)
    html_urls = []
    if status == 200:
        for href in scrape_html(body.decode("utf-8", "replace")):
            absu = urljoin(home, href)
            if feed_base(absu):
                html_urls.append(absu)
    else:
        rep.fail("fetch", home, "HTTP %s" % status if status else body)

    def bases(urls):
        out = []
        for u in urls:
            b = feed_base(u)
            if b and b not in out:
                out.append(b)
        return out

    if opml_urls is not None:
        ob, hb = bases(opml_urls), bases(html_urls)
        not_feed = [u for u in opml_urls if not feed_base(u)]
        only_opml = [b for b in ob if b not in hb]
        only_html = [b for b in hb if b not in ob]
        problems = ["OPML xmlUrl %s does not end in .rss/.atom/.json" % u for u in not_feed] + \
                   ["in the OPML but not linked from /: %s" % b for b in only_opml] + \
                   ["linked from / but not in the OPML: %s" % b for b in only_html]
        rep.check("discovery", home, problems, "/ and /feeds.opml list different feeds" if problems else None)
        note("%s: %d feeds from /feeds.opml" % (origin, len(ob)))
        result = ob
    else:
        result = bases(html_urls)
        note("%s: %d feeds from the links on / (no usable /feeds.opml)" % (origin, len(result)))
    if not result:
        rep.fail("discovery", home, "found no feed URLs (neither /feeds.opml nor the links on /)")
    # Every feed in every format: the OPML may list only the RSS URL.
    return result


# ----------------------------------------------------------------------------- one page
class Page:
    def __init__(self, url, fmt):
        self.url, self.fmt = url, fmt
        self.path = None       # the fetched bytes on disk
        self.count = None      # items, as feedparser / the JSON document sees them
        self.ids = []
        self.next_url = None
        self.next_problem = None


RFC822 = re.compile(
    r"^(?:(?P<dow>Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?\d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d{2}:\d{2}(?::\d{2})? (?:UT|GMT|EST|EDT|CST|CDT|MST|MDT|PST|PDT|[+-]\d{4})$")


def rss_date_problems(body):
    """RSS 2.0 dates must be RFC 822 date-times (4-digit years), on the right weekday."""
    import email.utils
    try:
        root = ET.fromstring(body)
    except ET.ParseError as e:
        return ["not well-formed XML, so its dates cannot be read: %s" % e]
    problems = []
    for path in ("channel/pubDate", "channel/lastBuildDate", "channel/item/pubDate"):
        for el in root.findall(path):
            text = (el.text or "").strip()
            m = RFC822.match(text)
            if not m:
                problems.append("<%s> %r is not an RFC 822 date-time (e.g. 'Mon, 06 Jan 2025 10:00:00 +0000')"
                                % (path.rsplit("/", 1)[1], text))
                continue
            try:
                when = email.utils.parsedate_to_datetime(text)
            except (TypeError, ValueError) as e:
                problems.append("<%s> %r does not parse: %s" % (path.rsplit("/", 1)[1], text, e))
                continue
            if m.group("dow") and when.strftime("%a") != m.group("dow"):
                problems.append("<%s> %r: that day is a %s" % (path.rsplit("/", 1)[1], text, when.strftime("%a")))
    return problems


def xml_next_link(body):
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    parent = root.find("channel") if root.tag == "rss" else root
    if parent is None:
        return None
    for el in parent.findall("{%s}link" % ATOM_NS):
        if el.get("rel") == "next" and el.get("href"):
            return el.get("href").strip()
    return None


def check_page(rep, fetcher, url, fmt, work, counter):
    import feedparser
    page = Page(url, fmt)
    status, ctype, body = fetcher.get(url)
    if status != 200:
        why = ("HTTP %s" % status) if status else body
        if status == 404 and fmt == "json" and not urlsplit(url).query:
            why += " (no JSON Feed at this URL)"
        rep.fail("fetch", url, why)
        return None
    if not body:
        rep.fail("fetch", url, "HTTP 200 with an empty body")
        return None
    rep.ok("fetch", url)
    mt = (ctype or "").split(";")[0].strip().lower()
    if mt in CONTENT_TYPES[fmt]:
        rep.ok("content-type", url)
    else:
        rep.fail("content-type", url, "%r; expected %s" % (ctype, " or ".join(CONTENT_TYPES[fmt])))
    counter[0] += 1
    page.path = os.path.join(work, "%05d%s" % (counter[0], EXT[fmt]))
    with open(page.path, "wb") as f:
        f.write(body)

    if fmt in ("rss", "atom"):
        rep.check("xmllint", url, xmllint(page.path))
        d = feedparser.parse(body)
        problems = []
        if d.bozo:
            exc = d.get("bozo_exception")
            problems.append("bozo=1: %s: %s" % (type(exc).__name__, exc))
        if d.version != FP_VERSION[fmt]:
            problems.append("feedparser detected %r, expected %r" % (d.version, FP_VERSION[fmt]))
        seen = {}
        for i, e in enumerate(d.entries, 1):
            miss = [k for k in ("title", "link", "id") if not (e.get(k) or "").strip()]
            if not (e.get("published_parsed") or e.get("updated_parsed")):
                miss.append("parsed date (published %r, updated %r)" % (e.get("published"), e.get("updated")))
            if miss:
                problems.append("entry %d (%r): no %s" % (i, (e.get("title") or "")[:40], ", ".join(miss)))
            eid = (e.get("id") or "").strip()
            if eid:
                if eid in seen:
                    problems.append("entry %d id %r repeats entry %d's" % (i, eid, seen[eid]))
                seen.setdefault(eid, i)
        if not d.entries:
            problems.append("no entries")
        rep.check("feedparser", url, problems,
                  "%d problem(s) in %d entries (feedparser %s)" % (len(problems), len(d.entries), feedparser.__version__)
                  if problems else None)
        if fmt == "rss":
            rep.check("dates", url, rss_date_problems(body))
        page.count = len(d.entries)
        page.ids = [(e.get("id") or "").strip() for e in d.entries]
        page.next_url = xml_next_link(body)
    else:
        doc, problems = strict_json(body)
        rep.check("json", url, problems)
        if doc is None:
            return page
        schema = jsonschema_problems(doc)
        rep.check("jsonschema", url, schema,
                  "%d error(s) against JSON Feed 1.1 (draft 2020-12)" % len(schema) if schema else None)
        items = doc.get("items") if isinstance(doc, dict) else None
        items = items if isinstance(items, list) else []
        problems, seen = [], {}
        for i, it in enumerate(items):
            iid = it.get("id") if isinstance(it, dict) else None
            if not isinstance(iid, str) or not iid.strip():
                problems.append("items[%d].id is %r, not a non-empty string" % (i, iid))
            elif iid in seen:
                problems.append("items[%d].id %r repeats items[%d]'s" % (i, iid, seen[iid]))
            else:
                seen[iid] = i
        if not items:
            problems.append("no items")
        rep.check("json-ids", url, problems)
        page.count = len(items)
        page.ids = [it["id"] for it in items if isinstance(it, dict) and isinstance(it.get("id"), str)]
        nxt = doc.get("next_url") if isinstance(doc, dict) else None
        if nxt is not None and not isinstance(nxt, str):
            page.next_problem = "next_url is %r, not a string" % (nxt,)
        page.next_url = nxt.strip() if isinstance(nxt, str) and nxt.strip() else None
    return page


# ----------------------------------------------------------------------------- one feed
def check_feed(rep, fetcher, url, fmt, work, counter, all_pages, expect=None):
    """Walks page 1, page 2 (and every page when all_pages) by the `next` links.
    `expect(pages)` adds problems of its own to the paging check (and makes it run even
    for a single page). Returns the pages fetched (Page objects; empty when page 1 failed)."""
    pages, problems = [], []
    visited = set()
    cur = url
    while cur:
        page = check_page(rep, fetcher, cur, fmt, work, counter)
        visited.add(cur)
        if page is None:
            if pages:
                problems.append("page %d (%s, the `next` of page %d) could not be fetched" % (len(pages) + 1, cur, len(pages)))
            break
        pages.append(page)
        if page.next_problem:
            problems.append("page %d: %s" % (len(pages), page.next_problem))
        nxt = urljoin(cur, page.next_url) if page.next_url else None
        if not nxt:
            break
        if nxt in visited:
            problems.append("page %d's next link %s points back at a page already seen" % (len(pages), nxt))
            break
        why = fetcher.refuse(nxt)
        if why:
            problems.append("page %d: %s" % (len(pages), why))
            break
        if len(pages) >= (MAX_PAGES if all_pages else 2):
            if all_pages:
                problems.append("still a next link after %d pages" % MAX_PAGES)
            break
        cur = nxt
    if pages and expect:
        problems += expect(pages)
    if len(pages) > 1 or problems or (pages and expect):
        seen = {}
        for n, page in enumerate(pages, 1):
            for iid in page.ids:
                if iid in seen and seen[iid] != n:
                    problems.append("item %r is on page %d and page %d" % (iid, seen[iid], n))
                seen.setdefault(iid, n)
        rep.check("paging", url, problems,
                  "%d problem(s) over %d page(s)" % (len(problems), len(pages)) if problems else None)
    return pages


def site_expectations(name, want_pages, want_items):
    """What the whole-site feed of a site with many posts must show over its pages."""
    def expect(pages):
        problems = []
        if want_pages and len(pages) == 1:
            problems.append("site %s has more posts than one page holds, but page 1 (%d items) has no `next` "
                            "link (rel=\"next\" / next_url)" % (name, pages[0].count or 0))
        total = sum(p.count or 0 for p in pages)
        if want_items is not None and total != want_items:
            problems.append("its %d page(s) list %d items in all; site %s has %d posts"
                            % (len(pages), total, name, want_items))
        return problems
    return expect


# ----------------------------------------------------------------------------- main
def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--site", action="append", required=True, metavar="NAME=ORIGIN")
    ap.add_argument("--expect-pages", action="append", default=[], metavar="NAME")
    ap.add_argument("--site-items", action="append", default=[], metavar="NAME=N")
    ap.add_argument("--work", help="folder to keep the fetched documents in")
    args = ap.parse_args(argv)
    sites = []
    for s in args.site:
        name, sep, origin = s.partition("=")
        u = urlsplit(origin)
        if not sep or u.scheme != "http" or u.hostname not in LOOPBACK or not u.port:
            ap.error("--site wants NAME=http://127.0.0.1:PORT (loopback only), not %r" % s)
        sites.append((name, origin.rstrip("/")))
    names = {n for n, _ in sites}
    site_items = {}
    for s in args.site_items:
        name, _, n = s.partition("=")
        if name not in names or not n.isdigit():
            ap.error("--site-items wants NAME=N for a --site NAME, not %r" % s)
        site_items[name] = int(n)
    for name in args.expect_pages:
        if name not in names:
            ap.error("--expect-pages %r names no --site" % name)
    return args, sites, site_items


CLIENTS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "clients.txt")


def load_clients():
    """[(name, headers, is_browser_navigation)] from clients.txt."""
    clients = []
    with open(CLIENTS_FILE, encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            name, _source, accept, encoding, dest = line.rstrip("\n").split("|")
            headers = {"User-Agent": "tidings-interop/1 (as %s)" % name}
            if accept != "NONE":
                headers["Accept"] = accept
            headers["Accept-Encoding"] = "identity" if encoding == "NONE" else encoding
            if dest:
                headers["Sec-Fetch-Dest"] = dest
            browser = dest == "document" or (not dest and accept.startswith("text/html"))
            clients.append((name, headers, browser))
    return clients


def check_clients(rep, fetcher, url, fmt, clients):
    """Readers get the feed (its type, and the entity a plain GET gets); browsers the page."""
    if fetcher.refuse(url):
        return
    opener = fetcher.opener

    def head(headers):
        req = urllib.request.Request(url, headers=headers)
        with opener.open(req, timeout=TIMEOUT) as r:
            r.read()
            return r.headers.get("Content-Type", ""), r.headers.get("ETag", "")

    try:
        plain_type, plain_etag = head({"User-Agent": "tidings-interop/1", "Accept-Encoding": "identity"})
    except (urllib.error.URLError, OSError) as e:
        rep.fail("clients", url, "cannot fetch: %s" % e)
        return
    problems = []
    for name, headers, browser in clients:
        try:
            ctype, etag = head(headers)
        except (urllib.error.URLError, OSError) as e:
            problems.append("%s: cannot fetch: %s" % (name, e))
            continue
        media = ctype.split(";")[0].strip().lower()
        if browser:
            if media != "text/html":
                problems.append("%s (a browser navigation) got %s, not the HTML page" % (name, media or "no type"))
        elif media == "text/html" or media != plain_type.split(";")[0].strip().lower():
            problems.append("%s got %s, not the feed's %s" % (name, media or "no type", plain_type))
        elif re.sub(r'-(gzip|br)"$', '"', etag) != plain_etag:
            problems.append("%s got entity %s, not the feed's %s" % (name, etag, plain_etag))
    rep.check("clients", url, problems)


def main(argv):
    maybe_reexec_into_venv()
    args, sites, site_items = parse_args(argv)
    missing = [b for b in ("xmllint", "jing", "node", "newsboat", "sqlite3") if not shutil.which(b)]
    if missing:
        sys.exit("check_feeds.py: missing %s; run tests/interop/install.sh" % ", ".join(missing))
    import feedparser
    from importlib.metadata import version
    try:
        with open(os.path.join(NODE_MODULES, "rss-parser", "package.json")) as f:
            rss_parser_version = json.load(f)["version"]
    except (OSError, ValueError, KeyError):
        sys.exit("check_feeds.py: rss-parser missing under %s; run tests/interop/install.sh" % NODE_MODULES)
    note("feedparser %s, jsonschema %s, rss-parser %s, %s" % (
        feedparser.__version__, version("jsonschema"), rss_parser_version,
        (run(["xmllint", "--version"])[2].splitlines() or ["xmllint ?"])[0]))
    work = os.path.abspath(args.work or tempfile.mkdtemp(prefix="tidings-interop-"))
    os.makedirs(work, exist_ok=True)
    fetcher = Fetcher([o for _, o in sites])
    rep = Report()
    clients = load_clients()
    counter = [0]
    all_pages = []        # every Page fetched, for the batched jing and rss-parser runs
    site_feeds = []       # (site name, format, url, pages) of the whole-site feeds, for newsboat

    for name, origin in sites:
        note("site %s at %s" % (name, origin))
        for base in discover(rep, fetcher, origin, work):
            is_site_feed = urlsplit(base).path == "/feed"
            walked = {}
            for fmt in FORMATS:
                url = base + EXT[fmt]
                expect = None
                if is_site_feed and (name in args.expect_pages or name in site_items):
                    expect = site_expectations(name, name in args.expect_pages, site_items.get(name))
                pages = check_feed(rep, fetcher, url, fmt, work, counter, all_pages=is_site_feed, expect=expect)
                check_clients(rep, fetcher, url, fmt, clients)
                all_pages.extend(pages)
                walked[fmt] = pages
                if is_site_feed:
                    site_feeds.append((name, fmt, url, pages))
            # the three formats of one feed agree on how many items each page has
            have = {f: [p.count for p in ps] for f, ps in walked.items() if ps}
            if len(have) >= 2:
                if len(set(tuple(c) for c in have.values())) == 1:
                    rep.ok("formats-agree", base)
                else:
                    rep.fail("formats-agree", base, "items per page differ between formats: %s" %
                             ", ".join("%s %s" % (f, c) for f, c in sorted(have.items())))

    atom_paths = [p.path for p in all_pages if p.fmt == "atom"]
    if atom_paths:
        note("jing: %d Atom document(s)" % len(atom_paths))
        res = jing_batch(atom_paths)
        for p in all_pages:
            if p.fmt == "atom":
                rep.check("jing", p.url, res[p.path], "%d schema error(s) (RFC 4287 RELAX NG)" % len(res[p.path])
                          if res[p.path] else None)
    xml_pages = [p for p in all_pages if p.fmt in ("rss", "atom")]
    if xml_pages:
        note("rss-parser: %d RSS/Atom document(s)" % len(xml_pages))
        res = rss_parser_batch([p.path for p in xml_pages])
        for p in xml_pages:
            r = res[p.path]
            if "error" in r:
                rep.fail("rss-parser", p.url, "rss-parser could not read it: %s" % r["error"])
                continue
            problems = []
            if r["items"] != p.count:
                problems.append("rss-parser saw %d items, feedparser %s" % (r["items"], p.count))
            problems += r.get("missing", [])
            rep.check("rss-parser", p.url, problems)

    for name, fmt, url, pages in site_feeds:
        if fmt == "json" or not pages:
            continue  # newsboat 2.21 has no JSON Feed support
        rc, out, err = run(["bash", os.path.join(HERE, "newsboat_check.sh"), "--items", str(pages[0].count), url],
                           timeout=150)
        lines = out.splitlines()
        head = next((ln for ln in lines if ln.startswith(("PASS ", "FAIL "))), None)
        if rc == 0 and head and head.startswith("PASS "):
            rep.ok("newsboat", url)
            note(head[5:])
        else:
            reason = head.split(": ", 1)[1] if head and ": " in head else \
                "newsboat_check.sh exited %d: %s" % (rc, (err or out).strip()[-300:] or "no output")
            rep.fail("newsboat", url, reason, [ln.strip() for ln in lines if ln.startswith("      ")])

    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    print("%d passed, %d failed" % (rep.passed, rep.failed), flush=True)
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

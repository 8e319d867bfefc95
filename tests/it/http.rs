//! HTTP behaviour over a real socket: validators, conditional GET, HEAD, errors, encodings.

use std::io::Read;
use std::time::Duration;

use crate::support::{TestServer, data};

const FEED: &str = "/categories/operations/feed.atom";

#[test]
fn a_feed_response_carries_type_validators_and_caching_headers() {
    let server = TestServer::start(&data("site"));
    let r = server.get(FEED);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/atom+xml; charset=utf-8"));
    assert_eq!(server.get("/feed.rss").header("content-type"), Some("application/rss+xml; charset=utf-8"));
    let etag = r.header("etag").unwrap();
    assert!(etag.starts_with('"') && etag.ends_with('"') && !etag.starts_with("W/"), "strong: {etag}");
    assert_eq!(r.header("last-modified"), Some("Tue, 10 Feb 2015 09:00:00 GMT"));
    assert_eq!(r.header("cache-control"), Some("public, max-age=300, stale-while-revalidate=60, stale-if-error=86400"));
    assert_eq!(r.header("vary"), Some("Accept-Encoding, Accept, Sec-Fetch-Dest"));
    assert_eq!(r.header("content-length"), Some(r.body.len().to_string().as_str()));
    assert!(r.body.starts_with(b"<?xml"));
}

#[test]
fn a_browser_opening_a_feed_is_shown_its_page_and_readers_get_the_feed() {
    // Issue 12: no XSLT. A navigation gets server-made HTML; the feed bytes never change.
    let server = TestServer::start(&data("site"));
    let feed = server.get(FEED);
    let chrome = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8";
    let navigations: [&[(&str, &str)]; 3] = [
        &[("Accept", chrome), ("Sec-Fetch-Dest", "document")],
        &[("Accept", chrome)],
        &[("Sec-Fetch-Dest", "document")],
    ];
    for headers in navigations {
        let page = server.request("GET", FEED, headers);
        assert_eq!(page.status, 200);
        assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"), "{headers:?}");
        assert_eq!(page.header("vary"), Some("Accept-Encoding, Accept, Sec-Fetch-Dest"));
        assert!(page.header("content-security-policy").unwrap().starts_with("default-src 'none'"));
        assert_ne!(page.header("etag"), feed.header("etag"), "the page and the feed are different entities");
        let text = page.text();
        assert!(!text.contains("xml-stylesheet") && !text.contains("<script"), "{text}");
        // The page is well-formed, shows the feed's title, its address to copy and every item.
        let doc = roxmltree::Document::parse_with_options(
            &text,
            roxmltree::ParsingOptions { allow_dtd: true, ..Default::default() },
        )
        .expect("the page is well-formed");
        let parsed = feed_rs::parser::parse(&feed.body[..]).unwrap();
        let h1 = doc.descendants().find(|n| n.has_tag_name("h1")).and_then(|n| n.text()).unwrap();
        assert_eq!(h1, parsed.title.as_ref().unwrap().content);
        let address = doc.descendants().find(|n| n.has_tag_name("input")).and_then(|n| n.attribute("value"));
        assert_eq!(address, Some(format!("{}{FEED}", server.base_url).as_str()));
        let titles: Vec<String> = doc
            .descendants()
            .filter(|n| n.has_tag_name("article"))
            .map(|a| a.descendants().find(|n| n.has_tag_name("a")).and_then(|n| n.text()).unwrap_or("").to_owned())
            .collect();
        let expected: Vec<String> = parsed.entries.iter().map(|e| e.title.as_ref().unwrap().content.clone()).collect();
        assert_eq!(titles, expected);
        assert!(
            doc.descendants().any(|n| n.has_tag_name("link") && n.attribute("type") == Some("application/atom+xml"))
        );
    }
    // The page's own address, which the static export writes and the index page links.
    let own = server.get(&format!("{FEED}.html"));
    assert_eq!(own.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(own.header("vary"), Some("Accept-Encoding"));
    assert_eq!(own.body, server.request("GET", FEED, &[("Sec-Fetch-Dest", "document")]).body);
    assert_eq!(server.get("/nothing/here.html").status, 404);
    // Readers, and a page's script fetching the feed, get the feed's own bytes and type.
    let simplepie = "application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, text/html;q=0.7, */*;q=0.1";
    let readers: [&[(&str, &str)]; 4] =
        [&[], &[("Accept", simplepie)], &[("Accept", "*/*")], &[("Accept", chrome), ("Sec-Fetch-Dest", "empty")]];
    for headers in readers {
        let r = server.request("GET", FEED, headers);
        assert_eq!(r.header("content-type"), Some("application/atom+xml; charset=utf-8"), "{headers:?}");
        assert_eq!(r.header("vary"), Some("Accept-Encoding, Accept, Sec-Fetch-Dest"));
        assert_eq!(r.body, feed.body);
    }
    assert!(!feed.text().contains("xml-stylesheet"));
    assert_eq!(server.get("/feed.xsl").status, 404);
    let json = server.request("GET", "/feed.json", &[("Sec-Fetch-Dest", "document")]);
    assert_eq!(json.header("content-type"), Some("text/html; charset=utf-8"));
}

#[test]
fn the_cache_renders_once_and_the_bytes_stay_the_same() {
    let server = TestServer::start(&data("site"));
    let first = server.get(FEED);
    let second = server.get(FEED);
    assert_eq!(first.header("x-tidings-cache"), Some("miss"));
    assert_eq!(second.header("x-tidings-cache"), Some("hit"));
    assert_eq!(first.body, second.body);
    // Another server over the same content agrees byte for byte: nothing depends on the clock.
    let other = TestServer::start_with(&data("site/content"), &data("site/feeds"), Some(&server.base_url));
    assert_eq!(other.get(FEED).body, first.body);
    assert_eq!(other.get(FEED).header("etag"), first.header("etag"));
}

#[test]
fn conditional_requests() {
    let server = TestServer::start(&data("site"));
    let r = server.get(FEED);
    let etag = r.header("etag").unwrap().to_owned();
    let modified = r.header("last-modified").unwrap().to_owned();

    let not_modified = server.request("GET", FEED, &[("If-None-Match", &etag)]);
    assert_eq!(not_modified.status, 304);
    assert!(not_modified.body.is_empty());
    assert_eq!(not_modified.header("etag"), Some(etag.as_str()));
    assert_eq!(not_modified.header("last-modified"), Some(modified.as_str()));
    assert_eq!(
        not_modified.header("cache-control"),
        Some("public, max-age=300, stale-while-revalidate=60, stale-if-error=86400")
    );
    assert_eq!(not_modified.header("vary"), Some("Accept-Encoding, Accept, Sec-Fetch-Dest"));
    // The poll aggregators make all day carries what caches update and nothing else.
    // (hyper adds `date`, and `connection` for this client's one-request connections.)
    let names: Vec<&str> = not_modified.headers.iter().map(|(n, _)| n.as_str()).collect();
    let names: Vec<&str> = names.into_iter().filter(|n| !["date", "connection"].contains(n)).collect();
    assert_eq!(names, ["etag", "cache-control", "vary", "access-control-allow-origin", "last-modified"]);

    assert_eq!(server.request("GET", FEED, &[("If-None-Match", &format!("\"x\", {etag}"))]).status, 304);
    assert_eq!(server.request("GET", FEED, &[("If-None-Match", "\"stale\"")]).status, 200);
    assert_eq!(server.request("GET", FEED, &[("If-Modified-Since", &modified)]).status, 304);
    assert_eq!(server.request("GET", FEED, &[("If-Modified-Since", "Wed, 01 Jan 2025 00:00:00 GMT")]).status, 304);
    assert_eq!(server.request("GET", FEED, &[("If-Modified-Since", "Mon, 09 Feb 2015 09:00:00 GMT")]).status, 200);
    // A stale entity tag wins over a fresh date.
    let both = [("If-None-Match", "\"stale\""), ("If-Modified-Since", modified.as_str())];
    assert_eq!(server.request("GET", FEED, &both).status, 200);
}

#[test]
fn head_has_the_headers_of_get_and_no_body() {
    let server = TestServer::start(&data("site"));
    let get = server.get(FEED);
    let head = server.request("HEAD", FEED, &[]);
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    for name in ["content-type", "etag", "last-modified", "cache-control", "vary", "content-length"] {
        assert_eq!(head.header(name), get.header(name), "{name}");
    }
}

#[test]
fn unknown_feeds_and_other_methods() {
    let server = TestServer::start(&data("site"));
    for path in ["/nope", "/categories/nope/feed.rss", "/authors/nobody/feed.atom", "/feed.txt", "/tags/x/feed.rss"] {
        let r = server.get(path);
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.text().lines().count(), 1, "one line: {}", r.text());
        assert!(!r.text().contains(path.trim_start_matches('/')), "404 bodies do not echo the path: {}", r.text());
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"), "{path}");
    }
    // Issue 10, hardening: no response can be sniffed into another type; the index page says
    // what it may load and that it is not to be framed.
    for path in ["/", FEED, "/feeds.opml", "/healthz", "/metrics", "/feed.atom.html"] {
        assert_eq!(server.get(path).header("x-content-type-options"), Some("nosniff"), "{path}");
    }
    let home = server.get("/").header("content-security-policy").map(str::to_owned).unwrap_or_default();
    assert!(home.contains("default-src 'none'") && home.contains("frame-ancestors 'none'"), "{home}");
    for method in ["POST", "PUT", "DELETE"] {
        let r = server.request(method, FEED, &[("Content-Length", "0")]);
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.header("allow"), Some("GET, HEAD"));
    }
    assert_eq!(server.get("/healthz").status, 200);
}

#[test]
fn ops_endpoints_report_health_problems_and_metrics() {
    let server = TestServer::start(&data("bad"));
    assert_eq!(server.get("/readyz").status, 200);
    let report: serde_json::Value = serde_json::from_slice(&server.get("/diagnostics").body).unwrap();
    assert_eq!(report["errors"], 6);
    assert_eq!(report["diagnostics"][1]["line"], 3);
    assert_eq!(report["diagnostics"][1]["column"], 11);
    assert!(
        report["diagnostics"][1]["text"]
            .as_str()
            .unwrap()
            .ends_with("2024-01-02-broken-yaml.md:3:11: invalid YAML: unclosed bracket '['")
    );
    // Issue 10, hardening: paths relative to the content folder, never the server's own.
    for d in report["diagnostics"].as_array().unwrap() {
        let path = d["path"].as_str().unwrap();
        assert!(!path.starts_with('/') && !d["text"].as_str().unwrap().contains(env!("CARGO_MANIFEST_DIR")), "{d}");
    }
    assert_eq!(report["diagnostics"][1]["path"], "_posts/2024-01-02-broken-yaml.md");
    server.get("/feed.rss");
    server.get("/feed.rss");
    server.get("/nope");
    let metrics = server.get("/metrics");
    assert_eq!(metrics.header("content-type"), Some("text/plain; version=0.0.4; charset=utf-8"));
    let text = metrics.text();
    for line in [
        "tidings_http_requests_total{route=\"feed\",status=\"200\"} 2",
        "tidings_http_requests_total{route=\"other\",status=\"404\"} 1",
        "tidings_cache_lookups_total{result=\"hit\"} 1",
        "tidings_cache_lookups_total{result=\"miss\"} 1",
        "tidings_render_seconds_count 1",
        "tidings_posts_indexed 1",
        "tidings_diagnostics{severity=\"error\"} 6",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
    }
}

#[test]
fn compressed_twins_have_their_own_tags_and_the_same_content() {
    let server = TestServer::start(&data("site"));
    let held = || -> u64 {
        let metrics = server.get("/metrics").text();
        let line = metrics.lines().find(|l| l.starts_with("tidings_cache_bytes ")).expect("tidings_cache_bytes");
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    let plain = server.get(FEED);
    let identity_only = held();
    // Every coding's validator is known at once; its bytes are made when first asked for.
    let br_etag = plain.header("etag").unwrap().replace("\"", "").to_owned();
    let br_etag = format!("\"{br_etag}-br\"");
    let r = server.request("GET", FEED, &[("If-None-Match", &br_etag), ("Accept-Encoding", "br")]);
    assert_eq!((r.status, r.header("etag")), (304, Some(br_etag.as_str())));
    assert_eq!(held(), identity_only, "a 304 compresses nothing");
    let gzip = server.request("GET", FEED, &[("Accept-Encoding", "gzip")]);
    assert_eq!(gzip.header("content-encoding"), Some("gzip"));
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&gzip.body[..]).read_to_end(&mut unzipped).unwrap();
    assert_eq!(unzipped, plain.body);
    assert_ne!(gzip.header("etag"), plain.header("etag"));

    let br = server.request("GET", FEED, &[("Accept-Encoding", "gzip, deflate, br")]);
    assert_eq!(br.header("content-encoding"), Some("br"));
    let mut unbrotli = Vec::new();
    brotli::BrotliDecompress(&mut &br.body[..], &mut unbrotli).unwrap();
    assert_eq!(unbrotli, plain.body);
    assert_eq!(br.header("etag"), Some(br_etag.as_str()));
    assert!(held() > identity_only, "the twins made are weighed in the cache");

    let refused = server.request("GET", FEED, &[("Accept-Encoding", "br;q=0, gzip;q=0")]);
    assert_eq!(refused.header("content-encoding"), None);

    // A validator of any representation of the current content means "not modified".
    let gzip_etag = gzip.header("etag").unwrap();
    let r = server.request("GET", FEED, &[("If-None-Match", gzip_etag), ("Accept-Encoding", "gzip")]);
    assert_eq!(r.status, 304);
    assert_eq!(r.header("etag"), Some(gzip_etag));
}

#[test]
fn diagnostics_can_be_kept_from_strangers() {
    use tidings::http::{Exposure, ServerOptions};
    for (exposure, status) in [(Exposure::Off, 404), (Exposure::Local, 200), (Exposure::Public, 200)] {
        let server =
            TestServer::start_with_options(&data("bad"), ServerOptions { diagnostics: exposure, ..Default::default() });
        assert_eq!(server.get("/diagnostics").status, status, "{exposure:?}");
    }
}

/// Issue 13, polite polling: with `--min-poll-interval`, an address that is sent a feed's whole
/// body more than `BURST` times within the interval gets `429` with `Retry-After`, however it
/// names the feed or itself; `304`s and `HEAD`s never count and are never refused; other
/// addresses and other feeds have their own allowance.
#[test]
fn full_fetches_of_a_feed_are_limited_per_address_and_304s_never_are() {
    use tidings::http::polite::BURST;
    let server = TestServer::start_polite(&data("site"), Duration::from_secs(2));
    let reader = [("User-Agent", "Reader/1.0")];
    // HEADs cost nothing: they leave the whole burst.
    for _ in 0..5 {
        assert_eq!(server.request("HEAD", FEED, &reader).status, 200);
    }
    // Readers behind one address (one app, one NAT) each get their first fetch.
    let first = server.request("GET", FEED, &reader);
    assert_eq!(first.status, 200);
    for _ in 1..BURST {
        assert_eq!(server.request("GET", FEED, &reader).status, 200);
    }
    let again = server.request("GET", FEED, &reader);
    assert_eq!(again.status, 429, "{}", again.text());
    let wait: u64 = again.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&wait), "Retry-After {wait}");
    assert_eq!(again.header("cache-control"), Some("no-store"));
    assert!(again.text().contains("If-None-Match"), "says what to do instead: {}", again.text());
    // None of the old bypasses gets the body again: a validator that matches nothing, a
    // query string, the feed's old WordPress URL, another User-Agent.
    let bogus = [
        ("User-Agent", "Reader/1.0"),
        ("If-None-Match", "\"nothing\""),
        ("If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT"),
    ];
    assert_eq!(server.request("GET", FEED, &bogus).status, 429);
    assert_eq!(server.request("GET", &format!("{FEED}?utm=1"), &reader).status, 429);
    assert_eq!(server.request("GET", "/category/operations/feed/atom/", &reader).status, 429);
    assert_eq!(server.request("GET", FEED, &[("User-Agent", "Other/2.0")]).status, 429);
    // A reader that sends its validators is never refused, however often it asks.
    let etag = first.header("etag").unwrap().to_owned();
    for _ in 0..5 {
        let polite = server.request("GET", FEED, &[("User-Agent", "Reader/1.0"), ("If-None-Match", &etag)]);
        assert_eq!(polite.status, 304);
    }
    // Another feed, another address: their own allowance.
    assert_eq!(server.request("GET", "/feed.rss", &reader).status, 200);
    let other: std::net::IpAddr = "127.0.0.2".parse().unwrap();
    assert_eq!(crate::support::request_from(other, server.addr, "GET", FEED, &reader).status, 200);
    let metrics = server.get("/metrics").text();
    assert!(metrics.contains("tidings_polls_refused_total 5\n"), "{metrics}");
    // After the interval, one more full fetch.
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(server.request("GET", FEED, &reader).status, 200);
    assert_eq!(server.request("GET", FEED, &reader).status, 429);
    // Without the setting nobody is refused.
    let open = TestServer::start(&data("site"));
    for _ in 0..BURST + 2 {
        assert_eq!(open.request("GET", FEED, &reader).status, 200);
    }
}

//! Headlines for other sites: `/headlines.json`, `/embed/…` and `/embed.js`, and hostile
//! content made harmless everywhere it goes.

use crate::support::{TestServer, data, json, parse_xml};

#[test]
fn headlines_json_has_items_validators_and_cors() {
    let server = TestServer::start(&data("site"));
    let r = server.get("/headlines.json?feed=/categories/operations/feed.rss&limit=1");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json; charset=utf-8"));
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert_eq!(r.header("cache-control"), Some("public, max-age=300, stale-while-revalidate=60, stale-if-error=86400"));
    let body = json(&r.body);
    let base = &server.base_url;
    assert_eq!(body["feed"]["feed_url"], format!("{base}/categories/operations/feed.rss"));
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["title"], "Second post: queues & <pipes>");
    assert_eq!(items[0]["url"], format!("{base}/operations/2015/02/10/second-post.html"));
    assert_eq!(items[0]["date"], "2015-02-10T09:00:00+00:00");
    assert_eq!(items[0]["author"], "Ada Byron");
    assert_eq!(items[0]["summary"], "Queues are the first paragraph.");
    assert!(items[0]["image"].is_null());
    let etag = r.header("etag").unwrap();
    assert_eq!(
        server
            .request("GET", "/headlines.json?feed=/categories/operations/feed.rss&limit=1", &[("If-None-Match", etag)])
            .status,
        304
    );

    // Names work as well as paths; the default limit is 5 and the cap 50.
    assert_eq!(json(&server.get("/headlines.json?feed=operations").body)["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        json(&server.get("/headlines.json?feed=ops-weekly&limit=500").body)["items"].as_array().unwrap().len(),
        2
    );
    assert_eq!(json(&server.get("/headlines.json").body)["items"].as_array().unwrap().len(), 3);
    assert_eq!(json(&server.get("/headlines.json?feed=tim").body)["feed"]["title"], "Test Site — posts by Tim Ward");
}

#[test]
fn headlines_errors_are_clear() {
    let server = TestServer::start(&data("site"));
    for (query, status) in
        [("feed=/categories/nope/feed.rss", 404), ("feed=nope", 404), ("limit=0", 400), ("limit=many", 400)]
    {
        let r = server.get(&format!("/headlines.json?{query}"));
        assert_eq!(r.status, status, "{query}");
        assert_eq!(r.header("access-control-allow-origin"), Some("*"));
        assert!(json(&r.body)["error"].as_str().unwrap().len() > 20, "{query}");
    }
}

#[test]
fn the_embed_page_is_framable_and_strict() {
    let server = TestServer::start(&data("site"));
    let r = server.get("/embed/categories/operations/feed.rss?limit=3&images=1");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    let csp = r.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors *"), "{csp}");
    assert!(r.header("x-frame-options").is_none());
    let html = r.text();
    assert!(html.contains("Second post: queues &amp; &lt;pipes&gt;"), "{html}");
    assert!(!html.contains("<script"));
    assert_eq!(server.get("/embed/categories/nope/feed.rss").status, 404);
    assert_eq!(server.get("/embed/feed.rss?limit=-1").status, 400);

    let js = server.get("/embed.js");
    assert_eq!(js.status, 200);
    assert_eq!(js.header("content-type"), Some("text/javascript; charset=utf-8"));
    assert!(js.text().contains("data-tidings-feed"));
    assert!(!js.text().contains("innerHTML ="), "the widget never assigns innerHTML");
}

#[test]
fn hostile_content_is_text_or_gone_everywhere() {
    let server = TestServer::start(&data("hostile"));
    let title = "<img src=x onerror=alert(1)>";

    let headlines = json(&server.get("/headlines.json?feed=security").body);
    let xss = headlines["items"].as_array().unwrap().iter().find(|i| i["title"] == title).expect("title kept as text");
    assert!(xss["image"].is_null(), "a javascript: image is dropped: {xss}");
    assert!(!xss["summary"].as_str().unwrap().contains("<script"));

    let page = server.get("/embed/categories/security/feed.rss?images=1").text();
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"), "{page}");
    assert!(!page.contains("<img src=x") && !page.contains("javascript:"));

    for path in ["/feed.rss", "/feed.atom", "/feed.json", "/tags/xss/feed.rss"] {
        let text = server.get(path).text();
        if !path.ends_with(".json") {
            parse_xml(&text);
        }
        for bad in [
            "<script",
            "&lt;script",
            "onclick",
            "onerror=\"",
            "javascript:",
            "<iframe",
            "&lt;iframe",
            "<style",
            "&lt;style",
            "display: none",
        ] {
            assert!(!text.contains(bad), "{bad} in {path}:\n{text}");
        }
    }
    // The title is escaped text in RSS, never markup.
    let rss = server.get("/feed.rss").text();
    assert!(rss.contains("<title>&#x3C;img src=x onerror=alert(1)&gt;</title>"), "{rss}");
}

//! Issue 3's formats and discovery over a real socket: JSON Feed, paging, OPML, the index
//! page, images, CORS and WebSub headers, and the standards checklist for every feed.

use std::collections::BTreeSet;

use crate::support::{TestServer, data, json, parse_feed, parse_xml};

const ATOM: &str = "http://www.w3.org/2005/Atom";

#[test]
fn json_feed_has_every_field_readers_use() {
    let server = TestServer::start(&data("site"));
    let r = server.get("/feed.json");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/feed+json; charset=utf-8"));
    let feed = json(&r.body);
    let base = &server.base_url;
    assert_eq!(feed["version"], "https://jsonfeed.org/version/1.1");
    assert_eq!(feed["title"], "Test Site");
    assert_eq!(feed["home_page_url"], format!("{base}/"));
    assert_eq!(feed["feed_url"], format!("{base}/feed.json"));
    assert_eq!(feed["language"], "en-GB");
    assert_eq!(feed["hubs"][0]["type"], "WebSub");
    let items = feed["items"].as_array().unwrap();
    let titles: Vec<&str> = items.iter().map(|i| i["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Engineering notes", "Second post: queues & <pipes>", "The ops team"]);
    let notes = &items[0];
    assert_eq!(notes["id"], format!("{base}/engineering/2016/03/01/engineering-notes.html"));
    assert_eq!(notes["image"], format!("{base}/images/notes.png"));
    assert_eq!(notes["summary"], "Intro before the fold.");
    assert_eq!(notes["date_published"], "2016-03-01T00:00:00+00:00");
    assert_eq!(notes["tags"], serde_json::json!(["Engineering", "Rust", "http"]));
    assert_eq!(notes["authors"][0]["name"], "Tim Ward");
    assert!(notes["content_html"].as_str().unwrap().contains(&format!("href=\"{base}/raw/\"")));
    parse_feed(&r.body);
}

#[test]
fn pages_link_to_each_other_and_end() {
    let server = TestServer::start(&data("site"));
    let base = &server.base_url;
    let first = server.get("/feeds/ops-weekly.atom").text();
    let doc = parse_xml(&first);
    let link = |doc: &roxmltree::Document, rel: &str| {
        doc.descendants()
            .find(|n| n.has_tag_name((ATOM, "link")) && n.attribute("rel") == Some(rel))
            .and_then(|n| n.attribute("href"))
            .map(str::to_owned)
    };
    assert_eq!(link(&doc, "next"), Some(format!("{base}/feeds/ops-weekly.atom?page=2")));
    assert_eq!(link(&doc, "last"), Some(format!("{base}/feeds/ops-weekly.atom?page=2")));
    assert_eq!(link(&doc, "first"), Some(format!("{base}/feeds/ops-weekly.atom")));
    assert_eq!(link(&doc, "previous"), None);

    let second_text = server.get("/feeds/ops-weekly.rss?page=2").text();
    let second = parse_xml(&second_text);
    assert_eq!(link(&second, "self"), Some(format!("{base}/feeds/ops-weekly.rss?page=2")));
    assert_eq!(link(&second, "previous"), Some(format!("{base}/feeds/ops-weekly.rss")));
    assert_eq!(link(&second, "next"), None);
    let titles: Vec<&str> = second
        .descendants()
        .filter(|n| n.has_tag_name("item"))
        .flat_map(|i| i.children())
        .filter(|n| n.has_tag_name("title"))
        .filter_map(|n| n.text())
        .collect();
    assert_eq!(titles, ["The ops team"]);

    let json_first = json(&server.get("/feeds/ops-weekly.json").body);
    assert_eq!(json_first["next_url"], format!("{base}/feeds/ops-weekly.json?page=2"));
    assert!(json(&server.get("/feeds/ops-weekly.json?page=2").body).get("next_url").is_none());

    assert_eq!(server.get("/feeds/ops-weekly.json?page=3").status, 404);
    assert_eq!(server.get("/feed.rss?page=2").status, 404);
    for bad in ["?page=0", "?page=abc", "?page=", "?page=1&page=2"] {
        let r = server.get(&format!("/feed.rss{bad}"));
        assert_eq!(r.status, 400, "{bad}");
        assert!(r.text().starts_with("bad query"), "{}", r.text());
    }
    assert_eq!(server.get("/feed.rss?utm_source=x").status, 200);
}

#[test]
fn opml_lists_every_feed_grouped_by_kind() {
    let server = TestServer::start(&data("site"));
    let r = server.get("/feeds.opml");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    let text = r.text();
    let doc = parse_xml(&text);
    let opml = doc.root_element();
    assert_eq!((opml.tag_name().name(), opml.attribute("version")), ("opml", Some("2.0")));
    assert!(opml.children().any(|n| n.has_tag_name("head") && n.children().any(|t| t.has_tag_name("title"))));
    let body = opml.children().find(|n| n.has_tag_name("body")).unwrap();
    let groups: Vec<&str> = body.children().filter(|n| n.is_element()).filter_map(|g| g.attribute("text")).collect();
    assert_eq!(groups, ["Whole site", "Categories", "Authors", "Tags", "Curated feeds"]);
    let urls: Vec<&str> = body
        .descendants()
        .filter(|n| n.attribute("type") == Some("rss"))
        .map(|n| {
            assert!(
                n.attribute("text").is_some() && n.attribute("title").is_some() && n.attribute("htmlUrl").is_some()
            );
            n.attribute("xmlUrl").unwrap()
        })
        .collect();
    // site, operations + engineering, tim + ada, queues + rust + http, ops-weekly
    assert_eq!(urls.len(), 9, "{urls:?}");
    for url in urls {
        let path = url.strip_prefix(&server.base_url).unwrap();
        for ext in ["rss", "atom", "json"] {
            let sibling = format!("{}.{ext}", path.strip_suffix(".rss").unwrap());
            assert_eq!(server.get(&sibling).status, 200, "{sibling}");
        }
    }
}

#[test]
fn the_index_page_lists_every_feed_with_autodiscovery() {
    let server = TestServer::start(&data("site"));
    let r = server.get("/");
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    let html = r.text();
    let base = &server.base_url;
    for (mime, path) in [
        ("application/rss+xml", "/feed.rss"),
        ("application/atom+xml", "/feed.atom"),
        ("application/feed+json", "/feed.json"),
    ] {
        assert!(
            html.contains(&format!("<link rel=\"alternate\" type=\"{mime}\""))
                && html.contains(&format!("href=\"{base}{path}\"")),
            "{path}"
        );
    }
    assert!(html.contains(&format!("href=\"{base}/feeds.opml\"")));
    for path in [
        "/categories/operations/feed.json",
        "/authors/ada/feed.atom",
        "/tags/queues/feed.rss",
        "/feeds/ops-weekly.json",
    ] {
        assert!(html.contains(&format!("{base}{path}")), "{path} missing");
    }
}

#[test]
fn images_appear_in_every_format() {
    let server = TestServer::start(&data("site"));
    let image = format!("{}/images/notes.png", server.base_url);
    let rss = server.get("/categories/engineering/feed.rss").text();
    let doc = parse_xml(&rss);
    let media = "http://search.yahoo.com/mrss/";
    let content = doc.descendants().find(|n| n.has_tag_name((media, "content"))).expect("media:content");
    assert_eq!(content.attribute("url"), Some(image.as_str()));
    assert_eq!(content.attribute("type"), Some("image/png"));
    assert!(
        doc.descendants().any(|n| n.has_tag_name((media, "thumbnail")) && n.attribute("url") == Some(image.as_str()))
    );
    let atom = server.get("/categories/engineering/feed.atom").text();
    let doc = parse_xml(&atom);
    assert!(doc.descendants().any(|n| n.has_tag_name((ATOM, "link"))
        && n.attribute("rel") == Some("enclosure")
        && n.attribute("href") == Some(image.as_str())));
    // A feed with no images declares no media namespace.
    assert!(!server.get("/authors/ada/feed.rss").text().contains("xmlns:media"));
}

#[test]
fn feeds_carry_cors_and_websub_headers() {
    let server = TestServer::start(&data("site"));
    let r = server.get("/tags/rust/feed.atom?page=1");
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    let links: Vec<&str> = r.headers.iter().filter(|(n, _)| n == "link").map(|(_, v)| v.as_str()).collect();
    assert_eq!(
        links,
        ["<http://127.0.0.1:9/hub>; rel=\"hub\"", &format!("<{}/tags/rust/feed.atom>; rel=\"self\"", server.base_url)]
    );
    let doc_text = r.text();
    let doc = parse_xml(&doc_text);
    assert!(doc.descendants().any(|n| n.has_tag_name((ATOM, "link")) && n.attribute("rel") == Some("hub")));
    let rss = server.get("/feed.rss").text();
    assert!(rss.contains("<atom:link href=\"http://127.0.0.1:9/hub\" rel=\"hub\"/>"), "{rss}");
}

/// The standards checklist, for every feed and page of the test site.
#[test]
fn every_feed_meets_the_standards_checklist() {
    let server = TestServer::start(&data("site"));
    let opml_text = server.get("/feeds.opml").text();
    let opml = parse_xml(&opml_text);
    let mut paths: Vec<String> = Vec::new();
    for url in opml.descendants().filter_map(|n| n.attribute("xmlUrl")) {
        let rss = url.strip_prefix(&server.base_url).unwrap();
        let stem = rss.strip_suffix(".rss").unwrap();
        paths.extend(["rss", "atom", "json"].map(|ext| format!("{stem}.{ext}")));
    }
    paths.push("/feeds/ops-weekly.rss?page=2".into());
    paths.push("/feeds/ops-weekly.atom?page=2".into());
    paths.push("/feeds/ops-weekly.json?page=2".into());
    for path in &paths {
        let r = server.get(path);
        assert_eq!(r.status, 200, "{path}");
        let self_url = format!("{}{path}", server.base_url);
        if path.contains(".json") {
            let feed = json(&r.body);
            assert_eq!(feed["feed_url"], self_url.as_str());
            let ids: Vec<&str> =
                feed["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().expect("string id")).collect();
            assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), ids.len(), "unique ids");
            for item in feed["items"].as_array().unwrap() {
                assert_absolute_urls(item["content_html"].as_str().unwrap(), path);
            }
            continue;
        }
        let text = r.text();
        assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>"), "nothing before <?xml: {path}");
        assert!(text.chars().all(tidings::text::is_xml_char));
        let doc = parse_xml(&text);
        let root = doc.root_element();
        let self_link =
            doc.descendants().find(|n| n.has_tag_name((ATOM, "link")) && n.attribute("rel") == Some("self"));
        assert_eq!(self_link.and_then(|n| n.attribute("href")), Some(self_url.as_str()), "{path}");
        if path.contains(".rss") {
            let channel = root.children().find(|n| n.has_tag_name("channel")).unwrap();
            assert_bcp47(channel.children().find(|n| n.has_tag_name("language")).unwrap().text().unwrap());
            for item in channel.children().filter(|n| n.has_tag_name("item")) {
                let guid = item.children().find(|n| n.has_tag_name("guid")).unwrap();
                assert!(guid.text().unwrap().starts_with("http") || guid.attribute("isPermaLink") == Some("false"));
                let date = item.children().find(|n| n.has_tag_name("pubDate")).unwrap().text().unwrap();
                assert!(
                    chrono::DateTime::parse_from_rfc2822(date).is_ok()
                        && date.ends_with(" +0000")
                        && date.split(' ').nth(3).unwrap().len() == 4,
                    "{date}"
                );
                let names: Vec<&str> =
                    item.children().filter(|n| n.is_element()).map(|n| n.tag_name().name()).collect();
                let description = names.iter().position(|n| *n == "description").unwrap();
                let encoded = names.iter().position(|n| *n == "encoded").unwrap();
                assert!(description < encoded, "description before content:encoded");
                for html in
                    item.children().filter(|n| n.has_tag_name("description") || n.tag_name().name() == "encoded")
                {
                    assert_absolute_urls(html.text().unwrap(), path);
                }
            }
        } else {
            assert_bcp47(root.attribute(("http://www.w3.org/XML/1998/namespace", "lang")).unwrap());
            for node in std::iter::once(root).chain(root.children().filter(|n| n.has_tag_name((ATOM, "entry")))) {
                for required in ["id", "title", "updated"] {
                    assert!(node.children().any(|n| n.has_tag_name((ATOM, required))), "{required} in {path}");
                }
                assert!(node.children().any(|n| n.has_tag_name((ATOM, "author"))) || node == root);
                for html in
                    node.children().filter(|n| n.has_tag_name((ATOM, "summary")) || n.has_tag_name((ATOM, "content")))
                {
                    assert_absolute_urls(html.text().unwrap(), path);
                }
            }
        }
    }
}

fn assert_bcp47(tag: &str) {
    assert!(
        !tag.contains('_') && tag.split('-').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric())),
        "{tag}"
    );
}

/// Every `href` and `src` in `html` is an absolute URL.
fn assert_absolute_urls(html: &str, path: &str) {
    for attr in ["href=\"", "src=\""] {
        for (i, _) in html.match_indices(attr) {
            let value = &html[i + attr.len()..];
            let value = &value[..value.find('"').unwrap()];
            assert!(
                value.starts_with("http://") || value.starts_with("https://") || value.starts_with("mailto:"),
                "relative URL {value:?} in {path}"
            );
        }
    }
}

/// Issue 13, polite polling: RSS says how often to poll, from the freshness the server sends
/// (`max_age`, 300 s on the sample site): `<ttl>` in minutes and the syndication module's
/// period and frequency, in the namespace aggregators read.
#[test]
fn rss_says_how_often_to_poll() {
    let server = TestServer::start(&data("site"));
    let response = server.get("/categories/operations/feed.rss");
    assert_eq!(response.header("cache-control").map(|c| c.starts_with("public, max-age=300,")), Some(true));
    let text = response.text();
    let doc = parse_xml(&text);
    let channel = doc.descendants().find(|n| n.has_tag_name("channel")).unwrap();
    let child = |ns: &str, name: &str| {
        channel.children().find(|n| n.tag_name().name() == name && n.tag_name().namespace().unwrap_or("") == ns)
    };
    assert_eq!(child("", "ttl").and_then(|n| n.text()), Some("5"));
    let sy = "http://purl.org/rss/1.0/modules/syndication/";
    assert_eq!(child(sy, "updatePeriod").and_then(|n| n.text()), Some("hourly"));
    assert_eq!(child(sy, "updateFrequency").and_then(|n| n.text()), Some("12"));
    // Counted from the newest change (Last-Modified), not the module's 1970, "implausible" to W3C.
    assert_eq!(child(sy, "updateBase").and_then(|n| n.text()), Some("2015-02-10T09:00:00+00:00"));
}

#[test]
fn an_empty_post_has_no_blank_summary_or_content_in_atom() {
    // Issue 27, item 13: `<summary type="html"></summary>` fails the W3C validator
    // ("summary should not be blank").
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("content")).unwrap();
    std::fs::create_dir_all(dir.path().join("feeds")).unwrap();
    std::fs::write(dir.path().join("content/empty.md"), "---\ntitle: Empty\ndate: 2024-01-01\n---\n").unwrap();
    std::fs::write(dir.path().join("content/full.md"), "---\ntitle: Full\ndate: 2024-01-02\n---\nWords.\n").unwrap();
    let server = TestServer::start(dir.path());
    let atom = server.get("/feed.atom").text();
    let doc = parse_xml(&atom);
    let entries: Vec<_> = doc.descendants().filter(|n| n.has_tag_name((ATOM, "entry"))).collect();
    assert_eq!(entries.len(), 2);
    for entry in entries {
        for element in ["summary", "content"] {
            for node in entry.children().filter(|n| n.has_tag_name((ATOM, element))) {
                assert!(!node.text().unwrap_or("").trim().is_empty(), "a blank {element}: {atom}");
            }
        }
    }
    assert!(atom.contains("Words."), "{atom}");
}

#[test]
fn a_feeds_browser_page_names_its_format_once_and_says_which_posts_it_shows() {
    // Issue 28, item 11: the badge read "JSON FEED FEED", and the first page of a paged feed
    // said "20 posts, newest first" for a feed of 89.
    let server = TestServer::start(&data("site"));
    let browser = [("Sec-Fetch-Dest", "document"), ("Accept", "text/html")];
    let json = server.request("GET", "/feed.json", &browser).text();
    assert!(json.contains("<p class=\"kind\">JSON Feed</p>") && !json.contains("JSON Feed feed"), "{json}");
    let atom = server.request("GET", "/feed.atom", &browser).text();
    assert!(atom.contains("<p class=\"kind\">Atom feed</p>"), "{atom}");
    let paged = server.request("GET", "/feeds/ops-weekly.atom", &browser).text();
    let count = paged.lines().find(|l| l.contains("class=\"count\"")).unwrap_or_default();
    assert!(count.contains("newest of") && count.contains("rel=\"next\""), "{count}");
}

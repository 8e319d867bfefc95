//! The seed-shaped post (tests/data/site/content/_posts/this-is-operations.md) through the
//! whole pipeline over a real socket.

use crate::support::{TestServer, copy_tree, data, parse_feed, parse_xml};

const POST_URL: &str = "/operations/2014/12/03/this-is-operations.html";

#[test]
fn the_ops_team_post_is_right_in_every_feed_it_belongs_to() {
    let server = TestServer::start(&data("site"));
    let base = &server.base_url;
    for path in ["/categories/operations/feed.rss", "/authors/tim/feed.rss", "/feed.rss"] {
        let response = server.get(path);
        assert_eq!(response.status, 200, "{path}");
        let xml = response.text();
        let doc = parse_xml(&xml);
        let item = doc
            .descendants()
            .find(|n| n.has_tag_name("item") && child_text(*n, "title") == Some("The ops team"))
            .unwrap_or_else(|| panic!("{path} lacks the post:\n{xml}"));
        assert_eq!(child_text(item, "link"), Some(format!("{base}{POST_URL}").as_str()));
        assert_eq!(child_text(item, "guid"), Some(format!("{base}{POST_URL}").as_str()));
        assert_eq!(child_text(item, "pubDate"), Some("Wed, 03 Dec 2014 00:00:00 +0000"));
        assert_eq!(child_text(item, "author"), Some("tim@example.com (Tim Ward)"));
        assert_eq!(child_text(item, "category"), Some("Operations"));
        let summary = child_text(item, "description").unwrap();
        assert!(summary.starts_with("<p>Hi, I’m Tim, and I keep the servers humming."), "{summary}");
        let content = item.children().find(|n| n.tag_name().name() == "encoded").unwrap().text().unwrap();
        assert!(
            content.contains("Lights on in the night<br />\npagers resting on the desk<br />\nthe deploy went fine")
        );
        assert!(content.contains(&format!(r#"src="{base}/images/blog/operations/rack.jpg""#)), "{content}");
        assert!(content.contains(&format!(r#"href="{base}/about/""#)));
        assert!(content.contains("“robust”"));
    }
    for path in ["/categories/operations/feed.atom", "/authors/tim/feed.atom"] {
        let response = server.get(path);
        assert_eq!(response.status, 200, "{path}");
        let feed = parse_feed(&response.body);
        let entry = feed.entries.iter().find(|e| e.title.as_ref().unwrap().content == "The ops team").unwrap();
        assert_eq!(entry.published.unwrap().to_rfc3339(), "2014-12-03T00:00:00+00:00");
        assert_eq!(entry.links[0].href, format!("{base}{POST_URL}"));
        assert_eq!(entry.authors[0].name.as_deref(), Some("Tim Ward"));
        assert!(entry.summary.as_ref().unwrap().content.contains("Hi, I’m Tim"));
        let body = entry.content.as_ref().unwrap().body.as_ref().unwrap();
        assert!(body.contains("<br />") && body.contains(&format!("{base}/images/blog/operations/rack.jpg")));
    }
}

fn child_text<'a>(node: roxmltree::Node<'a, 'a>, name: &str) -> Option<&'a str> {
    node.children().find(|n| n.has_tag_name(name)).and_then(|n| n.text())
}

#[test]
fn future_posts_and_unpublished_posts_stay_out() {
    // The future post is dated a year after the clock the server runs on, so the fixture never
    // expires (one dated 2030 would have appeared in 2030).
    let dir = tempfile::tempdir().unwrap();
    let content = dir.path().join("content");
    copy_tree(&data("site"), dir.path());
    let next_year = (chrono::Utc::now() + chrono::Duration::days(366)).format("%Y-%m-%d");
    std::fs::write(
        content.join(format!("_posts/{next_year}-future.md")),
        "---\ntitle: From the future\ncategory: Operations\nauthor: tim\n---\n\nNot yet.\n",
    )
    .unwrap();
    let server = TestServer::start(dir.path());
    let feed = parse_feed(&server.get("/feed.atom").body);
    let titles: Vec<&str> = feed.entries.iter().map(|e| e.title.as_ref().unwrap().content.as_str()).collect();
    assert!(titles.contains(&"The ops team"), "the feed has its posts: {titles:?}");
    assert!(!titles.contains(&"From the future") && !titles.contains(&"Not published"), "{titles:?}");
}

#[test]
fn both_spellings_of_a_category_are_one_feed() {
    let server = TestServer::start(&data("site"));
    let feed = parse_feed(&server.get("/categories/operations/feed.atom").body);
    let titles: Vec<_> = feed.entries.iter().map(|e| e.title.as_ref().unwrap().content.as_str()).collect();
    assert_eq!(titles, ["Second post: queues & <pipes>", "The ops team"]);
    let xml = server.get("/categories/operations/feed.rss").text();
    assert!(!xml.contains("<category>operations</category>"), "one display name per category");
}

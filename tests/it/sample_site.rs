//! Every feed of the sample site in `content/` and `feeds/`, read by a strict XML parser and
//! by feed-rs, with the expected items in order.

use tidings::content::{self, Sources};
use tidings::feed::{self, Format};
use tidings::index::Index;

use crate::support::{TestServer, parse_feed, parse_xml, root};

#[test]
fn every_sample_feed_parses_with_its_items_newest_first() {
    let server = TestServer::start_with(&root("content"), &root("feeds"), None);
    let sources = Sources {
        content_dir: root("content"),
        feeds_dir: root("feeds"),
        drafts: false,
        base_url: Some(server.base_url.clone()),
        max_post_bytes: tidings::content::MAX_POST_BYTES,
        render_budget: tidings::content::RENDER_BUDGET,
        cache_bytes: tidings::store::DEFAULT_BUDGET,
        own_hub: None,
    };
    let site = content::load(&sources).unwrap();
    assert!(site.diagnostics.is_empty(), "the sample site has problems: {:?}", site.diagnostics);
    let index = Index::build(&site.posts, site.bodies.clone(), chrono::Utc::now(), 1);
    assert!(index.categories.len() >= 3 && index.authors.len() >= 3, "sample site too small");
    let keys = feed::all_keys(&index);
    for key in &keys {
        let path = key.path();
        let response = server.get(&path);
        assert_eq!(response.status, 200, "{path}");
        let text = response.text();
        let expected = expected_titles(&index, key);
        let parsed = parse_feed(&response.body);
        let titles: Vec<String> = parsed.entries.iter().map(|e| e.title.clone().unwrap().content).collect();
        assert_eq!(titles, expected, "{path}");
        let self_link = format!("{}{path}", server.base_url);
        match key.format {
            Format::Json => {
                let json: serde_json::Value = serde_json::from_str(&text).unwrap();
                assert_eq!(json["feed_url"], self_link.as_str(), "{path}");
                assert_eq!(json["version"], "https://jsonfeed.org/version/1.1");
            }
            Format::Rss => {
                let doc = parse_xml(&text);
                assert_eq!(doc.root_element().tag_name().name(), "rss");
                let atom_self = doc.descendants().find(|n| n.has_tag_name(("http://www.w3.org/2005/Atom", "link")));
                assert_eq!(atom_self.and_then(|n| n.attribute("href")), Some(self_link.as_str()), "{path}");
            }
            Format::Atom => {
                let doc = parse_xml(&text);
                assert_eq!(doc.root_element().tag_name().name(), "feed");
                assert!(parsed.links.iter().any(|l| l.rel.as_deref() == Some("self") && l.href == self_link));
            }
        }
    }
    assert!(keys.len() >= 3 * (1 + 3 + 3), "{} feeds", keys.len());
}

/// The titles the feed should hold, checked to be newest first.
fn expected_titles(index: &Index, key: &feed::FeedKey) -> Vec<String> {
    let model = feed::model::FeedModel::build(index, key).unwrap();
    assert!(!model.items.is_empty());
    assert!(model.items.windows(2).all(|w| w[0].published >= w[1].published), "newest first");
    model.items.iter().map(|i| i.title.clone()).collect()
}

#[test]
fn drafts_appear_only_when_asked_for() {
    let load = |drafts| {
        let sources = Sources {
            content_dir: root("content"),
            feeds_dir: root("feeds"),
            drafts,
            base_url: None,
            max_post_bytes: tidings::content::MAX_POST_BYTES,
            render_budget: tidings::content::RENDER_BUDGET,
            cache_bytes: tidings::store::DEFAULT_BUDGET,
            own_hub: None,
        };
        content::load(&sources).unwrap().posts.len()
    };
    assert_eq!(load(true), load(false) + 1);
}

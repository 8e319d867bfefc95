//! Whatever characters a post holds (`&`, `<`, `]]>`, C0 controls, U+FFFE, emoji,
//! right-to-left text), every feed stays well-formed and the text survives.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use proptest::prelude::*;
use tidings::config::SiteConfig;
use tidings::content::{Parsed, PostFile, parse_post};
use tidings::feed::{self, FeedKey, Format, Scope};
use tidings::index::Index;
use tidings::text::{squash_whitespace, xml_safe};

use crate::support::{parse_feed, parse_xml};

/// Renders a one-post site whose post has `title` and `body`; returns the RSS and Atom text.
fn feeds_for(title: &str, body: &str) -> Vec<String> {
    let title_yaml = yaml_quoted(title);
    let text = format!("---\ntitle: {title_yaml}\ncategory: Ops\nauthor: {title_yaml}\n---\n{body}");
    let file = PostFile { relative: PathBuf::from("_posts/2024-01-01-x.md"), draft: false };
    let config = SiteConfig { base_url: "https://x.example".into(), ..SiteConfig::default() };
    let post = match parse_post(&text, &file, Path::new("x.md"), &config) {
        Ok(Parsed::Post(post, _)) => post,
        other => panic!("post does not load: {other:?}\n{text}"),
    };
    let index = Index::build(&[post], tidings::content::BodySource::detached(Arc::new(config)), chrono::Utc::now(), 1);
    Format::ALL
        .iter()
        .flat_map(|&format| [Scope::Site, Scope::Category("ops".into())].map(|scope| FeedKey::new(scope, format)))
        .map(|key| String::from_utf8(feed::render(&index, &key).unwrap().bytes).unwrap())
        .collect()
}

/// `s` as a YAML double-quoted scalar, with every character YAML does not allow raw in a
/// file (controls, U+FFFE, U+FFFF) written as an escape, the way an editor would save it.
fn yaml_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() || c == '\u{feff}' || c == '\u{fffe}' || c == '\u{ffff}' => {
                out.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn check(title: &str, body: &str) {
    for xml in feeds_for(title, body) {
        if xml.starts_with('{') {
            let json: serde_json::Value = serde_json::from_str(&xml).expect("JSON Feed parses");
            assert_eq!(json["items"][0]["title"], squash_whitespace(&xml_safe(title)));
            continue;
        }
        let doc = parse_xml(&xml);
        let expected = squash_whitespace(&xml_safe(title));
        if !expected.is_empty() {
            let titles: Vec<&str> = doc
                .descendants()
                .filter(|n| {
                    n.has_tag_name("title")
                        && n.parent().is_some_and(|p| p.has_tag_name("item") || p.has_tag_name("entry"))
                })
                .filter_map(|n| n.text())
                .collect();
            assert_eq!(titles, [expected.as_str()], "{xml}");
        }
        parse_feed(xml.as_bytes());
    }
}

#[test]
fn hostile_characters_give_well_formed_feeds() {
    check(
        "Tom & Jerry <script>alert(1)</script> ]]> \u{1}\u{8}\u{b}\u{1f}\u{fffe}\u{ffff} 🎉 שלום עולם",
        "Body with ]]> and <![CDATA[ and \u{0}\u{7}\u{fffe} and `]]>` and &amp; & <b>bold</b> مرحبا 👍\n",
    );
    check("<![CDATA[", "]]>]]>]]>");
}

fn hostile_text() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("&".to_owned()),
        Just("<".to_owned()),
        Just(">".to_owned()),
        Just("]]>".to_owned()),
        Just("<![CDATA[".to_owned()),
        Just("\"'".to_owned()),
        (0u32..0x20).prop_map(|c| char::from_u32(c).unwrap().to_string()),
        Just("\u{fffe}\u{ffff}".to_owned()),
        Just("🎉".to_owned()),
        Just("\u{202e}עברית".to_owned()),
        "[a-z ]{1,8}",
        any::<char>().prop_map(|c| c.to_string()),
    ];
    prop::collection::vec(pieces, 1..12).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_title_and_body_give_well_formed_feeds(title in hostile_text(), body in hostile_text()) {
        // A title of nothing but forbidden characters is (rightly) an error, so start with a letter.
        check(&format!("T{title}"), &body);
    }
}

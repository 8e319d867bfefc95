//! Property tests standing in for fuzzing (many cases, bounded time): whatever bytes a post
//! holds, loading never panics, and every feed stays well-formed; plus the odd files a
//! content folder can hold (device files, symlink loops, oversized files).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use proptest::prelude::*;
use tidings::config::SiteConfig;
use tidings::content::{Parsed, PostFile, parse_post};
use tidings::feed::{self, FeedKey, Format, Scope};
use tidings::index::Index;
use tidings::markdown;

use crate::support::{TestServer, parse_xml};

fn config() -> SiteConfig {
    SiteConfig { base_url: "https://x.example".into(), ..SiteConfig::default() }
}

/// Loads `text` as a post; if it loads, renders every format and checks each parses.
fn load_and_render(text: &str) {
    let file = PostFile { relative: PathBuf::from("_posts/2024-01-01-x.md"), draft: false };
    let Ok(Parsed::Post(post, _)) = parse_post(text, &file, Path::new("x.md"), &config()) else { return };
    let index =
        Index::build(&[post], tidings::content::BodySource::detached(Arc::new(config())), chrono::Utc::now(), 1);
    for format in Format::ALL {
        let bytes = feed::render(&index, &FeedKey::new(Scope::Site, format)).unwrap().bytes;
        let text = String::from_utf8(bytes).unwrap();
        match format {
            Format::Json => drop(serde_json::from_str::<serde_json::Value>(&text).unwrap()),
            _ => drop(parse_xml(&text)),
        }
    }
}

/// Front matter made of the keys tidings reads, with values of every YAML shape.
fn front_matter() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec![
        "title",
        "date",
        "updated",
        "category",
        "categories",
        "tags",
        "tag",
        "author",
        "authors",
        "permalink",
        "summary",
        "excerpt",
        "image",
        "draft",
        "published",
        "lang",
        "id",
        "other",
    ]);
    let value = prop_oneof![
        Just("".to_owned()),
        Just("~".to_owned()),
        Just("[a, b]".to_owned()),
        Just("{x: 1}".to_owned()),
        Just("yes".to_owned()),
        Just("2024-02-30".to_owned()),
        Just("2024-01-01 10:00:00 +0200".to_owned()),
        Just("/:categories/:year/:title.html".to_owned()),
        Just("\"quoted \\u0001 \\\\ text\"".to_owned()),
        Just("|\n  block\n  text".to_owned()),
        Just("&a anchor".to_owned()),
        Just("*a".to_owned()),
        Just("!!binary aGk=".to_owned()),
        "[ -~]{0,20}",
        any::<i64>().prop_map(|n| n.to_string()),
    ];
    prop::collection::vec((key, value), 0..8)
        .prop_map(|pairs| pairs.into_iter().map(|(k, v)| format!("{k}: {v}\n")).collect::<String>())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn any_front_matter_loads_or_is_a_diagnostic(yaml in front_matter(), body in "(?s).{0,200}") {
        load_and_render(&format!("---\ntitle: T\n{yaml}---\n{body}"));
        load_and_render(&format!("---\n{yaml}---\n{body}"));
    }

    #[test]
    fn any_bytes_as_a_post_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        load_and_render(&text);
        load_and_render(&format!("---\ntitle: x\n---\n{text}"));
    }

    #[test]
    fn any_markdown_renders_balanced_html(body in "(?s)([*_`>#\\[\\]()!<>&|~-]|[a-z ]|\n|<!--more-->|\\[\\^1\\]|\u{0}|\u{fffe}){0,120}") {
        let base = url::Url::parse("https://x.example/a/b.html").unwrap();
        let rendered = markdown::render(&body, None, "<!--more-->", &base);
        prop_assert!(rendered.summary_text.chars().count() <= markdown::PLAIN_SUMMARY_CHARS + 1);
        for html in [&rendered.content_html, &rendered.summary_html] {
            if let Err(problem) = balanced(html) {
                prop_assert!(false, "{problem} in {html:?}");
            }
        }
        load_and_render(&format!("---\ntitle: x\n---\n{body}"));
    }
}

/// Checks that every element opened in `html` is closed, in order (void elements need no
/// end tag). Comments are skipped; text may hold no raw `<` (it would be escaped).
fn balanced(html: &str) -> Result<(), String> {
    const VOID: &[&str] =
        &["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"];
    let mut open: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        if let Some(comment) = rest.strip_prefix("!--") {
            rest = &comment[comment.find("-->").ok_or("an unclosed comment")? + 3..];
            continue;
        }
        let end = rest.find('>').ok_or("a tag without `>`")?;
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if name.is_empty() {
            return Err(format!("a raw `<` in text: <{tag}>"));
        }
        if closing {
            match open.pop() {
                Some(top) if top == name => {}
                other => return Err(format!("</{name}> closes {other:?}")),
            }
        } else if !VOID.contains(&name.as_str()) && !tag.ends_with('/') {
            open.push(name);
        }
    }
    if open.is_empty() { Ok(()) } else { Err(format!("never closed: {open:?}")) }
}

#[test]
fn the_balance_check_can_fail() {
    assert!(balanced("<p>a<em>b</em><br />c</p><!-- x -->").is_ok());
    assert!(balanced("<p>a<em>b</p></em>").is_err());
    assert!(balanced("<div><p>x</p>").is_err());
}

#[test]
fn odd_files_in_the_content_folder_are_diagnostics_not_hangs() {
    let dir = tempfile::tempdir().unwrap();
    let posts = dir.path().join("content/_posts");
    std::fs::create_dir_all(&posts).unwrap();
    std::fs::create_dir_all(dir.path().join("feeds")).unwrap();
    std::fs::write(posts.join("2024-01-01-good.md"), "---\ntitle: Good\n---\nOk.\n").unwrap();
    // A named pipe: opening it for reading would block forever.
    assert!(Command::new("mkfifo").arg(posts.join("2024-01-02-pipe.md")).status().unwrap().success());
    // A symlink loop.
    std::os::unix::fs::symlink(dir.path().join("content"), posts.join("loop")).unwrap();
    // Too big, and front matter that never ends.
    std::fs::write(posts.join("2024-01-03-huge.md"), format!("---\ntitle: Huge\n---\n{}", "x".repeat(5 << 20)))
        .unwrap();
    std::fs::write(posts.join("2024-01-04-endless.md"), format!("---\ntitle: E\n{}", "k: v\n".repeat(20_000))).unwrap();
    std::fs::write(posts.join("2024-01-05-fm.md"), format!("---\ntitle: F\nx: \"{}\"\n---\n", "y".repeat(70_000)))
        .unwrap();

    let output = Command::new(env!("CARGO_BIN_EXE_tidings"))
        .args(["check", "--content"])
        .arg(dir.path().join("content"))
        .arg("--feeds")
        .arg(dir.path().join("feeds"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    for expected in [
        "2024-01-02-pipe.md: not a regular file",
        "loop: symbolic link loop",
        "2024-01-03-huge.md: file is 5242900 bytes, over the 4194304-byte limit",
        "2024-01-04-endless.md:1:1: front matter is not closed",
        "2024-01-05-fm.md:1:1: front matter is 70015 bytes, over the 65536-byte limit",
    ] {
        assert!(stdout.contains(expected), "{expected} missing in:\n{stdout}");
    }
    assert!(stdout.ends_with("in 1 post\n"), "{stdout}");
    let server = TestServer::start(dir.path());
    assert!(server.get("/feed.rss").text().contains("<title>Good</title>"));
}

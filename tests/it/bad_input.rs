//! One fixture per kind of bad input (tests/data/bad): `check` prints exactly the expected
//! diagnostics and exits 1, and the good post is still served.

use std::process::Command;

use crate::support::{TestServer, data, parse_feed};

fn tidings(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tidings"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run tidings")
}

#[test]
fn check_prints_every_problem_with_its_position_and_exits_1() {
    let output = tidings(&["check", "--content", "tests/data/bad/content", "--feeds", "tests/data/bad/feeds"]);
    let expected = std::fs::read_to_string(data("bad/check.expected")).unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout), expected);
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn check_of_a_clean_site_exits_0() {
    let output = tidings(&["check", "--content", "tests/data/site/content", "--feeds", "tests/data/site/feeds"]);
    assert_eq!(String::from_utf8_lossy(&output.stdout), "check: 0 errors, 0 warnings in 3 posts\n");
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn usage_and_configuration_failures_exit_2() {
    let missing = tidings(&["check", "--content", "tests/data/no-such-folder", "--feeds", "tests/data/site/feeds"]);
    assert_eq!(missing.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&missing.stderr),
        "error: tests/data/no-such-folder: content folder not found: create it or pass `--content DIR`\n"
    );
    // Issue 28, item 12: `--port` is answered with the flag that does it.
    let port = tidings(&["serve", "--port", "8095"]);
    assert_eq!(port.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&port.stderr).contains("use --addr 127.0.0.1:8095"));
    // Issue 28, item 15: a file given as the content folder is said to be one.
    let file = tidings(&["check", "--content", "README.md"]);
    assert_eq!(file.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&file.stderr)
            .starts_with("error: README.md: is a file, not a folder: `--content` wants"),
        "{}",
        String::from_utf8_lossy(&file.stderr)
    );
    // Issue 10: a mistyped feeds folder is an error, not a site without its configuration.
    let typo = tidings(&["check", "--content", "tests/data/site/content", "--feeds", "tests/data/site/feedz"]);
    assert_eq!(typo.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&typo.stderr).starts_with("error: tests/data/site/feedz: feeds folder not found"),
        "{}",
        String::from_utf8_lossy(&typo.stderr)
    );
    let bad_url = tidings(&[
        "check",
        "--content",
        "tests/data/site/content",
        "--feeds",
        "tests/data/site/feeds",
        "--base-url",
        "nope",
    ]);
    assert_eq!(bad_url.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad_url.stderr)
            .starts_with("error: --base-url: `base_url`: \"nope\" is not an absolute URL")
    );
    assert_eq!(tidings(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn one_bad_post_never_takes_a_feed_down() {
    let server = TestServer::start(&data("bad"));
    for path in ["/feed.atom", "/categories/operations/feed.atom"] {
        let response = server.get(path);
        assert_eq!(response.status, 200, "{path}");
        let feed = parse_feed(&response.body);
        let titles: Vec<_> = feed.entries.iter().map(|e| e.title.clone().unwrap().content).collect();
        assert_eq!(titles, ["The good one"], "{path}");
    }
}

/// Issue 26, item 1: a body render that panicked aborted the whole server (rayon aborts on a
/// panic in a spawned job). Now the post is reported and shown without its body, as for any
/// body that cannot be rendered, and the server goes on answering.
#[test]
fn a_body_render_that_panics_is_reported_and_the_server_keeps_serving() {
    let site = tempfile::tempdir().unwrap();
    let (content, feeds) = (site.path().join("content/_posts"), site.path().join("feeds"));
    std::fs::create_dir_all(&content).unwrap();
    std::fs::create_dir_all(&feeds).unwrap();
    std::fs::write(content.join("2020-01-01-fine.md"), "---\ntitle: Fine\n---\nA fine body.\n").unwrap();
    let panics = format!("---\ntitle: Panics\n---\n{}\n", tidings::content::body::PANIC_FOR_TESTS);
    std::fs::write(content.join("2020-01-02-panics.md"), panics).unwrap();
    let server = TestServer::start_with(&site.path().join("content"), &feeds, None);

    let response = server.get("/feed.atom");
    assert_eq!(response.status, 200);
    let feed = parse_feed(&response.body);
    let body = |title: &str| {
        let entry = feed.entries.iter().find(|e| e.title.as_ref().is_some_and(|t| t.content == title)).unwrap();
        entry.content.as_ref().and_then(|c| c.body.clone()).unwrap_or_default()
    };
    assert!(body("Fine").contains("A fine body."));
    assert_eq!(body("Panics"), "", "shown without its body");
    let diagnostics = server.get("/diagnostics").text();
    assert!(
        diagnostics.contains("2020-01-02-panics.md: its body cannot be shown (rendering it panicked: "),
        "{diagnostics}"
    );
    // Still serving, the same feed and others.
    assert_eq!(server.get("/feed.rss").status, 200);
    assert_eq!(server.get("/feed.atom").status, 200);
}

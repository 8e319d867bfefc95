//! `tidings build`: every document `serve` sends, byte for byte, with gzip and brotli twins,
//! at paths that mirror the URLs.

use std::io::Read;
use std::process::Command;

use crate::support::{TestServer, data};

#[test]
fn the_static_export_has_the_bytes_serve_sends() {
    let server = TestServer::start(&data("site"));
    let out = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_tidings"))
        .args(["build", "--content", "tests/data/site/content", "--feeds", "tests/data/site/feeds"])
        .args(["--base-url", &server.base_url, "--out"])
        .arg(out.path())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let summary = String::from_utf8_lossy(&output.stdout);
    assert!(
        summary.starts_with("build: ") && summary.contains(" documents, ") && summary.contains(" bytes in "),
        "{summary}"
    );

    let mut checked = 0;
    for (url, file) in [
        ("/", "index.html"),
        ("/feeds.opml", "feeds.opml"),
        ("/feed.atom.html", "feed.atom.html"),
        ("/categories/operations/feed.rss.html", "categories/operations/feed.rss.html"),
        ("/feed.rss", "feed.rss"),
        ("/feed.json", "feed.json"),
        ("/categories/operations/feed.atom", "categories/operations/feed.atom"),
        ("/authors/ada/feed.rss", "authors/ada/feed.rss"),
        ("/tags/rust/feed.json", "tags/rust/feed.json"),
        ("/feeds/ops-weekly.atom", "feeds/ops-weekly.atom"),
        ("/feeds/ops-weekly.atom?page=2", "feeds/page/2/ops-weekly.atom"),
        ("/feeds/ops-weekly.json?page=2", "feeds/page/2/ops-weekly.json"),
    ] {
        let served = server.get(url).body;
        let written = std::fs::read(out.path().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(written, served, "{url} vs {file}");
        let gz = std::fs::read(out.path().join(format!("{file}.gz"))).unwrap();
        let mut unzipped = Vec::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut unzipped).unwrap();
        assert_eq!(unzipped, served, "{file}.gz");
        let br = std::fs::read(out.path().join(format!("{file}.br"))).unwrap();
        assert_eq!(br, server.request("GET", url, &[("Accept-Encoding", "br")]).body, "{file}.br");
        checked += 1;
    }
    assert_eq!(checked, 12);
    assert!(!out.path().join("feeds/page/3").exists(), "no page past the end");
}

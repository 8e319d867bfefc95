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

/// `build --upload` checks its settings before building: without credentials nothing is
/// written and the one line says what is missing.
#[test]
#[cfg(feature = "s3")]
fn an_upload_without_credentials_stops_before_building() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("site");
    let output = Command::new(env!("CARGO_BIN_EXE_tidings"))
        .args(["build", "--content", "tests/data/site/content", "--feeds", "tests/data/site/feeds", "--out"])
        .arg(&out)
        .args(["--upload", "s3://feeds/site", "--s3-endpoint", "http://127.0.0.1:9"])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: --upload needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment\n"
    );
    assert!(!out.exists(), "nothing is built");
}

#[test]
#[cfg(feature = "s3")]
fn an_upload_destination_must_be_an_s3_url() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_tidings"))
        .args(["build", "--out"])
        .arg(dir.path())
        .args(["--upload", "https://feeds.example/site"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("s3://BUCKET or s3://BUCKET/PREFIX"), "{stderr}");
}

#[test]
fn configured_feed_paths_never_lead_out_of_the_export() {
    // Issue 25, finding 6: `feed.path: ../../…` wrote post text into files anywhere.
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    std::fs::create_dir_all(site.join("_posts")).unwrap();
    std::fs::write(
        site.join("_config.yml"),
        "title: T\nurl: https://example.com\nfeed:\n  path: ../../escaped.xml\n  tags:\n    path: /x/%2E%2E/../../t/\n",
    )
    .unwrap();
    std::fs::write(site.join("_posts/2024-01-01-a.md"), "---\ntitle: A\ntags: [x]\n---\nA\n").unwrap();
    let out = dir.path().join("a/b/out");
    let output = Command::new(env!("CARGO_BIN_EXE_tidings"))
        .args(["build", "--content"])
        .arg(&site)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!dir.path().join("escaped.xml").exists() && !dir.path().join("a/escaped.xml").exists());
    let mut outside = Vec::new();
    for entry in walkdir::WalkDir::new(dir.path()).into_iter().filter_map(Result::ok) {
        let path = entry.path();
        if entry.file_type().is_file() && !path.starts_with(&out) && !path.starts_with(&site) {
            outside.push(path.to_path_buf());
        }
    }
    assert!(outside.is_empty(), "written outside the export: {outside:?}");
    // The default path is used instead, with a warning.
    assert!(out.join("feed.xml").exists());
    let said = format!("{}{stderr}", String::from_utf8_lossy(&output.stdout));
    assert!(said.contains("`feed.path`: \"../../escaped.xml\" has a `.` or `..` segment"), "{said}");
}

/// Runs `tidings build` of `content` (with `feeds`) into `out`; its summary line.
fn build(content: &std::path::Path, feeds: &std::path::Path, out: &std::path::Path) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_tidings"))
        .arg("build")
        .arg("--content")
        .arg(content)
        .arg("--feeds")
        .arg(feeds)
        .args(["--base-url", "https://example.com", "--out"])
        .arg(out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Every file under `dir` with its time.
fn times(dir: &std::path::Path) -> std::collections::BTreeMap<std::path::PathBuf, std::time::SystemTime> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| (e.path().to_path_buf(), e.metadata().unwrap().modified().unwrap()))
        .collect()
}

#[test]
fn a_rebuild_touches_only_what_changed_and_removes_what_went() {
    // Issue 28, items 3 and 4: every build rewrote every file (so nginx's ETag and
    // Last-Modified changed on every deploy), and a tag that went kept its feeds.
    let dir = tempfile::tempdir().unwrap();
    crate::support::copy_tree(&data("site"), dir.path());
    let (content, feeds, out) = (dir.path().join("content"), dir.path().join("feeds"), dir.path().join("out"));
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("robots.txt"), "not the export's").unwrap();
    let post = content.join("_posts/2099-01-01-gone.md");
    std::fs::write(&post, "---\ntitle: Soon\ndate: 2016-03-02\ntags: [ephemeral]\n---\nSoon.\n").unwrap();
    let first = build(&content, &feeds, &out);
    assert!(out.join("tags/ephemeral/feed.atom").is_file(), "{first}");
    let before = times(&out);

    // The same content again: no file rewritten, none touched.
    std::thread::sleep(std::time::Duration::from_millis(50));
    let again = build(&content, &feeds, &out);
    assert!(again.contains("(0 changed, 0 removed)"), "{again}");
    assert_eq!(times(&out), before, "a rebuild of the same content changed file times");

    // Every file's time is its document's Last-Modified.
    let server = TestServer::start_with(&content, &feeds, Some("https://example.com"));
    let last_modified = server.get("/feed.atom").header("last-modified").unwrap().to_owned();
    let expected = chrono::DateTime::parse_from_rfc2822(&last_modified).unwrap().timestamp();
    let mtime = before[&out.join("feed.atom")].duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert_eq!(mtime, expected, "feed.atom's time is not its Last-Modified {last_modified}");

    // The tag goes: its files go, and nothing the export did not write.
    std::fs::remove_file(&post).unwrap();
    let after = build(&content, &feeds, &out);
    assert!(!out.join("tags/ephemeral").exists(), "{after}");
    assert!(!after.contains(" 0 removed"), "{after}");
    assert_eq!(std::fs::read_to_string(out.join("robots.txt")).unwrap(), "not the export's");
}

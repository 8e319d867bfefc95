//! The real Jekyll blogs in ../shared/corpora load without a crash or a hang; every problem
//! is a diagnostic, and every feed they make is well-formed.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tidings::content::{self, Sources};
use tidings::feed::{self, Format};
use tidings::index::Index;

use crate::support::parse_xml;

fn corpora() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e} (the shared corpora sit beside the repository)", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("_posts").is_dir())
        .collect();
    found.sort();
    assert!(found.len() >= 4, "expected the four corpora, found {found:?}");
    found
}

#[test]
fn check_reports_corpus_problems_as_diagnostics_without_crashing_or_hanging() {
    for corpus in corpora() {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tidings"))
            .args(["check", "--content"])
            .arg(&corpus)
            .args(["--feeds", "/nonexistent-feeds-dir"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                panic!("{}: check hung", corpus.display());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            matches!(status.code(), Some(0 | 1)),
            "{}: {status:?}\n{}",
            corpus.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        let lines: Vec<&str> = stdout.lines().collect();
        let (summary, diagnostics) = lines.split_last().unwrap();
        assert!(summary.starts_with("check: "), "{summary}");
        for line in diagnostics {
            let rest = line
                .strip_prefix("error: ")
                .or_else(|| line.strip_prefix("warning: "))
                .unwrap_or_else(|| panic!("{line}"));
            assert!(rest.starts_with(corpus.to_str().unwrap()) && rest.contains(": "), "{line}");
        }
    }
}

#[test]
fn every_corpus_feed_is_well_formed() {
    for corpus in corpora() {
        let sources = Sources {
            content_dir: corpus.clone(),
            feeds_dir: PathBuf::from("/nonexistent-feeds-dir"),
            drafts: false,
            base_url: Some("https://corpus.example.org".to_owned()),
            max_post_bytes: tidings::content::MAX_POST_BYTES,
        };
        let site = content::load(&sources).unwrap();
        assert!(site.posts.len() > 50, "{}: only {} posts", corpus.display(), site.posts.len());
        let index = Index::build(site.config.clone(), &site.posts, chrono::Utc::now(), 1);
        for key in feed::all_keys(&index) {
            let output = feed::render(&index, &key).unwrap();
            let text = String::from_utf8(output.bytes).unwrap();
            match key.format {
                Format::Json => drop(serde_json::from_str::<serde_json::Value>(&text).unwrap()),
                Format::Rss | Format::Atom => drop(parse_xml(&text)),
            }
        }
    }
}

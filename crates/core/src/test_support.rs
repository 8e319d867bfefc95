//! Helpers the unit tests of several modules share.

use std::path::{Path, PathBuf};

/// The repository's folder (this crate lives in `crates/core`).
pub fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The blogs in `../shared/corpora` that have a `_posts` folder, sorted by name; `None`, after
/// saying the test is skipped, when the shared corpora are not beside the repository (under
/// `CI=true` that fails the test: CI has them and runs every test).
pub fn corpora() -> Option<Vec<PathBuf>> {
    let corpora = repository().join("../shared/corpora");
    let Ok(entries) = std::fs::read_dir(&corpora) else {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{} is absent; CI runs every test", corpora.display());
        // Straight to stderr: the test harness captures `println!` of passing tests.
        let _ = std::io::Write::write_all(&mut std::io::stderr(), b"SKIPPED: ../shared/corpora not found\n");
        return None;
    };
    let mut dirs: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).filter(|p| p.join("_posts").is_dir()).collect();
    dirs.sort();
    Some(dirs)
}

/// Every Markdown file under `dir` (sorted by path) with its text, skipping what cannot be read.
pub fn markdown_files(dir: &Path) -> impl Iterator<Item = (PathBuf, String)> {
    walkdir::WalkDir::new(dir).sort_by_file_name().into_iter().filter_map(|entry| {
        let path = entry.unwrap().into_path();
        if !matches!(path.extension().and_then(|e| e.to_str()), Some("md" | "markdown")) {
            return None;
        }
        let text = std::fs::read_to_string(&path).ok()?;
        Some((path, text))
    })
}

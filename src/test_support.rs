//! Helpers the unit tests of several modules share.

use std::path::{Path, PathBuf};

/// The blogs in `../shared/corpora` that have a `_posts` folder, sorted by name; `None`, after
/// saying the test is skipped, when the shared corpora are not beside the repository (under
/// `CI=true` that fails the test: CI has them and runs every test).
pub fn corpora() -> Option<Vec<PathBuf>> {
    let corpora = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora");
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

#[cfg(feature = "db")]
/// Says on stderr itself (libtest captures `eprintln!`, not this) that the test running on
/// this thread (libtest names it after the test) is skipped, and why.
pub fn skipped(why: &str) {
    use std::io::Write;
    let test = std::thread::current().name().unwrap_or("a test").to_owned();
    let _ = std::io::stderr().write_all(format!("SKIPPED {test}: {why}\n").as_bytes());
}

#[cfg(feature = "db")]
/// The PostgreSQL server to test against, `TIDINGS_TEST_POSTGRES`; `None`, after saying the
/// test is skipped, when it is not set.
pub fn postgres() -> Option<String> {
    let url = std::env::var("TIDINGS_TEST_POSTGRES").ok();
    if url.is_none() {
        skipped("set TIDINGS_TEST_POSTGRES=postgres://… (scripts/postgres.sh start) to test PostgreSQL");
    }
    url
}

#[cfg(feature = "db")]
/// A PostgreSQL server with TLS on and the certificate of the authority that signed its
/// own (`TIDINGS_TEST_POSTGRES_ROOT`); `None`, after saying the test is skipped, without.
pub fn postgres_tls() -> Option<(String, PathBuf)> {
    let url = postgres()?;
    let Ok(root) = std::env::var("TIDINGS_TEST_POSTGRES_ROOT") else {
        skipped(
            "set TIDINGS_TEST_POSTGRES_ROOT too (TIDINGS_PG_SSL=1 scripts/postgres.sh start; the file is \
             $TIDINGS_PG_DIR/ssl/root.crt) to test PostgreSQL over TLS",
        );
        return None;
    };
    Some((url, PathBuf::from(root)))
}

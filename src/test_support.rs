//! Helpers the unit tests of several modules share.

use std::path::{Path, PathBuf};

/// The blogs in `../shared/corpora` that have a `_posts` folder, sorted by name; `None`, after
/// saying the test is skipped, when the shared corpora are not beside the repository.
pub fn corpora() -> Option<Vec<PathBuf>> {
    let corpora = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora");
    let Ok(entries) = std::fs::read_dir(&corpora) else {
        println!("SKIPPED: ../shared/corpora not found");
        return None;
    };
    let mut dirs: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).filter(|p| p.join("_posts").is_dir()).collect();
    dirs.sort();
    Some(dirs)
}

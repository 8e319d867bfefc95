//! Every document of the sample site, the fixtures and the shared corpora, byte for byte as
//! the release that rendered every post at start-up made them (issue 11: lazy rendering
//! must show the same bytes). The manifests in `tests/data/golden/` hold one hash per
//! exported file; `TIDINGS_BLESS=1 cargo test golden` writes them anew after a deliberate
//! change of output.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::support::root;

/// `path hash` for every file `tidings build` writes (compressed twins left out: they are
/// checked against the identity bytes elsewhere).
fn export_hashes(content: &Path, feeds: Option<&Path>) -> BTreeMap<String, String> {
    let out = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_tidings"));
    command.args(["build", "--content"]).arg(content).arg("--out").arg(out.path());
    if let Some(feeds) = feeds {
        command.arg("--feeds").arg(feeds);
    }
    let output = command.current_dir(env!("CARGO_MANIFEST_DIR")).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let mut hashes = BTreeMap::new();
    for entry in walkdir::WalkDir::new(out.path()) {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy();
        // The export's own list of its files is no document.
        let listing = name == tidings::export::MANIFEST;
        if !entry.file_type().is_file() || name.ends_with(".gz") || name.ends_with(".br") || listing {
            continue;
        }
        let relative = entry.path().strip_prefix(out.path()).unwrap().to_string_lossy().into_owned();
        hashes.insert(relative, tidings::representation::content_hash(&std::fs::read(entry.path()).unwrap()));
    }
    hashes
}

/// Compares an export with its manifest, or writes the manifest under `TIDINGS_BLESS=1`.
fn check(name: &str, content: &Path, feeds: Option<&Path>) {
    let manifest = root("tests/data/golden").join(format!("{name}.txt"));
    let hashes = export_hashes(content, feeds);
    let text: String = hashes.iter().map(|(path, hash)| format!("{hash} {path}\n")).collect();
    if std::env::var_os("TIDINGS_BLESS").is_some() {
        std::fs::create_dir_all(manifest.parent().unwrap()).unwrap();
        std::fs::write(&manifest, text).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&manifest).unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
    let expected: BTreeMap<&str, &str> =
        expected.lines().filter_map(|l| l.split_once(' ')).map(|(hash, path)| (path, hash)).collect();
    let mut differences = Vec::new();
    for (path, hash) in &expected {
        match hashes.get(*path) {
            None => differences.push(format!("missing {path}")),
            Some(h) if h != hash => differences.push(format!("changed {path}")),
            Some(_) => {}
        }
    }
    differences.extend(hashes.keys().filter(|p| !expected.contains_key(p.as_str())).map(|p| format!("new {p}")));
    assert!(
        differences.is_empty(),
        "{name}: {} of {} files differ from {} (rerun with TIDINGS_BLESS=1 if the change is meant):\n{}",
        differences.len(),
        expected.len(),
        manifest.display(),
        differences.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn the_sample_site_exports_the_golden_bytes() {
    check("sample", &root("content"), Some(&root("feeds")));
    check("jekyll-fixture", &root("tests/data/jekyll"), None);
}

#[test]
fn the_corpora_export_the_golden_bytes() {
    let Some(dir) = crate::support::corpora_dir("the_corpora_export_the_golden_bytes") else { return };
    for name in ["18f-blog", "bitcoincore", "elixir-blog", "jekyll-news"] {
        check(name, &dir.join(name), None);
    }
}

//! The static export (`tidings build --out DIR`): every document `serve` would send, with
//! its `.gz` and `.br` twins, written at paths that mirror the URLs, so that any web server,
//! CDN or object store can serve the site without a tidings process. Same bytes as `serve`.
//!
//! A rebuild leaves a file whose bytes are the same untouched, and every file's time is its
//! document's `Last-Modified`, so a web server's `ETag` (time and size, as nginx makes it) and
//! `Last-Modified` change only when the bytes do. The export lists what it wrote in a manifest
//! ([`MANIFEST`]), and the next export removes the files of that list it no longer has (a tag
//! that went), never a file it did not write.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::document::Document;
use crate::feed::{self, model::describe};
use crate::index::Index;
use crate::representation::Coding;

/// What an export wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Documents (feed pages and their browser views, OPML, index page).
    pub documents: usize,
    /// Files written, twins included.
    pub files: usize,
    /// Bytes of the export, twins included.
    pub bytes: u64,
    /// Files whose bytes changed or are new (the others were left untouched).
    pub changed: usize,
    /// Files of the previous export that this one no longer has, removed.
    pub removed: usize,
    /// Wall time.
    pub elapsed: Duration,
    /// Each document written, in no particular order: for `--upload`.
    pub written: Vec<Written>,
}

/// One document of the export: its file and what `serve` sends with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    /// The identity file, relative to the output folder, `/`-separated; the twins add `.gz`, `.br`.
    pub path: String,
    /// The `Content-Type` value.
    pub media_type: &'static str,
    /// The `Cache-Control` value.
    pub cache_control: String,
    /// The strong ETag of the identity bytes.
    pub etag: String,
    /// The strong ETag of the gzip bytes.
    pub gzip_etag: String,
}

/// Every document of `index`: every page of every feed and the browser view of its first
/// page, then the discovery documents.
pub fn documents(index: &Index) -> Vec<Document> {
    let mut documents = Vec::new();
    for key in feed::all_keys(index) {
        let pages = describe(index, &key.scope).map_or(1, |info| info.page_count());
        documents.extend((1..=pages).map(|page| Document::Feed(key.with_page(page))));
        documents.push(Document::View(key));
    }
    documents.extend(jekyll_feed_documents(index));
    documents.extend([Document::Opml, Document::Home]);
    documents
}

/// A Jekyll site's jekyll-feed URLs, so a static host keeps answering them: the posts feed,
/// each category its settings list, and (with `feed.tags`) each tag jekyll-feed would have made;
/// each with the page a browser is shown there (`feed.xml.html`), as `serve` shows it.
fn jekyll_feed_documents(index: &Index) -> Vec<Document> {
    let Some(jekyll) = &index.config.jekyll else { return Vec::new() };
    let settings = &jekyll.feed;
    let mut paths = vec![settings.path.clone()];
    paths.extend(settings.categories.iter().map(|name| format!("/feed/{name}.xml")));
    if settings.tags {
        // jekyll-feed skips tags with characters outside `[A-Za-z0-9_]`.
        let tags = index.tags.values().map(|group| &group.name);
        let plain = tags.filter(|name| name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        paths.extend(plain.map(|name| format!("{}{name}.xml", settings.tags_path)));
    }
    let mut documents = Vec::new();
    for path in paths {
        let encoded: String = path
            .split('/')
            .map(|s| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string())
            .collect::<Vec<_>>()
            .join("/");
        let Some(feed::legacy::Legacy::Feed(key)) = feed::legacy::route(&encoded, None, &index.config) else {
            continue;
        };
        let pages = feed::model::describe_key(index, &key).map_or(1, |info| info.page_count());
        documents.extend((1..=pages).map(|page| Document::Feed(key.with_page(page))));
        documents.push(Document::View(key));
    }
    documents
}

/// Writes every document of `index` and its compressed twins under `out`, rendering on both
/// cores. A progress bar is drawn when stderr is a terminal.
pub fn write_all(index: &Index, out: &Path) -> std::io::Result<Summary> {
    let started = Instant::now();
    let documents = documents(index);
    let progress = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new(documents.len() as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    let results: Vec<std::io::Result<Option<(Written, u64, usize)>>> = documents
        .par_iter()
        .map(|document| {
            let written = write_document(index, document, out);
            progress.inc(1);
            written
        })
        .collect();
    progress.finish_and_clear();
    let mut summary = Summary { documents: documents.len(), ..Summary::default() };
    for result in results {
        if let Some((written, bytes, changed)) = result? {
            summary.files += 3;
            summary.bytes += bytes;
            summary.changed += changed;
            summary.written.push(written);
        }
    }
    summary.removed = replace_manifest(out, &summary.written)?;
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// The file in the output folder that lists, one a line, every file the export wrote.
pub const MANIFEST: &str = ".tidings-export";

/// Removes the files the previous export listed that this one did not write, then lists this
/// one's; returns how many were removed. Only listed files are ever removed.
fn replace_manifest(out: &Path, written: &[Written]) -> std::io::Result<usize> {
    let files: std::collections::BTreeSet<String> =
        written.iter().flat_map(|w| [w.path.clone(), format!("{}.gz", w.path), format!("{}.br", w.path)]).collect();
    let manifest = out.join(MANIFEST);
    let previous = match std::fs::read_to_string(&manifest) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    let mut removed = 0;
    for gone in previous.lines().filter(|line| !line.is_empty() && !files.contains(*line)) {
        // A line that does not name a plain path inside the folder is not ours to follow.
        let Ok(path) = inside(out, gone) else { continue };
        match std::fs::remove_file(&path) {
            Ok(()) => {
                removed += 1;
                remove_empty_parents(out, &path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    let mut text = String::with_capacity(files.iter().map(|f| f.len() + 1).sum());
    for file in &files {
        text.push_str(file);
        text.push('\n');
    }
    write_if_changed(&manifest, text.as_bytes(), None)?;
    Ok(removed)
}

/// Removes the folders above `path` that are empty now, up to `out` (not included).
fn remove_empty_parents(out: &Path, path: &Path) {
    let mut folder = path.parent();
    while let Some(dir) = folder.filter(|dir| *dir != out && dir.starts_with(out)) {
        if std::fs::remove_dir(dir).is_err() {
            break;
        }
        folder = dir.parent();
    }
}

/// Writes `body` to `file` unless it already holds exactly those bytes, then sets its time to
/// `modified` when given; true when the bytes were written.
fn write_if_changed(file: &Path, body: &[u8], modified: Option<std::time::SystemTime>) -> std::io::Result<bool> {
    let same = match std::fs::metadata(file) {
        Ok(meta) if meta.is_file() && meta.len() == body.len() as u64 => std::fs::read(file)? == body,
        _ => false,
    };
    if !same {
        std::fs::write(file, body)?;
    }
    if let Some(modified) = modified {
        let handle = std::fs::File::options().write(true).open(file)?;
        if handle.metadata()?.modified().ok() != Some(modified) {
            handle.set_modified(modified)?;
        }
    }
    Ok(!same)
}

/// `out` joined with a document's export path, checked lexically: only plain names, so that
/// no configured path can write outside `out` (nor give an object key a `..` segment).
fn inside(out: &Path, relative: &str) -> std::io::Result<std::path::PathBuf> {
    let plain = !relative.contains('\\') && relative.split('/').all(|s| !matches!(s, "" | "." | ".."));
    if !plain {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{relative:?}: a document's path must stay inside the export folder"),
        ));
    }
    Ok(out.join(relative))
}

/// Writes one document and its three files; returns what was written, its bytes and how many
/// of its files changed.
fn write_document(index: &Index, document: &Document, out: &Path) -> std::io::Result<Option<(Written, u64, usize)>> {
    let Some(relative) = document.export_path() else { return Ok(None) };
    let Some(rendered) = complete_render(index, document, EXPORT_WAIT) else { return Ok(None) };
    let Some(rendered) = rendered else {
        return Err(std::io::Error::other(format!(
            "{relative}: a post it shows changed while the export was written; build again"
        )));
    };
    let path = inside(out, &relative)?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let (mut bytes, mut changed) = (0, 0);
    for (file, body) in [
        (path.clone(), rendered.body(Coding::Identity)),
        (with_suffix(&path, ".gz"), rendered.body(Coding::Gzip)),
        (with_suffix(&path, ".br"), rendered.body(Coding::Brotli)),
    ] {
        changed += usize::from(write_if_changed(&file, body, rendered.last_modified)?);
        bytes += body.len() as u64;
    }
    let written = Written {
        path: relative,
        media_type: rendered.media_type,
        cache_control: rendered.cache_control.to_str().unwrap_or_default().to_owned(),
        etag: rendered.identity.etag.clone(),
        gzip_etag: rendered.gzip.etag.clone(),
    };
    Ok(Some((written, bytes, changed)))
}

/// How long the export waits for a document's bodies: renders stop themselves at the render
/// budget, so only a post that keeps changing while it is read takes longer.
const EXPORT_WAIT: Duration = Duration::from_secs(60);

/// The document with every body in it: a file is not served again, so unlike `serve` the
/// export waits for bodies slower than the render budget (their renders go on meanwhile,
/// until Liquid stops itself shortly after the budget, and the post's body is empty).
/// `None` when there is no such document; `Some(None)` when it is still incomplete after
/// `wait` (a post that changed since it was read never completes).
fn complete_render(
    index: &Index,
    document: &Document,
    wait: Duration,
) -> Option<Option<crate::representation::Rendered>> {
    let deadline = Instant::now() + wait;
    loop {
        let rendered = document.render(index)?;
        if rendered.complete {
            return Some(Some(rendered));
        }
        if Instant::now() >= deadline {
            return Some(None);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_whose_post_changed_since_it_was_read_is_not_waited_for_forever() {
        let dir = tempfile::tempdir().unwrap();
        let content = dir.path().join("content");
        std::fs::create_dir_all(&content).unwrap();
        std::fs::write(content.join("a.md"), "---\ntitle: A\ndate: 2024-01-01\n---\nFirst.\n").unwrap();
        let site = crate::content::load(&crate::content::Sources::new(&content, dir.path().join("feeds"))).unwrap();
        let index = Index::build(&site.posts, site.bodies.clone(), chrono::Utc::now(), 1);
        // The file changes after the index read it: its body never matches again.
        std::fs::write(content.join("a.md"), "---\ntitle: A\ndate: 2024-01-01\n---\nSecond.\n").unwrap();
        let document = Document::Feed(feed::all_keys(&index).into_iter().next().unwrap());
        let rendered = complete_render(&index, &document, Duration::from_millis(200));
        assert!(matches!(rendered, Some(None)), "waited for a body that cannot come");
    }

    #[test]
    fn export_paths_stay_inside_the_folder() {
        let out = Path::new("/srv/out");
        assert_eq!(inside(out, "feed/by_tag/x.xml").unwrap(), Path::new("/srv/out/feed/by_tag/x.xml"));
        for bad in ["../x.xml", "a/../../x", "/etc/passwd", "", "a/./b", "a\\..\\b"] {
            assert!(inside(out, bad).is_err(), "{bad}");
        }
    }
}

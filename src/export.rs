//! The static export (`tidings build --out DIR`): every document `serve` would send, with
//! its `.gz` and `.br` twins, written at paths that mirror the URLs, so that any web server,
//! CDN or object store can serve the site without a tidings process. Same bytes as `serve`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::cache::{Coding, Document};
use crate::feed::{self, model::describe};
use crate::index::Index;

/// What an export wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Documents (feed pages and their browser views, OPML, index page).
    pub documents: usize,
    /// Files written, twins included.
    pub files: usize,
    /// Bytes written, twins included.
    pub bytes: u64,
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
/// each category its settings list, and (with `feed.tags`) each tag jekyll-feed would have made.
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
    let results: Vec<std::io::Result<Option<(Written, u64)>>> = documents
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
        if let Some((written, bytes)) = result? {
            summary.files += 3;
            summary.bytes += bytes;
            summary.written.push(written);
        }
    }
    summary.elapsed = started.elapsed();
    Ok(summary)
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

/// Writes one document and its three files; returns what was written and its bytes.
fn write_document(index: &Index, document: &Document, out: &Path) -> std::io::Result<Option<(Written, u64)>> {
    let (Some(relative), Some(rendered)) = (document.export_path(), complete_render(index, document)) else {
        return Ok(None);
    };
    let path = inside(out, &relative)?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut bytes = 0;
    for (file, body) in [
        (path.clone(), rendered.body(Coding::Identity)),
        (with_suffix(&path, ".gz"), rendered.body(Coding::Gzip)),
        (with_suffix(&path, ".br"), rendered.body(Coding::Brotli)),
    ] {
        std::fs::write(&file, body)?;
        bytes += body.len() as u64;
    }
    let written = Written {
        path: relative,
        media_type: rendered.media_type,
        cache_control: rendered.cache_control.to_str().unwrap_or_default().to_owned(),
        etag: rendered.identity.etag.clone(),
        gzip_etag: rendered.gzip.etag.clone(),
    };
    Ok(Some((written, bytes)))
}

/// The document with every body in it: a file is not served again, so unlike `serve` the
/// export waits for bodies slower than the render budget (their renders go on meanwhile,
/// until Liquid stops itself shortly after the budget, and the post's body is empty).
fn complete_render(index: &Index, document: &Document) -> Option<crate::cache::Rendered> {
    loop {
        let rendered = document.render(index)?;
        if rendered.complete {
            return Some(rendered);
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
    fn export_paths_stay_inside_the_folder() {
        let out = Path::new("/srv/out");
        assert_eq!(inside(out, "feed/by_tag/x.xml").unwrap(), Path::new("/srv/out/feed/by_tag/x.xml"));
        for bad in ["../x.xml", "a/../../x", "/etc/passwd", "", "a/./b", "a\\..\\b"] {
            assert!(inside(out, bad).is_err(), "{bad}");
        }
    }
}

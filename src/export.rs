//! The static export (`tidings build --out DIR`): every document `serve` would send, with
//! its `.gz` and `.br` twins, written at paths that mirror the URLs, so that any web server,
//! CDN or object store can serve the site without a tidings process. Same bytes as `serve`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::cache::Document;
use crate::feed::{self, model::describe};
use crate::index::Index;

/// What an export wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Documents (feed pages, OPML, index page, stylesheet).
    pub documents: usize,
    /// Files written, twins included.
    pub files: usize,
    /// Bytes written, twins included.
    pub bytes: u64,
    /// Wall time.
    pub elapsed: Duration,
}

/// Every document of `index`: every page of every feed, then the discovery documents.
pub fn documents(index: &Index) -> Vec<Document> {
    let mut documents = Vec::new();
    for key in feed::all_keys(index) {
        let pages = describe(index, &key.scope).map_or(1, |info| info.page_count());
        documents.extend((1..=pages).map(|page| Document::Feed(key.with_page(page))));
    }
    documents.extend([Document::Opml, Document::Home, Document::Stylesheet]);
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
    let results: Vec<std::io::Result<(usize, u64)>> = documents
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
        let (files, bytes) = result?;
        summary.files += files;
        summary.bytes += bytes;
    }
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// Writes one document and its twins; returns files and bytes written.
fn write_document(index: &Index, document: &Document, out: &Path) -> std::io::Result<(usize, u64)> {
    let (Some(relative), Some(rendered)) = (document.export_path(), document.render(index)) else {
        return Ok((0, 0));
    };
    let path = out.join(relative);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut bytes = 0;
    for (file, body) in [
        (path.clone(), &rendered.identity.body),
        (with_suffix(&path, ".gz"), &rendered.gzip.body),
        (with_suffix(&path, ".br"), &rendered.brotli.body),
    ] {
        std::fs::write(&file, body)?;
        bytes += body.len() as u64;
    }
    Ok((3, bytes))
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

//! The running service's state: the loaded content, the current index snapshot (swapped
//! atomically) and the cache. Reloads and scheduled posts come through here.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use crate::cache::FeedCache;
use crate::changes::Listeners;
use crate::content::library::Changes;
use crate::content::{Library, Post};
use crate::diagnostic::{Diagnostic, Severity};
use crate::index::Index;
use crate::metrics::{Gauges, Metrics};

/// What to read again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reload {
    /// These post files (created, changed or deleted), relative to the content folder.
    Paths(Vec<PathBuf>),
    /// Walk the content folder and read files that changed.
    Rescan,
    /// The configuration (and, if it changed, every post), else the posts whose files
    /// changed, and every body if an include changed: what may have changed while nothing
    /// watched, between loading and watching.
    CatchUp,
    /// The configuration (and, if it changed, every post).
    Config,
    /// The configuration and every post, whatever their timestamps say (`SIGHUP`).
    Everything,
}

/// Shared state behind every request.
pub struct App {
    library: Mutex<Library>,
    index: ArcSwap<Index>,
    diagnostics: ArcSwap<Vec<Diagnostic>>,
    generation: AtomicU64,
    /// Told which feeds each swap changed (WebSub pings, the built-in hub).
    listeners: Listeners,
    schedule_changed: Notify,
    /// Rendered documents.
    pub cache: FeedCache,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// The content and feeds folders, which diagnostics are shown relative to.
    roots: (std::path::PathBuf, std::path::PathBuf),
}

impl App {
    /// State for `library` as seen at `now`.
    pub fn new(library: Library, now: DateTime<Utc>) -> App {
        let started = std::time::Instant::now();
        let posts = library.posts();
        let posts_ms = started.elapsed().as_millis() as u64;
        let index = Index::build(&posts, library.bodies(), now, 1);
        tracing::debug!(posts_ms, index_ms = started.elapsed().as_millis() as u64 - posts_ms, "first index built");
        let cache = FeedCache::new(library.store().clone());
        let metrics = Arc::new(Metrics::default());
        let diagnostics = library.diagnostics();
        let roots = (library.sources().content_dir.clone(), library.sources().feeds_dir.clone());
        App {
            roots,
            library: Mutex::new(library),
            index: ArcSwap::from_pointee(index),
            diagnostics: ArcSwap::from_pointee(diagnostics),
            generation: AtomicU64::new(1),
            listeners: Listeners::new(metrics.clone()),
            schedule_changed: Notify::new(),
            cache,
            metrics,
        }
    }

    /// Tells `listener` which feeds each new snapshot changed.
    pub fn with_listener(mut self, listener: Arc<dyn crate::hooks::FeedsChanged>) -> App {
        self.listeners.listen(listener);
        self
    }

    /// Posts loaded (future ones and last good versions included).
    pub fn post_count(&self) -> usize {
        self.lock_library().post_count()
    }

    /// The current snapshot; a request keeps the one it started with.
    pub fn index(&self) -> Arc<Index> {
        self.index.load_full()
    }

    /// The current index for a moment's look, without touching its shared count (a poll's
    /// path): not to be held across an `.await`.
    pub fn snapshot(&self) -> arc_swap::Guard<Arc<Index>> {
        self.index.load()
    }

    /// Every current problem in the content and configuration, with what rendering bodies
    /// found so far.
    pub fn diagnostics(&self) -> Arc<Vec<Diagnostic>> {
        let loaded = self.diagnostics.load_full();
        let rendered = self.index().bodies.renderer().problems();
        if rendered.is_empty() {
            return loaded;
        }
        let mut all: Vec<Diagnostic> = loaded.iter().cloned().chain(rendered).collect();
        all.sort();
        all.dedup();
        Arc::new(all)
    }

    /// Every current problem, with paths relative to the content folder (`feeds/…` for the
    /// feeds folder): what strangers may see, without the server's own paths.
    pub fn public_diagnostics(&self) -> Vec<Diagnostic> {
        let (content, feeds) = &self.roots;
        let feeds_name = std::path::Path::new(feeds.file_name().unwrap_or(std::ffi::OsStr::new("feeds")));
        self.diagnostics()
            .iter()
            .map(|d| {
                let path = if let Ok(inside) = d.path.strip_prefix(content) {
                    inside.to_path_buf()
                } else if let Ok(inside) = d.path.strip_prefix(feeds) {
                    feeds_name.join(inside)
                } else {
                    // Anything else (a `--base-url` flag, a file outside both): its name alone.
                    d.path.file_name().map_or_else(Default::default, std::path::PathBuf::from)
                };
                Diagnostic { path, ..d.clone() }
            })
            .collect()
    }

    /// Reads what changed, swaps in a new snapshot, and logs problems that appeared or went
    /// away. Blocking (it reads files): call it from a blocking thread within the runtime.
    pub fn reload(&self, what: Reload) -> Changes {
        let mut library = self.lock_library();
        let changes = match what {
            Reload::Paths(paths) => library.refresh(&paths),
            Reload::Rescan => library.rescan(false),
            Reload::CatchUp => {
                let changes = library.reload_config();
                if changes.config {
                    changes
                } else {
                    let includes_changed = library.includes_changed();
                    library.rescan(includes_changed)
                }
            }
            Reload::Config => library.reload_config(),
            Reload::Everything => {
                let mut changes = library.reload_config();
                if !changes.config {
                    changes = library.rescan(true);
                }
                changes
            }
        };
        let diagnostics = library.diagnostics();
        log_new_problems(&self.diagnostics.load(), &diagnostics);
        self.diagnostics.store(Arc::new(diagnostics));
        if changes.any() {
            let edits: Option<Vec<(Arc<Post>, Arc<Post>)>> =
                changes.posts.iter().map(|c| Some((c.old.clone()?, c.new.clone()?))).collect();
            let now = Utc::now();
            let generation = self.generation.load(Ordering::SeqCst) + 1;
            match edits.and_then(|edits| self.index().with_edits(&edits, library.bodies(), now, generation)) {
                Some(index) => self.swap(Arc::new(index)),
                None => self.rebuild_from(&library, now),
            }
        }
        self.metrics.reload(true, Utc::now().timestamp().max(0) as u64);
        changes
    }

    /// Builds and swaps in a new snapshot as seen at `now`.
    pub fn rebuild(&self, now: DateTime<Utc>) {
        let library = self.lock_library();
        self.rebuild_from(&library, now);
    }

    fn rebuild_from(&self, library: &Library, now: DateTime<Utc>) {
        let generation = self.generation.load(Ordering::SeqCst) + 1;
        self.swap(Arc::new(Index::build(&library.posts(), library.bodies(), now, generation)));
    }

    /// Makes `index` the current snapshot (callers hold the library lock, so generations
    /// only grow) and tells what depends on it.
    fn swap(&self, index: Arc<Index>) {
        self.generation.store(index.generation, Ordering::SeqCst);
        let old = self.index.swap(index.clone());
        if old.next_publish != index.next_publish {
            self.schedule_changed.notify_one();
        }
        self.listeners.swapped(old, index);
    }

    /// The Prometheus text for `/metrics`.
    pub fn metrics_text(&self, subscribers: bool) -> String {
        let index = self.index();
        let diagnostics = self.diagnostics();
        let errors = diagnostics.iter().filter(|d| d.is_error()).count();
        let gauges = Gauges {
            posts: index.posts.len(),
            errors,
            warnings: diagnostics.len() - errors,
            generation: index.generation,
            cache_bytes: self.cache.store().weighed_bytes(),
            cache_budget: self.cache.store().budget(),
            cache_entries: self.cache.store().entries(),
        };
        self.metrics.render_text(&gauges, subscribers)
    }

    fn lock_library(&self) -> MutexGuard<'_, Library> {
        // A panic while holding the lock would leave the library as it was before that reload
        // step; serving from it is still better than refusing to serve.
        self.library.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Publishes future-dated posts at their time, for as long as the process runs.
    pub async fn publish_scheduled(self: Arc<Self>) {
        loop {
            let next = self.index().next_publish;
            let wait = next.map(|n| (n.to_utc() - Utc::now()).to_std().unwrap_or_default());
            tokio::select! {
                () = async {
                    match wait {
                        Some(wait) => tokio::time::sleep(wait).await,
                        None => std::future::pending().await,
                    }
                } => {
                    // Sleep may wake a little early or late; rebuilding at the true `now` is right either way.
                    let now = Utc::now().max(next.map_or_else(Utc::now, |n| n.to_utc()));
                    let app = self.clone();
                    match tokio::task::spawn_blocking(move || app.rebuild(now)).await {
                        Ok(()) => tracing::info!("published scheduled posts"),
                        Err(e) => {
                            // The snapshot in force stays, and so does the past-due publish time:
                            // wait before trying again rather than spin.
                            tracing::error!("publishing scheduled posts failed: {e}; trying again in 5 s");
                            self.metrics.reload(false, Utc::now().timestamp().max(0) as u64);
                            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                        }
                    }
                }
                () = self.schedule_changed.notified() => {}
            }
        }
    }
}

/// Logs each problem once, when it appears, and notes when one is fixed.
fn log_new_problems(before: &[Diagnostic], after: &[Diagnostic]) {
    let old: BTreeSet<&Diagnostic> = before.iter().collect();
    let new: BTreeSet<&Diagnostic> = after.iter().collect();
    for d in new.difference(&old) {
        match d.severity {
            Severity::Error => tracing::error!("{d}"),
            Severity::Warning => tracing::warn!("{d}"),
        }
    }
    for d in old.difference(&new) {
        tracing::info!("fixed: {d}");
    }
}

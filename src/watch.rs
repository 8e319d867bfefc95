//! Live reload: watches the content and feeds folders (inotify and the like, through
//! `notify`), waits for a burst of changes to settle, and asks the app to read again only
//! what changed. A content folder that vanishes is watched again when it comes back.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::event::{EventKind, ModifyKind};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;

use crate::app::{App, Reload};

/// Quiet time that ends a burst of file events (editors write a file in several steps).
pub const DEBOUNCE: Duration = Duration::from_millis(10);
/// Longest a burst is collected before it is acted on, however busy the folder is.
pub const MAX_BATCH_WAIT: Duration = Duration::from_millis(100);
/// How often the content folder itself is checked for having vanished or been replaced.
const FOLDER_CHECK: Duration = Duration::from_secs(1);
/// A batch that touches more post files than this is handled as one rescan.
const MAX_TARGETED: usize = 200;

/// Keeps the watch running; dropping it stops live reload.
pub struct WatchHandle {
    _task: tokio::task::JoinHandle<()>,
}

/// Starts watching `content_dir` (recursively) and `feeds_dir` for `app`. Must be called
/// within the tokio runtime.
pub fn spawn(app: Arc<App>, content_dir: &Path, feeds_dir: &Path) -> Result<WatchHandle, String> {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut watcher = notify::recommended_watcher(move |event| {
        let _ = tx.send(event);
    })
    .map_err(|e| format!("cannot start the file watcher: {e}"))?;
    let content_dir = content_dir.canonicalize().map_err(|e| format!("{}: {e}", content_dir.display()))?;
    watcher
        .watch(&content_dir, RecursiveMode::Recursive)
        .map_err(|e| format!("cannot watch {}: {e}", content_dir.display()))?;
    let feeds_dir = match feeds_dir.canonicalize() {
        Ok(dir) => Some(dir),
        Err(e) => {
            tracing::info!(
                "{}: {e}; the feeds folder is not watched (tidings runs on its defaults): create it and send SIGHUP",
                feeds_dir.display()
            );
            None
        }
    };
    if let Some(feeds) = &feeds_dir
        && let Err(e) = watcher.watch(feeds, RecursiveMode::NonRecursive)
    {
        tracing::warn!("cannot watch {}: {e}; configuration changes need SIGHUP", feeds.display());
    }
    let task = tokio::spawn(run(app, watcher, rx, content_dir, feeds_dir));
    Ok(WatchHandle { _task: task })
}

type Events = mpsc::UnboundedReceiver<notify::Result<notify::Event>>;

async fn run(app: Arc<App>, mut watcher: RecommendedWatcher, mut rx: Events, content: PathBuf, feeds: Option<PathBuf>) {
    // Whatever changed between loading and watching.
    reload(&app, Reload::Rescan).await;
    let mut folder = FolderState::of(&content);
    let mut check = tokio::time::interval(FOLDER_CHECK);
    loop {
        let first = tokio::select! {
            event = rx.recv() => match event {
                Some(event) => event,
                None => return,
            },
            _ = check.tick() => {
                let now = FolderState::of(&content);
                if now != folder {
                    // Gone, back, or replaced by another folder of the same name.
                    let _ = watcher.unwatch(&content);
                    if now.is_some() && let Err(e) = watcher.watch(&content, RecursiveMode::Recursive) {
                        tracing::warn!("cannot watch {} again: {e}", content.display());
                    }
                    folder = now;
                    reload(&app, Reload::Rescan).await;
                }
                continue;
            }
        };
        let mut batch = Batch::default();
        batch.add(first, &content, feeds.as_deref());
        let deadline = tokio::time::Instant::now() + MAX_BATCH_WAIT;
        loop {
            let quiet = tokio::time::Instant::now() + DEBOUNCE;
            match tokio::time::timeout_at(quiet.min(deadline), rx.recv()).await {
                Ok(Some(event)) => batch.add(event, &content, feeds.as_deref()),
                Ok(None) => return,
                Err(_) => break,
            }
        }
        if batch.everything {
            // An include changed: any post may show it, so every post is read again.
            reload(&app, Reload::Everything).await;
            continue;
        }
        if batch.config {
            reload(&app, Reload::Config).await;
        }
        if batch.rescan {
            reload(&app, Reload::Rescan).await;
        } else if !batch.paths.is_empty() {
            let mut paths: Vec<PathBuf> = batch.paths.into_iter().collect();
            paths.sort();
            reload(&app, Reload::Paths(paths)).await;
        }
    }
}

async fn reload(app: &Arc<App>, what: Reload) {
    let app_metrics = app.metrics.clone();
    let app = app.clone();
    let started = std::time::Instant::now();
    match tokio::task::spawn_blocking(move || app.reload(what)).await {
        Ok(changes) => tracing::info!(
            reread = changes.reread,
            removed = changes.removed,
            config = changes.config,
            ms = started.elapsed().as_millis() as u64,
            "reloaded"
        ),
        Err(e) => {
            // A panic while reading: the library kept its state; say so and count it.
            tracing::error!("reload failed: {e}");
            app_metrics.reload(false, chrono::Utc::now().timestamp().max(0) as u64);
        }
    }
}

/// The identity of the content folder: gone, or which inode it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FolderState(Option<(u64, u64)>);

impl FolderState {
    fn of(dir: &Path) -> FolderState {
        FolderState(std::fs::metadata(dir).ok().filter(|m| m.is_dir()).map(|m| (m.dev(), m.ino())))
    }

    fn is_some(&self) -> bool {
        self.0.is_some()
    }
}

/// What a burst of events asks for. Adding an event costs the same however big the burst:
/// paths are a set, and past [`MAX_TARGETED`] of them the batch becomes one rescan, which
/// reads only the files whose size or time changed.
#[derive(Default, Debug)]
struct Batch {
    paths: HashSet<PathBuf>,
    rescan: bool,
    config: bool,
    /// A Jekyll include changed: every post is rendered again.
    everything: bool,
}

impl Batch {
    fn add(&mut self, event: notify::Result<notify::Event>, content: &Path, feeds: Option<&Path>) {
        let event = match event {
            Ok(event) => event,
            Err(e) => {
                tracing::warn!("file watcher: {e}; rescanning");
                self.rescan = true;
                return;
            }
        };
        if event.need_rescan() {
            self.rescan = true;
        }
        if matches!(event.kind, EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(_))) {
            return;
        }
        for path in event.paths {
            if path.starts_with(content) && is_jekyll_configuration(path.strip_prefix(content).unwrap_or(&path)) {
                // Jekyll's `_config.yml`, `_data/authors.yml` and `_authors/` are configuration.
                self.config = true;
            }
            if path.strip_prefix(content).is_ok_and(|r| r.starts_with("_includes")) {
                self.everything = true;
            }
            if feeds.is_some_and(|f| path.parent() == Some(f)) {
                self.config |= matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"));
            } else if path.starts_with(content) {
                // Relative to the content folder: the library may know it by another (relative
                // or symlinked) name than the canonical one events carry.
                let relative = path.strip_prefix(content).unwrap_or(&path).to_path_buf();
                if path.is_dir() {
                    // A folder created or moved in: its posts are not named one by one.
                    self.rescan = true;
                } else if !self.rescan {
                    // A file, or something gone (a file or a whole folder: a dot in its name
                    // says nothing). The library decides what is a post and forgets what is gone.
                    self.paths.insert(relative);
                    if self.paths.len() > MAX_TARGETED {
                        self.rescan = true;
                    }
                }
                if self.rescan {
                    self.paths = HashSet::new();
                }
            }
        }
    }
}

/// True for the files of a Jekyll site (relative to it) that tidings reads as configuration.
fn is_jekyll_configuration(relative: &Path) -> bool {
    relative == Path::new("_config.yml")
        || relative == Path::new("_data/authors.yml")
        || relative.parent() == Some(Path::new("_authors"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn created(path: &Path) -> notify::Result<notify::Event> {
        Ok(notify::Event::new(EventKind::Create(notify::event::CreateKind::File)).add_path(path.to_path_buf()))
    }

    #[test]
    fn a_burst_of_events_becomes_one_rescan_without_keeping_every_path() {
        // Issue 10, defect 3: each event searched every path collected before it.
        let content = Path::new("/nonexistent-content");
        let mut batch = Batch::default();
        for n in 0..50_000 {
            batch.add(created(&content.join(format!("_posts/many/2024-01-01-{n}.md"))), content, None);
            assert!(batch.paths.len() <= MAX_TARGETED + 1);
        }
        assert!(batch.rescan && batch.paths.is_empty());
    }

    #[test]
    fn an_include_changed_renders_every_post_again() {
        let content = Path::new("/nonexistent-content");
        let mut batch = Batch::default();
        batch.add(created(&content.join("_includes/note.html")), content, None);
        assert!(batch.everything);
    }

    #[test]
    fn a_gone_path_is_passed_on_whatever_its_name() {
        // Issue 10, defect 4: a folder `archive.2020` moved away was taken for a file.
        let content = Path::new("/nonexistent-content");
        let mut batch = Batch::default();
        batch.add(created(&content.join("archive.2020")), content, None);
        batch.add(created(&content.join("archive.2020")), content, None);
        assert_eq!(batch.paths.into_iter().collect::<Vec<_>>(), [PathBuf::from("archive.2020")]);
    }
}

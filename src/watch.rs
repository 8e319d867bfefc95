//! Live reload: watches the content and feeds folders (inotify and the like, through
//! `notify`), waits for a burst of changes to settle, and asks the app to read again only
//! what changed. A content folder that vanishes is watched again when it comes back, and one
//! given as a symlink that is swapped to another folder (git-sync, Kubernetes volumes) is
//! followed to it. Where no file events arrive (network file systems), `Watch::Poll` stats
//! the folders every interval instead and reads only what changed.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use notify::event::{EventKind, ModifyKind};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;

use crate::app::{App, Reload};
use crate::content::{Stamp, include_stamps, stamp_folder};

/// Quiet time that ends a burst of file events (editors write a file in several steps).
pub const DEBOUNCE: Duration = Duration::from_millis(10);
/// Longest a burst is collected before it is acted on, however busy the folder is.
pub const MAX_BATCH_WAIT: Duration = Duration::from_millis(100);
/// How often the content folder itself is checked for having vanished or been replaced.
const FOLDER_CHECK: Duration = Duration::from_secs(1);
/// A batch that touches more post files than this is handled as one rescan.
const MAX_TARGETED: usize = 200;
/// File events waiting for the watch task at most; events that find the queue full are
/// dropped and the next batch is one rescan instead (which reads only what changed).
pub const MAX_QUEUED_EVENTS: usize = 1024;

/// How live reload learns that files changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Watch {
    /// File events from the kernel (inotify): changes appear within milliseconds.
    Notify,
    /// A stat of every file each interval: for file systems that send no events (NFS, SMB,
    /// some container volumes).
    Poll(Duration),
    /// No live reload (`SIGHUP` still reloads).
    Off,
}

/// How often `--watch poll` looks when no interval is given.
pub const DEFAULT_POLL: Duration = Duration::from_secs(5);

/// Why a `--watch` value is not a watch mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WatchModeError {
    /// Neither `notify`, `poll`, `poll=INTERVAL` nor `off` (the text as given, trimmed).
    Unknown(String),
    /// The INTERVAL of `poll=INTERVAL` does not start with a number.
    NoNumber(String),
    /// The INTERVAL's unit is not `ms`, `s` or `m`.
    Unit(String),
    /// The interval is shorter than 10 ms.
    TooShort(Duration),
}

impl std::fmt::Display for WatchModeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WatchModeError::Unknown(text) => {
                write!(f, "{text:?} is not a watch mode: use notify, poll, poll=INTERVAL (e.g. poll=5s) or off")
            }
            WatchModeError::NoNumber(interval) => write!(f, "poll interval {interval:?}: write e.g. 500ms, 5s or 1m"),
            WatchModeError::Unit(interval) => write!(f, "poll interval {interval:?}: the unit is ms, s or m"),
            WatchModeError::TooShort(interval) => write!(f, "poll interval {interval:?} is too short: 10ms at least"),
        }
    }
}

impl std::error::Error for WatchModeError {}

impl std::str::FromStr for Watch {
    type Err = WatchModeError;

    /// `notify`, `off`, `poll`, or `poll=INTERVAL` with INTERVAL in seconds or with a unit
    /// (`500ms`, `5s`, `1m`).
    fn from_str(text: &str) -> Result<Watch, WatchModeError> {
        let text = text.trim();
        match text {
            "notify" => return Ok(Watch::Notify),
            "off" => return Ok(Watch::Off),
            "poll" => return Ok(Watch::Poll(DEFAULT_POLL)),
            _ => {}
        }
        let interval = text.strip_prefix("poll=").ok_or_else(|| WatchModeError::Unknown(text.to_owned()))?;
        let (number, unit) = interval.split_at(interval.find(|c: char| !c.is_ascii_digit()).unwrap_or(interval.len()));
        let number: u64 = number.parse().map_err(|_| WatchModeError::NoNumber(interval.to_owned()))?;
        let interval = match unit {
            "ms" => Duration::from_millis(number),
            "" | "s" => Duration::from_secs(number),
            "m" => Duration::from_secs(number.saturating_mul(60)),
            _ => return Err(WatchModeError::Unit(interval.to_owned())),
        };
        if interval < Duration::from_millis(10) {
            return Err(WatchModeError::TooShort(interval));
        }
        Ok(Watch::Poll(interval))
    }
}

/// Keeps the watch running; dropping it stops live reload.
pub struct WatchHandle {
    _task: tokio::task::JoinHandle<()>,
}

/// Why live reload by file events could not be set up.
#[derive(Debug)]
pub enum WatchError {
    /// The thread that makes the file watcher could not be started, or it panicked.
    Thread(std::io::Error),
    /// The file watcher (inotify) could not be made: too many instances, say.
    Watcher(notify::Error),
    /// The content folder cannot be resolved to a real path (it is missing, say).
    ContentDir {
        /// The folder as given.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A folder could not be watched (the inotify watch limit, say).
    Watch {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: notify::Error,
    },
}

impl std::fmt::Display for WatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WatchError::Thread(e) => write!(f, "cannot start the file watcher: {e}"),
            WatchError::Watcher(e) => write!(f, "cannot start the file watcher: {e}"),
            WatchError::ContentDir { path, source } => write!(f, "{}: {source}", path.display()),
            WatchError::Watch { path, source } => write!(f, "cannot watch {}: {source}", path.display()),
        }
    }
}

impl std::error::Error for WatchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WatchError::Thread(e) | WatchError::ContentDir { source: e, .. } => Some(e),
            WatchError::Watcher(e) | WatchError::Watch { source: e, .. } => Some(e),
        }
    }
}

/// Starts live reload of `content_dir` and `feeds_dir` for `app` the way `mode` says; `None`
/// for [`Watch::Off`]. Must be called within the tokio runtime.
pub fn spawn(
    app: Arc<App>,
    content_dir: &Path,
    feeds_dir: &Path,
    mode: Watch,
) -> Result<Option<WatchHandle>, WatchError> {
    match mode {
        Watch::Notify => spawn_notify(app, content_dir, feeds_dir).map(Some),
        Watch::Poll(interval) => {
            let task = tokio::spawn(poll(app, content_dir.to_path_buf(), feeds_dir.to_path_buf(), interval));
            Ok(Some(WatchHandle { _task: task }))
        }
        Watch::Off => Ok(None),
    }
}

/// Watches `content_dir` (recursively) and `feeds_dir` through file events. The watches
/// are set up in the background: a recursive watch lists every entry of the folder, seconds
/// for a million posts in one folder, which must not hold up the first answer; the rescan
/// that follows catches what changed meanwhile.
fn spawn_notify(app: Arc<App>, content_dir: &Path, feeds_dir: &Path) -> Result<WatchHandle, WatchError> {
    let given = content_dir.to_path_buf();
    let (sink, queue) = queue(MAX_QUEUED_EVENTS);
    // Made on a low-priority thread, so that the watcher's own thread is one too: it lists
    // every entry of the content folder to set up the watches, which should not slow the
    // first answers (it uses what they leave), and later only passes events on.
    let watcher = crate::offload::low_priority("tidings-watch", move || {
        notify::recommended_watcher(move |event| sink.send(event))
    })
    .map_err(WatchError::Thread)?
    .map_err(WatchError::Watcher)?;
    let content_dir = content_dir
        .canonicalize()
        .map_err(|source| WatchError::ContentDir { path: content_dir.to_path_buf(), source })?;
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
    let folders = Folders { given, content: content_dir, feeds: feeds_dir, state: FolderState(None) };
    let task = tokio::spawn(async move {
        let watching = tokio::task::spawn_blocking(move || watch_folders(watcher, folders)).await;
        match watching {
            Ok(Ok((watcher, folders))) => run(app, watcher, queue, folders).await,
            Ok(Err(e)) => tracing::warn!("live reload is off: {e}; try --watch poll"),
            Err(e) => tracing::warn!("live reload is off: setting up the file watcher failed: {e}"),
        }
    });
    Ok(WatchHandle { _task: task })
}

/// Sets up the watches on the content folder (recursive) and the feeds folder. Blocking.
fn watch_folders(
    mut watcher: RecommendedWatcher,
    mut folders: Folders,
) -> Result<(RecommendedWatcher, Folders), WatchError> {
    folders.state = FolderState::of(&folders.content);
    let content = &folders.content;
    watcher
        .watch(content, RecursiveMode::Recursive)
        .map_err(|source| WatchError::Watch { path: content.clone(), source })?;
    if let Some(feeds) = &folders.feeds
        && let Err(e) = watcher.watch(feeds, RecursiveMode::NonRecursive)
    {
        tracing::warn!("cannot watch {}: {e}; configuration changes need SIGHUP", feeds.display());
    }
    Ok((watcher, folders))
}

type Event = notify::Result<notify::Event>;

/// The watcher thread's end of the event queue.
struct Sink {
    events: mpsc::Sender<Event>,
    overflow: Arc<Overflow>,
}

/// Raised when an event found the queue full: what it said is lost, so a rescan is due.
#[derive(Default)]
struct Overflow {
    lost: AtomicBool,
    wake: tokio::sync::Notify,
}

impl Sink {
    /// Queues `event`, or, when the queue is full (or the watch task gone), notes that a
    /// rescan is due. Never waits: this runs on the watcher's own thread.
    fn send(&self, event: Event) {
        if self.events.try_send(event).is_err() {
            self.overflow.lost.store(true, Ordering::SeqCst);
            self.overflow.wake.notify_one();
        }
    }
}

/// The watch task's end of the event queue.
struct Queue {
    events: mpsc::Receiver<Event>,
    overflow: Arc<Overflow>,
}

/// What starts a batch.
enum First {
    /// A file event.
    Event(Event),
    /// Events were lost: rescan.
    Lost,
}

impl Queue {
    /// The next event, or word that some were lost; `None` once the watcher is gone.
    async fn first(&mut self) -> Option<First> {
        loop {
            tokio::select! {
                event = self.events.recv() => return event.map(First::Event),
                // A wake-up whose loss the last batch already handled is no news.
                _ = self.overflow.wake.notified() => if self.lost() {
                    return Some(First::Lost);
                },
            }
        }
    }

    /// Whether events were lost since the last look (and forgets it).
    fn lost(&self) -> bool {
        self.overflow.lost.swap(false, Ordering::SeqCst)
    }

    /// The burst that `first` starts, until [`DEBOUNCE`] passes without an event or
    /// [`MAX_BATCH_WAIT`] since the start; `None` once the watcher is gone. Does no I/O:
    /// [`Batch::settle`] looks at the files.
    async fn batch(&mut self, first: First, content: &Path, feeds: Option<&Path>) -> Option<Batch> {
        let mut batch = Batch::default();
        match first {
            First::Event(event) => batch.add(event, content, feeds),
            First::Lost => batch.lost(),
        }
        let deadline = tokio::time::Instant::now() + MAX_BATCH_WAIT;
        loop {
            let quiet = tokio::time::Instant::now() + DEBOUNCE;
            match tokio::time::timeout_at(quiet.min(deadline), self.events.recv()).await {
                Ok(Some(event)) => batch.add(event, content, feeds),
                Ok(None) => return None,
                Err(_) => break,
            }
        }
        if self.lost() {
            batch.lost();
        }
        Some(batch)
    }
}

/// A queue of at most `capacity` file events between the watcher's thread and the watch task.
fn queue(capacity: usize) -> (Sink, Queue) {
    let (tx, rx) = mpsc::channel(capacity);
    let overflow = Arc::new(Overflow::default());
    (Sink { events: tx, overflow: overflow.clone() }, Queue { events: rx, overflow })
}

/// The folders watched: the content folder as given and as resolved (events name files by
/// the resolved path), its identity when last looked at, and the feeds folder.
struct Folders {
    given: PathBuf,
    content: PathBuf,
    feeds: Option<PathBuf>,
    state: FolderState,
}

impl Folders {
    /// Follows the content folder to where its symlink points now, or watches it again when it
    /// has vanished, come back or been replaced; true when it did either (a rescan is due).
    /// Blocking: it stats, and a recursive watch lists every folder inside.
    fn follow(&mut self, watcher: &mut RecommendedWatcher) -> bool {
        // A symlink swapped to another folder (git-sync's `--link`, a Kubernetes volume's
        // `..data`): watch where it points now, and read what differs.
        if let Ok(target) = self.given.canonicalize()
            && target != self.content
        {
            let _ = watcher.unwatch(&self.content);
            if let Err(e) = watcher.watch(&target, RecursiveMode::Recursive) {
                tracing::warn!("cannot watch {}: {e}", target.display());
            }
            tracing::info!(from = %self.content.display(), to = %target.display(), "content folder swapped");
            self.content = target;
            self.state = FolderState::of(&self.content);
            return true;
        }
        let now = FolderState::of(&self.content);
        if now == self.state {
            return false;
        }
        // Gone, back, or replaced by another folder of the same name.
        let _ = watcher.unwatch(&self.content);
        if now.is_some()
            && let Err(e) = watcher.watch(&self.content, RecursiveMode::Recursive)
        {
            tracing::warn!("cannot watch {} again: {e}", self.content.display());
        }
        self.state = now;
        true
    }
}

async fn run(app: Arc<App>, mut watcher: RecommendedWatcher, mut queue: Queue, mut folders: Folders) {
    // Whatever changed between loading and watching, the configuration included.
    reload(&app, Reload::CatchUp).await;
    let mut check = tokio::time::interval(FOLDER_CHECK);
    loop {
        let first = tokio::select! {
            first = queue.first() => match first {
                Some(first) => first,
                None => return,
            },
            _ = check.tick() => {
                // Off the runtime's workers: stats, and re-watching lists every folder inside.
                let followed = tokio::task::spawn_blocking(move || {
                    let swapped = folders.follow(&mut watcher);
                    (watcher, folders, swapped)
                })
                .await;
                let swapped;
                (watcher, folders, swapped) = match followed {
                    Ok(followed) => followed,
                    Err(e) => {
                        tracing::warn!("live reload is off: checking the content folder failed: {e}");
                        return;
                    }
                };
                if swapped {
                    reload(&app, Reload::Rescan).await;
                }
                continue;
            }
        };
        let Some(batch) = queue.batch(first, &folders.content, folders.feeds.as_deref()).await else { return };
        let content = folders.content.clone();
        let Ok(batch) = tokio::task::spawn_blocking(move || batch.settle(&content)).await else {
            tracing::warn!("live reload is off: reading a batch of file events failed");
            return;
        };
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

/// `--watch poll`: every `interval`, the configuration files are stat-ed and, when any
/// changed, read again; then the content folder is walked and the posts whose size or times
/// changed are read. No file events are needed, and a swapped symlink is simply read through.
async fn poll(app: Arc<App>, content: PathBuf, feeds: PathBuf, interval: Duration) {
    tracing::info!(interval_ms = interval.as_millis() as u64, "watching by polling");
    let signature = |content: PathBuf, feeds: PathBuf| async move {
        tokio::task::spawn_blocking(move || ConfigSignature::of(&content, &feeds)).await.unwrap_or_default()
    };
    let mut last = signature(content.clone(), feeds.clone()).await;
    // Whatever changed between loading and the first signature, the configuration included.
    reload(&app, Reload::CatchUp).await;
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let now = signature(content.clone(), feeds.clone()).await;
        if now.includes != last.includes {
            reload(&app, Reload::Everything).await;
        } else if now.config != last.config {
            reload(&app, Reload::Config).await;
        }
        last = now;
        reload(&app, Reload::Rescan).await;
    }
}

/// What the configuration files look like on disk, to tell a change without reading them.
#[derive(Debug, Default, PartialEq, Eq)]
struct ConfigSignature {
    /// The feeds folder's files and a Jekyll site's `_config.yml`, `_data/authors.yml` and
    /// `_authors/`.
    config: Vec<FileStamp>,
    /// A Jekyll site's `_includes/`.
    includes: Vec<FileStamp>,
}

/// A file's name and stamp: what differs when it is written, replaced or removed.
type FileStamp = (PathBuf, Stamp);

impl ConfigSignature {
    fn of(content: &Path, feeds: &Path) -> ConfigSignature {
        let mut config = Vec::new();
        let files = crate::content::JEKYLL_CONFIG_NAMES.iter().chain(["_data/authors.yml"].iter());
        for file in files.map(|name| content.join(name)) {
            config.extend(Stamp::of(&file).map(|stamp| (file, stamp)));
        }
        stamp_folder(feeds, &mut config);
        stamp_folder(&content.join("_authors"), &mut config);
        ConfigSignature { config, includes: include_stamps(content) }
    }
}

async fn reload(app: &Arc<App>, what: Reload) {
    let app_metrics = app.metrics.clone();
    let app = app.clone();
    let started = std::time::Instant::now();
    let reloaded = match what {
        // Whatever changed while the watches were set up: in the background, like them.
        Reload::CatchUp => crate::offload::background("tidings-catch-up", move || app.reload(what))
            .await
            .ok_or_else(|| "the catch-up panicked".to_owned()),
        _ => tokio::task::spawn_blocking(move || app.reload(what)).await.map_err(|e| e.to_string()),
    };
    match reloaded {
        // A poll that found nothing is no news.
        Ok(changes) if changes.reread == 0 && changes.removed == 0 && !changes.config => {
            tracing::debug!(ms = started.elapsed().as_millis() as u64, "nothing changed");
        }
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
    /// Some events were lost: only a rescan finds what they said.
    fn lost(&mut self) {
        tracing::warn!("more than {MAX_QUEUED_EVENTS} file events at once; rescanning");
        self.rescan = true;
        self.paths = HashSet::new();
    }

    /// Adds one event. Does no I/O (it runs on the watch task): what the paths are is found
    /// out by [`Batch::settle`].
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
                // A Kubernetes ConfigMap volume swaps its files in at once through `..data`.
                let swapped = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(".."));
                self.config |= swapped || matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"));
            } else if path.starts_with(content) {
                // Relative to the content folder: the library may know it by another (relative
                // or symlinked) name than the canonical one events carry.
                let relative = path.strip_prefix(content).unwrap_or(&path).to_path_buf();
                if !self.rescan {
                    // A file, a folder (see `settle`), or something gone (a file or a whole
                    // folder: a dot in its name says nothing). The library decides what is a
                    // post and forgets what is gone.
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

impl Batch {
    /// Looks at the paths of the batch: one that is a folder (created or moved in) makes it a
    /// rescan, since its posts are not named one by one. Blocking: it stats each path.
    fn settle(mut self, content: &Path) -> Batch {
        if self.paths.iter().any(|relative| content.join(relative).is_dir()) {
            self.rescan = true;
            self.paths = HashSet::new();
        }
        self
    }
}

/// True for the files of a Jekyll site (relative to it) that tidings reads as configuration.
fn is_jekyll_configuration(relative: &Path) -> bool {
    crate::content::JEKYLL_CONFIG_NAMES.iter().any(|name| relative == Path::new(name))
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

    #[tokio::test]
    async fn a_burst_past_the_queue_is_bounded_and_becomes_one_rescan() {
        // Issue 26, item 2: the queue between the watcher's thread and the watch task had no
        // bound, so a burst (a checkout, an rsync) queued every event.
        let content = Path::new("/nonexistent-content");
        let (sink, mut queue) = queue(MAX_QUEUED_EVENTS);
        for n in 0..100_000 {
            sink.send(created(&content.join(format!("_posts/2024-01-01-{n}.md"))));
            assert!(queue.events.len() <= MAX_QUEUED_EVENTS, "{} events queued", queue.events.len());
        }
        let first = queue.first().await.unwrap();
        let batch = queue.batch(first, content, None).await.unwrap();
        assert!(batch.rescan && batch.paths.is_empty(), "{batch:?}");
        assert!(queue.events.is_empty() && !queue.lost(), "the whole burst is that one batch");
        // The next event starts a batch of its own, a targeted one.
        sink.send(created(&content.join("_posts/later.md")));
        let first = queue.first().await.unwrap();
        let batch = queue.batch(first, content, None).await.unwrap();
        assert!(!batch.rescan && batch.paths.contains(Path::new("_posts/later.md")), "{batch:?}");
    }

    #[test]
    fn adding_events_does_no_io_and_settling_finds_folders() {
        // Issue 26, item 3: every event's path was stat-ed on the watch task.
        let site = tempfile::tempdir().unwrap();
        let content = site.path();
        std::fs::create_dir(content.join("moved-in")).unwrap();
        let mut batch = Batch::default();
        batch.add(created(&content.join("moved-in")), content, None);
        batch.add(created(&content.join("post.md")), content, None);
        assert!(!batch.rescan && batch.paths.len() == 2, "the folder is not looked at yet: {batch:?}");
        let batch = batch.settle(content);
        assert!(batch.rescan && batch.paths.is_empty(), "a folder moved in means a rescan: {batch:?}");
        let mut files = Batch::default();
        files.add(created(&content.join("post.md")), content, None);
        files.add(created(&content.join("gone.md")), content, None);
        assert_eq!(files.settle(content).paths.len(), 2);
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

    #[test]
    fn a_configmap_swap_in_the_feeds_folder_reloads_the_configuration() {
        let (content, feeds) = (Path::new("/nonexistent-content"), Path::new("/nonexistent-feeds"));
        let mut batch = Batch::default();
        batch.add(created(&feeds.join("..data")), content, Some(feeds));
        assert!(batch.config);
    }

    #[test]
    fn watch_modes() {
        assert_eq!("notify".parse(), Ok(Watch::Notify));
        assert_eq!("off".parse(), Ok(Watch::Off));
        assert_eq!("poll".parse(), Ok(Watch::Poll(DEFAULT_POLL)));
        assert_eq!("poll=500ms".parse(), Ok(Watch::Poll(Duration::from_millis(500))));
        assert_eq!("poll=5".parse(), Ok(Watch::Poll(Duration::from_secs(5))));
        assert_eq!("poll=1m".parse(), Ok(Watch::Poll(Duration::from_secs(60))));
        for bad in ["inotify", "poll=", "poll=5h", "poll=1ms", "poll=-1"] {
            assert!(bad.parse::<Watch>().is_err(), "{bad}");
        }
        let message = |text: &str| text.parse::<Watch>().unwrap_err().to_string();
        assert_eq!(
            message("inotify"),
            "\"inotify\" is not a watch mode: use notify, poll, poll=INTERVAL (e.g. poll=5s) or off"
        );
        assert_eq!(message("poll=-1"), "poll interval \"-1\": write e.g. 500ms, 5s or 1m");
        assert_eq!(message("poll=5h"), "poll interval \"5h\": the unit is ms, s or m");
        assert_eq!(message("poll=1ms"), "poll interval 1ms is too short: 10ms at least");
        assert_eq!("poll=5h".parse::<Watch>(), Err(WatchModeError::Unit("5h".into())));
    }
}

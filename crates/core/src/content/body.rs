//! Post bodies, rendered when a document first shows them: read from the post's file (or
//! the text it was pinned to), checked against the hash the index knows, rendered on a small
//! pool of its own, and kept in the shared [`Store`]. Each render has a time budget: a
//! document that waited longer for a body is served without it (and not cached), and the
//! post is reported, so one slow post never holds up a feed. The render itself stops shortly
//! after the budget too (Liquid checks the deadline as it goes), and so do `check`'s: a
//! body stopped by the budget or by Liquid's work and memory limits is shown empty and
//! reported, and, when it is the text the index knows, kept empty until the file changes
//! (rendering it again would only burn the budget again).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::{Post, PostFile, parse, read_post, text_hash};
use crate::config::SiteConfig;
use crate::diagnostic::Diagnostic;
use crate::jekyll::liquid::{IncludeError, Resolver};
use crate::store::{Key, Store, Weighed};

/// A post's body as HTML, with its summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Body {
    /// The summary as HTML.
    pub summary_html: String,
    /// The summary as plain text, cut at a word boundary.
    pub summary_text: String,
    /// The whole body as HTML.
    pub content_html: String,
}

impl Weighed for Body {
    fn heap_bytes(&self) -> usize {
        self.summary_html.capacity() + self.summary_text.capacity() + self.content_html.capacity()
    }
}

/// What a post's body is rendered from when it is not its file as it is now.
#[derive(Clone, Debug, PartialEq)]
pub enum Pinned {
    /// A text: the last good version of a file that is broken now, or a post parsed alone.
    Text(Arc<str>),
    /// The body itself, rendered before the file broke.
    Body(Arc<Body>),
}

/// Every post's URL as Liquid's `{% link %}` and `{% post_url %}` print it, and the site's
/// `_includes/` folder: what a Jekyll post's body may refer to.
#[derive(Debug, Default)]
pub struct LinkTable {
    /// Post URLs by path relative to the content folder.
    pub urls: BTreeMap<Arc<Path>, String>,
    content_dir: PathBuf,
    max_post_bytes: u64,
}

impl LinkTable {
    /// A table of `urls` for the site in `content_dir`.
    pub fn new(urls: BTreeMap<Arc<Path>, String>, content_dir: PathBuf, max_post_bytes: u64) -> LinkTable {
        LinkTable { urls, content_dir, max_post_bytes }
    }
}

impl Resolver for LinkTable {
    fn post_url(&self, name: &str) -> Option<String> {
        let name = name.trim().trim_matches('/');
        let mut by_name = None;
        for (path, url) in &self.urls {
            let text = path.to_string_lossy();
            let Some((_, in_posts)) = text.rsplit_once("_posts/") else { continue };
            let without_ext = in_posts.rsplit_once('.').map_or(in_posts, |(stem, _)| stem);
            if without_ext == name {
                return Some(url.clone());
            }
            // Jekyll 4 still finds a post by its file name alone, with a deprecation warning.
            if without_ext.rsplit('/').next() == name.rsplit('/').next() {
                by_name.get_or_insert_with(|| url.clone());
            }
        }
        by_name
    }

    fn link(&self, path: &str) -> Option<String> {
        let path = Path::new(path.trim().trim_start_matches('/'));
        self.urls.get(path).cloned()
    }

    fn include(&self, name: &str) -> Result<String, IncludeError> {
        let trimmed = name.trim();
        let missing = || IncludeError::Missing { name: trimmed.to_owned() };
        let name = Path::new(trimmed);
        // Only plain names inside `_includes/`, and only files inside the content folder
        // whatever links lie on the way (`read_post` opens beneath it).
        if self.content_dir.as_os_str().is_empty()
            || name.components().any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(missing());
        }
        let path = self.content_dir.join("_includes").join(name);
        if std::fs::symlink_metadata(&path).is_err() {
            return Err(missing());
        }
        match read_post(&self.content_dir, &path, self.max_post_bytes) {
            Ok(text) => Ok(text),
            Err(d) if d.message.contains(super::beneath::OUTSIDE) => {
                Err(IncludeError::Outside { name: trimmed.to_owned() })
            }
            Err(d) => Err(IncludeError::Unreadable { name: trimmed.to_owned(), reason: d.message }),
        }
    }
}

/// What rendering a body needs besides the post: where files are, the configuration and
/// the links of one snapshot.
#[derive(Debug)]
pub struct RenderContext {
    /// The content folder (empty for posts that carry their text).
    pub content_dir: PathBuf,
    /// Largest post file read.
    pub max_post_bytes: u64,
    /// The configuration the posts were read with.
    pub config: Arc<SiteConfig>,
    /// Post URLs and includes for Liquid.
    pub links: Arc<LinkTable>,
    /// Bumped whenever every body must be made again (configuration or include changed).
    pub epoch: u64,
}

/// The bodies of a list of posts, as far as they were ready in time.
#[derive(Debug)]
pub struct Fetched {
    /// One body per post asked for; an empty one where it was not ready in time or cannot be
    /// made.
    pub bodies: Vec<Arc<Body>>,
    /// False when some body was missing: a document made from these must not be kept.
    pub complete: bool,
}

/// One render under way, which any number of fetches wait for.
#[derive(Default)]
struct Flight {
    /// The body once rendered; `Some(None)` when there is none to show for the version the
    /// index knows (the file changed or went since).
    done: Mutex<Option<Option<Arc<Body>>>>,
    ready: Condvar,
    /// Someone gave up waiting: later fetches do not wait either.
    late: AtomicBool,
}

impl Flight {
    fn wait_until(&self, deadline: Instant) -> Option<Arc<Body>> {
        let mut done = lock(&self.done);
        loop {
            if let Some(body) = &*done {
                return body.clone();
            }
            let now = Instant::now();
            if self.late.load(Ordering::Relaxed) || now >= deadline {
                self.late.store(true, Ordering::Relaxed);
                return None;
            }
            done = self.ready.wait_timeout(done, deadline - now).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    fn finish(&self, body: Option<Arc<Body>>) {
        *lock(&self.done) = Some(body);
        self.ready.notify_all();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// Renders bodies on its own threads, one render per body however many ask, and keeps the
/// problems renders found.
pub struct Renderer {
    store: Store,
    budget: Duration,
    flights: Mutex<HashMap<(u128, u64), Arc<Flight>>>,
    pool: rayon::ThreadPool,
    problems: Mutex<HashMap<Arc<Path>, Vec<Diagnostic>>>,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer").field("budget", &self.budget).finish_non_exhaustive()
    }
}

impl Renderer {
    /// A renderer keeping bodies in `store`, waiting at most `budget` for one.
    pub fn new(store: Store, budget: Duration) -> Renderer {
        let pool = rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("tidings-render-{i}"))
            // Renders catch their own panics (`render_caught`); this keeps rayon from aborting
            // the process for one that escapes anyway.
            .panic_handler(|_| tracing::error!("a body render panicked outside the render"))
            .build()
            .expect("a thread pool for rendering");
        Renderer { store, budget, flights: Mutex::default(), pool, problems: Mutex::default() }
    }

    /// The store bodies are kept in.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Every problem the latest render of each file found.
    pub fn problems(&self) -> Vec<Diagnostic> {
        lock(&self.problems).values().flatten().cloned().collect()
    }

    /// Forgets what renders said about files that were read again or are gone.
    pub fn forget_problems<'a>(&self, paths: impl IntoIterator<Item = &'a Path>) {
        let mut problems = lock(&self.problems);
        // Most often there are none (always at start-up), and hashing a path is not free.
        if problems.is_empty() {
            return;
        }
        for path in paths {
            problems.remove(path);
        }
    }

    fn record(&self, source: &Arc<Path>, found: Vec<Diagnostic>) {
        let mut problems = lock(&self.problems);
        let before = problems.get(source).map(Vec::as_slice).unwrap_or_default();
        for d in found.iter().filter(|d| !before.contains(d)) {
            match d.severity {
                crate::diagnostic::Severity::Error => tracing::error!("{d}"),
                crate::diagnostic::Severity::Warning => tracing::warn!("{d}"),
            }
        }
        if found.is_empty() {
            problems.remove(source);
        } else {
            problems.insert(source.clone(), found);
        }
    }
}

/// Where a snapshot's post bodies come from: the renderer and the context of one snapshot.
#[derive(Clone, Debug)]
pub struct BodySource {
    renderer: Arc<Renderer>,
    context: Arc<RenderContext>,
}

impl BodySource {
    /// Bodies for `context`'s posts, rendered by `renderer`.
    pub fn new(renderer: Arc<Renderer>, context: RenderContext) -> BodySource {
        BodySource { renderer, context: Arc::new(context) }
    }

    /// A source for posts that carry their own text ([`super::parse_post`]), with its own
    /// small store.
    pub fn detached(config: Arc<SiteConfig>) -> BodySource {
        let renderer = Arc::new(Renderer::new(Store::new(16 * 1024 * 1024), super::RENDER_BUDGET));
        let context = RenderContext {
            content_dir: PathBuf::new(),
            max_post_bytes: super::MAX_POST_BYTES,
            config,
            links: Arc::default(),
            epoch: 0,
        };
        BodySource::new(renderer, context)
    }

    /// The configuration bodies are rendered with.
    pub fn config(&self) -> &Arc<SiteConfig> {
        &self.context.config
    }

    /// Bumped whenever every body must be made again.
    pub fn epoch(&self) -> u64 {
        self.context.epoch
    }

    /// The renderer (for its problems and store).
    pub fn renderer(&self) -> &Arc<Renderer> {
        &self.renderer
    }

    /// The bodies of `posts`, rendering those not kept (in parallel, on the renderer's
    /// threads), waiting for each at most the render budget.
    pub fn fetch(&self, posts: &[&Arc<Post>]) -> Fetched {
        let deadline = Instant::now() + self.renderer.budget;
        let mut bodies: Vec<Option<Arc<Body>>> = Vec::with_capacity(posts.len());
        let mut waits = Vec::new();
        for (i, post) in posts.iter().enumerate() {
            if let Some(Pinned::Body(body)) = &post.pinned {
                bodies.push(Some(body.clone()));
                continue;
            }
            let key = (body_key(post), self.context.epoch);
            if let Some(body) = self.renderer.store.get::<Body>(Key::Body(key.0, key.1)) {
                bodies.push(Some(body));
                continue;
            }
            bodies.push(None);
            let flight = {
                let mut flights = lock(&self.renderer.flights);
                match flights.get(&key) {
                    Some(flight) => flight.clone(),
                    None => {
                        let flight = Arc::new(Flight::default());
                        flights.insert(key, flight.clone());
                        let (renderer, context, post, job) =
                            (self.renderer.clone(), self.context.clone(), Arc::clone(post), flight.clone());
                        self.renderer.pool.spawn(move || render_job(&renderer, &context, &post, &job));
                        flight
                    }
                }
            };
            waits.push((i, flight));
        }
        let mut complete = true;
        for (i, flight) in waits {
            bodies[i] = flight.wait_until(deadline);
            complete &= bodies[i].is_some();
        }
        let bodies = bodies.into_iter().map(|b| b.unwrap_or_default()).collect();
        Fetched { bodies, complete }
    }

    /// One post's body, rendered if need be (waiting at most the render budget).
    pub fn body(&self, post: &Arc<Post>) -> Arc<Body> {
        self.fetch(&[post]).bodies.remove(0)
    }

    /// Renders one post's body now, on the calling thread, keeping nothing, and returns what
    /// rendering found: for `tidings check`.
    pub fn check(&self, post: &Post) -> Vec<Diagnostic> {
        render_caught(&self.context, post, Instant::now() + self.renderer.budget).1
    }
}

/// What a post's body is kept under: its text and its file (the same text at another path has
/// another URL, which its relative links resolve against).
pub fn body_key(post: &Post) -> u128 {
    post.hash ^ xxhash_rust::xxh3::xxh3_128(post.source.as_os_str().as_encoded_bytes())
}

/// Renders one body on a pool thread, keeps it, records its problems and wakes the waiters.
fn render_job(renderer: &Renderer, context: &RenderContext, post: &Arc<Post>, flight: &Flight) {
    let started = Instant::now();
    let (body, mut problems, fit) = render_caught(context, post, started + renderer.budget);
    let took = started.elapsed();
    if took > renderer.budget {
        problems.push(Diagnostic::warning(
            &context.content_dir.join(&post.source),
            None,
            None,
            format!(
                "its body took {:.1} s to render, over the {:.1} s budget: feeds were served without it meanwhile; \
                 shorten or simplify the post",
                took.as_secs_f64(),
                renderer.budget.as_secs_f64()
            ),
        ));
    }
    if fit == Fit::Kept {
        renderer.store.insert(Key::Body(body_key(post), context.epoch), body.clone());
    }
    renderer.record(&post.source, problems);
    flight.finish((fit != Fit::Stale).then_some(body));
    lock(&renderer.flights).remove(&(body_key(post), context.epoch));
}

/// How a rendered body may be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fit {
    /// The body of the version the index knows: kept in the store.
    Kept,
    /// Shown, not kept (a pinned body, or a post whose body cannot be shown: empty).
    Shown,
    /// The file no longer holds the version the index knows (changed, gone, or now a link to
    /// outside the content folder): no body is shown, and a document waiting for it is
    /// incomplete (not cached) until the reload, so that no title is ever paired with
    /// another version's body.
    Stale,
}

/// [`render_post`], with a panic taken for a body that cannot be shown, as any other failed
/// render is: the post is reported and shown without its body (kept empty: the same text
/// would fail the same way), and the thread, its pool and the server live on.
fn render_caught(context: &RenderContext, post: &Post, deadline: Instant) -> (Arc<Body>, Vec<Diagnostic>, Fit) {
    match catch_unwind(AssertUnwindSafe(|| render_post(context, post, deadline))) {
        Ok(rendered) => rendered,
        Err(panic) => {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".to_owned());
            let message = format!(
                "its body cannot be shown (rendering it panicked: {why}; please report this as a bug); \
                 the post is served without it until the file changes"
            );
            let shown = context.content_dir.join(&post.source);
            (Arc::new(Body::default()), vec![Diagnostic::warning(&shown, None, None, message)], Fit::Kept)
        }
    }
}

/// A body holding this panics when rendered, in debug builds only: the tests' way to a render
/// that panics (no content reaches one in a release build).
#[cfg(debug_assertions)]
pub const PANIC_FOR_TESTS: &str = "tidings-test: panic while rendering this body";

/// Renders a post's body from its pinned text or its file, which must still hold the text
/// the index knows (its hash). Liquid stops shortly after `deadline`; a body that cannot be
/// shown is empty, and kept (the same text fails the same way).
fn render_post(context: &RenderContext, post: &Post, deadline: Instant) -> (Arc<Body>, Vec<Diagnostic>, Fit) {
    let shown = context.content_dir.join(&post.source);
    let file = PostFile {
        relative: post.source.to_path_buf(),
        draft: post.source.components().any(|c| c.as_os_str() == "_drafts"),
    };
    // `line` and `column` when the problem has a place in the file (a body nested too deep).
    let unavailable = |why: String, line: Option<u32>, column: Option<u32>| {
        let message =
            format!("its body cannot be shown ({why}); the post is served without it until the file is fixed");
        (Arc::new(Body::default()), vec![Diagnostic::warning(&shown, line, column, message)], Fit::Shown)
    };
    let text: Cow<str> = match &post.pinned {
        Some(Pinned::Body(body)) => return (body.clone(), Vec::new(), Fit::Shown),
        Some(Pinned::Text(text)) => Cow::Borrowed(text),
        None => match read_post(&context.content_dir, &shown, context.max_post_bytes) {
            Ok(text) if text_hash(&text) == post.hash => Cow::Owned(text),
            // Changed since the snapshot: the reload that follows brings the new version.
            Ok(_) => return (Arc::new(Body::default()), Vec::new(), Fit::Stale),
            Err(d) => {
                let message = format!("its body cannot be read now ({}); served without it until reloaded", d.message);
                return (Arc::new(Body::default()), vec![Diagnostic::warning(&shown, None, None, message)], Fit::Stale);
            }
        },
    };
    #[cfg(debug_assertions)]
    if text.contains(PANIC_FOR_TESTS) {
        panic!("{PANIC_FOR_TESTS}");
    }
    match parse::render_text(&text, &file, &shown, &context.config, &*context.links, Some(deadline)) {
        Ok(Some((body, warnings))) => (Arc::new(body), warnings, Fit::Kept),
        Ok(None) => unavailable("the file is no longer a published post".to_owned(), None, None),
        Err(d) => {
            let (body, problems, _) = unavailable(d.message, d.line, d.column);
            (body, problems, Fit::Kept)
        }
    }
}

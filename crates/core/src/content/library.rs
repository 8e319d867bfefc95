//! The loaded content as a set of files, each with its last good post and its current
//! problems, so that a reload re-reads only what changed and a post that breaks keeps
//! serving its last good version until it is fixed.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use foldhash::{HashMap, HashSet};
use rayon::prelude::*;

use super::body::{LinkTable, RenderContext, Renderer};
use super::parse;
use super::{
    BodySource, Fatal, Folders, Layout, Parsed, PathKind, Pinned, Post, PostFile, Site, Sources, Term, classify,
    find_posts, load_config, read_post_with_metadata, text_hash,
};
use crate::config::{Person, SiteConfig};
use crate::diagnostic::Diagnostic;
use crate::store::Store;

/// Most bytes of post text kept for files read again while serving, so that a file that
/// then breaks keeps its last good body (files unchanged since start are rendered from disk).
const KEPT_TEXT_BYTES: usize = 32 * 1024 * 1024;
/// Files read in parallel before what was read is stored (see [`Library::read_all`]).
const READ_CHUNK: usize = 8192;

/// What a file looked like when it was last read: a change of any part means read it again.
/// Live reload's polling tells changed settings files by it too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    /// Inode and status-change time: a file replaced by another (a new checkout, a copy that
    /// kept the old time, a rename over it) differs here even with the same size and time.
    inode: u64,
    changed: (i64, i64),
}

/// The stamps of the files in `dir` (not below it), in name order; none when it cannot be read.
pub fn stamp_folder(dir: &Path, out: &mut Vec<(PathBuf, Stamp)>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    out.extend(paths.into_iter().filter_map(|path| Stamp::of(&path).map(|stamp| (path, stamp))));
}

/// The stamps of a Jekyll site's `_includes/` under the content folder `dir`.
pub fn include_stamps(dir: &Path) -> Vec<(PathBuf, Stamp)> {
    let mut stamps = Vec::new();
    stamp_folder(&dir.join("_includes"), &mut stamps);
    stamps
}

impl Stamp {
    /// The stamp of the file at `path`; `None` when it cannot be read.
    pub fn of(path: &Path) -> Option<Stamp> {
        Stamp::of_metadata(&std::fs::metadata(path).ok()?)
    }

    fn of_metadata(meta: &std::fs::Metadata) -> Option<Stamp> {
        use std::os::unix::fs::MetadataExt;
        Some(Stamp {
            modified: meta.modified().ok(),
            len: meta.len(),
            inode: meta.ino(),
            changed: (meta.ctime(), meta.ctime_nsec()),
        })
    }
}

/// One post file's state.
#[derive(Clone, Debug)]
struct Entry {
    stamp: Option<Stamp>,
    /// The post as last parsed successfully (kept while the file is broken).
    post: Option<Arc<Post>>,
    /// The post's URL as `{% link %}` and `{% post_url %}` print it (Jekyll sites).
    relative_url: Option<Box<str>>,
    /// What most files have none of, behind one box that is absent when all is empty: eight
    /// bytes a file instead of sixty-four, for a million files.
    extras: Option<Box<Extras>>,
}

/// The rarer parts of an [`Entry`].
#[derive(Clone, Debug, Default)]
struct Extras {
    /// The `site.KEY`s the file's Liquid prints, so that those `_config.yml` keys are not
    /// reported as unused.
    site_keys: Vec<String>,
    /// The file's current problems.
    problems: Vec<Diagnostic>,
    /// The text of the last good version, for files read again while serving.
    text: Option<Arc<str>>,
}

/// The extras of an entry that has none.
static NO_EXTRAS: Extras = Extras { site_keys: Vec::new(), problems: Vec::new(), text: None };

/// What a reload changed, for logs and metrics.
#[derive(Clone, Debug, Default)]
pub struct Changes {
    /// Files read again.
    pub reread: usize,
    /// Files that are gone.
    pub removed: usize,
    /// Whether the configuration was read again.
    pub config: bool,
    /// Each post file read again or gone: its post before and after (none when it was or is
    /// not a post), so that the index can be updated in place.
    pub posts: Vec<PostChange>,
}

impl Changes {
    /// True when anything changed.
    pub fn any(&self) -> bool {
        self.reread + self.removed > 0 || self.config
    }
}

/// One post file's post before and after a reload.
#[derive(Clone, Debug)]
pub struct PostChange {
    /// The post served before.
    pub old: Option<Arc<Post>>,
    /// The post to serve now.
    pub new: Option<Arc<Post>>,
}

/// Every post file under the content folder, with the configuration they were read with.
#[derive(Debug)]
pub struct Library {
    sources: Sources,
    config: Arc<SiteConfig>,
    config_problems: Vec<Diagnostic>,
    scan_problems: Vec<Diagnostic>,
    layout: Layout,
    files: BTreeMap<Arc<Path>, Entry>,
    renderer: Arc<Renderer>,
    /// Bumped when every body must be rendered again (configuration or includes changed).
    epoch: u64,
    /// The stamps of `_includes/` when every body was last made again.
    includes: Vec<(PathBuf, Stamp)>,
    links: Arc<LinkTable>,
    /// One shared copy of each category, tag and author.
    shared: Interner,
    /// Files whose text is kept, oldest first, and the bytes kept.
    kept: VecDeque<Arc<Path>>,
    kept_bytes: usize,
    /// Whether the first load is done (files read after it keep their text).
    serving: bool,
    /// Posts changed since the last reload began.
    changed: Vec<PostChange>,
    /// Warnings about posts that share an id or URL, and whether they must be worked out again.
    clashes: Vec<Diagnostic>,
    clashes_stale: bool,
}

impl Library {
    /// Reads the configuration and every post's front matter. Fatal only when the
    /// configuration is broken or the content folder is missing.
    pub fn load(sources: &Sources) -> Result<Library, Fatal> {
        let mut config_problems = Vec::new();
        let config = load_config(sources, &mut config_problems).map_err(Fatal)?;
        if !sources.content_dir.is_dir() {
            let message = if sources.content_dir.exists() {
                "is a file, not a folder: `--content` wants the folder that holds the posts (a Jekyll site's \
                 folder, with `_posts/`)"
            } else {
                "content folder not found: create it or pass `--content DIR`"
            };
            return Err(Fatal(Diagnostic::error(&sources.content_dir, None, None, message)));
        }
        let store = Store::new(sources.cache_bytes);
        let mut library = Library {
            sources: sources.clone(),
            config: Arc::new(config),
            config_problems,
            scan_problems: Vec::new(),
            layout: Layout::Plain,
            files: BTreeMap::new(),
            renderer: Arc::new(Renderer::new(store, sources.render_budget)),
            epoch: 0,
            includes: Vec::new(),
            links: Arc::default(),
            shared: Interner::default(),
            kept: VecDeque::new(),
            kept_bytes: 0,
            serving: false,
            changed: Vec::new(),
            clashes: Vec::new(),
            clashes_stale: true,
        };
        library.rescan(true);
        library.serving = true;
        Ok(library)
    }

    /// The configuration in force.
    pub fn config(&self) -> Arc<SiteConfig> {
        self.config.clone()
    }

    /// Where the content comes from.
    pub fn sources(&self) -> &Sources {
        &self.sources
    }

    /// The one cache of rendered bodies and documents.
    pub fn store(&self) -> &Store {
        self.renderer.store()
    }

    /// Where the current posts' bodies are rendered from.
    pub fn bodies(&self) -> BodySource {
        let context = RenderContext {
            content_dir: self.sources.content_dir.clone(),
            max_post_bytes: self.sources.max_post_bytes,
            config: self.config.clone(),
            links: self.links.clone(),
            epoch: self.epoch,
        };
        BodySource::new(self.renderer.clone(), context)
    }

    /// Renders every post's body (on every core, keeping none) and returns what rendering
    /// found: Liquid's problems and bodies that cannot be shown. For `tidings check`; serving
    /// finds the same as documents are rendered.
    pub fn check_bodies(&self) -> Vec<Diagnostic> {
        let bodies = self.bodies();
        let posts: Vec<&Arc<Post>> = self.files.values().filter_map(|e| e.post.as_ref()).collect();
        let mut found: Vec<Diagnostic> = posts.par_iter().flat_map_iter(|post| bodies.check(post)).collect();
        found.sort();
        found
    }

    /// How many posts there are to serve, without making their list (see [`Library::posts`]).
    pub fn post_count(&self) -> usize {
        self.files.values().filter(|e| e.post.is_some()).count()
    }

    /// Every post to serve (last good versions included), by source path. Ids are unique:
    /// where several posts have one id (jekyll-feed's ids repeat: every meeting post of one
    /// month can get `…/2016/12/meeting`), the oldest keeps it, as readers kept that one, and
    /// the others take their URL (or, when a post shares its URL too, the URL and its file
    /// name) as id. Each such post is reported ([`Library::diagnostics`]).
    pub fn posts(&self) -> Vec<Arc<Post>> {
        let mut posts: Vec<Arc<Post>> = self.files.values().filter_map(|e| e.post.clone()).collect();
        let by_id = repeats(posts.iter().enumerate().map(|(i, post)| (&*post.id, i)));
        let mut renamed: Vec<usize> = Vec::new();
        for mut group in by_id.into_values() {
            group.sort_by(|&a, &b| {
                posts[a].published.cmp(&posts[b].published).then(posts[a].source.cmp(&posts[b].source))
            });
            renamed.extend(group.into_iter().skip(1));
        }
        if renamed.is_empty() {
            return posts;
        }
        renamed.sort_unstable();
        let mut taken: HashSet<Arc<str>> = posts.iter().map(|p| p.id.clone()).collect();
        for i in renamed {
            let post = &posts[i];
            let stem = post.source.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            let id: Arc<str> =
                if taken.contains(&post.url) { Arc::from(format!("{}#{stem}", post.url)) } else { post.url.clone() };
            taken.insert(id.clone());
            posts[i] = Arc::new(Post { id, ..(**post).clone() });
        }
        posts
    }

    /// Every current problem, sorted by path and position.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        let mut all: Vec<Diagnostic> = self
            .config_problems
            .iter()
            .chain(&self.scan_problems)
            .chain(self.files.values().flat_map(|e| &e.extras().problems))
            .chain(&self.clashes)
            .cloned()
            .chain(self.unused_config_keys())
            .collect();
        all.sort();
        all.dedup();
        all
    }

    /// A snapshot of the loaded site.
    pub fn site(&self) -> Site {
        Site {
            config: self.config.clone(),
            posts: self.posts(),
            diagnostics: self.diagnostics(),
            bodies: self.bodies(),
        }
    }

    /// Whether a file in `_includes/` changed since every body was last made again: Liquid
    /// reads includes when it renders a body, so kept bodies may show the old text.
    pub fn includes_changed(&self) -> bool {
        include_stamps(&self.sources.content_dir) != self.includes
    }

    /// Reads the configuration again; if it changed, re-reads every post with it. A broken
    /// configuration is reported and the one in force is kept.
    pub fn reload_config(&mut self) -> Changes {
        let mut problems = Vec::new();
        match load_config(&self.sources, &mut problems) {
            Ok(config) => {
                self.config_problems = problems;
                if config == *self.config {
                    return Changes::default();
                }
                self.config = Arc::new(config);
                // Every body and document was made with the old configuration.
                self.store().clear();
                let mut changes = self.rescan(true);
                changes.config = true;
                changes
            }
            Err(d) => {
                let message = format!("{}; the configuration loaded before stays in force", d.message);
                self.config_problems = vec![Diagnostic { message, ..d }];
                Changes::default()
            }
        }
    }

    /// Walks the content folder: reads new files and files whose size or time changed (all
    /// of them, and every body made again, when `force`), and forgets files that are gone.
    /// When the folder itself is gone, every post is kept and the problem reported.
    pub fn rescan(&mut self, force: bool) -> Changes {
        let dir = self.sources.content_dir.clone();
        if force {
            self.epoch += 1;
            // Before the posts are read: an include changed while they are is seen later.
            self.includes = include_stamps(&dir);
        }
        if !dir.is_dir() {
            self.scan_problems = vec![Diagnostic::error(
                &dir,
                None,
                None,
                "content folder not found; the posts loaded before are served until it is back",
            )];
            return Changes::default();
        }
        let mut scan_problems = Vec::new();
        let started = std::time::Instant::now();
        let (found, layout) = find_posts(&dir, self.config.jekyll.is_some(), self.sources.drafts, &mut scan_problems);
        let scanned = started.elapsed();
        if found.is_empty() {
            let expected = match layout {
                Layout::Jekyll => "files named YYYY-MM-DD-slug.md in a `_posts` folder",
                Layout::Posts => "Markdown files in its `_posts` folders",
                Layout::Plain => "`*.md` or `*.markdown` files",
            };
            scan_problems.push(Diagnostic::warning(
                &dir,
                None,
                None,
                format!("no posts: the content folder has no {expected}; is `--content` the right folder?"),
            ));
        }
        self.scan_problems = scan_problems;
        self.layout = layout;
        // Hash lookups, not tree lookups: a poll of a large site that changed nothing costs a
        // walk and a stat per file, not a path-by-path comparison per file (issue 12). What is
        // left of the known files once every found one is taken out is gone.
        let mut known: HashMap<&Path, (&Arc<Path>, &Entry)> =
            self.files.iter().map(|(path, entry)| (&**path, (path, entry))).collect();
        let found_count = found.len();
        let stale: Vec<PostFile> = if known.is_empty() {
            // The first load: every file is new, and a million paths need no hashing to say so.
            found
        } else {
            let mut stale = Vec::new();
            for file in found {
                let entry = known.remove(file.relative.as_path()).map(|(_, entry)| entry);
                let current =
                    entry.is_some_and(|e| e.stamp.is_some() && e.stamp == Stamp::of(&dir.join(&file.relative)));
                if force || !current {
                    stale.push(file);
                }
            }
            stale
        };
        let mut gone: Vec<Arc<Path>> = known.into_values().map(|(path, _)| path.clone()).collect();
        gone.sort();
        let mut changes = Changes { removed: gone.len(), ..Changes::default() };
        self.remove(&gone);
        changes.reread = stale.len();
        let started = std::time::Instant::now();
        self.read_all(&stale);
        tracing::debug!(
            files = found_count,
            reread = stale.len(),
            scan_ms = scanned.as_millis() as u64,
            read_ms = started.elapsed().as_millis() as u64,
            "scanned the content folder"
        );
        self.settle(&mut changes);
        changes
    }

    /// Re-reads the given paths (relative to the content folder, or starting with it as the
    /// library was given it), all at once. A path that is gone takes every post at or under it
    /// out of the feeds (a file or a folder: its name cannot tell); a folder that appeared is
    /// scanned. Paths that are not posts are ignored.
    pub fn refresh(&mut self, paths: &[PathBuf]) -> Changes {
        let dir = self.sources.content_dir.clone();
        let mut changes = Changes::default();
        let mut stale = Vec::new();
        let mut scan_folder = false;
        let root = dir.canonicalize().unwrap_or_else(|_| dir.clone());
        for path in paths {
            let relative = path.strip_prefix(&dir).unwrap_or(path).to_path_buf();
            if relative.is_absolute() {
                continue;
            }
            let full = dir.join(&relative);
            if full.is_dir() {
                scan_folder = true;
            } else if full.is_file() {
                if classify(&relative, self.layout, self.sources.drafts) == PathKind::Post
                    && super::is_inside(&root, &full)
                {
                    let draft = relative.components().any(|c| c.as_os_str() == "_drafts");
                    stale.push(PostFile { relative, draft });
                }
            } else {
                let gone: Vec<Arc<Path>> = self.files.keys().filter(|k| k.starts_with(&relative)).cloned().collect();
                changes.removed += gone.len();
                self.remove(&gone);
            }
        }
        changes.reread = stale.len();
        self.read_all(&stale);
        if scan_folder {
            let scanned = self.rescan(false);
            changes.reread += scanned.reread;
            changes.removed += scanned.removed;
            changes.posts.extend(scanned.posts);
        }
        self.settle(&mut changes);
        changes
    }

    /// Ends a reload: hands over the posts that changed, and works out clashes again if ids or
    /// URLs changed (over every post, so not for an edit that kept both).
    fn settle(&mut self, changes: &mut Changes) {
        changes.posts.append(&mut self.changed);
        if self.clashes_stale {
            self.clashes = self.find_clashes();
            self.clashes_stale = false;
        }
    }

    /// Forgets files that are gone.
    fn remove(&mut self, gone: &[Arc<Path>]) {
        for path in gone {
            let Some(mut entry) = self.files.remove(path) else { continue };
            if let Some(text) = entry.take_text() {
                self.kept_bytes -= text.len();
            }
            if entry.post.is_some() {
                self.changed.push(PostChange { old: entry.post, new: None });
                self.clashes_stale = true;
            }
        }
        self.renderer.forget_problems(gone.iter().map(|p| &**p));
        if !gone.is_empty() {
            self.update_links();
        }
    }

    /// Reads files' front matter into their entries on every core, one file at a time so
    /// that memory holds no more than a few texts; bodies are rendered when shown. A file that
    /// breaks keeps its last good post.
    fn read_all(&mut self, files: &[PostFile]) {
        let config = self.config.clone();
        let serving = self.serving;
        let started = std::time::Instant::now();
        self.renderer.forget_problems(files.iter().map(|f| f.relative.as_path()));
        let mut links_changed = false;
        // Into an empty map (the first load), in one sorted batch: inserting one at a time
        // costs two path comparisons per level of the tree for every file.
        let mut batch = self.files.is_empty().then(|| Vec::with_capacity(files.len()));
        // Read in chunks, each stored before the next is read: what is read but not yet
        // stored stays a few megabytes, however many files there are.
        let folders = Folders::default();
        for chunk in files.chunks(READ_CHUNK) {
            let read: Vec<Read> = {
                let (sources, shared, folders) = (&self.sources, &self.shared, &folders);
                chunk.par_iter().map(|file| read_file(file, sources, folders, &config, shared, serving)).collect()
            };
            for (file, read) in chunk.iter().zip(read) {
                links_changed |= self.apply(file, read, batch.as_mut());
            }
        }
        if let Some(batch) = batch {
            self.files = batch.into_iter().collect();
        }
        if links_changed && self.config.jekyll.is_some() {
            self.update_links();
        }
        tracing::debug!(files = files.len(), ms = started.elapsed().as_millis() as u64, "read and stored");
    }

    /// The table of post URLs that Liquid's `link` and `post_url` read, made again.
    fn update_links(&mut self) {
        if self.config.jekyll.is_none() {
            return;
        }
        let urls = self
            .files
            .iter()
            .filter_map(|(path, e)| e.relative_url.as_ref().map(|u| (path.clone(), u.to_string())))
            .collect();
        self.links = Arc::new(LinkTable::new(urls, self.sources.content_dir.clone(), self.sources.max_post_bytes));
    }

    /// Stores a parse result in the file's entry, keeping the last good post (and what its
    /// body is rendered from) if it failed. True when the post's URL changed.
    fn apply(&mut self, file: &PostFile, read: Read, batch: Option<&mut Vec<(Arc<Path>, Entry)>>) -> bool {
        let previous = self.files.remove(file.relative.as_path());
        let old = previous.as_ref().and_then(|p| p.post.clone());
        let key: Arc<Path> = match (&read.parsed, &previous) {
            (Ok(Parsed::Post(post, _)), _) => post.source.clone(),
            (_, Some(previous)) => {
                previous.post.as_ref().map_or_else(|| Arc::from(file.relative.as_path()), |p| p.source.clone())
            }
            _ => Arc::from(file.relative.as_path()),
        };
        let old_url = previous.as_ref().and_then(|p| p.relative_url.clone());
        let stamp = read.stamp;
        // The text kept for the version before, if this read replaces it.
        let replaced_text = previous.as_ref().and_then(|p| p.extras().text.as_ref()).map_or(0, |t| t.len());
        if !(read.parsed.is_err() && previous.as_ref().is_some_and(|p| p.post.is_some())) {
            self.kept_bytes -= replaced_text;
        }
        let entry = match read.parsed {
            Ok(Parsed::Post(post, warnings)) => {
                if let Some(text) = &read.text {
                    self.keep_text(&key, text.len());
                }
                let extras = Extras { site_keys: read.site_keys, problems: warnings, text: read.text };
                Entry::new(stamp, Some(post), read.relative_url, extras)
            }
            Ok(Parsed::Unpublished) => {
                Entry::new(stamp, None, None, Extras { site_keys: read.site_keys, ..Extras::default() })
            }
            Err(d) => match previous {
                Some(Entry { post: Some(last_good), relative_url, extras, .. }) => {
                    let text = extras.and_then(|e| e.text);
                    let relative_url = relative_url.map(String::from);
                    let message = format!("{}; the last good version is served until this is fixed", d.message);
                    let problems = vec![Diagnostic { message, ..d }];
                    let post = self.pin(last_good, text.clone());
                    Entry::new(stamp, Some(post), relative_url, Extras { problems, text, ..Extras::default() })
                }
                _ => Entry::new(stamp, None, None, Extras { problems: vec![d], ..Extras::default() }),
            },
        };
        let changed = entry.relative_url != old_url;
        if old.is_some() || entry.post.is_some() {
            let same_names = match (&old, &entry.post) {
                (Some(a), Some(b)) => a.id == b.id && a.url == b.url,
                _ => false,
            };
            self.clashes_stale |= !same_names;
            if self.serving {
                self.changed.push(PostChange { old, new: entry.post.clone() });
            }
        }
        match batch {
            Some(batch) => batch.push((key, entry)),
            None => {
                self.files.insert(key, entry);
            }
        }
        changed
    }

    /// The last good post of a file that broke, made to render its body from what is left of
    /// that version: its text, if it was read while serving, else its body, if it was rendered.
    fn pin(&self, last_good: Arc<Post>, text: Option<Arc<str>>) -> Arc<Post> {
        if last_good.pinned.is_some() {
            return last_good;
        }
        let pinned = match text {
            Some(text) => Some(Pinned::Text(text)),
            None => self
                .store()
                .get(crate::store::Key::Body(super::body::body_key(&last_good), self.epoch))
                .map(Pinned::Body),
        };
        match pinned {
            Some(pinned) => Arc::new(Post { pinned: Some(pinned), ..(*last_good).clone() }),
            None => last_good,
        }
    }

    /// Notes that `path`'s text is kept, dropping the oldest kept texts past the budget.
    fn keep_text(&mut self, path: &Arc<Path>, bytes: usize) {
        self.kept.push_back(path.clone());
        self.kept_bytes += bytes;
        while self.kept_bytes > KEPT_TEXT_BYTES {
            let Some(oldest) = self.kept.pop_front() else { break };
            if let Some(text) = self.files.get_mut(&oldest).and_then(Entry::take_text) {
                self.kept_bytes -= text.len();
            }
        }
    }

    /// `_config.yml` keys that tidings does not use and no post prints.
    fn unused_config_keys(&self) -> Vec<Diagnostic> {
        let Some(jekyll) = &self.config.jekyll else { return Vec::new() };
        let printed: BTreeSet<&str> =
            self.files.values().flat_map(|e| e.extras().site_keys.iter().map(String::as_str)).collect();
        jekyll
            .liquid_only_keys
            .iter()
            .filter(|(key, _)| !printed.contains(key.as_str()))
            .map(|(_, d)| d.clone())
            .collect()
    }

    /// Warnings for posts that share an id (readers merge them) or a URL (Jekyll's "Conflict").
    fn find_clashes(&self) -> Vec<Diagnostic> {
        let posts = || self.files.iter().filter_map(|(path, e)| e.post.as_ref().map(|p| (path, p)));
        // One map of a million strings each: on two cores at once.
        let (by_id, by_url) = rayon::join(
            || repeats(posts().map(|(path, post)| (&*post.id, &**path))),
            || repeats(posts().map(|(path, post)| (&*post.url, &**path))),
        );
        let mut out = Vec::new();
        for (what, groups) in [("id", by_id), ("URL", by_url)] {
            for (value, paths) in groups {
                for path in &paths {
                    let others: Vec<String> =
                        paths.iter().filter(|p| *p != path).map(|p| p.display().to_string()).collect();
                    let advice = if what == "id" {
                        "feed readers would show only one of them: the oldest keeps this id and the others take \
                         their URL as id (give each post its own `id:` (a URI) or `slug:` to choose)"
                    } else {
                        "only one of them can be served there; give one a different `permalink:`"
                    };
                    out.push(Diagnostic::warning(
                        &self.sources.content_dir.join(path),
                        None,
                        None,
                        format!("conflict: same {what} {value:?} as {}; {advice}", others.join(", ")),
                    ));
                }
            }
        }
        out
    }
}

/// The values that share a key with another, grouped by key, in the order met; keys met once
/// cost one hash-map slot and no allocation (most keys are unique).
fn repeats<'a, T: Copy>(items: impl Iterator<Item = (&'a str, T)>) -> BTreeMap<&'a str, Vec<T>> {
    let mut first: HashMap<&'a str, T> = HashMap::default();
    let mut repeated: BTreeMap<&'a str, Vec<T>> = BTreeMap::new();
    for (key, value) in items {
        match first.entry(key) {
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(value);
            }
            std::collections::hash_map::Entry::Occupied(known) => {
                repeated.entry(key).or_insert_with(|| vec![*known.get()]).push(value);
            }
        }
    }
    repeated
}

/// Reads one post file: its stamp, its front matter into a post (terms and authors shared),
/// and what else the library keeps of it.
fn read_file(
    file: &PostFile,
    sources: &Sources,
    folders: &Folders,
    config: &SiteConfig,
    shared: &Interner,
    serving: bool,
) -> Read {
    let shown = sources.content_dir.join(&file.relative);
    let (meta, text) = read_post_with_metadata(&sources.content_dir, &shown, Some(folders), sources.max_post_bytes);
    let stamp = meta.as_ref().and_then(Stamp::of_metadata);
    let text = match text {
        Ok(text) => text,
        Err(d) => {
            return Read { stamp, parsed: Err(d), relative_url: None, site_keys: Vec::new(), text: None };
        }
    };
    let site_keys = liquid_site_keys(&text);
    let hash = text_hash(&text);
    let (parsed, relative_url) = match parse::read_front(&text, file, &shown, config) {
        Ok(Some(front)) => {
            // Only Liquid's `link` and `post_url` read it: kept for Jekyll sites alone.
            let url = config.jekyll.is_some().then(|| front.relative_url.clone());
            let (mut post, warnings) = front.into_post(hash, None);
            // Here, not when stored: the copies it drops are freed on the thread that made
            // them while it still allocates. Freed later on another, they left holes in pages
            // that long-lived strings kept resident (BENCHMARKS.md, "Size is free").
            shared.intern(&mut post);
            (Ok(Parsed::Post(Arc::new(post), warnings)), url)
        }
        Ok(None) => (Ok(Parsed::Unpublished), None),
        Err(d) => (Err(d), None),
    };
    let text = (serving && matches!(parsed, Ok(Parsed::Post(..)))).then(|| Arc::from(text));
    Read { stamp, parsed, relative_url, site_keys, text }
}

/// One shared copy of each category, tag and author, for every reading thread.
#[derive(Debug, Default)]
struct Interner(std::sync::Mutex<Shared>);

/// The shared terms (categories and tags) and authors.
#[derive(Debug, Default)]
struct Shared {
    terms: HashSet<Arc<Term>>,
    people: HashSet<Arc<Person>>,
}

impl Interner {
    /// Replaces a post's terms and authors with the shared copies.
    fn intern(&self, post: &mut Post) {
        fn shared<T: Eq + std::hash::Hash>(set: &mut HashSet<Arc<T>>, value: &mut Arc<T>) {
            match set.get(value) {
                Some(known) => *value = known.clone(),
                None => {
                    set.insert(value.clone());
                }
            }
        }
        let mut known = self.0.lock().unwrap_or_else(|p| p.into_inner());
        for term in post.categories.iter_mut().chain(post.tags.iter_mut()) {
            shared(&mut known.terms, term);
        }
        for person in &mut post.authors {
            shared(&mut known.people, person);
        }
    }
}

/// One file as read: its stamp, the outcome, its URL, the `site` keys its Liquid prints, and
/// its text when it is kept.
struct Read {
    stamp: Option<Stamp>,
    parsed: Result<Parsed, Diagnostic>,
    relative_url: Option<String>,
    site_keys: Vec<String>,
    text: Option<Arc<str>>,
}

impl Entry {
    /// An entry, its extras boxed only when there are any.
    fn new(stamp: Option<Stamp>, post: Option<Arc<Post>>, relative_url: Option<String>, extras: Extras) -> Entry {
        let empty = extras.site_keys.is_empty() && extras.problems.is_empty() && extras.text.is_none();
        Entry {
            stamp,
            post,
            relative_url: relative_url.map(String::into_boxed_str),
            extras: (!empty).then(|| Box::new(extras)),
        }
    }

    /// Its extras (empty ones when it has none).
    fn extras(&self) -> &Extras {
        self.extras.as_deref().unwrap_or(&NO_EXTRAS)
    }

    /// The kept text of its last good version, taken out.
    fn take_text(&mut self) -> Option<Arc<str>> {
        self.extras.as_mut().and_then(|e| e.text.take())
    }
}

/// The keys a post's Liquid reads from `site` (`{{ site.repository }}` → `repository`), found
/// by a plain scan of the text.
fn liquid_site_keys(text: &str) -> Vec<String> {
    if !crate::jekyll::liquid::has_liquid(text) {
        return Vec::new();
    }
    let mut keys: Vec<String> = text
        .match_indices("site.")
        .filter(|(i, _)| !text[..*i].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '.'))
        .map(|(i, m)| {
            let rest = &text[i + m.len()..];
            rest[..rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-')).unwrap_or(rest.len())].to_owned()
        })
        .filter(|k| !k.is_empty())
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(dir: &Path) -> Sources {
        Sources::new(dir.join("content"), dir.join("feeds"))
    }

    fn titles(library: &Library) -> Vec<String> {
        library.posts().iter().map(|p| p.title.clone()).collect()
    }

    #[test]
    fn a_broken_post_keeps_its_last_good_version_until_fixed() {
        let dir = tempfile::tempdir().unwrap();
        let posts = dir.path().join("content/_posts");
        std::fs::create_dir_all(&posts).unwrap();
        let file = posts.join("2024-01-01-a.md");
        std::fs::write(&file, "---\ntitle: Good\n---\nBody\n").unwrap();
        let mut library = Library::load(&sources(dir.path())).unwrap();
        assert_eq!(titles(&library), ["Good"]);

        std::fs::write(&file, "---\ntitle: [broken\n---\nBody\n").unwrap();
        library.refresh(std::slice::from_ref(&file));
        assert_eq!(titles(&library), ["Good"], "last good version kept");
        let problems = library.diagnostics();
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].message.ends_with("the last good version is served until this is fixed"),
            "{}",
            problems[0]
        );

        std::fs::write(&file, "---\ntitle: Fixed\n---\nBody\n").unwrap();
        library.refresh(std::slice::from_ref(&file));
        assert_eq!(titles(&library), ["Fixed"]);
        assert!(library.diagnostics().is_empty());

        std::fs::remove_file(&file).unwrap();
        library.refresh(std::slice::from_ref(&file));
        assert!(titles(&library).is_empty(), "a deleted file leaves");
    }

    #[test]
    fn links_to_outside_the_content_folder_are_not_followed() {
        // Issue 10, hardening: a foreign file's contents never reach a feed.
        let dir = tempfile::tempdir().unwrap();
        let posts = dir.path().join("content/_posts");
        std::fs::create_dir_all(&posts).unwrap();
        std::fs::write(dir.path().join("secret.md"), "---\ntitle: Secret\n---\n").unwrap();
        std::fs::write(posts.join("2024-01-01-real.md"), "---\ntitle: Real\n---\n").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret.md"), posts.join("2024-01-02-secret.md")).unwrap();
        std::fs::create_dir_all(dir.path().join("other")).unwrap();
        std::fs::write(dir.path().join("other/2024-01-04-other.md"), "---\ntitle: Other\n---\n").unwrap();
        std::os::unix::fs::symlink(dir.path().join("other"), posts.join("outside")).unwrap();
        std::os::unix::fs::symlink(posts.join("2024-01-01-real.md"), posts.join("2024-01-03-alias.md")).unwrap();
        let mut library = Library::load(&sources(dir.path())).unwrap();
        assert_eq!(titles(&library), ["Real", "Real"], "a link within the folder is followed");
        let warnings: Vec<String> = library.diagnostics().iter().map(ToString::to_string).collect();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        let target = dir.path().join("secret.md").display().to_string();
        assert!(
            warnings.iter().all(|w| w.contains("symbolic link to outside") && !w.starts_with(&target)),
            "{warnings:?}"
        );
        library.refresh(&[PathBuf::from("_posts/2024-01-02-secret.md")]);
        assert_eq!(titles(&library), ["Real", "Real"], "nor on reload");
    }

    #[test]
    fn a_folder_moved_away_takes_its_posts_whatever_its_name() {
        // Issue 10, defect 4: `archive.2020` has a dot, and is a folder all the same.
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("content/_posts/archive.2020");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("2024-08-01-a.md"), "---\ntitle: A\n---\n").unwrap();
        let mut library = Library::load(&sources(dir.path())).unwrap();
        assert_eq!(titles(&library), ["A"]);
        std::fs::rename(&folder, dir.path().join("elsewhere")).unwrap();
        let changes = library.refresh(&[PathBuf::from("_posts/archive.2020")]);
        assert_eq!(changes.removed, 1);
        assert!(titles(&library).is_empty());
        std::fs::rename(dir.path().join("elsewhere"), &folder).unwrap();
        library.refresh(&[PathBuf::from("_posts/archive.2020")]);
        assert_eq!(titles(&library), ["A"], "a folder moved in is scanned");
    }

    #[test]
    fn a_new_broken_file_is_reported_and_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let posts = dir.path().join("content/_posts");
        std::fs::create_dir_all(&posts).unwrap();
        let mut library = Library::load(&sources(dir.path())).unwrap();
        assert!(library.diagnostics()[0].message.starts_with("no posts: the content folder has no"), "an empty folder");
        std::fs::write(posts.join("2024-01-01-b.md"), "no front matter\n").unwrap();
        let changes = library.rescan(false);
        assert_eq!(changes.reread, 1);
        assert!(titles(&library).is_empty());
        assert_eq!(library.diagnostics().len(), 1);
    }

    #[test]
    fn a_vanished_content_folder_keeps_the_posts_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let posts = dir.path().join("content/_posts");
        std::fs::create_dir_all(&posts).unwrap();
        std::fs::write(posts.join("2024-01-01-a.md"), "---\ntitle: Good\n---\n").unwrap();
        let mut library = Library::load(&sources(dir.path())).unwrap();
        std::fs::rename(dir.path().join("content"), dir.path().join("moved")).unwrap();
        library.rescan(false);
        assert_eq!(titles(&library), ["Good"]);
        assert!(library.diagnostics()[0].message.starts_with("content folder not found"));
        std::fs::rename(dir.path().join("moved"), dir.path().join("content")).unwrap();
        library.rescan(false);
        assert!(library.diagnostics().is_empty());
    }

    #[test]
    fn post_paths() {
        let post =
            |path: &str, layout: Layout, drafts: bool| classify(Path::new(path), layout, drafts) == PathKind::Post;
        assert!(post("_posts/a.md", Layout::Posts, false));
        assert!(post("blog/_posts/a.markdown", Layout::Posts, false));
        assert!(!post("about.md", Layout::Posts, false), "pages are not posts");
        assert!(post("about.md", Layout::Plain, false));
        assert!(!post("_drafts/a.md", Layout::Posts, false));
        assert!(post("_drafts/a.md", Layout::Posts, true));
        assert!(!post(".git/a.md", Layout::Plain, false));
        assert!(!post("_layouts/a.md", Layout::Plain, false));
        assert!(!post("_posts/a.txt", Layout::Posts, false));
        assert!(post("_posts/2016-01-11-a.txt", Layout::Jekyll, false), "any extension in a Jekyll site");
        assert!(post("_posts/2016-1-5-a b.html", Layout::Jekyll, false));
        assert!(!post("_posts/README.md", Layout::Jekyll, false));
        assert!(matches!(classify(Path::new("_posts/README.md"), Layout::Jekyll, false), PathKind::Skipped(_)));
        assert_eq!(classify(Path::new("_posts/.2016-01-01-a.md"), Layout::Jekyll, false), PathKind::Ignored);
        assert_eq!(classify(Path::new("events.md"), Layout::Jekyll, false), PathKind::Ignored);
    }
}

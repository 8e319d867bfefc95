//! The only code that reads content files: finds posts, splits front matter, and builds
//! typed [`Post`]s, collecting a [`Diagnostic`] for everything wrong instead of stopping.

pub mod beneath;
pub mod body;
pub mod date;
pub mod library;
pub mod parse;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use rayon::prelude::*;

use crate::config::{CuratedFeed, Person, SiteConfig};
use crate::diagnostic::Diagnostic;
use crate::text::slugify;
pub use body::{Body, BodySource, Pinned};
pub use library::{Library, Stamp, include_stamps, stamp_folder};
pub use parse::{Parsed, parse_post};

/// Default largest post file read, in bytes; bigger files are reported and skipped.
pub const MAX_POST_BYTES: u64 = 4 * 1024 * 1024;

/// A category or tag: the name as written and the slug used in URLs.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Term {
    /// As the post wrote it, e.g. `Operations`.
    pub name: String,
    /// Lower-case URL form, e.g. `operations`; spellings with the same slug are one term.
    pub slug: String,
}

impl Term {
    fn new(name: &str) -> Option<Term> {
        let name = name.trim();
        let slug = slugify(name);
        (!slug.is_empty()).then(|| Term { name: name.to_owned(), slug })
    }
}

/// A post as the index knows it: its front matter, read and checked, and where its body
/// is. The body's HTML is made when a document that shows it is rendered ([`BodySource`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Post {
    /// The file's path relative to the content folder; the tie-break between equal dates.
    pub source: Arc<Path>,
    /// The title as plain text.
    pub title: String,
    /// When it was published, in the site's zone.
    pub published: DateTime<FixedOffset>,
    /// When it was last changed, if the front matter says.
    pub updated: Option<DateTime<FixedOffset>>,
    /// Absolute URL of the post.
    pub url: Arc<str>,
    /// Stable id: a front-matter `id` (a URI), a WordPress `guid`, else jekyll-feed's id in a
    /// Jekyll site, else the URL (then the same allocation as `url`: a million posts keep a
    /// million URLs once).
    pub id: Arc<str>,
    /// Categories in the order written, without duplicates (shared between posts). Boxed
    /// slices, not `Vec`s: eight bytes less each, which puts a post in a smaller size class.
    pub categories: Box<[Arc<Term>]>,
    /// Tags in the order written, without duplicates (shared between posts).
    pub tags: Box<[Arc<Term>]>,
    /// Authors in the order written (shared between posts).
    pub authors: Box<[Arc<Person>]>,
    /// Absolute URL of the post's image.
    pub image: Option<String>,
    /// The post's language, if it differs from the site's.
    pub lang: Option<Box<str>>,
    /// A hash of the text the post was read from: it changes when the file does, and keys
    /// the rendered body.
    pub hash: u128,
    /// What to render the body from when it is not the file as it is now: the last good
    /// version of a file that is broken now, or a post parsed on its own.
    pub pinned: Option<Pinned>,
}

impl Post {
    /// The later of published and updated.
    pub fn modified(&self) -> DateTime<FixedOffset> {
        self.updated.map_or(self.published, |u| u.max(self.published))
    }
}

/// A hash of a post's text.
pub fn text_hash(text: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(text.as_bytes())
}

/// Where to read from.
#[derive(Clone, Debug)]
pub struct Sources {
    /// The content folder (posts).
    pub content_dir: PathBuf,
    /// The feeds folder (`site.yaml`, `authors.yaml`).
    pub feeds_dir: PathBuf,
    /// Read `_drafts/` too.
    pub drafts: bool,
    /// Overrides `base_url` from `site.yaml`.
    pub base_url: Option<String>,
    /// Largest post file read, in bytes.
    pub max_post_bytes: u64,
    /// Longest a post's body may take to render before documents are served without it; its
    /// Liquid stops there too (in `serve`, `check` and `build`), and the body is not shown.
    pub render_budget: std::time::Duration,
    /// Bytes of rendered bodies and documents kept (one budget for both).
    pub cache_bytes: u64,
    /// The path under the base URL of a WebSub hub this server runs (`serve --hub`): feeds
    /// advertise it first.
    pub own_hub: Option<&'static str>,
}

impl Sources {
    /// Reads `content_dir` with `feeds_dir`, everything else as `serve` has it by default.
    pub fn new(content_dir: impl Into<PathBuf>, feeds_dir: impl Into<PathBuf>) -> Sources {
        Sources {
            content_dir: content_dir.into(),
            feeds_dir: feeds_dir.into(),
            drafts: false,
            base_url: None,
            max_post_bytes: MAX_POST_BYTES,
            render_budget: RENDER_BUDGET,
            cache_bytes: crate::store::DEFAULT_BUDGET,
            own_hub: None,
        }
    }
}

/// Default longest render of one post body before feeds are served without it (and its
/// Liquid stops).
pub const RENDER_BUDGET: std::time::Duration = std::time::Duration::from_secs(2);

/// Everything loaded from disk: configuration, every good post (future ones included) and
/// every problem found.
#[derive(Debug)]
pub struct Site {
    /// The site configuration.
    pub config: Arc<SiteConfig>,
    /// Every post that loaded, sorted by source path.
    pub posts: Vec<Arc<Post>>,
    /// Where their bodies are rendered from.
    pub bodies: BodySource,
    /// Every problem found, sorted by path and position.
    pub diagnostics: Vec<Diagnostic>,
}

/// A failure that stops loading altogether (configuration or the content folder itself).
#[derive(Debug)]
pub struct Fatal(pub Diagnostic);

/// Loads the configuration and every post. Only a broken configuration or a missing content
/// folder is fatal; bad posts become diagnostics.
pub fn load(sources: &Sources) -> Result<Site, Fatal> {
    Library::load(sources).map(|library| library.site())
}

/// Reads a Jekyll site's `_config.yml`, then `site.yaml` on top, the authors table and an
/// `_authors/` collection, then applies overrides.
fn load_config(sources: &Sources, diagnostics: &mut Vec<Diagnostic>) -> Result<SiteConfig, Diagnostic> {
    let mut config = SiteConfig::default();
    // A Jekyll site's own `_config.yml` first; tidings' `site.yaml`, if any, on top of it.
    let content = Some(sources.content_dir.as_path());
    if let Some(jekyll_path) = jekyll_config(&sources.content_dir)
        && let Some(text) = read_optional(content, &jekyll_path)?
    {
        let text = match jekyll_path.extension() {
            Some(ext) if ext == "toml" => toml_as_yaml(&text, &jekyll_path)?,
            _ => text,
        };
        config.apply_jekyll(crate::jekyll::config::read(&text, &jekyll_path, diagnostics)?, &jekyll_path)?;
        drop_bad_emails(&mut config, &jekyll_path, diagnostics);
    }
    let site_path = sources.feeds_dir.join("site.yaml");
    if let Some(text) = read_optional(None, &site_path)? {
        config.apply_yaml(&text, &site_path, diagnostics)?;
        drop_bad_emails(&mut config, &site_path, diagnostics);
    }
    let tables =
        [(None, sources.feeds_dir.join("authors.yaml")), (content, sources.content_dir.join("_data/authors.yml"))];
    for (root, authors_path) in tables {
        let read = match read_optional(root, &authors_path) {
            // Content that links out is refused and reported, not fatal.
            Err(d) if d.message.contains(beneath::OUTSIDE) => {
                diagnostics.push(d);
                continue;
            }
            read => read?,
        };
        if let Some(text) = read {
            let table = SiteConfig::authors_from_yaml(&text, &authors_path)?;
            for (key, person) in table {
                config.authors.entry(key).or_insert(person);
            }
            drop_bad_emails(&mut config, &authors_path, diagnostics);
            break;
        }
    }
    for (key, person) in author_collection(&sources.content_dir, diagnostics) {
        config.authors.entry(key).or_insert(person);
    }
    drop_bad_emails(&mut config, &sources.content_dir.join("_authors"), diagnostics);
    config.curated = load_curated(&sources.feeds_dir, diagnostics);
    if let Some(url) = &sources.base_url {
        config.set_base_url(url).map_err(|e| Diagnostic::error(Path::new("--base-url"), None, None, e.to_string()))?;
    }
    if let Some(path) = sources.own_hub {
        let hub = format!("{}{path}", config.base_url);
        config.websub_hubs.retain(|h| *h != hub);
        config.websub_hubs.insert(0, hub);
    }
    Ok(config)
}

/// The names Jekyll looks for its configuration under, in its order: the first that exists
/// is the one it reads.
pub const JEKYLL_CONFIG_NAMES: [&str; 3] = ["_config.yml", "_config.yaml", "_config.toml"];

/// The Jekyll configuration of the site in `content_dir`, if it has one: the one function that
/// decides whether a folder is a Jekyll site.
pub fn jekyll_config(content_dir: &Path) -> Option<PathBuf> {
    JEKYLL_CONFIG_NAMES.iter().map(|name| content_dir.join(name)).find(|path| path.is_file())
}

/// A TOML configuration as YAML text (JSON, which YAML reads), for the one YAML reader of
/// `_config.yml`s.
fn toml_as_yaml(text: &str, path: &Path) -> Result<String, Diagnostic> {
    let value: serde_json::Value = toml::from_str(text).map_err(|e| {
        let (line, column) = e.span().map_or((None, None), |span| {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() as u32 + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1;
            (Some(line), Some(column))
        });
        Diagnostic::error(path, line, column, format!("invalid TOML: {}", e.message()))
    })?;
    Ok(value.to_string())
}

/// Leaves out, with a warning at `path`, every author's `email` that is not an e-mail address
/// (`email: spestov`): RSS and Atom readers and validators reject the feed for it.
fn drop_bad_emails(config: &mut SiteConfig, path: &Path, diagnostics: &mut Vec<Diagnostic>) {
    for person in config.authors.values_mut() {
        if let Some(email) = person.email.take_if(|email| !crate::config::is_email(email)) {
            diagnostics.push(Diagnostic::warning(
                path,
                None,
                None,
                format!(
                    "author `{}`: `email: {email}` is not an e-mail address, so feeds leave it out; \
                     write it as name@example.com or remove it",
                    person.key
                ),
            ));
        }
    }
}

/// A Jekyll `_authors/` collection: one file per author, whose front matter gives the key
/// (`name`, else the file name) and the name shown (`full_name`, else first and last name).
/// Files that cannot be read are left out: the post shows the key as written; one that leads
/// outside the content folder is reported.
fn author_collection(content_dir: &Path, diagnostics: &mut Vec<Diagnostic>) -> Vec<(String, Person)> {
    #[derive(serde::Deserialize, Default)]
    #[serde(default)]
    struct RawAuthor {
        name: Option<crate::frontmatter::Text>,
        full_name: Option<crate::frontmatter::Text>,
        first_name: Option<crate::frontmatter::Text>,
        last_name: Option<crate::frontmatter::Text>,
        email: Option<String>,
        url: Option<String>,
    }
    let dir = content_dir.join("_authors");
    match beneath::open_dir(content_dir, &dir) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            diagnostics.push(Diagnostic::warning(&dir, None, None, format!("not read: {e}")));
            return Vec::new();
        }
        Err(_) => return Vec::new(),
    }
    let Ok(entries) = std::fs::read_dir(&dir) else { return Vec::new() };
    let mut found = Vec::new();
    for path in entries.filter_map(|e| e.ok()).map(|e| e.path()) {
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()).filter(|s| !s.starts_with('.')) else { continue };
        let text = match read_optional(Some(content_dir), &path) {
            Ok(Some(text)) => text,
            Err(d) if d.message.contains(beneath::OUTSIDE) => {
                diagnostics.push(d);
                continue;
            }
            _ => continue,
        };
        let Ok(split) = crate::frontmatter::split(&text, &path) else { continue };
        let Ok(raw) = crate::yaml::from_str::<RawAuthor>(split.yaml, &path, 1) else { continue };
        let text = |t: Option<crate::frontmatter::Text>| t.map(|t| t.0.trim().to_owned()).filter(|t| !t.is_empty());
        let key = text(raw.name).unwrap_or_else(|| stem.to_owned());
        let joined = [text(raw.first_name), text(raw.last_name)].into_iter().flatten().collect::<Vec<_>>().join(" ");
        let name = text(raw.full_name).or((!joined.is_empty()).then_some(joined)).unwrap_or_else(|| key.clone());
        found.push((key.clone(), Person { key, name, email: raw.email, uri: raw.url }));
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

/// Every curated feed in the feeds folder: each `*.yaml` but `site.yaml` and `authors.yaml`.
/// A broken one is reported and left out.
fn load_curated(feeds_dir: &Path, diagnostics: &mut Vec<Diagnostic>) -> BTreeMap<String, CuratedFeed> {
    let mut curated = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(feeds_dir) else { return curated };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        let (Some(stem), Some(ext)) = (path.file_stem().and_then(|s| s.to_str()), path.extension()) else { continue };
        if !(ext == "yaml" || ext == "yml") || matches!(stem, "site" | "authors") || stem.starts_with('.') {
            continue;
        }
        let name = slugify(stem);
        if name != stem {
            diagnostics.push(Diagnostic::error(
                &path,
                None,
                None,
                format!("curated feed names are lower-case letters, digits and `-`: rename the file to {name}.yaml"),
            ));
            continue;
        }
        match read_optional(None, &path)
            .and_then(|text| CuratedFeed::from_yaml(&name, &text.unwrap_or_default(), &path))
        {
            Ok(feed) => {
                curated.insert(name, feed);
            }
            Err(d) => diagnostics.push(d),
        }
    }
    curated
}

/// The text of `path`, `None` if there is no such file. With `root`, the file must be inside
/// that folder ([`beneath`]): content is read so, configuration of the operator's is not.
fn read_optional(root: Option<&Path>, path: &Path) -> Result<Option<String>, Diagnostic> {
    let read = match root {
        Some(root) => beneath::open(root, path).and_then(|mut file| {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut file, &mut bytes).map(|_| bytes)
        }),
        None => std::fs::read(path),
    };
    match read {
        Ok(bytes) => {
            String::from_utf8(bytes).map(Some).map_err(|e| not_utf8(path, e.as_bytes(), e.utf8_error().valid_up_to()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Diagnostic::error(path, None, None, format!("cannot read: {e}"))),
    }
}

/// A post file found under the content folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostFile {
    /// Path relative to the content folder.
    pub relative: PathBuf,
    /// True for files under `_drafts/`.
    pub draft: bool,
}

/// Which files of a content folder are posts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// A Jekyll site (it has a `_config.yml`): files named `DATE-SLUG.EXT` in `_posts/` folders,
    /// of any extension, as Jekyll has it.
    Jekyll,
    /// A folder with `_posts/` folders: the Markdown files in them; pages elsewhere are not posts.
    Posts,
    /// A plain folder: every Markdown file.
    Plain,
}

/// What a path inside the content folder is to tidings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathKind {
    /// A post to read.
    Post,
    /// Not a post, silently.
    Ignored,
    /// Not a post, but probably meant as one: the reason, for a warning.
    Skipped(String),
}

/// The one rule for which paths (relative to the content folder) are posts. Dot-paths are
/// hidden; of the `_` folders (`_layouts`, `_data`, `_authors`, …) only `_posts` and, with
/// `drafts`, `_drafts` hold posts.
pub fn classify(relative: &Path, layout: Layout, drafts: bool) -> PathKind {
    // Borrowed: names are UTF-8 but for the rare file that is not.
    let parts: Vec<std::borrow::Cow<str>> = relative.components().map(|c| c.as_os_str().to_string_lossy()).collect();
    let Some((name, folders)) = parts.split_last() else { return PathKind::Ignored };
    if parts.iter().any(|p| p.starts_with('.'))
        || folders.iter().any(|f| f.starts_with('_') && f != "_posts" && !(drafts && f == "_drafts"))
    {
        return PathKind::Ignored;
    }
    let in_posts = folders.iter().any(|f| f == "_posts");
    let in_drafts = drafts && folders.iter().any(|f| f == "_drafts");
    let is_markdown = matches!(relative.extension().and_then(|e| e.to_str()), Some("md" | "markdown"));
    match layout {
        Layout::Plain if is_markdown => PathKind::Post,
        Layout::Posts if is_markdown && (in_posts || in_drafts) => PathKind::Post,
        Layout::Jekyll if in_posts || in_drafts => {
            if name.starts_with(['.', '_', '#', '~']) || name.ends_with('~') {
                PathKind::Ignored
            } else if in_drafts || !matches!(crate::jekyll::date::post_file_name(name), Ok(None)) {
                PathKind::Post
            } else {
                PathKind::Skipped(
                    "not a post: Jekyll publishes only files in _posts named YYYY-MM-DD-slug.EXT, so this one is \
                     left out; rename it to publish it"
                        .to_owned(),
                )
            }
        }
        _ => PathKind::Ignored,
    }
}

/// Every post under `dir`, sorted, and the layout that decided which files are posts
/// ([`classify`]). Unreadable folders and symlink loops become diagnostics, and so do files in
/// `_posts` that a Jekyll site would skip.
pub fn find_posts(
    dir: &Path,
    jekyll: bool,
    drafts: bool,
    diagnostics: &mut Vec<Diagnostic>,
) -> (Vec<PostFile>, Layout) {
    let mut files = Vec::new();
    let mut has_posts_folder = false;
    let outside = std::cell::RefCell::new(Vec::new());
    let root = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    // Unsorted: sorting 100k names in one folder through `Path::file_name` cost more than
    // the walk; the list is sorted once, by bytes, below.
    let walker = walkdir::WalkDir::new(dir).follow_links(true).into_iter();
    let walker = walker.filter_entry(|entry| {
        let name = entry.file_name().to_string_lossy();
        let is_dir = entry.file_type().is_dir();
        let skip = name.starts_with('.')
            || (is_dir && name.starts_with('_') && name != "_posts" && !(drafts && name == "_drafts"));
        if entry.depth() > 0 && !skip && entry.path_is_symlink() && !is_inside(&root, entry.path()) {
            outside.borrow_mut().push(entry.path().to_path_buf());
            return false;
        }
        entry.depth() == 0 || !skip
    });
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                let path = e.path().unwrap_or(dir).to_path_buf();
                let message = if e.loop_ancestor().is_some() {
                    "symbolic link loop: this folder links back to one of its parents; remove the link".to_owned()
                } else {
                    format!("cannot read: {}", e.io_error().map_or_else(|| e.to_string(), ToString::to_string))
                };
                diagnostics.push(Diagnostic::error(&path, None, None, message));
                continue;
            }
        };
        if entry.file_type().is_dir() {
            has_posts_folder |= entry.file_name() == "_posts";
            continue;
        }
        files.push(relative_to(entry.path(), dir).to_path_buf());
    }
    files.par_sort_unstable_by(|a, b| a.as_os_str().as_encoded_bytes().cmp(b.as_os_str().as_encoded_bytes()));
    for link in outside.into_inner() {
        diagnostics.push(Diagnostic::warning(
            &link,
            None,
            None,
            "symbolic link to outside the content folder: not followed (only links within it are)",
        ));
    }
    let layout = match (jekyll, has_posts_folder) {
        (true, _) => Layout::Jekyll,
        (false, true) => Layout::Posts,
        (false, false) => Layout::Plain,
    };
    // Classified on every core, kept in order.
    let kinds: Vec<PathKind> = files.par_iter().map(|relative| classify(relative, layout, drafts)).collect();
    let mut found = Vec::new();
    for (relative, kind) in files.into_iter().zip(kinds) {
        match kind {
            PathKind::Post => {
                let draft = relative.components().any(|c| c.as_os_str() == "_drafts");
                found.push(PostFile { relative, draft });
            }
            PathKind::Skipped(why) => diagnostics.push(Diagnostic::warning(&dir.join(&relative), None, None, why)),
            PathKind::Ignored => {}
        }
    }
    (found, layout)
}

/// `path` without its leading `dir`, which the walk put there as written: compared as bytes,
/// as `Path::strip_prefix` would compare it component by component.
fn relative_to<'a>(path: &'a Path, dir: &Path) -> &'a Path {
    use std::os::unix::ffi::OsStrExt;
    let dir = dir.as_os_str().as_bytes();
    let rest = path.as_os_str().as_bytes().strip_prefix(dir);
    let rest = if dir.ends_with(b"/") { rest } else { rest.and_then(|rest| rest.strip_prefix(b"/")) };
    match rest {
        Some(rest) if !rest.starts_with(b"/") => Path::new(std::ffi::OsStr::from_bytes(rest)),
        _ => path.strip_prefix(std::ffi::OsStr::from_bytes(dir)).unwrap_or(path),
    }
}

/// True when `path` (which may be or pass through symbolic links) resolves to somewhere inside
/// `root` (a canonical path). What cannot be resolved is not inside.
pub fn is_inside(root: &Path, path: &Path) -> bool {
    path.canonicalize().is_ok_and(|real| real.starts_with(root))
}

/// Reads a post file (or an include) as UTF-8 text, refusing files that are too big, not
/// regular files, or outside the content folder `root`.
fn read_post(root: &Path, path: &Path, max_bytes: u64) -> Result<String, Diagnostic> {
    read_post_with_metadata(root, path, None, max_bytes).1
}

/// Folders opened once for a batch of reads, so that each post file is opened by its name
/// relative to its folder instead of by its whole path: one name for the kernel to look up
/// instead of one per folder on the way. Each folder is opened beneath the content folder and
/// each name without following a link ([`beneath`] takes the rare post that is a link). Kept
/// for one batch only, so that a folder renamed or replaced later is looked up again.
#[derive(Debug, Default)]
pub(crate) struct Folders(std::sync::Mutex<std::collections::HashMap<PathBuf, Option<Arc<std::os::fd::OwnedFd>>>>);

impl Folders {
    /// Opens `path` for reading (non-blocking, so that a FIFO or a device answers `fstat`
    /// instead of holding the open), relative to its folder when that folder can be opened,
    /// and only inside `root`.
    fn open(&self, root: &Path, path: &Path) -> std::io::Result<std::fs::File> {
        use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
        use std::os::unix::ffi::OsStrExt;
        let beneath = || beneath::open(root, path);
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else { return beneath() };
        let Ok(name) = std::ffi::CString::new(name.as_bytes()) else { return beneath() };
        let folder = {
            let mut folders = self.0.lock().unwrap_or_else(|p| p.into_inner());
            match folders.get(parent) {
                Some(folder) => folder.clone(),
                None => {
                    let folder = beneath::open_dir(root, parent).ok().map(Arc::new);
                    folders.insert(parent.to_path_buf(), folder.clone());
                    folder
                }
            }
        };
        let Some(folder) = folder else { return beneath() };
        let flags = libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOFOLLOW;
        // SAFETY: `folder` is an open descriptor and `name` a NUL-terminated string, both alive
        // for the call.
        let fd = unsafe { libc::openat(folder.as_raw_fd(), name.as_ptr(), flags) };
        if fd < 0 {
            let e = std::io::Error::last_os_error();
            // A link: followed only where it stays inside.
            return if e.raw_os_error() == Some(libc::ELOOP) { beneath() } else { Err(e) };
        }
        // SAFETY: a descriptor `openat` just returned is owned by no one else.
        Ok(std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) }))
    }
}

/// [`read_post`], with the metadata of the file read (one `open`, one `fstat` and, for a
/// regular file, one `read`: the size and time say later whether it changed). `folders`, when
/// given, opens the file relative to its folder.
fn read_post_with_metadata(
    root: &Path,
    path: &Path,
    folders: Option<&Folders>,
    max_bytes: u64,
) -> (Option<std::fs::Metadata>, Result<String, Diagnostic>) {
    use std::io::Read;
    let cannot = |e: std::io::Error| Diagnostic::error(path, None, None, format!("cannot read: {e}"));
    let opened = match folders {
        Some(folders) => folders.open(root, path),
        None => beneath::open(root, path),
    };
    let mut file = match opened {
        Ok(file) => file,
        Err(e) => return (None, Err(cannot(e))),
    };
    let meta = match file.metadata() {
        Ok(meta) => meta,
        Err(e) => return (None, Err(cannot(e))),
    };
    if !meta.is_file() {
        let d = Diagnostic::error(path, None, None, "not a regular file: only plain files are read as posts");
        return (Some(meta), Err(d));
    }
    if meta.len() > max_bytes {
        let d = Diagnostic::error(
            path,
            None,
            None,
            format!(
                "file is {} bytes, over the {max_bytes}-byte limit for a post: split it, or raise --max-post-bytes",
                meta.len()
            ),
        );
        return (Some(meta), Err(d));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize + 1);
    // The size `fstat` gave, without a second `read` to find the end: a file that grew since
    // is read again when its change is seen. A size of 0 may not be true (a file of a
    // special file system), so that is read to the end, at most one byte past the limit.
    let limit = if meta.len() > 0 { meta.len() } else { max_bytes + 1 };
    if let Err(e) = (&mut file).take(limit).read_to_end(&mut bytes) {
        return (Some(meta), Err(cannot(e)));
    }
    let text = String::from_utf8(bytes).map_err(|e| not_utf8(path, e.as_bytes(), e.utf8_error().valid_up_to()));
    (Some(meta), text)
}

/// A diagnostic at the first byte that is not UTF-8.
fn not_utf8(path: &Path, bytes: &[u8], valid_up_to: usize) -> Diagnostic {
    let before = &bytes[..valid_up_to];
    let line = before.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..]).chars().count() as u32 + 1;
    Diagnostic::error(
        path,
        Some(line),
        Some(column),
        format!("not UTF-8 (byte 0x{:02X}): save the file as UTF-8", bytes[valid_up_to]),
    )
}

#[cfg(test)]
mod tests;

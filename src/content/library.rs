//! The loaded content as a set of files, each with its last good post and its current
//! problems, so that a reload re-reads only what changed and a post that breaks keeps
//! serving its last good version until it is fixed.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use rayon::prelude::*;

use super::parse;
use super::{
    Fatal, Layout, Parsed, PathKind, Post, PostFile, Site, Sources, classify, find_posts, load_config, read_post,
};
use crate::config::SiteConfig;
use crate::diagnostic::Diagnostic;
use crate::jekyll::liquid::Resolver;

/// What a file looked like when it was last read: a change of either means read it again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
}

impl Stamp {
    fn of(path: &Path) -> Option<Stamp> {
        let meta = std::fs::metadata(path).ok()?;
        Some(Stamp { modified: meta.modified().ok(), len: meta.len() })
    }
}

/// One post file's state.
#[derive(Clone, Debug)]
struct Entry {
    stamp: Option<Stamp>,
    /// The post as last parsed successfully (kept while the file is broken).
    post: Option<Arc<Post>>,
    /// The post's URL as `{% link %}` and `{% post_url %}` print it.
    relative_url: Option<String>,
    /// The `site.KEY`s the file's Liquid prints, so that those `_config.yml` keys are not
    /// reported as unused.
    site_keys: Vec<String>,
    /// The file's current problems.
    problems: Vec<Diagnostic>,
}

/// What a reload changed, for logs and metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Files read again.
    pub reread: usize,
    /// Files that are gone.
    pub removed: usize,
    /// Whether the configuration was read again.
    pub config: bool,
}

/// Every post file under the content folder, with the configuration they were read with.
#[derive(Debug)]
pub struct Library {
    sources: Sources,
    config: Arc<SiteConfig>,
    config_problems: Vec<Diagnostic>,
    scan_problems: Vec<Diagnostic>,
    layout: Layout,
    files: BTreeMap<PathBuf, Entry>,
}

impl Library {
    /// Reads the configuration and every post. Fatal only when the configuration is broken
    /// or the content folder is missing.
    pub fn load(sources: &Sources) -> Result<Library, Fatal> {
        let mut config_problems = Vec::new();
        let config = load_config(sources, &mut config_problems).map_err(Fatal)?;
        if !sources.content_dir.is_dir() {
            return Err(Fatal(Diagnostic::error(
                &sources.content_dir,
                None,
                None,
                "content folder not found: create it or pass `--content DIR`",
            )));
        }
        let mut library = Library {
            sources: sources.clone(),
            config: Arc::new(config),
            config_problems,
            scan_problems: Vec::new(),
            layout: Layout::Plain,
            files: BTreeMap::new(),
        };
        library.rescan(true);
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

    /// Every post to serve (last good versions included), by source path. Ids are unique:
    /// where several posts have one id (jekyll-feed's ids repeat: every meeting post of one
    /// month can get `…/2016/12/meeting`), the oldest keeps it, as readers kept that one, and
    /// the others take their URL (or, when a post shares its URL too, the URL and its file
    /// name) as id. Each such post is reported ([`Library::diagnostics`]).
    pub fn posts(&self) -> Vec<Arc<Post>> {
        let mut posts: Vec<Arc<Post>> = self.files.values().filter_map(|e| e.post.clone()).collect();
        let mut by_id: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, post) in posts.iter().enumerate() {
            by_id.entry(&post.id).or_default().push(i);
        }
        let mut renamed: Vec<usize> = Vec::new();
        for mut group in by_id.into_values().filter(|g| g.len() > 1) {
            group.sort_by(|&a, &b| {
                posts[a].published.cmp(&posts[b].published).then(posts[a].source.cmp(&posts[b].source))
            });
            renamed.extend(group.into_iter().skip(1));
        }
        if renamed.is_empty() {
            return posts;
        }
        renamed.sort_unstable();
        let mut taken: HashSet<String> = posts.iter().map(|p| p.id.clone()).collect();
        for i in renamed {
            let post = &posts[i];
            let stem = post.source.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            let id = if taken.contains(&post.url) { format!("{}#{stem}", post.url) } else { post.url.clone() };
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
            .chain(self.files.values().flat_map(|e| &e.problems))
            .cloned()
            .chain(self.clashes())
            .chain(self.unused_config_keys())
            .collect();
        all.sort();
        all.dedup();
        all
    }

    /// A snapshot of the loaded site.
    pub fn site(&self) -> Site {
        Site { config: self.config.clone(), posts: self.posts(), diagnostics: self.diagnostics() }
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
    /// of them when `force`), and forgets files that are gone. When the folder itself is
    /// gone, every post is kept and the problem reported.
    pub fn rescan(&mut self, force: bool) -> Changes {
        let dir = self.sources.content_dir.clone();
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
        let (found, layout) = find_posts(&dir, self.config.jekyll.is_some(), self.sources.drafts, &mut scan_problems);
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
        let present: BTreeSet<&PathBuf> = found.iter().map(|f| &f.relative).collect();
        let before = self.files.len();
        self.files.retain(|path, _| present.contains(path));
        let mut changes = Changes { removed: before - self.files.len(), ..Changes::default() };
        let stale: Vec<PostFile> = found
            .iter()
            .filter(|file| {
                let stamp = Stamp::of(&dir.join(&file.relative));
                force || !self.files.get(&file.relative).is_some_and(|e| e.stamp.is_some() && e.stamp == stamp)
            })
            .cloned()
            .collect();
        changes.reread = stale.len();
        self.read_all(&stale);
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
                let before = self.files.len();
                self.files.retain(|known, _| !known.starts_with(&relative));
                changes.removed += before - self.files.len();
            }
        }
        changes.reread = stale.len();
        self.read_all(&stale);
        if scan_folder {
            let scanned = self.rescan(false);
            changes.reread += scanned.reread;
            changes.removed += scanned.removed;
        }
        changes
    }

    /// Reads files into their entries on every core, one file at a time so that memory holds
    /// no more than a few texts. In a Jekyll site, a first pass reads only front matter, so
    /// that every post's URL is known before bodies, whose Liquid may link to other posts,
    /// are rendered. A file that breaks keeps its last good post.
    fn read_all(&mut self, files: &[PostFile]) {
        let config = self.config.clone();
        let shown = |file: &PostFile| self.sources.content_dir.join(&file.relative);
        if config.jekyll.is_some() {
            let urls: Vec<Option<String>> = files
                .par_iter()
                .map(|file| {
                    let text = read_post(&shown(file), self.sources.max_post_bytes).ok()?;
                    let front = parse::read_front(&text, file, &shown(file), &config).ok()??;
                    Some(front.relative_url)
                })
                .collect();
            for (file, url) in files.iter().zip(urls) {
                if url.is_some() {
                    self.files.entry(file.relative.clone()).or_insert_with(Entry::empty).relative_url = url;
                }
            }
        }
        let resolver = Links { library: self };
        let read: Vec<Read> = files
            .par_iter()
            .map(|file| {
                let shown = shown(file);
                let stamp = Stamp::of(&shown);
                let text = match read_post(&shown, self.sources.max_post_bytes) {
                    Ok(text) => text,
                    Err(d) => return Read { stamp, parsed: Err(d), relative_url: None, site_keys: Vec::new() },
                };
                let site_keys = liquid_site_keys(&text);
                let (parsed, relative_url) = match parse::read_front(&text, file, &shown, &config) {
                    Ok(Some(front)) => {
                        let url = front.relative_url.clone();
                        (Ok(parse::render(front, &shown, &config, &resolver)), Some(url))
                    }
                    Ok(None) => (Ok(Parsed::Unpublished), None),
                    Err(d) => (Err(d), None),
                };
                Read { stamp, parsed, relative_url, site_keys }
            })
            .collect();
        for (file, read) in files.iter().zip(read) {
            self.apply(file, read.stamp, read.parsed);
            if let Some(entry) = self.files.get_mut(&file.relative) {
                entry.site_keys = read.site_keys;
                if read.relative_url.is_some() {
                    entry.relative_url = read.relative_url;
                }
            }
        }
    }

    /// Stores a parse result in the file's entry, keeping the last good post if it failed.
    fn apply(&mut self, file: &PostFile, stamp: Option<Stamp>, parsed: Result<Parsed, Diagnostic>) {
        let previous = self.files.remove(&file.relative);
        let relative_url = previous.as_ref().and_then(|p| p.relative_url.clone());
        let entry = match parsed {
            Ok(Parsed::Post(post, warnings)) => {
                Entry { stamp, post: Some(Arc::new(*post)), relative_url, problems: warnings, ..Entry::empty() }
            }
            Ok(Parsed::Unpublished) => Entry { stamp, ..Entry::empty() },
            Err(d) => match previous.and_then(|p| p.post) {
                Some(last_good) => {
                    let message = format!("{}; the last good version is served until this is fixed", d.message);
                    let problems = vec![Diagnostic { message, ..d }];
                    Entry { stamp, post: Some(last_good), relative_url, problems, ..Entry::empty() }
                }
                None => Entry { stamp, problems: vec![d], ..Entry::empty() },
            },
        };
        self.files.insert(file.relative.clone(), entry);
    }

    /// `_config.yml` keys that tidings does not use and no post prints.
    fn unused_config_keys(&self) -> Vec<Diagnostic> {
        let Some(jekyll) = &self.config.jekyll else { return Vec::new() };
        let printed: BTreeSet<&str> =
            self.files.values().flat_map(|e| e.site_keys.iter().map(String::as_str)).collect();
        jekyll
            .liquid_only_keys
            .iter()
            .filter(|(key, _)| !printed.contains(key.as_str()))
            .map(|(_, d)| d.clone())
            .collect()
    }

    /// Warnings for posts that share an id (readers merge them) or a URL (Jekyll's "Conflict").
    fn clashes(&self) -> Vec<Diagnostic> {
        let mut by_id: BTreeMap<&str, Vec<&Path>> = BTreeMap::new();
        let mut by_url: BTreeMap<&str, Vec<&Path>> = BTreeMap::new();
        for (path, post) in self.files.iter().filter_map(|(path, e)| e.post.as_ref().map(|p| (path, p))) {
            by_id.entry(&post.id).or_default().push(path);
            by_url.entry(&post.url).or_default().push(path);
        }
        let mut out = Vec::new();
        for (what, groups) in [("id", by_id), ("URL", by_url)] {
            for (value, paths) in groups.into_iter().filter(|(_, paths)| paths.len() > 1) {
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

/// One file as read: its stamp, the outcome, its URL and the `site` keys its Liquid prints.
struct Read {
    stamp: Option<Stamp>,
    parsed: Result<Parsed, Diagnostic>,
    relative_url: Option<String>,
    site_keys: Vec<String>,
}

impl Entry {
    fn empty() -> Entry {
        Entry { stamp: None, post: None, relative_url: None, site_keys: Vec::new(), problems: Vec::new() }
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

/// What Liquid's `{% post_url %}`, `{% link %}` and `{% include %}` find: the library's posts
/// and the site's `_includes/` folder.
struct Links<'a> {
    library: &'a Library,
}

impl Resolver for Links<'_> {
    fn post_url(&self, name: &str) -> Option<String> {
        let name = name.trim().trim_matches('/');
        let urls = self.library.files.iter().filter_map(|(path, e)| e.relative_url.as_ref().map(|u| (path, u)));
        let mut by_name = None;
        for (path, url) in urls {
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
        self.library.files.get(path).and_then(|e| e.relative_url.clone())
    }

    fn include(&self, name: &str) -> Option<String> {
        let name = Path::new(name.trim());
        // Only plain names inside `_includes/`: no way out of the folder.
        if name.components().any(|c| !matches!(c, std::path::Component::Normal(_))) {
            return None;
        }
        let path = self.library.sources.content_dir.join("_includes").join(name);
        read_post(&path, self.library.sources.max_post_bytes).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(dir: &Path) -> Sources {
        Sources {
            content_dir: dir.join("content"),
            feeds_dir: dir.join("feeds"),
            drafts: false,
            base_url: None,
            max_post_bytes: super::super::MAX_POST_BYTES,
        }
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

//! The loaded content as a set of files, each with its last good post and its current
//! problems, so that a reload re-reads only what changed and a post that breaks keeps
//! serving its last good version until it is fixed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use rayon::prelude::*;

use super::{Fatal, Parsed, Post, PostFile, Site, Sources, find_posts, load_config, parse_post, read_post};
use crate::config::SiteConfig;
use crate::diagnostic::Diagnostic;

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

    /// Every post to serve (last good versions included), by source path.
    pub fn posts(&self) -> Vec<Arc<Post>> {
        self.files.values().filter_map(|e| e.post.clone()).collect()
    }

    /// Every current problem, sorted by path and position.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        let mut all: Vec<Diagnostic> = self
            .config_problems
            .iter()
            .chain(&self.scan_problems)
            .chain(self.files.values().flat_map(|e| &e.problems))
            .cloned()
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
        let found = find_posts(&dir, self.sources.drafts, &mut scan_problems);
        self.scan_problems = scan_problems;
        let present: BTreeSet<&PathBuf> = found.iter().map(|f| &f.relative).collect();
        let before = self.files.len();
        self.files.retain(|path, _| present.contains(path));
        let mut changes = Changes { removed: before - self.files.len(), ..Changes::default() };
        let stale: Vec<&PostFile> = found
            .iter()
            .filter(|file| {
                let stamp = Stamp::of(&dir.join(&file.relative));
                force || !self.files.get(&file.relative).is_some_and(|e| e.stamp.is_some() && e.stamp == stamp)
            })
            .collect();
        // Reading and parsing (Markdown included) is most of a load: use every core.
        let parsed: Vec<(&PostFile, Option<Stamp>, Result<Parsed, Diagnostic>)> = stale
            .par_iter()
            .map(|file| {
                let (stamp, result) = self.parse(file);
                (*file, stamp, result)
            })
            .collect();
        changes.reread = parsed.len();
        for (file, stamp, result) in parsed {
            self.apply(file, stamp, result);
        }
        changes
    }

    /// Re-reads the given paths (relative to the content folder, or starting with it as the
    /// library was given it); paths that are gone leave the feeds. Paths that are not posts
    /// are ignored.
    pub fn refresh(&mut self, paths: &[PathBuf]) -> Changes {
        let dir = self.sources.content_dir.clone();
        let mut changes = Changes::default();
        for path in paths {
            let relative = path.strip_prefix(&dir).unwrap_or(path).to_path_buf();
            if relative.is_absolute() || !is_post_path(&relative, self.sources.drafts) {
                continue;
            }
            if dir.join(&relative).is_file() {
                let draft = relative.components().any(|c| c.as_os_str() == "_drafts");
                self.read(&PostFile { relative, draft });
                changes.reread += 1;
            } else if self.files.remove(&relative).is_some() {
                changes.removed += 1;
            }
        }
        changes
    }

    /// Reads one file into its entry, keeping the last good post if the new text is broken.
    fn read(&mut self, file: &PostFile) {
        let (stamp, parsed) = self.parse(file);
        self.apply(file, stamp, parsed);
    }

    /// Reads and parses one file, without changing anything.
    fn parse(&self, file: &PostFile) -> (Option<Stamp>, Result<Parsed, Diagnostic>) {
        let shown = self.sources.content_dir.join(&file.relative);
        let stamp = Stamp::of(&shown);
        let parsed = read_post(&shown, self.sources.max_post_bytes)
            .and_then(|text| parse_post(&text, file, &shown, &self.config));
        (stamp, parsed)
    }

    /// Stores a parse result in the file's entry, keeping the last good post if it failed.
    fn apply(&mut self, file: &PostFile, stamp: Option<Stamp>, parsed: Result<Parsed, Diagnostic>) {
        let previous = self.files.remove(&file.relative);
        let entry = match parsed {
            Ok(Parsed::Post(post, warnings)) => Entry { stamp, post: Some(Arc::new(*post)), problems: warnings },
            Ok(Parsed::Unpublished) => Entry { stamp, post: None, problems: Vec::new() },
            Err(d) => match previous.and_then(|p| p.post) {
                Some(last_good) => {
                    let message = format!("{}; the last good version is served until this is fixed", d.message);
                    Entry { stamp, post: Some(last_good), problems: vec![Diagnostic { message, ..d }] }
                }
                None => Entry { stamp, post: None, problems: vec![d] },
            },
        };
        self.files.insert(file.relative.clone(), entry);
    }
}

/// True for paths (relative to the content folder) that [`find_posts`] would pick up.
fn is_post_path(relative: &Path, drafts: bool) -> bool {
    let is_markdown = matches!(relative.extension().and_then(|e| e.to_str()), Some("md" | "markdown"));
    let parts: Vec<String> = relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    let Some((_, folders)) = parts.split_last() else { return false };
    is_markdown
        && !parts.iter().any(|p| p.starts_with('.'))
        && folders.iter().all(|f| !f.starts_with('_') || f == "_posts" || (drafts && f == "_drafts"))
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
    fn a_new_broken_file_is_reported_and_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let posts = dir.path().join("content/_posts");
        std::fs::create_dir_all(&posts).unwrap();
        let mut library = Library::load(&sources(dir.path())).unwrap();
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
        assert!(is_post_path(Path::new("_posts/a.md"), false));
        assert!(is_post_path(Path::new("blog/_posts/a.markdown"), false));
        assert!(!is_post_path(Path::new("_drafts/a.md"), false));
        assert!(is_post_path(Path::new("_drafts/a.md"), true));
        assert!(!is_post_path(Path::new(".git/a.md"), false));
        assert!(!is_post_path(Path::new("_layouts/a.md"), false));
        assert!(!is_post_path(Path::new("_posts/a.txt"), false));
    }
}

//! The only code that reads content files: finds posts, splits front matter, and builds
//! typed [`Post`]s, collecting a [`Diagnostic`] for everything wrong instead of stopping.

pub mod date;
pub mod frontmatter;
pub mod library;
pub mod permalink;

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use url::Url;

use crate::config::{CuratedFeed, Person, SiteConfig, bcp47};
use crate::diagnostic::Diagnostic;
use crate::markdown;
use crate::text::{slugify, squash_whitespace, xml_safe};
use frontmatter::{Many, RawFrontMatter, Text};
pub use library::Library;

/// Default largest post file read, in bytes; bigger files are reported and skipped.
pub const MAX_POST_BYTES: u64 = 4 * 1024 * 1024;
/// Largest front matter read, in bytes: a post whose closing `---` is missing should not make
/// the YAML parser read megabytes of Markdown.
pub const MAX_FRONT_MATTER_BYTES: usize = 64 * 1024;

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

/// A post ready to be indexed and put in feeds.
#[derive(Clone, Debug, PartialEq)]
pub struct Post {
    /// The file's path relative to the content folder; the tie-break between equal dates.
    pub source: PathBuf,
    /// The title as plain text.
    pub title: String,
    /// When it was published, in the site's zone.
    pub published: DateTime<FixedOffset>,
    /// When it was last changed, if the front matter says.
    pub updated: Option<DateTime<FixedOffset>>,
    /// Absolute URL of the post.
    pub url: String,
    /// Stable id: front-matter `id`, else the URL.
    pub id: String,
    /// Categories in the order written, without duplicates.
    pub categories: Vec<Term>,
    /// Tags in the order written, without duplicates.
    pub tags: Vec<Term>,
    /// Authors in the order written.
    pub authors: Vec<Person>,
    /// The summary as HTML.
    pub summary_html: String,
    /// The summary as plain text, cut at a word boundary.
    pub summary_text: String,
    /// The whole body as HTML.
    pub content_html: String,
    /// Absolute URL of the post's image.
    pub image: Option<String>,
    /// The post's language, if it differs from the site's.
    pub lang: Option<String>,
}

impl Post {
    /// The later of published and updated.
    pub fn modified(&self) -> DateTime<FixedOffset> {
        self.updated.map_or(self.published, |u| u.max(self.published))
    }
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
}

/// Everything loaded from disk: configuration, every good post (future ones included) and
/// every problem found.
#[derive(Debug)]
pub struct Site {
    /// The site configuration.
    pub config: Arc<SiteConfig>,
    /// Every post that loaded, sorted by source path.
    pub posts: Vec<Arc<Post>>,
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

/// Reads `site.yaml` and the authors table, then applies overrides.
fn load_config(sources: &Sources, diagnostics: &mut Vec<Diagnostic>) -> Result<SiteConfig, Diagnostic> {
    let site_path = sources.feeds_dir.join("site.yaml");
    let mut config = match read_optional(&site_path)? {
        Some(text) => SiteConfig::from_yaml(&text, &site_path, diagnostics)?,
        None => SiteConfig::default(),
    };
    for authors_path in [sources.feeds_dir.join("authors.yaml"), sources.content_dir.join("_data/authors.yml")] {
        if let Some(text) = read_optional(&authors_path)? {
            let table = SiteConfig::authors_from_yaml(&text, &authors_path)?;
            for (key, person) in table {
                config.authors.entry(key).or_insert(person);
            }
            break;
        }
    }
    config.curated = load_curated(&sources.feeds_dir, diagnostics);
    if let Some(url) = &sources.base_url {
        config.set_base_url(url).map_err(|m| Diagnostic::error(Path::new("--base-url"), None, None, m))?;
    }
    Ok(config)
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
        match read_optional(&path).and_then(|text| CuratedFeed::from_yaml(&name, &text.unwrap_or_default(), &path)) {
            Ok(feed) => {
                curated.insert(name, feed);
            }
            Err(d) => diagnostics.push(d),
        }
    }
    curated
}

fn read_optional(path: &Path) -> Result<Option<String>, Diagnostic> {
    match std::fs::read(path) {
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

/// Every `*.md` / `*.markdown` file under `dir`, sorted, skipping dot-paths and `_` folders
/// other than `_posts` (and `_drafts` when `drafts`). Unreadable folders and symlink loops become diagnostics.
pub fn find_posts(dir: &Path, drafts: bool, diagnostics: &mut Vec<Diagnostic>) -> Vec<PostFile> {
    let mut found = Vec::new();
    let walker = walkdir::WalkDir::new(dir).follow_links(true).sort_by_file_name().into_iter();
    // Dot-paths are hidden; of Jekyll's `_` folders (`_layouts`, `_data`, `_authors`, …) only
    // `_posts` and, with `drafts`, `_drafts` hold posts.
    let walker = walker.filter_entry(|entry| {
        let name = entry.file_name().to_string_lossy();
        let is_dir = entry.file_type().is_dir();
        let skip = name.starts_with('.')
            || (is_dir && name.starts_with('_') && name != "_posts" && !(drafts && name == "_drafts"));
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
        let path = entry.path();
        let is_post = matches!(path.extension().and_then(|e| e.to_str()), Some("md" | "markdown"));
        if !is_post || entry.file_type().is_dir() {
            continue;
        }
        let relative = path.strip_prefix(dir).unwrap_or(path).to_path_buf();
        let draft = relative.components().any(|c| c.as_os_str() == "_drafts");
        found.push(PostFile { relative, draft });
    }
    found
}

/// Reads a post file as UTF-8 text, refusing files that are too big or not regular files.
fn read_post(path: &Path, max_bytes: u64) -> Result<String, Diagnostic> {
    let meta = std::fs::metadata(path).map_err(|e| Diagnostic::error(path, None, None, format!("cannot read: {e}")))?;
    if !meta.is_file() {
        return Err(Diagnostic::error(path, None, None, "not a regular file: only plain files are read as posts"));
    }
    if meta.len() > max_bytes {
        return Err(Diagnostic::error(
            path,
            None,
            None,
            format!(
                "file is {} bytes, over the {max_bytes}-byte limit for a post: split it, or raise --max-post-bytes",
                meta.len()
            ),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| Diagnostic::error(path, None, None, format!("cannot read: {e}")))?;
    String::from_utf8(bytes).map_err(|e| not_utf8(path, e.as_bytes(), e.utf8_error().valid_up_to()))
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

/// The outcome of parsing one post's text.
#[derive(Debug)]
pub enum Parsed {
    /// A post to serve, with warnings about it.
    Post(Box<Post>, Vec<Diagnostic>),
    /// A draft or `published: false`: deliberately left out.
    Unpublished,
}

/// Builds a post from its text. Pure: `shown` is only used in diagnostics.
pub fn parse_post(text: &str, file: &PostFile, shown: &Path, config: &SiteConfig) -> Result<Parsed, Diagnostic> {
    let split = frontmatter::split(text, shown)?;
    frontmatter::check_size(&split, shown)?;
    let (raw, mut warnings) = frontmatter::parse(split.yaml, shown)?;
    if raw.published == Some(false) || (raw.draft == Some(true) && !file.draft) {
        return Ok(Parsed::Unpublished);
    }
    let at = |loc: &crate::yaml::Loc, message: String| crate::yaml::diagnostic_at(shown, 1, loc, message);

    let title = match &raw.title {
        // A title is one line of plain text.
        Some(t) if !squash_whitespace(&xml_safe(&t.value.0)).is_empty() => squash_whitespace(&xml_safe(&t.value.0)),
        Some(t) => return Err(at(&t.location, "`title` is empty: give the post a title".to_owned())),
        None => {
            return Err(Diagnostic::error(shown, Some(1), Some(1), "no title: add `title: …` to the front matter"));
        }
    };

    let stem = file.relative.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let name_date = date::from_file_stem(&stem);
    let slug = name_date.map_or(stem.as_str(), |(_, slug)| slug).to_owned();
    let permalink = raw.permalink.as_ref().map(|p| p.value.0.trim().to_owned()).filter(|p| !p.is_empty());

    let zone = config.timezone;
    let published = match &raw.date {
        Some(d) => date::parse(&d.value.0, zone)
            .ok_or_else(|| at(&d.location, format!("`date`: {}, found {:?}", date::EXPECTED, d.value.0)))?,
        None => {
            let day = name_date
                .map(|(day, _)| day)
                .or_else(|| permalink.as_deref().and_then(date::from_permalink))
                .ok_or_else(|| {
                    Diagnostic::error(
                        shown,
                        Some(1),
                        Some(1),
                        "no date: add `date:` or name the file YYYY-MM-DD-slug.md",
                    )
                })?;
            date::start_of_day(day, zone).ok_or_else(|| {
                Diagnostic::error(shown, Some(1), Some(1), "no date: the date has no midnight in the site's time zone")
            })?
        }
    };
    let updated = match raw.updated.as_ref().or(raw.last_modified_at.as_ref()) {
        Some(d) => Some(
            date::parse(&d.value.0, zone)
                .ok_or_else(|| at(&d.location, format!("`updated`: {}, found {:?}", date::EXPECTED, d.value.0)))?,
        ),
        None => None,
    };

    let categories = categories(&file.relative, &raw);
    let tags = dedup_terms(match raw.tag.clone().filter(|t| !t.0.is_empty()) {
        Some(tag) => tag.0,
        None => raw.tags.clone().map(Many::split_words).unwrap_or_default(),
    });
    let authors = authors(&raw, config, shown, key_line(split.yaml, &["authors", "author"]), &mut warnings);

    let category_slugs: Vec<String> = categories.iter().map(|c| c.slug.clone()).collect();
    let fields = permalink::Fields { date: published, categories: &category_slugs, title: &url_safe(&slug) };
    let path = permalink::expand(permalink.as_deref().unwrap_or(&config.permalink), &fields);
    let url = post_url(&config.base_url, &path).ok_or_else(|| {
        let message = format!("`permalink`: {path:?} does not make a valid URL");
        match &raw.permalink {
            Some(p) => at(&p.location, message),
            None => Diagnostic::error(shown, Some(1), Some(1), message),
        }
    })?;

    let summary = [&raw.summary, &raw.excerpt, &raw.description]
        .into_iter()
        .flatten()
        .map(|Text(s)| s.trim())
        .find(|s| !s.is_empty());
    let rendered = markdown::render(split.body, summary, &config.excerpt_separator, &url);
    let image = raw.image.as_ref().and_then(|i| i.0.as_deref()).and_then(|written| {
        let joined = url.join(written).ok().filter(|u| matches!(u.scheme(), "http" | "https"));
        if joined.is_none() {
            warnings.push(Diagnostic::warning(
                shown,
                key_line(split.yaml, &["image"]),
                Some(1),
                format!("`image`: {written:?} is not a path or an http(s) URL; the post is shown without it"),
            ));
        }
        joined.map(String::from)
    });
    let id = raw.id.as_ref().map(|Text(s)| s.trim().to_owned()).filter(|s| !s.is_empty());

    Ok(Parsed::Post(
        Box::new(Post {
            source: file.relative.clone(),
            title,
            published,
            updated,
            id: id.unwrap_or_else(|| url.to_string()),
            url: url.to_string(),
            categories,
            tags,
            authors,
            summary_html: rendered.summary_html,
            summary_text: rendered.summary_text,
            content_html: rendered.content_html,
            image,
            lang: raw.lang.as_ref().map(|Text(l)| bcp47(l)),
        }),
        warnings,
    ))
}

/// Folders above `_posts` (Jekyll's rule), then `categories` (split on spaces), then
/// `category` (never split), without duplicates.
fn categories(relative: &Path, raw: &RawFrontMatter) -> Vec<Term> {
    let mut names: Vec<String> = Vec::new();
    let parts: Vec<&str> = relative
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect();
    if let Some(posts_at) = parts.iter().position(|p| *p == "_posts") {
        names.extend(parts[..posts_at].iter().filter(|p| !p.starts_with('_')).map(|p| p.to_string()));
    }
    names.extend(raw.categories.clone().map(Many::split_words).unwrap_or_default());
    names.extend(raw.category.clone().map(|c| c.0).unwrap_or_default());
    dedup_terms(names)
}

fn dedup_terms(names: Vec<String>) -> Vec<Term> {
    let mut seen = BTreeMap::new();
    let mut out = Vec::new();
    for term in names.iter().filter_map(|n| Term::new(n)) {
        if seen.insert(term.slug.clone(), ()).is_none() {
            out.push(term);
        }
    }
    out
}

/// Looks authors up in the table; unknown ones are shown as written, with a warning.
fn authors(
    raw: &RawFrontMatter,
    config: &SiteConfig,
    shown: &Path,
    line: Option<u32>,
    warnings: &mut Vec<Diagnostic>,
) -> Vec<Person> {
    let mut names: Vec<String> = raw.authors.clone().or_else(|| raw.author.clone()).map(|a| a.0).unwrap_or_default();
    names.retain(|n| !n.trim().is_empty());
    if names.is_empty() {
        names.extend(config.default_author.clone());
    }
    let mut out: Vec<Person> = Vec::new();
    for name in names {
        let name = name.trim();
        let person = match config.authors.get(name) {
            Some(person) => person.clone(),
            None => {
                if !config.authors.is_empty() {
                    warnings.push(Diagnostic::warning(
                        shown,
                        line,
                        Some(1),
                        format!("unknown author `{name}`: add it to feeds/authors.yaml; shown as written until then"),
                    ));
                }
                Person { key: slugify(name), name: name.to_owned(), email: None, uri: None }
            }
        };
        if !person.key.is_empty() && !out.iter().any(|p| p.key == person.key) {
            out.push(person);
        }
    }
    out
}

/// The file-name slug as a URL segment: kept as written when already URL-safe, else slugified.
fn url_safe(slug: &str) -> String {
    if slug.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
        slug.to_owned()
    } else {
        slugify(slug)
    }
}

/// `base_url` + `path` as a URL.
fn post_url(base_url: &str, path: &str) -> Option<Url> {
    Url::parse(&format!("{base_url}{path}")).ok()
}

/// The file line of a top-level front-matter `key`, for messages about values the YAML
/// parser did not place.
fn key_line(yaml: &str, keys: &[&str]) -> Option<u32> {
    yaml.lines()
        .position(|line| keys.iter().any(|k| line.strip_prefix(k).is_some_and(|r| r.trim_start().starts_with(':'))))
        .map(|i| i as u32 + 2)
}

#[cfg(test)]
mod tests;

//! A Jekyll site's `_config.yml` read into what it says in tidings' terms ([`JekyllConfig`]),
//! which the settings take on, so a Jekyll blog is served as it is, with every key tidings
//! does not use reported once.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::diagnostic::Diagnostic;
use crate::frontmatter::RawFrontMatter;
use crate::yaml::{self, Spanned};

/// jekyll-feed's settings (`feed:` in `_config.yml`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedSettings {
    /// The posts feed's path, `/feed.xml` unless `feed.path` says otherwise.
    pub path: String,
    /// Category names given a feed of their own at `/feed/NAME.xml`, even when empty.
    pub categories: Vec<String>,
    /// Whether tag feeds at `tags_path` + `TAG.xml` were made.
    pub tags: bool,
    /// The folder of tag feeds, `/feed/by_tag/` unless `feed.tags.path` says otherwise.
    pub tags_path: String,
    /// Entries in each of jekyll-feed's feeds: `feed.posts_limit`, else jekyll-feed's 10.
    pub posts_limit: usize,
}

impl Default for FeedSettings {
    fn default() -> Self {
        FeedSettings {
            path: "/feed.xml".to_owned(),
            categories: Vec::new(),
            tags: false,
            tags_path: "/feed/by_tag/".to_owned(),
            posts_limit: 10,
        }
    }
}

/// A configured feed path as a URL path (`/…`), unless it has a `.` or `..` segment (after
/// percent-decoding too), or a backslash: such a path could name a file outside the export.
fn safe_feed_path(written: &str) -> Option<String> {
    let trimmed = written.trim().trim_start_matches('/');
    let decoded = percent_encoding::percent_decode_str(trimmed).decode_utf8_lossy();
    let bad = decoded.contains('\\') || decoded.split('/').any(|segment| matches!(segment, "." | ".."));
    (!bad).then(|| format!("/{trimmed}"))
}

/// The warning for a configured feed path that [`safe_feed_path`] refused.
fn unsafe_path(config: &Path, key: &str, written: &str, default: &str) -> Diagnostic {
    Diagnostic::warning(
        config,
        None,
        None,
        format!(
            "`{key}`: {written:?} has a `.` or `..` segment, which could lead out of the site: \
             {default} is used instead; write a path inside the site"
        ),
    )
}

/// One `defaults:` entry: front matter given to every post under `path`.
#[derive(Clone, Debug, PartialEq)]
pub struct FrontMatterDefault {
    /// The folder (relative to the site) the values apply under; empty for every file.
    pub path: String,
    /// The document type (`posts`, `pages`, `drafts`), when the scope names one.
    pub kind: Option<String>,
    /// The values, as front matter.
    pub values: RawFrontMatter,
    /// The same values for Liquid's `page`.
    pub values_json: serde_json::Value,
}

impl FrontMatterDefault {
    /// True when the default applies to the post at `relative` (a path in the site).
    pub fn applies_to(&self, relative: &Path, is_draft: bool) -> bool {
        let kind_ok = match self.kind.as_deref() {
            None => true,
            Some("posts") => !is_draft,
            Some("drafts") => is_draft,
            Some(_) => false,
        };
        let scope = self.path.trim_matches('/');
        kind_ok && (scope.is_empty() || path_matches(scope, relative))
    }

    /// How specific the scope is: more path segments, then having a type; the most specific wins.
    pub fn specificity(&self) -> (usize, bool) {
        (self.path.split('/').filter(|s| !s.is_empty()).count(), self.kind.is_some())
    }
}

/// Jekyll's scope test: the file's path starts with the scope's segments (`*` matches one segment).
fn path_matches(scope: &str, relative: &Path) -> bool {
    let file: Vec<String> = relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    let scope: Vec<&str> = scope.split('/').filter(|s| !s.is_empty()).collect();
    scope.len() <= file.len() && scope.iter().zip(&file).all(|(s, f)| *s == "*" || glob(s, f))
}

/// `*` as any run of characters within one segment.
fn glob(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => {
            name.len() >= head.len() + tail.len() && name.starts_with(head) && {
                let rest = &name[head.len()..];
                (0..=rest.len()).filter(|i| rest.is_char_boundary(*i)).any(|i| glob(tail, &rest[i..]))
            }
        }
    }
}

/// What a Jekyll site's configuration adds to tidings' own.
#[derive(Clone, Debug, PartialEq)]
pub struct JekyllSite {
    /// Every value of `_config.yml`, for Liquid's `site`.
    pub site: serde_json::Value,
    /// `collections.posts.permalink`: beats the site `permalink` for posts.
    pub posts_permalink: Option<String>,
    /// `defaults:` entries, in the order written.
    pub defaults: Vec<FrontMatterDefault>,
    /// jekyll-feed's settings.
    pub feed: FeedSettings,
    /// Extensions rendered as Markdown (`markdown_ext`), lower-case, without dots.
    pub markdown_ext: Vec<String>,
    /// `future: true`: future-dated posts are shown at once instead of at their time.
    pub future: bool,
    /// Keys tidings does not use, each with its warning, which stands only when no post prints
    /// the key with Liquid (`{{ site.repository }}`).
    pub liquid_only_keys: Vec<(String, Diagnostic)>,
}

impl JekyllSite {
    /// The defaults that apply to a post, least specific first (later ones win).
    pub fn defaults_for(&self, relative: &Path, is_draft: bool) -> Vec<&FrontMatterDefault> {
        let mut found: Vec<&FrontMatterDefault> =
            self.defaults.iter().filter(|d| d.applies_to(relative, is_draft)).collect();
        // A stable sort keeps the written order among equally specific scopes.
        found.sort_by_key(|d| d.specificity());
        found
    }

    /// True when a file with extension `ext` is rendered as Markdown.
    pub fn is_markdown(&self, ext: &str) -> bool {
        self.markdown_ext.iter().any(|e| e.eq_ignore_ascii_case(ext))
    }
}

/// The keys of `_config.yml` that tidings uses; every other key is reported.
const USED_KEYS: &[&str] = &[
    "title",
    "name",
    "description",
    "url",
    "baseurl",
    "author",
    "lang",
    "timezone",
    "permalink",
    "collections",
    "defaults",
    "excerpt_separator",
    "feed",
    "markdown_ext",
    "future",
];

/// Jekyll's own settings (its `Configuration::DEFAULTS` and common plugins') that only shape
/// the pages it builds: they are reported as such, never as a likely typo of another key.
const BUILD_KEYS: &[&str] = &[
    "source",
    "destination",
    "collections_dir",
    "cache_dir",
    "plugins_dir",
    "layouts_dir",
    "data_dir",
    "includes_dir",
    "safe",
    "include",
    "exclude",
    "keep_files",
    "encoding",
    "strict_front_matter",
    "show_drafts",
    "limit_posts",
    "unpublished",
    "whitelist",
    "plugins",
    "gems",
    "markdown",
    "highlighter",
    "lsi",
    "incremental",
    "detach",
    "port",
    "host",
    "show_dir_listing",
    "paginate",
    "paginate_path",
    "quiet",
    "verbose",
    "liquid",
    "kramdown",
    "sass",
    "livereload",
    "profile",
    "theme",
    "remote_theme",
    "jekyll-archives",
    "sitemap",
];

/// Keys under `feed:` that tidings uses.
const USED_FEED_KEYS: &[&str] = &["path", "posts_limit", "categories", "tags", "excerpt_only"];

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawConfig {
    title: Option<Spanned<Option<String>>>,
    name: Option<String>,
    description: Option<String>,
    url: Option<Spanned<Option<String>>>,
    baseurl: Option<String>,
    author: Option<RawAuthor>,
    lang: Option<String>,
    timezone: Option<Spanned<String>>,
    permalink: Option<String>,
    collections: Option<BTreeMap<String, RawCollection>>,
    defaults: Option<Vec<RawDefault>>,
    excerpt_separator: Option<String>,
    feed: Option<RawFeed>,
    markdown_ext: Option<String>,
    future: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawCollection {
    permalink: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawDefault {
    scope: RawScope,
    values: RawFrontMatter,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawScope {
    path: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawFeed {
    path: Option<String>,
    posts_limit: Option<Spanned<u64>>,
    categories: Option<Vec<String>>,
    tags: Option<RawFeedTags>,
    excerpt_only: Option<bool>,
}

/// `feed.tags`: `true`, or a table with `path` (and `only`/`except`, which tidings ignores).
#[derive(Deserialize)]
#[serde(untagged)]
enum RawFeedTags {
    On(bool),
    Table { path: Option<String> },
}

/// `author:` as a name or as `{name, email, uri}`.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawAuthor {
    Name(String),
    Table { name: Option<String>, email: Option<String>, uri: Option<String>, url: Option<String> },
}

/// A person `_config.yml` names as the site's `author`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Author {
    /// The name shown to readers (never blank).
    pub name: String,
    /// `email`, as written.
    pub email: Option<String>,
    /// `uri`, else `url`.
    pub uri: Option<String>,
}

/// What a Jekyll site's configuration says, in tidings' terms: the site settings it gives
/// (`None` where it says nothing) and the Jekyll rules its posts follow.
#[derive(Clone, Debug, PartialEq)]
pub struct JekyllConfig {
    /// `title`, else `name`, else the host of `url`.
    pub title: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `url` + `baseurl` (`absolute_url`), where `url` is written.
    pub base_url: Option<Spanned<String>>,
    /// `lang`, as written.
    pub lang: Option<String>,
    /// `timezone`.
    pub timezone: Option<chrono_tz::Tz>,
    /// `permalink`: Jekyll's default style `date` when it says nothing.
    pub permalink: String,
    /// `excerpt_separator`: Jekyll's blank line when it says nothing.
    pub excerpt_separator: String,
    /// `author`.
    pub author: Option<Author>,
    /// `feed.posts_limit`.
    pub posts_limit: Option<usize>,
    /// `feed.excerpt_only: true`: entries carry summaries, not whole bodies.
    pub excerpt_only: bool,
    /// The rules of the site and jekyll-feed's settings.
    pub site: JekyllSite,
}

/// Reads `_config.yml`. Keys tidings does not use become warnings, each with a "did you
/// mean" when one is close.
pub fn read(text: &str, path: &Path, diagnostics: &mut Vec<Diagnostic>) -> Result<JekyllConfig, Diagnostic> {
    let raw: RawConfig = yaml::from_str(text, path, 0)?;
    let site: serde_json::Value = yaml::from_str(text, path, 0)?;
    let site = if site.is_null() { serde_json::Value::Object(Default::default()) } else { site };
    let liquid_only_keys = report_unused(text, path, &site, diagnostics);

    // jekyll-feed titles a feed with `title`, else `name`; a feed must have a title, so a site
    // with neither is named after its host.
    let host = raw.url.as_ref().and_then(|u| u.value.as_deref()).and_then(|u| url::Url::parse(u.trim()).ok());
    let host = host.and_then(|u| u.host_str().map(str::to_owned));
    let title = raw.title.as_ref().and_then(|t| t.value.clone()).or(raw.name.clone()).or(host);
    let base_url = raw.url.as_ref().and_then(|u| u.value.as_ref().map(|v| (v, u.location))).map(|(url, location)| {
        // `absolute_url` is `url` + `baseurl`.
        let baseurl = raw.baseurl.as_deref().unwrap_or("").trim().trim_end_matches('/');
        let baseurl =
            if baseurl.is_empty() || baseurl.starts_with('/') { baseurl.to_owned() } else { format!("/{baseurl}") };
        Spanned { value: format!("{}{baseurl}", url.trim().trim_end_matches('/')), location }
    });
    let mut timezone = None;
    if let Some(zone) = raw.timezone {
        timezone = Some(zone.value.trim().parse().map_err(|_| {
            yaml::diagnostic_at(
                path,
                0,
                &zone.location,
                format!(
                    "`timezone`: unknown time zone {:?}; use an IANA name such as `America/New_York` or `UTC`",
                    zone.value
                ),
            )
        })?);
    }
    let author = raw
        .author
        .map(|author| match author {
            RawAuthor::Name(name) => Author { name, email: None, uri: None },
            RawAuthor::Table { name, email, uri, url } => {
                Author { name: name.unwrap_or_default(), email, uri: uri.or(url) }
            }
        })
        .filter(|author| !author.name.trim().is_empty());
    let (mut posts_limit, mut excerpt_only) = (None, false);
    let mut feed = FeedSettings::default();
    if let Some(raw_feed) = raw.feed {
        if let Some(p) = raw_feed.path.filter(|p| !p.trim().is_empty()) {
            match safe_feed_path(&p) {
                Some(p) => feed.path = p,
                None => diagnostics.push(unsafe_path(path, "feed.path", &p, &feed.path)),
            }
        }
        if let Some(limit) = raw_feed.posts_limit {
            if limit.value == 0 {
                return Err(yaml::diagnostic_at(path, 0, &limit.location, "`feed.posts_limit`: must be 1 or more"));
            }
            feed.posts_limit = limit.value.min(u32::MAX as u64) as usize;
            posts_limit = Some(feed.posts_limit);
        }
        feed.categories = raw_feed.categories.unwrap_or_default();
        match raw_feed.tags {
            Some(RawFeedTags::On(on)) => feed.tags = on,
            Some(RawFeedTags::Table { path: tags_path }) => {
                feed.tags = true;
                if let Some(p) = tags_path.filter(|p| !p.trim().is_empty()) {
                    match safe_feed_path(&p) {
                        Some(p) => feed.tags_path = p,
                        None => diagnostics.push(unsafe_path(path, "feed.tags.path", &p, &feed.tags_path)),
                    }
                }
            }
            None => {}
        }
        excerpt_only = raw_feed.excerpt_only == Some(true);
    }
    let defaults = raw
        .defaults
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, d)| FrontMatterDefault {
            path: d.scope.path.unwrap_or_default(),
            kind: d.scope.kind,
            values: d.values,
            values_json: site["defaults"][i]["values"].clone(),
        })
        .collect();
    let markdown_ext = raw
        .markdown_ext
        .unwrap_or_else(|| "markdown,mkdown,mkdn,mkd,md".to_owned())
        .split(',')
        .map(|e| e.trim().trim_start_matches('.').to_ascii_lowercase())
        .filter(|e| !e.is_empty())
        .collect();
    Ok(JekyllConfig {
        title,
        description: raw.description,
        base_url,
        lang: raw.lang,
        timezone,
        // Jekyll's default style is `date`.
        permalink: raw.permalink.filter(|p| !p.trim().is_empty()).unwrap_or_else(|| "date".to_owned()),
        excerpt_separator: raw.excerpt_separator.unwrap_or_else(|| "\n\n".to_owned()),
        author,
        posts_limit,
        excerpt_only,
        site: JekyllSite {
            posts_permalink: raw.collections.and_then(|mut c| c.remove("posts")).and_then(|p| p.permalink),
            site,
            defaults,
            feed,
            markdown_ext,
            future: raw.future == Some(true),
            liquid_only_keys,
        },
    })
}

/// One warning per top-level key (and `feed:` key) tidings does not use.
fn report_unused(
    text: &str,
    path: &Path,
    site: &serde_json::Value,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<(String, Diagnostic)> {
    let mut for_liquid = Vec::new();
    let Some(top) = site.as_object() else { return for_liquid };
    for key in top.keys() {
        if USED_KEYS.contains(&key.as_str()) {
            continue;
        }
        let line = key_line(text, key, 0);
        let warning = |advice: String| {
            Diagnostic::warning(path, line, Some(1), format!("`{key}` is not used by tidings{advice}"))
        };
        match did_you_mean(key, USED_KEYS) {
            _ if BUILD_KEYS.contains(&key.as_str()) => diagnostics.push(warning(
                "; it shapes the pages Jekyll builds, not the feeds (remove it from _config.yml to silence this)"
                    .to_owned(),
            )),
            Some(near) => diagnostics.push(warning(format!("; did you mean `{near}`?"))),
            // Reported only if no post prints it either (see `JekyllSite::liquid_only_keys`).
            None => for_liquid.push((
                key.clone(),
                warning(format!(
                    ", and no post prints it with {{{{ site.{key} }}}} (remove it from _config.yml to silence this)"
                )),
            )),
        }
    }
    if let Some(feed) = top.get("feed").and_then(|f| f.as_object()) {
        let feed_line = key_line(text, "feed", 0);
        for key in feed.keys().filter(|k| !USED_FEED_KEYS.contains(&k.as_str())) {
            let advice =
                did_you_mean(key, USED_FEED_KEYS).map(|n| format!("; did you mean `{n}`?")).unwrap_or_default();
            let line = feed_line.and_then(|after| key_line(text, key, after)).or(feed_line);
            diagnostics.push(Diagnostic::warning(
                path,
                line,
                None,
                format!("`feed.{key}` is not used by tidings{advice}"),
            ));
        }
    }
    for_liquid
}

/// The 1-based line of `key:` at the start of a line (ignoring indentation), after line `after`.
fn key_line(text: &str, key: &str, after: u32) -> Option<u32> {
    text.lines()
        .enumerate()
        .skip(after as usize)
        .find(|(_, line)| {
            let trimmed = line.trim_start().trim_start_matches("- ");
            let unquoted = trimmed.trim_start_matches(['"', '\'']);
            unquoted.strip_prefix(key).is_some_and(|rest| rest.trim_start_matches(['"', '\'']).starts_with(':'))
        })
        .map(|(i, _)| i as u32 + 1)
}

/// The closest of `known` to `key` by edit distance, if close enough to be a likely typo.
pub fn did_you_mean<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    let key = key.to_lowercase();
    known
        .iter()
        .map(|k| (edit_distance(&key, k), *k))
        .filter(|(d, k)| *d > 0 && *d <= 2 && *d <= (k.chars().count() / 3).max(1))
        .min()
        .map(|(_, k)| k)
}

/// Levenshtein distance between two strings, counted in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(text: &str) -> (JekyllConfig, Vec<String>) {
        let mut diagnostics = Vec::new();
        let config = read(text, Path::new("_config.yml"), &mut diagnostics).unwrap();
        (config, diagnostics.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn feed_paths_with_dot_segments_are_refused() {
        assert_eq!(safe_feed_path("feed/atom.xml").as_deref(), Some("/feed/atom.xml"));
        assert_eq!(safe_feed_path(" /feed.xml ").as_deref(), Some("/feed.xml"));
        for bad in ["../../home/u/.bashrc", "/a/./b.xml", "a/%2e%2E/b.xml", "a\\..\\b", ".."] {
            assert_eq!(safe_feed_path(bad), None, "{bad}");
        }
        let (config, diagnostics) = read_text("title: T\nfeed:\n  path: ../x.xml\n  tags:\n    path: ../t/\n");
        let feed = &config.site.feed;
        assert_eq!((feed.path.as_str(), feed.tags_path.as_str()), ("/feed.xml", "/feed/by_tag/"));
        assert_eq!(diagnostics.len(), 2, "{diagnostics:?}");
    }

    #[test]
    fn url_and_baseurl_make_the_base_url() {
        let base_url = |text: &str| read_text(text).0.base_url.map(|url| url.value);
        assert_eq!(
            base_url("url: https://example.com/\nbaseurl: /blog/\n").as_deref(),
            Some("https://example.com/blog")
        );
        let (config, _) = read_text("url: https://example.com/\n");
        assert_eq!(config.title.as_deref(), Some("example.com"), "a site without a title is named after its host");
        assert_eq!(base_url("url: https://example.com\nbaseurl: blog\n").as_deref(), Some("https://example.com/blog"));
        assert_eq!(base_url("url: https://example.com\nbaseurl: \"\"\n").as_deref(), Some("https://example.com"));
    }

    #[test]
    fn jekyll_keys() {
        let (config, warnings) = read_text(
            "title: ~\nname: Jekyll News\ntimezone: America/Los_Angeles\ncollections:\n  posts:\n    permalink: /news/:year/:title/\n\
             feed:\n  categories: [release, Main Cat]\n  posts_limit: 10000\n  tags: true\nlang: en_GB\n\
             author: {name: Ann Example, email: ann@example.com}\nfuture: true\n",
        );
        assert_eq!(config.title.as_deref(), Some("Jekyll News"));
        assert_eq!(config.timezone, Some(chrono_tz::America::Los_Angeles));
        assert_eq!(config.posts_limit, Some(10000));
        assert_eq!(config.lang.as_deref(), Some("en_GB"));
        assert_eq!(config.excerpt_separator, "\n\n");
        assert_eq!(config.permalink, "date");
        assert_eq!(config.author.unwrap().email.as_deref(), Some("ann@example.com"));
        let jekyll = config.site;
        assert_eq!(jekyll.posts_permalink.as_deref(), Some("/news/:year/:title/"));
        assert_eq!(jekyll.feed.categories, ["release", "Main Cat"]);
        assert!(jekyll.feed.tags && jekyll.future);
        assert_eq!(jekyll.feed.path, "/feed.xml");
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn unused_keys_are_reported_once_with_a_suggestion() {
        let (_, warnings) =
            read_text("title: T\npermalnk: pretty\nplugins: [jekyll-feed]\nfeed:\n  path: atom.xml\n  limit: 3\n");
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert_eq!(warnings[0], "_config.yml:2:1: `permalnk` is not used by tidings; did you mean `permalink`?");
        assert_eq!(
            warnings[1],
            "_config.yml:3:1: `plugins` is not used by tidings; it shapes the pages Jekyll builds, not the feeds \
             (remove it from _config.yml to silence this)"
        );
        assert_eq!(warnings[2], "_config.yml:6: `feed.limit` is not used by tidings");
    }

    #[test]
    fn defaults_by_scope() {
        let (config, _) = read_text(
            "defaults:\n- scope: {path: ''}\n  values: {lang: en}\n- scope: {path: _posts/en/posts, type: posts}\n  \
             values: {permalink: /en/:year/:title/}\n",
        );
        let jekyll = config.site;
        let found = jekyll.defaults_for(Path::new("_posts/en/posts/2016-01-01-a.md"), false);
        assert_eq!(found.len(), 2);
        assert_eq!(found[1].values.permalink.as_ref().unwrap().value.0, "/en/:year/:title/");
        assert_eq!(jekyll.defaults_for(Path::new("_posts/ja/2016-01-01-a.md"), false).len(), 1);
        assert_eq!(found[0].values_json["lang"], "en");
    }

    #[test]
    fn suggestions() {
        assert_eq!(did_you_mean("timezon", USED_KEYS), Some("timezone"));
        assert_eq!(did_you_mean("base_url", USED_KEYS), Some("baseurl"));
        assert_eq!(did_you_mean("kramdown", USED_KEYS), None);
        assert_eq!(did_you_mean("markdown", USED_KEYS), None, "four edits from markdown_ext is no typo");
        assert!(glob("*", "en") && glob("a*c", "abbc") && !glob("a*c", "ab"));
    }
}

//! Site configuration: `feeds/site.yaml` and the authors table, parsed from text and
//! validated once, with command-line overrides applied on top.

use std::collections::BTreeMap;
use std::path::Path;

use chrono_tz::Tz;
use serde::Deserialize;

use crate::diagnostic::Diagnostic;
use crate::jekyll::config::{JekyllConfig, JekyllSite};
use crate::yaml;

/// Items per feed page when `limit` is not set.
pub const DEFAULT_LIMIT: usize = 20;
/// `Cache-Control: max-age` in seconds when `max_age` is not set.
pub const DEFAULT_MAX_AGE_SECS: u64 = 300;
/// `Cache-Control: stale-while-revalidate` in seconds when the site sets none: a shared cache
/// may answer this long past max-age while it asks again in the background (RFC 5861).
pub const DEFAULT_STALE_WHILE_REVALIDATE_SECS: u64 = 60;
/// `Cache-Control: stale-if-error` in seconds when the site sets none: a shared cache may
/// answer from its copy this long past max-age while every replica fails (RFC 5861).
pub const DEFAULT_STALE_IF_ERROR_SECS: u64 = 86_400;
/// Jekyll's default permalink pattern, used when the site sets none.
pub const DEFAULT_PERMALINK: &str = "/:categories/:year/:month/:day/:title.html";
/// The excerpt separator when the site sets none.
pub const DEFAULT_EXCERPT_SEPARATOR: &str = "<!--more-->";
/// The base URL when neither the site file nor a flag gives one.
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8080";

/// Whether feed items carry the full post or only its summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContentMode {
    /// Summary and full HTML body.
    Full,
    /// Summary only.
    Summary,
}

/// A person who writes posts, from the authors table.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Person {
    /// The key used in front matter and in `/authors/{key}/` URLs.
    pub key: String,
    /// The name shown to readers.
    pub name: String,
    /// An e-mail address, if the author wants one published.
    pub email: Option<String>,
    /// A home page.
    pub uri: Option<String>,
}

/// Whether `text` has the shape of an e-mail address (`local@domain`, no spaces, a dot in the
/// domain): what RSS's `author` and Atom's `email` must hold.
pub fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else { return false };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '(' | ')' | ','))
}

/// Everything about the site that is not a post.
#[derive(Clone, Debug, PartialEq)]
pub struct SiteConfig {
    /// The site's name, the title of the whole-site feed.
    pub title: String,
    /// One sentence about the site.
    pub description: String,
    /// Absolute base URL without a trailing slash, e.g. `https://blog.example.com`.
    pub base_url: String,
    /// BCP 47 language tag such as `en` or `en-US`.
    pub language: String,
    /// The zone naive dates are read in.
    pub timezone: Tz,
    /// Permalink pattern for posts without their own `permalink`.
    pub permalink: String,
    /// Marks the end of a post's summary.
    pub excerpt_separator: String,
    /// Items per feed page.
    pub limit: usize,
    /// Full content or summaries only.
    pub content: ContentMode,
    /// Relative links and images in posts are made absolute (the default), or kept as
    /// written with the post's URL as Atom's `xml:base` (jekyll-feed's way).
    pub absolute_links: bool,
    /// Every author of a post is listed (the default), or only the first (jekyll-feed's way).
    pub co_authors: bool,
    /// `Cache-Control` max-age for feed responses, in seconds.
    pub max_age_secs: u64,
    /// `Cache-Control` stale-while-revalidate, in seconds; 0 leaves it out.
    pub stale_while_revalidate_secs: u64,
    /// `Cache-Control` stale-if-error, in seconds; 0 leaves it out.
    pub stale_if_error_secs: u64,
    /// The key of the author of posts that name none.
    pub default_author: Option<String>,
    /// Authors by key.
    pub authors: BTreeMap<String, Person>,
    /// Curated feeds from `feeds/{name}.yaml`, by name.
    pub curated: BTreeMap<String, CuratedFeed>,
    /// WebSub hubs (absolute URLs) that are told when a feed changes.
    pub websub_hubs: Vec<String>,
    /// Ping hubs only once each changed feed's public URL (`base_url`, through whatever cache
    /// is in front) serves the new bytes, so the hub's fetch cannot get the old feed.
    pub websub_confirm: bool,
    /// Set when the site is a Jekyll site with a `_config.yml`: Jekyll's rules for posts,
    /// dates, URLs and ids apply, and jekyll-feed's settings.
    pub jekyll: Option<std::sync::Arc<JekyllSite>>,
}

/// A curated feed: posts matching every filter that is given (and any value within one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CuratedFeed {
    /// The file name without `.yaml`; the feed is at `/feeds/{name}.rss`.
    pub name: String,
    /// The feed's title.
    pub title: String,
    /// One sentence about the feed.
    pub description: Option<String>,
    /// Category slugs; empty means any.
    pub categories: Vec<String>,
    /// Author keys; empty means any.
    pub authors: Vec<String>,
    /// Tag slugs; empty means any.
    pub tags: Vec<String>,
    /// Items per page, instead of the site's `limit`.
    pub limit: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCurated {
    title: String,
    description: Option<String>,
    #[serde(default)]
    categories: Vec<String>,
    #[serde(default)]
    authors: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
    limit: Option<yaml::Spanned<u64>>,
}

impl CuratedFeed {
    /// Parses `feeds/{name}.yaml`: `title` (required), `description`, and the filters
    /// `categories`, `authors`, `tags` (lists), `limit`.
    pub fn from_yaml(name: &str, text: &str, path: &Path) -> Result<CuratedFeed, Diagnostic> {
        let raw: RawCurated = yaml::from_str(text, path, 0)?;
        let limit = match raw.limit {
            Some(l) if l.value == 0 || l.value > 1000 => {
                return Err(yaml::diagnostic_at(
                    path,
                    0,
                    &l.location,
                    "`limit`: items per feed must be between 1 and 1000",
                ));
            }
            Some(l) => Some(l.value as usize),
            None => None,
        };
        let slugs = |v: Vec<String>| v.iter().map(|s| crate::text::slugify(s)).filter(|s| !s.is_empty()).collect();
        Ok(CuratedFeed {
            name: name.to_owned(),
            title: raw.title,
            description: raw.description,
            categories: slugs(raw.categories),
            authors: slugs(raw.authors),
            tags: slugs(raw.tags),
            limit,
        })
    }
}

impl Default for SiteConfig {
    fn default() -> Self {
        SiteConfig {
            title: "tidings".to_owned(),
            description: String::new(),
            base_url: DEFAULT_BASE_URL.to_owned(),
            language: "en".to_owned(),
            timezone: Tz::UTC,
            permalink: DEFAULT_PERMALINK.to_owned(),
            excerpt_separator: DEFAULT_EXCERPT_SEPARATOR.to_owned(),
            limit: DEFAULT_LIMIT,
            content: ContentMode::Full,
            absolute_links: true,
            co_authors: true,
            max_age_secs: DEFAULT_MAX_AGE_SECS,
            stale_while_revalidate_secs: DEFAULT_STALE_WHILE_REVALIDATE_SECS,
            stale_if_error_secs: DEFAULT_STALE_IF_ERROR_SECS,
            default_author: None,
            authors: BTreeMap::new(),
            curated: BTreeMap::new(),
            websub_hubs: Vec::new(),
            websub_confirm: false,
            jekyll: None,
        }
    }
}

/// What `site.yaml` may say; every key optional.
#[derive(Deserialize, Default)]
#[serde(default)]
struct RawSite {
    title: Option<String>,
    description: Option<String>,
    base_url: Option<yaml::Spanned<String>>,
    url: Option<yaml::Spanned<String>>,
    language: Option<yaml::Spanned<String>>,
    timezone: Option<yaml::Spanned<String>>,
    permalink: Option<String>,
    excerpt_separator: Option<String>,
    limit: Option<yaml::Spanned<u64>>,
    content: Option<yaml::Spanned<String>>,
    links: Option<yaml::Spanned<String>>,
    co_authors: Option<bool>,
    max_age: Option<u64>,
    stale_while_revalidate: Option<u64>,
    stale_if_error: Option<u64>,
    author: Option<String>,
    authors: Option<BTreeMap<String, RawPerson>>,
    websub: Option<RawWebSub>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawWebSub {
    hubs: Vec<yaml::Spanned<String>>,
    confirm: Option<bool>,
}

/// One author as written in YAML: a table, or just a name.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawPerson {
    Name(String),
    Full { name: Option<String>, email: Option<String>, uri: Option<String>, url: Option<String> },
}

impl SiteConfig {
    /// Parses `site.yaml` text. `path` is only for messages. Warnings (such as a repaired
    /// language tag) go to `diagnostics`; an error means the file cannot be used.
    pub fn from_yaml(text: &str, path: &Path, diagnostics: &mut Vec<Diagnostic>) -> Result<Self, Diagnostic> {
        let mut config = SiteConfig::default();
        config.apply_yaml(text, path, diagnostics)?;
        Ok(config)
    }

    /// Takes on what a Jekyll site's configuration (read from `path`) says: tidings' defaults
    /// for everything it does not say, and its rules for the posts.
    pub fn apply_jekyll(&mut self, jekyll: JekyllConfig, path: &Path) -> Result<(), Diagnostic> {
        if let Some(title) = jekyll.title {
            self.title = title;
        }
        if let Some(description) = jekyll.description {
            self.description = description;
        }
        if let Some(url) = jekyll.base_url {
            self.set_base_url(&url.value).map_err(|e| yaml::diagnostic_at(path, 0, &url.location, e.message("url")))?;
        }
        if let Some(lang) = jekyll.lang {
            self.language = bcp47(&lang);
        }
        if let Some(zone) = jekyll.timezone {
            self.timezone = zone;
        }
        self.permalink = jekyll.permalink;
        self.excerpt_separator = jekyll.excerpt_separator;
        if let Some(author) = jekyll.author {
            let key = crate::text::slugify(&author.name);
            self.default_author = Some(key.clone());
            self.authors.insert(key.clone(), Person { key, name: author.name, email: author.email, uri: author.uri });
        }
        if let Some(limit) = jekyll.posts_limit {
            self.limit = limit;
        }
        if jekyll.excerpt_only {
            self.content = ContentMode::Summary;
        }
        self.jekyll = Some(std::sync::Arc::new(jekyll.site));
        Ok(())
    }

    /// Applies what `site.yaml` text says on top of this configuration (a Jekyll site's
    /// `_config.yml`, or the defaults).
    pub fn apply_yaml(&mut self, text: &str, path: &Path, diagnostics: &mut Vec<Diagnostic>) -> Result<(), Diagnostic> {
        let raw: RawSite = yaml::from_str(text, path, 0)?;
        let config = self;
        if let Some(title) = raw.title {
            config.title = title;
        }
        if let Some(description) = raw.description {
            config.description = description;
        }
        if let Some(base) = raw.base_url.or(raw.url) {
            config.base_url = normalize_base_url(&base.value)
                .map_err(|e| yaml::diagnostic_at(path, 0, &base.location, e.to_string()))?;
        }
        if let Some(language) = raw.language {
            let tag = bcp47(&language.value);
            if tag != language.value {
                diagnostics.push(yaml::warning_at(
                    path,
                    0,
                    &language.location,
                    format!("`language`: {:?} is not a BCP 47 tag; using {tag:?}", language.value),
                ));
            }
            config.language = tag;
        }
        if let Some(zone) = raw.timezone {
            config.timezone = zone.value.parse().map_err(|_| {
                yaml::diagnostic_at(
                    path,
                    0,
                    &zone.location,
                    format!(
                        "`timezone`: unknown time zone {:?}; use an IANA name such as `Europe/London` or `UTC`",
                        zone.value
                    ),
                )
            })?;
        }
        if let Some(permalink) = raw.permalink {
            config.permalink = permalink;
        }
        if let Some(separator) = raw.excerpt_separator {
            config.excerpt_separator = separator;
        }
        if let Some(limit) = raw.limit {
            if limit.value == 0 || limit.value > 1000 {
                return Err(yaml::diagnostic_at(
                    path,
                    0,
                    &limit.location,
                    "`limit`: items per feed must be between 1 and 1000",
                ));
            }
            config.limit = limit.value as usize;
        }
        if let Some(content) = raw.content {
            config.content = match content.value.as_str() {
                "full" => ContentMode::Full,
                "summary" => ContentMode::Summary,
                other => {
                    return Err(yaml::diagnostic_at(
                        path,
                        0,
                        &content.location,
                        format!("`content`: expected `full` or `summary`, found {other:?}"),
                    ));
                }
            };
        }
        if let Some(links) = raw.links {
            config.absolute_links = match links.value.as_str() {
                "absolute" => true,
                "relative" => false,
                other => {
                    return Err(yaml::diagnostic_at(
                        path,
                        0,
                        &links.location,
                        format!("`links`: expected `absolute` or `relative`, found {other:?}"),
                    ));
                }
            };
        }
        if let Some(co_authors) = raw.co_authors {
            config.co_authors = co_authors;
        }
        if let Some(max_age) = raw.max_age {
            config.max_age_secs = max_age;
        }
        if let Some(seconds) = raw.stale_while_revalidate {
            config.stale_while_revalidate_secs = seconds;
        }
        if let Some(seconds) = raw.stale_if_error {
            config.stale_if_error_secs = seconds;
        }
        if raw.author.is_some() {
            config.default_author = raw.author;
        }
        let websub = raw.websub.unwrap_or_default();
        if let Some(confirm) = websub.confirm {
            config.websub_confirm = confirm;
        }
        for hub in websub.hubs {
            let url = url::Url::parse(hub.value.trim())
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .ok_or_else(|| {
                    yaml::diagnostic_at(
                        path,
                        0,
                        &hub.location,
                        format!("`websub.hubs`: {:?} is not an http(s) URL", hub.value),
                    )
                })?;
            config.websub_hubs.push(url.to_string());
        }
        if let Some(authors) = raw.authors {
            config.authors = people(authors);
        }
        Ok(())
    }

    /// Parses an authors table (`feeds/authors.yaml` or Jekyll's `_data/authors.yml`): a map from
    /// key to `{name, email, uri}` or to a plain name.
    pub fn authors_from_yaml(text: &str, path: &Path) -> Result<BTreeMap<String, Person>, Diagnostic> {
        let raw: BTreeMap<String, RawPerson> = yaml::from_str(text, path, 0)?;
        Ok(people(raw))
    }

    /// Replaces the base URL (from a command-line flag or environment variable).
    pub fn set_base_url(&mut self, url: &str) -> Result<(), BaseUrlError> {
        self.base_url = normalize_base_url(url)?;
        Ok(())
    }

    /// The `Cache-Control` value for feed responses: fresh for max-age, then usable by shared
    /// caches while they revalidate or while the origin fails.
    pub fn cache_control(&self) -> String {
        let mut value = format!("public, max-age={}", self.max_age_secs);
        if self.stale_while_revalidate_secs > 0 {
            value.push_str(&format!(", stale-while-revalidate={}", self.stale_while_revalidate_secs));
        }
        if self.stale_if_error_secs > 0 {
            value.push_str(&format!(", stale-if-error={}", self.stale_if_error_secs));
        }
        value
    }
}

fn people(raw: BTreeMap<String, RawPerson>) -> BTreeMap<String, Person> {
    raw.into_iter()
        .map(|(key, person)| {
            let person = match person {
                RawPerson::Name(name) => Person { key: key.clone(), name, email: None, uri: None },
                RawPerson::Full { name, email, uri, url } => Person {
                    key: key.clone(),
                    name: name.unwrap_or_else(|| key.clone()),
                    email: email.filter(|e| !e.trim().is_empty()),
                    uri: uri.or(url).filter(|u| !u.trim().is_empty()),
                },
            };
            (key, person)
        })
        .collect()
}

/// Why a base URL is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BaseUrlError {
    /// Not an absolute URL at all.
    NotAbsolute {
        /// The URL as given.
        url: String,
        /// What the URL parser found wrong.
        reason: url::ParseError,
    },
    /// An absolute URL of another scheme than http or https.
    NotHttp {
        /// The URL as given.
        url: String,
    },
}

impl BaseUrlError {
    /// The message, naming the setting as `key` (`base_url` in `site.yaml`, `url` in a Jekyll `_config.yml`).
    pub fn message(&self, key: &str) -> String {
        match self {
            BaseUrlError::NotAbsolute { url, reason } => {
                format!("`{key}`: {url:?} is not an absolute URL ({reason}); write it like `https://blog.example.com`")
            }
            BaseUrlError::NotHttp { url } => format!("`{key}`: {url:?} must start with http:// or https://"),
        }
    }
}

impl std::fmt::Display for BaseUrlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message("base_url"))
    }
}

impl std::error::Error for BaseUrlError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BaseUrlError::NotAbsolute { reason, .. } => Some(reason),
            BaseUrlError::NotHttp { .. } => None,
        }
    }
}

/// Checks that `url` is an absolute http(s) URL and strips its trailing slash.
fn normalize_base_url(url: &str) -> Result<String, BaseUrlError> {
    let parsed =
        url::Url::parse(url.trim()).map_err(|reason| BaseUrlError::NotAbsolute { url: url.to_owned(), reason })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(BaseUrlError::NotHttp { url: url.to_owned() });
    }
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

/// The path part of a base URL without its trailing slash: `https://x.com/blog/` → `/blog`.
pub fn base_path(base_url: &str) -> &str {
    let after_scheme = base_url.split_once("://").map_or(base_url, |(_, rest)| rest);
    after_scheme.find('/').map_or("", |i| after_scheme[i..].trim_end_matches('/'))
}

/// `en_US` → `en-US`, `EN` → `en`: the usual repairs to make a language tag BCP 47.
pub fn bcp47(tag: &str) -> String {
    let mut parts = tag.trim().split(['-', '_']).filter(|p| !p.is_empty());
    let Some(first) = parts.next() else {
        return "en".to_owned();
    };
    let mut out = first.to_ascii_lowercase();
    for part in parts {
        out.push('-');
        match part.len() {
            2 => out.push_str(&part.to_ascii_uppercase()),
            4 => {
                let mut chars = part.chars();
                out.extend(chars.next().map(|c| c.to_ascii_uppercase()));
                out.push_str(&chars.as_str().to_ascii_lowercase());
            }
            _ => out.push_str(&part.to_ascii_lowercase()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_jekyll(text: &str) -> Result<SiteConfig, String> {
        let path = Path::new("_config.yml");
        let mut config = SiteConfig::default();
        let jekyll = crate::jekyll::config::read(text, path, &mut Vec::new()).map_err(|d| d.to_string())?;
        config.apply_jekyll(jekyll, path).map_err(|d| d.to_string())?;
        Ok(config)
    }

    #[test]
    fn a_jekyll_configuration_becomes_settings() {
        let config = from_jekyll(
            "name: Jekyll News\nurl: https://example.com/\nbaseurl: blog\ntimezone: America/Los_Angeles\n\
             feed:\n  posts_limit: 10000\n  excerpt_only: true\nlang: en_GB\n\
             author: {name: Ann Example, email: ann@example.com}\n",
        )
        .unwrap();
        assert_eq!(config.title, "Jekyll News");
        assert_eq!(config.base_url, "https://example.com/blog");
        assert_eq!(config.timezone, chrono_tz::America::Los_Angeles);
        assert_eq!((config.limit, config.content), (10000, ContentMode::Summary));
        assert_eq!(config.language, "en-GB");
        assert_eq!(config.default_author.as_deref(), Some("ann-example"));
        assert_eq!(config.authors["ann-example"].email.as_deref(), Some("ann@example.com"));
        assert_eq!(config.jekyll.unwrap().feed.posts_limit, 10000);
        let config = from_jekyll("url: https://example.com\n").unwrap();
        assert_eq!((config.title.as_str(), config.limit), ("example.com", DEFAULT_LIMIT));
        assert_eq!(
            from_jekyll("url: ftp:/x\n").unwrap_err().split(':').nth(1),
            Some("1"),
            "the message points at `url`"
        );
    }

    #[test]
    fn base_url_errors_say_what_is_wrong_under_the_key_given() {
        let mut config = SiteConfig::default();
        let relative = config.set_base_url("example.com").unwrap_err();
        assert!(matches!(relative, BaseUrlError::NotAbsolute { .. }), "{relative:?}");
        assert_eq!(
            relative.to_string(),
            "`base_url`: \"example.com\" is not an absolute URL (relative URL without a base); write it like \
             `https://blog.example.com`"
        );
        let ftp = config.set_base_url("ftp://x").unwrap_err();
        assert_eq!(ftp, BaseUrlError::NotHttp { url: "ftp://x".into() });
        assert_eq!(ftp.message("url"), "`url`: \"ftp://x\" must start with http:// or https://");
    }

    fn parse(text: &str) -> Result<SiteConfig, String> {
        let mut diagnostics = Vec::new();
        SiteConfig::from_yaml(text, Path::new("feeds/site.yaml"), &mut diagnostics).map_err(|d| d.to_string())
    }

    #[test]
    fn emails_have_the_shape_of_one() {
        for good in ["ann@example.com", "a.b+c@mail.example.org"] {
            assert!(is_email(good), "{good}");
        }
        for bad in ["spestov", "@example.com", "ann@", "ann@localhost", "a b@example.com", "a@b@c.d", "<a@b.c>"] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn defaults_apply_to_an_empty_file() {
        let config = parse("{}").unwrap();
        assert_eq!(config.limit, DEFAULT_LIMIT);
        assert_eq!(config.permalink, DEFAULT_PERMALINK);
        assert_eq!(config.cache_control(), "public, max-age=300, stale-while-revalidate=60, stale-if-error=86400");
    }

    #[test]
    fn reads_every_key() {
        let config = parse(
            "title: T\nbase_url: https://b.example/blog/\nlanguage: en_GB\ntimezone: Europe/London\nlimit: 5\ncontent: summary\nmax_age: 60\nstale_while_revalidate: 0\nstale_if_error: 600\nauthors:\n  tim: {name: Tim, email: tim@example.com}\n  ann: Ann\n",
        )
        .unwrap();
        assert_eq!(config.base_url, "https://b.example/blog");
        assert_eq!(config.language, "en-GB");
        assert_eq!(config.timezone, chrono_tz::Europe::London);
        assert_eq!(config.limit, 5);
        assert_eq!(config.content, ContentMode::Summary);
        assert_eq!(config.cache_control(), "public, max-age=60, stale-if-error=600");
        assert_eq!(config.authors["tim"].email.as_deref(), Some("tim@example.com"));
        assert_eq!(config.authors["ann"].name, "Ann");
        let config = parse("links: relative\nco_authors: false\n").unwrap();
        assert!(!config.absolute_links && !config.co_authors);
        assert!(parse("links: sideways\n").is_err());
        let config = parse("websub:\n  hubs: [https://hub.example.com/]\n").unwrap();
        assert_eq!(config.websub_hubs, ["https://hub.example.com/"]);
        assert!(!config.websub_confirm);
        assert!(parse("websub:\n  hubs: [https://h.example/]\n  confirm: true\n").unwrap().websub_confirm);
        assert!(parse("websub:\n  hubs: [ftp://x]\n").is_err());
    }

    #[test]
    fn bad_values_point_at_their_line() {
        assert_eq!(
            parse("title: T\ntimezone: Mars/Olympus\n").unwrap_err(),
            "feeds/site.yaml:2:11: `timezone`: unknown time zone \"Mars/Olympus\"; use an IANA name such as `Europe/London` or `UTC`"
        );
        assert!(parse("base_url: example.com\n").unwrap_err().starts_with("feeds/site.yaml:1:11: `base_url`"));
    }

    #[test]
    fn curated_feeds() {
        let path = Path::new("feeds/weekly.yaml");
        let feed =
            CuratedFeed::from_yaml("weekly", "title: Weekly\ncategories: [Operations]\nlimit: 5\n", path).unwrap();
        assert_eq!(feed.categories, ["operations"]);
        assert_eq!(feed.limit, Some(5));
        let err = CuratedFeed::from_yaml("weekly", "title: W\ncategory: x\n", path).unwrap_err();
        assert!(err.to_string().starts_with("feeds/weekly.yaml:2:1: invalid YAML"), "{err}");
    }

    #[test]
    fn language_tags() {
        assert_eq!(bcp47("en_US"), "en-US");
        assert_eq!(bcp47("EN"), "en");
        assert_eq!(bcp47("zh-hant-tw"), "zh-Hant-TW");
    }
}

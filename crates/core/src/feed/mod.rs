//! Feeds: which feeds exist ([`FeedKey`] and its URL path), the format-neutral
//! [`model::FeedModel`], and one writer per format. Pure: no I/O, no clock.

pub mod atom;
pub mod html;
pub mod json;
pub mod legacy;
pub mod model;
pub mod rss;

use std::hash::Hash;

use chrono::{DateTime, FixedOffset};
use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

use crate::index::Index;

/// The first line of every XML feed.
pub const DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";

/// `(rel, href)` of the RFC 5005 paging links and WebSub hubs of a feed page, in order.
fn extra_links(model: &model::FeedModel) -> Vec<(&'static str, &str)> {
    let mut links = Vec::new();
    let pages = &model.pages;
    if pages.first != pages.last {
        links.push(("first", pages.first.as_str()));
        links.extend(pages.previous.as_deref().map(|p| ("previous", p)));
        links.extend(pages.next.as_deref().map(|n| ("next", n)));
        links.push(("last", pages.last.as_str()));
    }
    links.extend(model.hubs.iter().map(|h| ("hub", h.as_str())));
    links
}

/// Whose posts a feed holds.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Every post.
    Site,
    /// Posts in one category, by slug.
    Category(String),
    /// Posts by one author, by key.
    Author(String),
    /// Posts with one tag, by slug.
    Tag(String),
    /// A curated feed from `feeds/{name}.yaml`, by name.
    Curated(String),
}

/// A feed's syndication format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// RSS 2.0.
    Rss,
    /// Atom 1.0.
    Atom,
    /// JSON Feed 1.1.
    Json,
}

impl Format {
    /// Every format, in the order feeds are listed.
    pub const ALL: [Format; 3] = [Format::Rss, Format::Atom, Format::Json];

    /// The file extension in the feed's URL.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Rss => "rss",
            Format::Atom => "atom",
            Format::Json => "json",
        }
    }

    /// The media type without parameters, as used in `type` attributes.
    pub fn mime(self) -> &'static str {
        match self {
            Format::Rss => "application/rss+xml",
            Format::Atom => "application/atom+xml",
            Format::Json => "application/feed+json",
        }
    }

    /// The `Content-Type` the feed is served with.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::Json => "application/feed+json; charset=utf-8",
        }
    }

    /// A short human name, e.g. `RSS`.
    pub fn label(self) -> &'static str {
        match self {
            Format::Rss => "RSS",
            Format::Atom => "Atom",
            Format::Json => "JSON Feed",
        }
    }

    fn from_extension(ext: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.extension() == ext)
    }
}

/// One page of one feed: a scope in a format.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FeedKey {
    /// Whose posts.
    pub scope: Scope,
    /// Which format.
    pub format: Format,
    /// 1-based page number; page 1 holds the newest items.
    pub page: u32,
    /// An old URL (jekyll-feed's, WordPress's) the feed is served at instead of its own.
    pub alias: Option<Alias>,
}

/// A feed's old URL path, percent-encoded, e.g. `/feed.xml`: the feed's self link there.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Alias(pub String);

/// A query string that names no valid page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadQuery(pub String);

/// Characters escaped in a path segment.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

impl FeedKey {
    /// Page 1 of `scope` in `format`.
    pub fn new(scope: Scope, format: Format) -> FeedKey {
        FeedKey { scope, format, page: 1, alias: None }
    }

    /// The same feed on another page.
    pub fn with_page(&self, page: u32) -> FeedKey {
        FeedKey { page, ..self.clone() }
    }

    /// The same feed in another format, at its own URL.
    pub fn with_format(&self, format: Format) -> FeedKey {
        FeedKey { format, alias: None, ..self.clone() }
    }

    /// The URL path of the feed's first page, e.g. `/categories/operations/feed.atom`.
    pub fn path(&self) -> String {
        if let Some(Alias(path)) = &self.alias {
            return path.clone();
        }
        let ext = self.format.extension();
        let seg = |s: &str| utf8_percent_encode(s, SEGMENT).to_string();
        match &self.scope {
            Scope::Site => format!("/feed.{ext}"),
            Scope::Category(slug) => format!("/categories/{}/feed.{ext}", seg(slug)),
            Scope::Author(key) => format!("/authors/{}/feed.{ext}", seg(key)),
            Scope::Tag(slug) => format!("/tags/{}/feed.{ext}", seg(slug)),
            Scope::Curated(name) => format!("/feeds/{}.{ext}", seg(name)),
        }
    }

    /// The path and query this page is served at: `path()`, plus `?page=N` after page 1.
    /// The one place where feed URLs are made.
    pub fn path_and_query(&self) -> String {
        if self.page > 1 { format!("{}?page={}", self.path(), self.page) } else { self.path() }
    }

    /// Where the static export (`tidings build`) writes this page, relative to the output
    /// folder: the URL path for page 1, and `…/page/N/feed.rss` for `feed.rss?page=N`, since
    /// files cannot have query strings (a web server maps one to the other; see the README).
    pub fn export_path(&self) -> String {
        // Web servers look a URL up by its decoded path (`/feed/Main%20Cat.xml` is the file
        // `feed/Main Cat.xml`); a segment that would decode to a path of its own stays encoded.
        let decoded: Vec<String> = self
            .path()
            .split('/')
            .map(|segment| match percent_decode_str(segment).decode_utf8() {
                Ok(d) if !d.contains('/') && d != "." && d != ".." => d.into_owned(),
                _ => segment.to_owned(),
            })
            .collect();
        let path = decoded.join("/");
        let path = path.trim_start_matches('/');
        // A URL ending in `/` (WordPress's `/feed/`) is the folder's index file.
        let path = if path.ends_with('/') { format!("{path}index.xml") } else { path.to_owned() };
        let path = path.as_str();
        if self.page <= 1 {
            return path.to_owned();
        }
        match path.rsplit_once('/') {
            Some((dir, file)) => format!("{dir}/page/{}/{file}", self.page),
            None => format!("page/{}/{path}", self.page),
        }
    }

    /// The feed a request names, if its path has the shape of one (whether it exists is the
    /// index's business). `Err` when the path is a feed but the query names no valid page.
    pub fn from_request(path: &str, query: Option<&str>) -> Result<Option<FeedKey>, BadQuery> {
        let Some(mut key) = Self::from_path(path) else { return Ok(None) };
        key.page = page_from_query(query)?;
        Ok(Some(key))
    }

    fn from_path(path: &str) -> Option<FeedKey> {
        // At most three segments, without a Vec: this runs on every poll.
        let mut parts = [""; 3];
        let mut count = 0;
        for segment in path.strip_prefix('/')?.split('/') {
            *parts.get_mut(count)? = segment;
            count += 1;
        }
        let parts = &parts[..count];
        let feed_format = |file: &str| file.strip_prefix("feed.").and_then(Format::from_extension);
        let decode = |s: &str| percent_decode_str(s).decode_utf8().ok().map(|s| s.into_owned());
        let (scope, format) = match parts {
            [file] => (Scope::Site, feed_format(file)?),
            ["categories", slug, file] if !slug.is_empty() => (Scope::Category(decode(slug)?), feed_format(file)?),
            ["authors", key, file] if !key.is_empty() => (Scope::Author(decode(key)?), feed_format(file)?),
            ["tags", slug, file] if !slug.is_empty() => (Scope::Tag(decode(slug)?), feed_format(file)?),
            ["feeds", file] => {
                let (name, ext) = file.rsplit_once('.')?;
                (Scope::Curated(decode(name).filter(|n| !n.is_empty())?), Format::from_extension(ext)?)
            }
            _ => return None,
        };
        Some(FeedKey::new(scope, format))
    }
}

/// Largest page number accepted in a query.
const MAX_PAGE: u32 = 1_000_000;

/// The `page` parameter of a query (1 when absent). Other parameters are ignored, so cache
/// busters and tracking tags do no harm.
fn page_from_query(query: Option<&str>) -> Result<u32, BadQuery> {
    let mut page = None;
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if name != "page" {
            continue;
        }
        if page.is_some() {
            return Err(BadQuery("bad query: give `page` once".to_owned()));
        }
        let number = value
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n) && value.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| BadQuery(format!("bad query: `page` must be a whole number from 1, not {value:?}")))?;
        page = Some(number);
    }
    Ok(page.unwrap_or(1))
}

/// Every feed the index has (first pages), in a stable order: site, categories, authors,
/// tags, curated feeds; each in every format.
pub fn all_keys(index: &Index) -> Vec<FeedKey> {
    all_scopes(index)
        .into_iter()
        .flat_map(|scope| Format::ALL.map(|format| FeedKey::new(scope.clone(), format)))
        .collect()
}

/// Every scope the index has a feed for, in the order of [`all_keys`].
pub fn all_scopes(index: &Index) -> Vec<Scope> {
    std::iter::once(Scope::Site)
        .chain(index.categories.keys().cloned().map(Scope::Category))
        .chain(index.authors.keys().cloned().map(Scope::Author))
        .chain(index.tags.keys().cloned().map(Scope::Tag))
        .chain(index.curated.keys().cloned().map(Scope::Curated))
        .collect()
}

/// A feed's bytes and the date of its newest change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// The whole document.
    pub bytes: Vec<u8>,
    /// The newest item's last change; `None` for a feed with no items.
    pub updated: Option<DateTime<FixedOffset>>,
    /// False when some item's body was missing (not ready in time): serve, don't keep.
    pub complete: bool,
}

/// The whole text of a feed in `key.format`, or `None` if the index has no such feed.
pub fn render(index: &Index, key: &FeedKey) -> Option<Output> {
    let model = model::FeedModel::build(index, key)?;
    let bytes = match key.format {
        Format::Rss => rss::write(&model),
        Format::Atom => atom::write(&model),
        Format::Json => json::write(&model),
    };
    Some(Output { bytes, updated: (!model.items.is_empty()).then_some(model.updated), complete: model.complete })
}

/// The browser view of a feed page (see [`html`]), or `None` if the index has no such feed.
pub fn render_view(index: &Index, key: &FeedKey) -> Option<Output> {
    let model = model::FeedModel::build(index, key)?;
    let bytes = html::write(&model, key, &index.config.base_url);
    Some(Output { bytes, updated: (!model.items.is_empty()).then_some(model.updated), complete: model.complete })
}

/// The cache key of a document: a hash of everything it shows, so that a document whose
/// posts, titles and settings are unchanged keeps its key (and its bytes) across snapshots.
pub struct Fingerprint(xxhash_rust::xxh3::Xxh3);

impl Fingerprint {
    /// Starts the key of `what` as `index` shows it (settings come in through the epoch).
    pub fn new(index: &Index, what: &impl Hash) -> Fingerprint {
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        index.bodies.epoch().hash(&mut hasher);
        what.hash(&mut hasher);
        Fingerprint(hasher)
    }

    /// Adds a value the document shows.
    pub fn add(&mut self, value: &impl Hash) {
        value.hash(&mut self.0);
    }

    /// Adds a post: its text, its id (which may be renamed to stay unique) and the names its
    /// terms are shown by (the most used spelling across the site).
    pub fn post(&mut self, index: &Index, post: &crate::content::Post) {
        post.hash.hash(&mut self.0);
        post.id.hash(&mut self.0);
        for term in &post.categories {
            index.categories.get(&term.slug).map(|g| &g.name).hash(&mut self.0);
        }
        for term in &post.tags {
            index.tags.get(&term.slug).map(|g| &g.name).hash(&mut self.0);
        }
    }

    /// The key.
    pub fn finish(self) -> u128 {
        self.0.digest128()
    }
}

/// The cache key of `key`'s page as `index` has it, or `None` if there is no such page.
/// Costs as much as the page has items, not as the feed has posts.
pub fn fingerprint(index: &Index, key: &FeedKey) -> Option<u128> {
    let info = model::describe_key(index, key)?;
    let pages = info.page_count();
    if key.page > pages {
        return None;
    }
    let mut fingerprint = Fingerprint::new(index, key);
    fingerprint.add(&(&info.title, &info.description, pages));
    for i in info.page(key.page) {
        fingerprint.post(index, &index.posts[i]);
    }
    Some(fingerprint.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip() {
        for (path, scope, format) in [
            ("/feed.rss", Scope::Site, Format::Rss),
            ("/feed.atom", Scope::Site, Format::Atom),
            ("/feed.json", Scope::Site, Format::Json),
            ("/categories/operations/feed.rss", Scope::Category("operations".into()), Format::Rss),
            ("/authors/tim/feed.atom", Scope::Author("tim".into()), Format::Atom),
            ("/tags/caf%C3%A9/feed.rss", Scope::Tag("café".into()), Format::Rss),
            ("/feeds/weekly.json", Scope::Curated("weekly".into()), Format::Json),
        ] {
            let key = FeedKey::new(scope, format);
            assert_eq!(key.path(), path);
            assert_eq!(FeedKey::from_request(path, None), Ok(Some(key)));
        }
    }

    #[test]
    fn other_paths_are_not_feeds() {
        for path in ["/", "/feed.xml", "/categories//feed.rss", "/categories/a/b/feed.rss", "/feeds/.rss", "feed.rss"] {
            assert_eq!(FeedKey::from_request(path, None), Ok(None), "{path}");
        }
    }

    #[test]
    fn pages_come_from_the_query() {
        let page = |q| FeedKey::from_request("/feed.rss", Some(q)).map(|k| k.unwrap().page);
        assert_eq!(page("page=3"), Ok(3));
        assert_eq!(page("utm_source=x&page=2"), Ok(2));
        assert_eq!(page(""), Ok(1));
        for bad in ["page=0", "page=x", "page=", "page=+2", "page=99999999999", "page=1&page=2"] {
            assert!(page(bad).is_err(), "{bad}");
        }
        assert_eq!(FeedKey::new(Scope::Site, Format::Rss).with_page(2).path_and_query(), "/feed.rss?page=2");
        assert_eq!(FeedKey::new(Scope::Site, Format::Rss).path_and_query(), "/feed.rss");
        let tag = FeedKey::new(Scope::Tag("rust".into()), Format::Json);
        assert_eq!(tag.export_path(), "tags/rust/feed.json");
        assert_eq!(tag.with_page(3).export_path(), "tags/rust/page/3/feed.json");
        assert_eq!(FeedKey::new(Scope::Site, Format::Atom).with_page(2).export_path(), "page/2/feed.atom");
        assert_eq!(FeedKey::new(Scope::Tag("café".into()), Format::Rss).export_path(), "tags/café/feed.rss");
        assert_eq!(FeedKey::new(Scope::Author("../x".into()), Format::Rss).export_path(), "authors/..%2Fx/feed.rss");
        let old =
            FeedKey { alias: Some(Alias("/feed/Main%20Cat.xml".into())), ..FeedKey::new(Scope::Site, Format::Atom) };
        assert_eq!(old.export_path(), "feed/Main Cat.xml");
    }
}

//! Feeds: which feeds exist ([`FeedKey`] and its URL path), the format-neutral
//! [`model::FeedModel`], and one writer per format. Pure: no I/O, no clock.

pub mod atom;
pub mod model;
pub mod rss;

use chrono::{DateTime, FixedOffset};
use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

use crate::index::Index;

/// The first line of every XML feed.
pub const DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";

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
}

/// A feed's syndication format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// RSS 2.0.
    Rss,
    /// Atom 1.0.
    Atom,
}

impl Format {
    /// Every format, in the order feeds are listed.
    pub const ALL: [Format; 2] = [Format::Rss, Format::Atom];

    /// The file extension in the feed's URL.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Rss => "rss",
            Format::Atom => "atom",
        }
    }

    /// The `Content-Type` the feed is served with.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Atom => "application/atom+xml; charset=utf-8",
        }
    }

    fn from_extension(ext: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.extension() == ext)
    }
}

/// One feed: a scope in a format.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FeedKey {
    /// Whose posts.
    pub scope: Scope,
    /// Which format.
    pub format: Format,
}

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
    /// The URL path the feed is served at, e.g. `/categories/operations/feed.atom`. The one
    /// place where feed URLs are made.
    pub fn path(&self) -> String {
        let ext = self.format.extension();
        let seg = |s: &str| utf8_percent_encode(s, SEGMENT).to_string();
        match &self.scope {
            Scope::Site => format!("/feed.{ext}"),
            Scope::Category(slug) => format!("/categories/{}/feed.{ext}", seg(slug)),
            Scope::Author(key) => format!("/authors/{}/feed.{ext}", seg(key)),
            Scope::Tag(slug) => format!("/tags/{}/feed.{ext}", seg(slug)),
        }
    }

    /// The feed a URL path names, if it has the shape of one (whether it exists is the
    /// index's business).
    pub fn from_path(path: &str) -> Option<FeedKey> {
        let parts: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
        let feed_format = |file: &str| file.strip_prefix("feed.").and_then(Format::from_extension);
        let decode = |s: &str| percent_decode_str(s).decode_utf8().ok().map(|s| s.into_owned());
        let (scope, format) = match parts.as_slice() {
            [file] => (Scope::Site, feed_format(file)?),
            ["categories", slug, file] if !slug.is_empty() => (Scope::Category(decode(slug)?), feed_format(file)?),
            ["authors", key, file] if !key.is_empty() => (Scope::Author(decode(key)?), feed_format(file)?),
            ["tags", slug, file] if !slug.is_empty() => (Scope::Tag(decode(slug)?), feed_format(file)?),
            _ => return None,
        };
        Some(FeedKey { scope, format })
    }
}

/// Every feed the index has, in a stable order: site, categories, authors, tags.
pub fn all_keys(index: &Index) -> Vec<FeedKey> {
    let scopes = std::iter::once(Scope::Site)
        .chain(index.categories.keys().cloned().map(Scope::Category))
        .chain(index.authors.keys().cloned().map(Scope::Author))
        .chain(index.tags.keys().cloned().map(Scope::Tag));
    scopes.flat_map(|scope| Format::ALL.map(|format| FeedKey { scope: scope.clone(), format })).collect()
}

/// A feed's bytes and the date of its newest change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// The whole document.
    pub bytes: Vec<u8>,
    /// The newest item's last change; `None` for a feed with no items.
    pub updated: Option<DateTime<FixedOffset>>,
}

/// The whole text of a feed in `key.format`, or `None` if the index has no such feed.
pub fn render(index: &Index, key: &FeedKey) -> Option<Output> {
    let model = model::FeedModel::build(index, key)?;
    let bytes = match key.format {
        Format::Rss => rss::write(&model),
        Format::Atom => atom::write(&model),
    };
    Some(Output { bytes, updated: (!model.items.is_empty()).then_some(model.updated) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip() {
        for (path, scope, format) in [
            ("/feed.rss", Scope::Site, Format::Rss),
            ("/feed.atom", Scope::Site, Format::Atom),
            ("/categories/operations/feed.rss", Scope::Category("operations".into()), Format::Rss),
            ("/authors/tim/feed.atom", Scope::Author("tim".into()), Format::Atom),
            ("/tags/caf%C3%A9/feed.rss", Scope::Tag("café".into()), Format::Rss),
        ] {
            let key = FeedKey { scope, format };
            assert_eq!(key.path(), path);
            assert_eq!(FeedKey::from_path(path), Some(key));
        }
    }

    #[test]
    fn other_paths_are_not_feeds() {
        for path in
            ["/", "/feed.xml", "/categories//feed.rss", "/categories/a/b/feed.rss", "/tags/x/feed.json", "feed.rss"]
        {
            assert_eq!(FeedKey::from_path(path), None, "{path}");
        }
    }
}

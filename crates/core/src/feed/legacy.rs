//! The feed URLs a site had before it moved to tidings — jekyll-feed's and WordPress's — so
//! no subscriber is lost. Pure: which old URL names which feed.
//!
//! URLs that the old system answered with the feed itself are answered with the same feed
//! (its own bytes, whose self link is the old URL), because some readers do not follow a
//! redirect of a feed, or follow it every time without updating what they poll. URLs that
//! WordPress itself answered with a permanent redirect (`/feed/rss2/`, `?feed=rss2`,
//! `/wp-atom.php` …) get the same redirect, to the same place. WordPress's comment feeds are
//! `410 Gone`: tidings has no comments, and a feed of posts there would be wrong.

use percent_encoding::percent_decode_str;

use super::{Alias, FeedKey, Format, Scope};
use crate::config::SiteConfig;
use crate::text::slugify;

/// What an old feed URL is now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Legacy {
    /// The feed, served at the old URL.
    Feed(FeedKey),
    /// A permanent redirect to this root-relative URL.
    Redirect(String),
    /// A feed that no longer exists.
    Gone,
}

/// The old feed URL `path` + `query` names, if it is one.
pub fn route(path: &str, query: Option<&str>, config: &SiteConfig) -> Option<Legacy> {
    let page = query_value(query, "paged").or_else(|| query_value(query, "page")).and_then(|p| p.parse().ok());
    let page: u32 = page.filter(|p| *p >= 1).unwrap_or(1);
    let keyed = |scope, format, alias| keyed(scope, format, alias, page);
    if let Some(feed) = query_value(query, "feed").filter(|_| path == "/") {
        return Some(match feed.as_str() {
            "comments-rss2" | "comments-atom" => Legacy::Gone,
            "atom" => Legacy::Redirect("/feed/atom/".to_owned()),
            _ => match query_value(query, "tag") {
                Some(tag) => Legacy::Redirect(format!("/tag/{}/feed/", encode(&tag))),
                None => Legacy::Redirect("/feed/".to_owned()),
            },
        });
    }
    let decoded = percent_decode_str(path).decode_utf8().ok()?;

    // jekyll-feed: `/feed.xml` (or `feed.path`), `/feed/CATEGORY.xml`, `/feed/by_tag/TAG.xml`.
    let settings = config.jekyll.as_ref().map(|j| j.feed.clone()).unwrap_or_default();
    let file = |prefix: &str| {
        decoded.strip_prefix(prefix).and_then(|t| t.strip_suffix(".xml")).filter(|t| !t.is_empty() && !t.contains('/'))
    };
    if decoded == settings.path {
        return Some(keyed(Scope::Site, Format::Atom, encode_path(&settings.path)));
    }
    if let Some(tag) = file(&settings.tags_path) {
        return Some(keyed(Scope::Tag(slugify(tag)), Format::Atom, encode_path(&decoded)));
    }
    if let Some(name) = file("/feed/") {
        return Some(keyed(Scope::Category(slugify(name)), Format::Atom, encode_path(&decoded)));
    }

    // WordPress, where a trailing slash is optional.
    let trimmed = decoded.trim_end_matches('/');
    let parts: Vec<&str> = trimmed.split('/').skip(1).collect();
    // A child category (`/category/parent/child/feed/`) is the child's feed.
    let term = |scope: fn(String) -> Scope, base: &str, names: &[&str], kind: &[&str]| {
        let path: Vec<String> = names.iter().map(|n| encode(n)).collect();
        wordpress(scope(slugify(names.last()?)), format!("/{base}/{}/", path.join("/")), kind, page)
    };
    match parts.as_slice() {
        ["feed", kind @ ..] => wordpress(Scope::Site, "/".to_owned(), kind, page),
        ["rss2" | "rss" | "rdf" | "wp-rss2.php" | "wp-rss.php" | "wp-rdf.php" | "wp-feed.php"] => {
            Some(Legacy::Redirect("/feed/".to_owned()))
        }
        ["atom" | "wp-atom.php"] => Some(Legacy::Redirect("/feed/atom/".to_owned())),
        ["comments", "feed", ..] | ["wp-commentsrss2.php"] => Some(Legacy::Gone),
        ["category", names @ .., "feed"] if !names.is_empty() => term(Scope::Category, "category", names, &[]),
        ["category", names @ .., "feed", kind] if !names.is_empty() => {
            term(Scope::Category, "category", names, &[kind])
        }
        ["tag", name, "feed", kind @ ..] => term(Scope::Tag, "tag", &[name], kind),
        ["author", name, "feed", kind @ ..] => {
            wordpress(Scope::Author(name.to_string()), format!("/author/{}/", encode(name)), kind, page)
        }
        _ => None,
    }
}

/// Whether `alias` is one of jekyll-feed's URLs (`feed.path`, `/feed/CATEGORY.xml`, a tag
/// feed): there a feed holds exactly jekyll-feed's entries, its `posts_limit` newest, on one page.
pub fn is_jekyll_feed(alias: &Alias, config: &SiteConfig) -> bool {
    let Some(jekyll) = &config.jekyll else { return false };
    let Ok(decoded) = percent_decode_str(&alias.0).decode_utf8() else { return false };
    let settings = &jekyll.feed;
    decoded == settings.path
        || ((decoded.starts_with(&settings.tags_path) || decoded.starts_with("/feed/")) && decoded.ends_with(".xml"))
}

/// The term a jekyll-feed term URL names as written (`/feed/by_tag/Foreman.xml` → `Foreman`).
pub fn jekyll_feed_term(alias: &Alias, config: &SiteConfig) -> Option<String> {
    let settings = &config.jekyll.as_ref()?.feed;
    let decoded = percent_decode_str(&alias.0).decode_utf8().ok()?;
    let name = decoded.strip_prefix(settings.tags_path.as_str()).or_else(|| decoded.strip_prefix("/feed/"))?;
    name.strip_suffix(".xml").filter(|n| !n.is_empty() && !n.contains('/')).map(str::to_owned)
}

/// A feed served at an old URL.
fn keyed(scope: Scope, format: Format, alias: String, page: u32) -> Legacy {
    Legacy::Feed(FeedKey { scope, format, page, alias: Some(Alias(alias)) })
}

/// WordPress's feed URLs below `base` (which ends in `/`): `feed/`, `feed/atom/`, and the
/// types WordPress redirected to `feed/`.
fn wordpress(scope: Scope, base: String, kind: &[&str], page: u32) -> Option<Legacy> {
    match kind {
        [] => Some(keyed(scope, Format::Rss, format!("{base}feed/"), page)),
        ["atom"] => Some(keyed(scope, Format::Atom, format!("{base}feed/atom/"), page)),
        ["rss2" | "rss" | "rdf"] => Some(Legacy::Redirect(format!("{base}feed/"))),
        _ => None,
    }
}

/// The value of `name` in a query string, percent-decoded.
fn query_value(query: Option<&str>, name: &str) -> Option<String> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| percent_decode_str(&v.replace('+', " ")).decode_utf8_lossy().into_owned())
}

/// One path segment, percent-encoded.
fn encode(segment: &str) -> String {
    percent_encoding::utf8_percent_encode(segment, super::SEGMENT).to_string()
}

/// A decoded path, percent-encoded segment by segment.
fn encode_path(path: &str) -> String {
    path.split('/').map(encode).collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(path: &str, query: Option<&str>) -> Option<Legacy> {
        route(path, query, &SiteConfig::default())
    }

    fn feed(scope: Scope, format: Format, alias: &str) -> Option<Legacy> {
        Some(Legacy::Feed(FeedKey { scope, format, page: 1, alias: Some(Alias(alias.to_owned())) }))
    }

    #[test]
    fn jekyll_feed_urls() {
        assert_eq!(check("/feed.xml", None), feed(Scope::Site, Format::Atom, "/feed.xml"));
        assert_eq!(
            check("/feed/Elixir%20in%20Production.xml", None),
            feed(Scope::Category("elixir-in-production".into()), Format::Atom, "/feed/Elixir%20in%20Production.xml")
        );
        assert_eq!(
            check("/feed/by_tag/paas.xml", None),
            feed(Scope::Tag("paas".into()), Format::Atom, "/feed/by_tag/paas.xml")
        );
    }

    #[test]
    fn wordpress_urls() {
        assert_eq!(check("/feed/", None), feed(Scope::Site, Format::Rss, "/feed/"));
        assert_eq!(check("/feed", None), feed(Scope::Site, Format::Rss, "/feed/"));
        assert_eq!(check("/feed/atom/", None), feed(Scope::Site, Format::Atom, "/feed/atom/"));
        assert_eq!(check("/feed/rss2/", None), Some(Legacy::Redirect("/feed/".into())));
        assert_eq!(check("/", Some("feed=rss2")), Some(Legacy::Redirect("/feed/".into())));
        assert_eq!(check("/", Some("feed=atom")), Some(Legacy::Redirect("/feed/atom/".into())));
        assert_eq!(check("/wp-atom.php", None), Some(Legacy::Redirect("/feed/atom/".into())));
        assert_eq!(check("/comments/feed/", None), Some(Legacy::Gone));
        assert_eq!(
            check("/category/news/releases/feed/", None),
            feed(Scope::Category("releases".into()), Format::Rss, "/category/news/releases/feed/")
        );
        assert_eq!(
            check("/tag/rust/feed/atom", None),
            feed(Scope::Tag("rust".into()), Format::Atom, "/tag/rust/feed/atom/")
        );
        assert_eq!(
            check("/author/tim/feed/", None),
            feed(Scope::Author("tim".into()), Format::Rss, "/author/tim/feed/")
        );
        let Some(Legacy::Feed(key)) = check("/feed/", Some("paged=3")) else { panic!() };
        assert_eq!(key.page, 3);
        assert_eq!(key.path_and_query(), "/feed/?page=3");
        assert_eq!(check("/about/", None), None);
        assert_eq!(check("/feed.rss", None), None);
    }
}

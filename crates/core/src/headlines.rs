//! Headlines for other sites: the `/headlines.json` endpoint and the `/embed/…` page for
//! iframes. Pure: built from an index. Titles and summaries are plain text, escaped where
//! they land in HTML; only http(s) URLs are linked.

use std::fmt::Write;

use serde::Serialize;

use crate::feed::model::describe;
use crate::feed::{FeedKey, Scope};
use crate::index::Index;
use crate::text::{escape_markup as esc, slugify};

/// Headlines given when `limit` is absent.
pub const DEFAULT_LIMIT: usize = 5;
/// Most headlines given, whatever `limit` asks for.
pub const MAX_LIMIT: usize = 50;

/// What a headlines request asks for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Request {
    /// Whose posts.
    pub scope: Scope,
    /// How many, 1 to [`MAX_LIMIT`].
    pub limit: usize,
    /// Show thumbnails (embed page only).
    pub images: bool,
}

/// Why a headlines request cannot be answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// No such feed (404).
    UnknownFeed(String),
    /// A malformed parameter (400).
    BadQuery(String),
}

impl Problem {
    /// The message for the client.
    pub fn message(&self) -> &str {
        match self {
            Problem::UnknownFeed(m) | Problem::BadQuery(m) => m,
        }
    }
}

/// Reads `feed`, `limit` and `images` from a query string; `path_feed` is the feed named by
/// an `/embed/…` path, which stands in for `feed`.
pub fn parse(index: &Index, query: Option<&str>, path_feed: Option<&str>) -> Result<Request, Problem> {
    let mut feed = path_feed.map(str::to_owned);
    let mut limit = DEFAULT_LIMIT;
    let mut images = false;
    for (name, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match &*name {
            "feed" if path_feed.is_none() => feed = Some(value.into_owned()),
            "limit" => {
                // Any whole number of 1 or more; past MAX_LIMIT (however many digits) it is MAX_LIMIT.
                let digits = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
                let significant = value.trim_start_matches('0');
                limit = match significant.parse::<usize>() {
                    _ if !digits || significant.is_empty() => None,
                    Ok(n) => Some(n.min(MAX_LIMIT)),
                    Err(_) => Some(MAX_LIMIT),
                }
                .ok_or_else(|| {
                    Problem::BadQuery(format!("`limit` must be a whole number from 1 to {MAX_LIMIT}, not {value:?}"))
                })?;
            }
            "images" => images = matches!(&*value, "" | "1" | "true" | "yes"),
            _ => {}
        }
    }
    let feed = feed.unwrap_or_else(|| "/feed.rss".to_owned());
    let scope = resolve(index, &feed).ok_or_else(|| {
        Problem::UnknownFeed(format!(
            "no feed {feed:?}: give a feed path such as /feed.rss or /categories/{{slug}}/feed.rss, or a category, tag, author or curated feed name"
        ))
    })?;
    Ok(Request { scope, limit, images })
}

/// The feed a `feed` parameter names: a feed URL or path (any format), or a bare name
/// (curated feed, category, tag or author, in that order; `site` for the whole site).
pub fn resolve(index: &Index, feed: &str) -> Option<Scope> {
    let feed = feed.trim();
    let path = match feed.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => feed,
    };
    if path.starts_with('/') {
        let key = FeedKey::from_request(path.split('?').next().unwrap_or(path), None).ok()??;
        return describe(index, &key.scope).map(|_| key.scope);
    }
    let name = slugify(path);
    if name == "site" || name.is_empty() {
        return Some(Scope::Site);
    }
    [Scope::Curated(name.clone()), Scope::Category(name.clone()), Scope::Tag(name.clone()), Scope::Author(name)]
        .into_iter()
        .find(|scope| describe(index, scope).is_some())
}

#[derive(Serialize)]
struct Headlines<'a> {
    feed: FeedInfo<'a>,
    items: Vec<Headline<'a>>,
}

#[derive(Serialize)]
struct FeedInfo<'a> {
    title: &'a str,
    feed_url: String,
    home_page_url: String,
}

#[derive(Serialize)]
struct Headline<'a> {
    title: &'a str,
    url: &'a str,
    date: String,
    author: Option<&'a str>,
    summary: &'a str,
    image: Option<&'a str>,
}

/// The cache key of the headlines of `request` (`what` tells the JSON and the embed page
/// apart), or `None` when there is no such feed.
pub fn fingerprint(index: &Index, request: &Request, what: &str) -> Option<u128> {
    let info = describe(index, &request.scope)?;
    let mut fingerprint = crate::feed::Fingerprint::new(index, &(what, request));
    fingerprint.add(&info.title);
    for i in info.posts.range(0, request.limit) {
        fingerprint.post(index, &index.posts[i]);
    }
    Some(fingerprint.finish())
}

/// `/headlines.json` for `request`, and whether every summary was ready in time.
pub fn json(index: &Index, request: &Request) -> Option<(Vec<u8>, bool)> {
    let info = describe(index, &request.scope)?;
    let base = &index.config.base_url;
    let shown: Vec<&std::sync::Arc<crate::content::Post>> =
        info.posts.range(0, request.limit).into_iter().map(|i| &index.posts[i]).collect();
    let fetched = index.bodies.fetch(&shown);
    let items = shown
        .iter()
        .zip(&fetched.bodies)
        .map(|(post, body)| Headline {
            title: &post.title,
            url: &post.url,
            date: post.published.to_rfc3339(),
            author: post.authors.first().map(|a| a.name.as_str()),
            summary: &body.summary_text,
            image: post.image.as_deref(),
        })
        .collect();
    let feed_url = format!("{base}{}", FeedKey::new(request.scope.clone(), crate::feed::Format::Rss).path());
    let headlines =
        Headlines { feed: FeedInfo { title: &info.title, feed_url, home_page_url: format!("{base}/") }, items };
    let mut out = serde_json::to_vec_pretty(&headlines).ok()?;
    out.push(b'\n');
    Some((out, fetched.complete))
}

/// The `Content-Security-Policy` of the embed page: nothing runs, nothing loads but images
/// and inline styles, and any site may frame it.
pub const EMBED_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src http: https:; base-uri 'none'; form-action 'none'; frame-ancestors *";

/// The `/embed/…` page: the headlines as a small standalone HTML document for an iframe.
pub fn embed_page(index: &Index, request: &Request) -> Option<Vec<u8>> {
    let info = describe(index, &request.scope)?;
    let mut out = String::with_capacity(4096);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n{EMBED_STYLE}</head>\n<body>\n<ul class=\"tidings-list\" aria-label=\"{}\">\n",
        esc(&index.config.language),
        esc(&info.title),
        esc(&info.title)
    );
    for i in info.posts.range(0, request.limit) {
        let post = &index.posts[i];
        out.push_str("<li class=\"tidings-item\">");
        if request.images
            && let Some(image) = post.image.as_deref().filter(|u| is_http(u))
        {
            let _ = write!(out, "<img class=\"tidings-thumb\" src=\"{}\" alt=\"\" loading=\"lazy\">", esc(image));
        }
        if is_http(&post.url) {
            let _ = write!(
                out,
                "<a class=\"tidings-link\" href=\"{}\" target=\"_blank\" rel=\"noopener\">{}</a>",
                esc(&post.url),
                esc(&post.title)
            );
        } else {
            let _ = write!(out, "<span class=\"tidings-link\">{}</span>", esc(&post.title));
        }
        let _ = writeln!(
            out,
            " <time class=\"tidings-date\" datetime=\"{}\">{}</time></li>",
            post.published.to_rfc3339(),
            post.published.format("%-d %b %Y")
        );
    }
    out.push_str("</ul>\n</body>\n</html>\n");
    Some(out.into_bytes())
}

fn is_http(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

const EMBED_STYLE: &str = "<style>\n\
:root{color-scheme:light dark}body{margin:0;padding:.5rem;font:15px/1.4 system-ui,sans-serif}\n\
.tidings-list{list-style:none;margin:0;padding:0}.tidings-item{display:flex;flex-wrap:wrap;align-items:baseline;gap:.25rem .5rem;padding:.4rem 0;border-bottom:1px solid color-mix(in srgb,CanvasText 12%,Canvas)}\n\
.tidings-link{font-weight:600;color:LinkText;text-decoration:none}.tidings-link:hover{text-decoration:underline}\n\
.tidings-date{font-size:.85em;opacity:.7}.tidings-thumb{width:3rem;height:3rem;object-fit:cover;border-radius:.25rem}\n\
</style>\n";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SiteConfig;
    use std::sync::Arc;

    fn index() -> Index {
        Index::build(&[], crate::content::BodySource::detached(Arc::new(SiteConfig::default())), chrono::Utc::now(), 1)
    }

    #[test]
    fn queries() {
        let index = index();
        assert_eq!(parse(&index, None, None).unwrap(), Request { scope: Scope::Site, limit: 5, images: false });
        assert_eq!(parse(&index, Some("feed=%2Ffeed.atom&limit=80&images"), None).unwrap().limit, 50);
        assert!(matches!(parse(&index, Some("limit=0"), None), Err(Problem::BadQuery(_))));
        // Issue 10, defect 5: a number too big for any integer type is still "over 50".
        assert_eq!(parse(&index, Some("limit=99999999999999999999999"), None).unwrap().limit, 50);
        assert!(matches!(parse(&index, Some("limit=-3"), None), Err(Problem::BadQuery(_))));
        assert!(matches!(parse(&index, Some("limit=x"), None), Err(Problem::BadQuery(_))));
        assert!(matches!(parse(&index, Some("feed=/categories/none/feed.rss"), None), Err(Problem::UnknownFeed(_))));
        assert!(matches!(parse(&index, Some("feed=nothing"), None), Err(Problem::UnknownFeed(_))));
        assert_eq!(resolve(&index, "https://elsewhere.example/feed.json"), Some(Scope::Site));
        assert_eq!(resolve(&index, "site"), Some(Scope::Site));
    }
}

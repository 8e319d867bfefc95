//! The format-neutral frame of one feed, built from the index. Every string in it has
//! already had XML-forbidden characters removed, so the writers can copy them as they are.

use chrono::{DateTime, FixedOffset, Timelike};

use super::{FeedKey, Scope};
use crate::config::{ContentMode, Person};
use crate::content::{Body, Post};
use crate::index::Index;
use crate::text::xml_safe;

/// A person as a feed shows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonModel {
    /// Name shown to readers.
    pub name: String,
    /// E-mail address, if published.
    pub email: Option<String>,
    /// Home page.
    pub uri: Option<String>,
}

impl PersonModel {
    fn from_person(p: &Person) -> Self {
        PersonModel {
            name: xml_safe(&p.name),
            email: p.email.as_deref().map(xml_safe),
            uri: p.uri.as_deref().map(xml_safe),
        }
    }
}

/// One item (RSS) or entry (Atom).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemModel {
    /// Plain-text title.
    pub title: String,
    /// Absolute URL of the post.
    pub url: String,
    /// Stable id.
    pub id: String,
    /// True when the id is the post's URL (RSS `isPermaLink`).
    pub id_is_url: bool,
    /// First published.
    pub published: DateTime<FixedOffset>,
    /// Last changed (the published date when never updated).
    pub updated: DateTime<FixedOffset>,
    /// Authors; never empty (the feed's author stands in).
    pub authors: Vec<PersonModel>,
    /// Category and tag names, categories first.
    pub categories: Vec<String>,
    /// Summary as HTML.
    pub summary_html: String,
    /// Summary as plain text, cut at a word boundary.
    pub summary_text: String,
    /// Full body as HTML, unless the site serves summaries only.
    pub content_html: Option<String>,
    /// Absolute image URL.
    pub image: Option<String>,
    /// The item's language when it differs from the feed's.
    pub lang: Option<String>,
    /// The base that relative links in the HTML resolve against, when they were kept relative.
    pub html_base: Option<String>,
}

impl ItemModel {
    /// The image's media type, guessed from its file extension.
    pub fn image_type(&self) -> Option<&'static str> {
        let image = self.image.as_deref()?;
        let path = image.split(['?', '#']).next().unwrap_or(image);
        let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())?;
        Some(match ext.as_str() {
            "jpg" | "jpeg" => "image/jpeg",
            "png" => "image/png",
            "gif" => "image/gif",
            "webp" => "image/webp",
            "avif" => "image/avif",
            "svg" => "image/svg+xml",
            _ => return None,
        })
    }
}

/// One page of one feed, ready to be written in any format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedModel {
    /// Feed title.
    pub title: String,
    /// One sentence about the feed.
    pub description: String,
    /// BCP 47 language tag.
    pub language: String,
    /// Absolute URL this page is served at.
    pub self_url: String,
    /// The site's home page.
    pub home_url: String,
    /// Paging links (RFC 5005).
    pub pages: Pages,
    /// WebSub hubs that are told when the feed changes.
    pub hubs: Vec<String>,
    /// How long the feed stays fresh (`Cache-Control: max-age`), in seconds: what RSS's
    /// `<ttl>` and `sy:updatePeriod` tell readers.
    pub max_age_secs: u64,
    /// The newest item's last change; the Unix epoch for an empty feed.
    pub updated: DateTime<FixedOffset>,
    /// The feed's author (the site's default author, or the site itself).
    pub author: PersonModel,
    /// Items, newest first.
    pub items: Vec<ItemModel>,
    /// Items on every page of the feed, and where this page's first is among them (0-based).
    pub position: (usize, usize),
    /// False when some item's body was not ready in time and is missing: such a page is
    /// served, but not kept.
    pub complete: bool,
}

/// Absolute URLs of a feed's pages, relative to the current one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pages {
    /// Page 1 (the newest items).
    pub first: String,
    /// The last page (the oldest items).
    pub last: String,
    /// The page of older items, if any.
    pub next: Option<String>,
    /// The page of newer items, if any.
    pub previous: Option<String>,
}

/// Which posts of the index a feed holds, newest first, without copying the list (but for
/// the few feeds that choose among a group's posts).
#[derive(Clone, Debug)]
pub enum Members<'a> {
    /// Every visible post: positions `0..n`.
    All(usize),
    /// These positions.
    Some(&'a [u32]),
    /// These positions, chosen for this feed.
    Chosen(Vec<u32>),
}

impl<'a> Members<'a> {
    /// How many posts.
    pub fn len(&self) -> usize {
        match self {
            Members::All(n) => *n,
            Members::Some(list) => list.len(),
            Members::Chosen(list) => list.len(),
        }
    }

    /// True when the feed holds no post.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The first `n` posts only.
    pub fn first(self, n: usize) -> Members<'a> {
        match self {
            Members::All(len) => Members::All(len.min(n)),
            Members::Some(list) => Members::Some(&list[..list.len().min(n)]),
            Members::Chosen(mut list) => {
                list.truncate(n);
                Members::Chosen(list)
            }
        }
    }

    /// Positions `skip..skip + take` of the list (fewer at its end).
    pub fn range(&self, skip: usize, take: usize) -> Vec<usize> {
        let end = skip.saturating_add(take).min(self.len());
        let start = skip.min(end);
        match self {
            Members::All(_) => (start..end).collect(),
            Members::Some(list) => list[start..end].iter().map(|&i| i as usize).collect(),
            Members::Chosen(list) => list[start..end].iter().map(|&i| i as usize).collect(),
        }
    }
}

/// What a feed is called and which posts it holds.
#[derive(Clone, Debug)]
pub struct FeedInfo<'a> {
    /// The feed's title.
    pub title: String,
    /// One sentence about it.
    pub description: String,
    /// Positions in `Index::posts`, newest first.
    pub posts: Members<'a>,
    /// Items per page.
    pub limit: usize,
    /// Entries name their terms as their posts write them (at jekyll-feed's URLs), not by the
    /// index's display name for each.
    pub terms_as_written: bool,
}

impl FeedInfo<'_> {
    /// Pages the feed has (at least 1, even when empty).
    pub fn page_count(&self) -> u32 {
        (self.posts.len().div_ceil(self.limit).max(1)).min(u32::MAX as usize) as u32
    }

    /// The positions of the posts on `page` (1-based).
    pub fn page(&self, page: u32) -> Vec<usize> {
        self.posts.range((page.max(1) as usize - 1).saturating_mul(self.limit), self.limit)
    }
}

/// The title, description and posts of `scope`'s feed, or `None` if the index has no such feed.
pub fn describe<'a>(index: &'a Index, scope: &Scope) -> Option<FeedInfo<'a>> {
    let config = &index.config;
    let (subtitle, posts, limit, own_description) = match scope {
        Scope::Site => (None, Members::All(index.posts.len()), config.limit, None),
        Scope::Category(slug) => match index.categories.get(slug) {
            Some(group) => (Some(group.name.clone()), Members::Some(&group.posts), config.limit, None),
            // jekyll-feed makes a feed for every category its settings list, even an empty one.
            None => {
                let listed = &config.jekyll.as_ref()?.feed.categories;
                let name = listed.iter().find(|name| crate::text::slugify(name) == *slug)?;
                (Some(name.clone()), Members::Some(&[]), config.limit, None)
            }
        },
        Scope::Author(author) => {
            let group = index.authors.get(author)?;
            (Some(format!("posts by {}", group.name)), Members::Some(&group.posts), config.limit, None)
        }
        Scope::Tag(slug) => {
            let group = index.tags.get(slug)?;
            (Some(format!("tagged “{}”", group.name)), Members::Some(&group.posts), config.limit, None)
        }
        Scope::Curated(name) => {
            let group = index.curated.get(name)?;
            let feed = config.curated.get(name)?;
            let limit = feed.limit.unwrap_or(config.limit);
            (Some(group.name.clone()), Members::Some(&group.posts), limit, feed.description.clone())
        }
    };
    let title = match &subtitle {
        Some(s) => format!("{} — {s}", config.title),
        None => config.title.clone(),
    };
    let description = match (own_description, &subtitle, config.description.trim()) {
        (Some(d), _, _) => d,
        (None, None, "") => format!("Posts from {}", config.title),
        (None, None, d) => d.to_owned(),
        (None, Some(s), _) => format!("{}: {s}", config.title),
    };
    Some(FeedInfo { title, description, posts, limit: limit.max(1), terms_as_written: false })
}

/// [`describe`] for the feed `key` names: at one of jekyll-feed's URLs, only the entries
/// jekyll-feed gave there (its `posts_limit`, 10 unless set), on one page, so that its
/// subscribers see no old post as new; elsewhere the feed, paged.
pub fn describe_key<'a>(index: &'a Index, key: &FeedKey) -> Option<FeedInfo<'a>> {
    let mut info = describe(index, &key.scope)?;
    let jekyll = index.config.jekyll.as_ref();
    if let (Some(alias), Some(jekyll)) = (&key.alias, jekyll)
        && super::legacy::is_jekyll_feed(alias, &index.config)
    {
        // A term's feed holds the posts that name the term exactly as the URL does
        // (`by_tag/Foreman.xml` is not `by_tag/foreman.xml`), as jekyll-feed chose them.
        let exact = super::legacy::jekyll_feed_term(alias, &index.config);
        let tags = matches!(key.scope, Scope::Tag(_));
        if let Some(exact) = exact.filter(|_| tags || matches!(key.scope, Scope::Category(_))) {
            let chosen = info.posts.range(0, usize::MAX).into_iter().filter(|&i| {
                let post = &index.posts[i];
                let terms = if tags { &post.tags } else { &post.categories };
                terms.iter().any(|t| t.name == exact)
            });
            info.posts = Members::Chosen(chosen.map(|i| i as u32).collect());
        }
        let limit = jekyll.feed.posts_limit.max(1);
        info.posts = info.posts.first(limit);
        info.limit = limit;
        info.terms_as_written = true;
    }
    Some(info)
}

/// An instant as feeds show it: in whole seconds, as jekyll-feed writes them
/// (`date: 2015-11-30T10:05:00.004+03:00` is `…07:05:00`), so that no entry's date moves for
/// its subscribers; the order of posts still uses the full instant.
fn whole_seconds(instant: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
    instant.with_nanosecond(0).unwrap_or(instant)
}

impl FeedModel {
    /// The model of `key`'s page, or `None` if the index has no such feed or page.
    pub fn build(index: &Index, key: &FeedKey) -> Option<FeedModel> {
        let config = &index.config;
        let info = describe_key(index, key)?;
        let page_count = info.page_count();
        if key.page > page_count {
            return None;
        }
        let url = |page: u32| format!("{}{}", config.base_url, key.with_page(page).path_and_query());
        let pages = Pages {
            first: url(1),
            last: url(page_count),
            next: (key.page < page_count).then(|| url(key.page + 1)),
            previous: (key.page > 1).then(|| url(key.page - 1)),
        };
        let author = config
            .default_author
            .as_ref()
            .and_then(|key| config.authors.get(key))
            .map(PersonModel::from_person)
            .unwrap_or_else(|| PersonModel { name: xml_safe(&config.title), email: None, uri: None });
        let position = (info.posts.len(), (key.page.max(1) as usize - 1).saturating_mul(info.limit));
        let shown: Vec<&std::sync::Arc<Post>> = info.page(key.page).into_iter().map(|i| &index.posts[i]).collect();
        let fetched = index.bodies.fetch(&shown);
        let items: Vec<ItemModel> =
            shown.iter().zip(&fetched.bodies).map(|(post, body)| item(index, post, body, &author, &info)).collect();
        let updated = items.iter().map(|i| i.updated).max().unwrap_or_default();
        Some(FeedModel {
            title: xml_safe(&info.title),
            description: xml_safe(&info.description),
            language: xml_safe(&config.language),
            self_url: url(key.page),
            home_url: format!("{}/", config.base_url),
            pages,
            hubs: config.websub_hubs.iter().map(|h| xml_safe(h)).collect(),
            max_age_secs: config.max_age_secs,
            updated,
            author,
            items,
            position,
            complete: fetched.complete,
        })
    }
}

fn item(index: &Index, post: &Post, body: &Body, feed_author: &PersonModel, info: &FeedInfo) -> ItemModel {
    // Every spelling of a term shows as the index's display name for it, but where the feed
    // shows terms as written.
    let canonical = |groups: &std::collections::BTreeMap<String, crate::index::Group>,
                     term: &std::sync::Arc<crate::content::Term>| {
        let shown = if info.terms_as_written { None } else { groups.get(&term.slug).map(|g| &g.name) };
        xml_safe(shown.unwrap_or(&term.name))
    };
    let categories = post.categories.iter().map(|t| canonical(&index.categories, t));
    let tags = post.tags.iter().map(|t| canonical(&index.tags, t));
    let shown = if index.config.co_authors { post.authors.len() } else { 1 };
    let mut authors: Vec<PersonModel> = post.authors.iter().take(shown).map(|p| PersonModel::from_person(p)).collect();
    if authors.is_empty() {
        authors.push(feed_author.clone());
    }
    ItemModel {
        title: xml_safe(&post.title),
        url: xml_safe(&post.url),
        id: xml_safe(&post.id),
        id_is_url: post.id == post.url,
        published: whole_seconds(post.published),
        updated: whole_seconds(post.modified()),
        authors,
        categories: categories.chain(tags).collect(),
        summary_html: xml_safe(&body.summary_html),
        summary_text: xml_safe(&body.summary_text),
        content_html: (index.config.content == ContentMode::Full).then(|| xml_safe(&body.content_html)),
        image: post.image.as_deref().map(xml_safe),
        lang: post.lang.as_deref().map(xml_safe),
        html_base: (!index.config.absolute_links).then(|| xml_safe(&post.url)),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::base_path;

    #[test]
    fn instants_are_shown_in_whole_seconds() {
        // Issue 27, item 5: 20 of 167 entries of one blog moved by their fractions.
        let precise = chrono::DateTime::parse_from_rfc3339("2015-11-30T10:05:00.004+03:00").unwrap();
        assert_eq!(super::whole_seconds(precise).to_rfc3339(), "2015-11-30T10:05:00+03:00");
    }

    #[test]
    fn base_paths() {
        assert_eq!(base_path("https://x.com"), "");
        assert_eq!(base_path("https://x.com/blog"), "/blog");
        assert_eq!(base_path("http://127.0.0.1:8080/a/b/"), "/a/b");
    }
}

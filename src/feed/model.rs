//! The format-neutral frame of one feed, built from the index. Every string in it has
//! already had XML-forbidden characters removed, so the writers can copy them as they are.

use chrono::{DateTime, FixedOffset};

use super::{FeedKey, Scope};
use crate::config::{ContentMode, Person};
use crate::content::Post;
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
    /// Full body as HTML, unless the site serves summaries only.
    pub content_html: Option<String>,
    /// Absolute image URL.
    pub image: Option<String>,
}

/// One feed, ready to be written in any format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedModel {
    /// Feed title.
    pub title: String,
    /// One sentence about the feed.
    pub description: String,
    /// BCP 47 language tag.
    pub language: String,
    /// Absolute URL this feed is served at.
    pub self_url: String,
    /// The site's home page.
    pub home_url: String,
    /// The newest item's last change; the Unix epoch for an empty feed.
    pub updated: DateTime<FixedOffset>,
    /// The feed's author (the site's default author, or the site itself).
    pub author: PersonModel,
    /// Items, newest first.
    pub items: Vec<ItemModel>,
}

impl FeedModel {
    /// The model of `key`'s feed, or `None` if the index has no such feed.
    pub fn build(index: &Index, key: &FeedKey) -> Option<FeedModel> {
        let config = &index.config;
        let (subtitle, positions): (Option<String>, Vec<usize>) = match &key.scope {
            Scope::Site => (None, (0..index.posts.len()).collect()),
            Scope::Category(slug) => {
                let group = index.categories.get(slug)?;
                (Some(group.name.clone()), group.posts.clone())
            }
            Scope::Author(author) => {
                let group = index.authors.get(author)?;
                (Some(format!("posts by {}", group.name)), group.posts.clone())
            }
            Scope::Tag(slug) => {
                let group = index.tags.get(slug)?;
                (Some(format!("tagged “{}”", group.name)), group.posts.clone())
            }
        };
        let title = match &subtitle {
            Some(s) => format!("{} — {s}", config.title),
            None => config.title.clone(),
        };
        let description = match (&subtitle, config.description.trim()) {
            (None, "") => format!("Posts from {}", config.title),
            (None, d) => d.to_owned(),
            (Some(s), _) => format!("{}: {s}", config.title),
        };
        let author = config
            .default_author
            .as_ref()
            .and_then(|key| config.authors.get(key))
            .map(PersonModel::from_person)
            .unwrap_or_else(|| PersonModel { name: xml_safe(&config.title), email: None, uri: None });
        let items: Vec<ItemModel> =
            positions.iter().take(config.limit).map(|&i| item(index, &index.posts[i], &author)).collect();
        let updated = items.iter().map(|i| i.updated).max().unwrap_or_default();
        Some(FeedModel {
            title: xml_safe(&title),
            description: xml_safe(&description),
            language: xml_safe(&config.language),
            self_url: format!("{}{}", config.base_url, key.path()),
            home_url: format!("{}/", config.base_url),
            updated,
            author,
            items,
        })
    }
}

fn item(index: &Index, post: &Post, feed_author: &PersonModel) -> ItemModel {
    // Every spelling of a term shows as the index's display name for it.
    let canonical = |groups: &std::collections::BTreeMap<String, crate::index::Group>, term: &crate::content::Term| {
        xml_safe(groups.get(&term.slug).map_or(&term.name, |g| &g.name))
    };
    let categories = post.categories.iter().map(|t| canonical(&index.categories, t));
    let tags = post.tags.iter().map(|t| canonical(&index.tags, t));
    let mut authors: Vec<PersonModel> = post.authors.iter().map(PersonModel::from_person).collect();
    if authors.is_empty() {
        authors.push(feed_author.clone());
    }
    ItemModel {
        title: xml_safe(&post.title),
        url: xml_safe(&post.url),
        id: xml_safe(&post.id),
        id_is_url: post.id == post.url,
        published: post.published,
        updated: post.modified(),
        authors,
        categories: categories.chain(tags).collect(),
        summary_html: xml_safe(&post.summary_html),
        content_html: (index.config.content == ContentMode::Full).then(|| xml_safe(&post.content_html)),
        image: post.image.as_deref().map(xml_safe),
    }
}

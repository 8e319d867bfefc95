//! The index: an immutable snapshot of the posts visible at one instant, newest first, with
//! lookups by category, author and tag. Pure: the instant is passed in.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};

use crate::config::SiteConfig;
use crate::content::{BodySource, Post, Term};

/// Posts of one category, author or tag.
#[derive(Clone, Debug)]
pub struct Group {
    /// The display name (for terms, the most used spelling).
    pub name: String,
    /// Positions in [`Index::posts`], newest first.
    pub posts: Vec<usize>,
}

/// One immutable snapshot of the site: what every feed is rendered from.
#[derive(Debug)]
pub struct Index {
    /// Counts snapshots; the cache keys rendered feeds by it so that no stale render is
    /// served after a swap.
    pub generation: u64,
    /// The site configuration the posts were loaded with.
    pub config: Arc<SiteConfig>,
    /// Visible posts, newest first; equal dates are ordered by source path.
    pub posts: Vec<Arc<Post>>,
    /// Categories by slug.
    pub categories: BTreeMap<String, Group>,
    /// Authors by key.
    pub authors: BTreeMap<String, Group>,
    /// Tags by slug.
    pub tags: BTreeMap<String, Group>,
    /// Curated feeds by name.
    pub curated: BTreeMap<String, Group>,
    /// When the next future-dated post becomes visible, if there is one.
    pub next_publish: Option<DateTime<FixedOffset>>,
    /// Where the posts' bodies are rendered from, when a document shows them.
    pub bodies: BodySource,
}

impl Index {
    /// Builds the snapshot of `posts` as seen at `now`: posts dated after `now` are held back.
    /// The configuration is the one `bodies` renders with.
    pub fn build(posts: &[Arc<Post>], bodies: BodySource, now: DateTime<Utc>, generation: u64) -> Index {
        let config = bodies.config().clone();
        let (mut visible, future): (Vec<Arc<Post>>, Vec<Arc<Post>>) =
            // A Jekyll site with `future: true` shows future-dated posts at once.
            posts.iter().cloned().partition(|p| p.published <= now || config.jekyll.as_ref().is_some_and(|j| j.future));
        visible.sort_by(|a, b| b.published.cmp(&a.published).then_with(|| a.source.cmp(&b.source)));
        let next_publish = future.iter().map(|p| p.published).min();

        let mut categories = TermGroups::default();
        let mut tags = TermGroups::default();
        let mut authors: BTreeMap<String, Group> = BTreeMap::new();
        for (i, post) in visible.iter().enumerate() {
            for term in &post.categories {
                categories.add(term, i);
            }
            for term in &post.tags {
                tags.add(term, i);
            }
            for person in &post.authors {
                authors
                    .entry(person.key.clone())
                    .or_insert_with(|| Group { name: person.name.clone(), posts: Vec::new() })
                    .posts
                    .push(i);
            }
        }
        let curated = config
            .curated
            .values()
            .map(|feed| {
                let posts = visible.iter().enumerate().filter(|(_, p)| feed.matches(p)).map(|(i, _)| i).collect();
                (feed.name.clone(), Group { name: feed.title.clone(), posts })
            })
            .collect();
        Index {
            generation,
            config,
            curated,
            posts: visible,
            categories: categories.finish(),
            authors,
            tags: tags.finish(),
            next_publish,
            bodies,
        }
    }

    /// The newest post's last change: the site's `updated` date.
    pub fn updated(&self) -> Option<DateTime<FixedOffset>> {
        self.posts.iter().map(|p| p.modified()).max()
    }
}

/// Collects term groups, counting spellings so the most used one names the group.
#[derive(Default)]
struct TermGroups {
    groups: BTreeMap<String, (BTreeMap<String, usize>, Vec<usize>)>,
}

impl TermGroups {
    fn add(&mut self, term: &Term, post: usize) {
        let (spellings, posts) = self.groups.entry(term.slug.clone()).or_default();
        *spellings.entry(term.name.clone()).or_default() += 1;
        posts.push(post);
    }

    fn finish(self) -> BTreeMap<String, Group> {
        self.groups
            .into_iter()
            .map(|(slug, (spellings, posts))| {
                // Most used spelling; ties go to the first in byte order (capitals first).
                let name = spellings
                    .iter()
                    .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
                    .map(|(name, _)| name.clone())
                    .unwrap_or_else(|| slug.clone());
                (slug, Group { name, posts })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Person;
    use std::path::PathBuf;

    fn post(source: &str, date: &str, category: &str, author: &str) -> Arc<Post> {
        let published = DateTime::parse_from_rfc3339(date).unwrap();
        Arc::new(Post {
            source: PathBuf::from(source).into(),
            title: source.to_owned(),
            published,
            updated: None,
            url: format!("https://x.test/{source}"),
            id: format!("https://x.test/{source}"),
            categories: vec![Arc::new(Term { name: category.to_owned(), slug: category.to_lowercase() })],
            tags: vec![],
            authors: vec![Arc::new(Person {
                key: author.to_owned(),
                name: author.to_uppercase(),
                email: None,
                uri: None,
            })],
            image: None,
            lang: None,
            hash: 0,
            pinned: None,
        })
    }

    #[test]
    fn newest_first_with_path_tie_break_and_future_held_back() {
        let posts = vec![
            post("b", "2020-01-01T00:00:00Z", "Ops", "tim"),
            post("a", "2020-01-01T00:00:00Z", "ops", "tim"),
            post("c", "2021-01-01T00:00:00Z", "Operations", "ann"),
            post("future", "2030-01-01T00:00:00Z", "ops", "tim"),
        ];
        let now = DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z").unwrap().to_utc();
        let index = Index::build(&posts, BodySource::detached(Arc::new(SiteConfig::default())), now, 7);
        let order: Vec<_> = index.posts.iter().map(|p| p.title.as_str()).collect();
        assert_eq!(order, ["c", "a", "b"]);
        assert_eq!(index.categories["ops"].posts, [1, 2]);
        assert_eq!(index.categories["ops"].name, "Ops");
        assert_eq!(index.authors["tim"].name, "TIM");
        assert_eq!(index.next_publish.unwrap().to_rfc3339(), "2030-01-01T00:00:00+00:00");
        assert_eq!(index.updated().unwrap().to_rfc3339(), "2021-01-01T00:00:00+00:00");
    }
}

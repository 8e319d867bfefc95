//! The index: an immutable snapshot of the posts visible at one instant, newest first, with
//! lookups by category, author and tag. Pure: the instant is passed in.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};
use foldhash::HashMap;
use rayon::slice::ParallelSliceMut;

use crate::config::{CuratedFeed, SiteConfig};
use crate::content::{BodySource, Post, Term};

/// Posts of one category, author or tag.
#[derive(Clone, Debug)]
pub struct Group {
    /// The display name (for terms, the most used spelling).
    pub name: String,
    /// Positions in [`Index::posts`], newest first (`u32`: half the memory of `usize`, and
    /// four billion posts is beyond any site).
    pub posts: Vec<u32>,
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
        // On every core: a million posts take seconds to sort on one. No two posts share a
        // source, so the order is total and the unstable sort deterministic.
        visible.par_sort_unstable_by(|a, b| b.published.cmp(&a.published).then_with(|| a.source.cmp(&b.source)));
        let next_publish = future.iter().map(|p| p.published).min();

        let mut categories = TermGroups::default();
        let mut tags = TermGroups::default();
        let mut authors: HashMap<&str, (&str, Vec<u32>)> = HashMap::default();
        for (i, post) in visible.iter().enumerate() {
            let i = i as u32;
            for term in &post.categories {
                categories.add(term, i);
            }
            for term in &post.tags {
                tags.add(term, i);
            }
            for person in &post.authors {
                authors.entry(&person.key).or_insert_with(|| (&person.name, Vec::new())).1.push(i);
            }
        }
        let authors: BTreeMap<String, Group> = authors
            .into_iter()
            .map(|(key, (name, mut posts))| {
                posts.shrink_to_fit();
                (key.to_owned(), Group { name: name.to_owned(), posts })
            })
            .collect();
        let curated = config
            .curated
            .values()
            .map(|feed| {
                let posts =
                    visible.iter().enumerate().filter(|(_, p)| curated_match(feed, p)).map(|(i, _)| i as u32).collect();
                (feed.name.clone(), Group { name: feed.title.clone(), posts })
            })
            .collect();
        let (categories, tags) = (categories.finish(), tags.finish());
        Index { generation, config, curated, posts: visible, categories, authors, tags, next_publish, bodies }
    }

    /// This snapshot with `edits` (each a post before and after) made in place, or `None`
    /// when an edit changes what orders or groups posts (date, id, URL, terms, authors,
    /// visibility) — then the index must be built again. Costs a copy of the post list, not a
    /// sort or a regrouping: the common edit (a title, a body, a typo) becomes visible at once
    /// however large the site.
    pub fn with_edits(
        &self,
        edits: &[(Arc<Post>, Arc<Post>)],
        bodies: BodySource,
        now: DateTime<Utc>,
        generation: u64,
    ) -> Option<Index> {
        if edits.is_empty() || bodies.epoch() != self.bodies.epoch() || !Arc::ptr_eq(bodies.config(), &self.config) {
            return None;
        }
        let future = self.config.jekyll.as_ref().is_some_and(|j| j.future);
        let mut posts = self.posts.clone();
        for (old, new) in edits {
            let same_place = old.id == new.id
                && old.url == new.url
                && old.published == new.published
                && old.categories == new.categories
                && old.tags == new.tags
                && old.authors == new.authors
                && (new.published <= now || future);
            if !same_place {
                return None;
            }
            let at = posts
                .binary_search_by(|p| new.published.cmp(&p.published).then_with(|| p.source.cmp(&new.source)))
                .ok()?;
            // The index may hold a copy with a renamed id; then the ids must be worked out again.
            if !Arc::ptr_eq(&posts[at], old) {
                return None;
            }
            posts[at] = new.clone();
        }
        Some(Index {
            generation,
            config: self.config.clone(),
            posts,
            categories: self.categories.clone(),
            authors: self.authors.clone(),
            tags: self.tags.clone(),
            curated: self.curated.clone(),
            next_publish: self.next_publish,
            bodies,
        })
    }

    /// The newest post's last change: the site's `updated` date.
    pub fn updated(&self) -> Option<DateTime<FixedOffset>> {
        self.posts.iter().map(|p| p.modified()).max()
    }
}

/// Collects term groups, counting spellings so the most used one names the group. Borrows
/// the posts' terms: nothing is copied per post.
#[derive(Default)]
struct TermGroups<'a> {
    /// By slug: each spelling with its count, and the posts.
    groups: HashMap<&'a str, (Spellings<'a>, Vec<u32>)>,
}

/// The spellings of one term, with how many posts use each.
type Spellings<'a> = Vec<(&'a str, usize)>;

impl<'a> TermGroups<'a> {
    fn add(&mut self, term: &'a Term, post: u32) {
        let (spellings, posts) = self.groups.entry(&term.slug).or_default();
        match spellings.iter_mut().find(|(name, _)| *name == term.name) {
            Some((_, count)) => *count += 1,
            None => spellings.push((&term.name, 1)),
        }
        posts.push(post);
    }

    fn finish(self) -> BTreeMap<String, Group> {
        self.groups
            .into_iter()
            .map(|(slug, (spellings, mut posts))| {
                // Most used spelling; ties go to the first in byte order (capitals first).
                let name = spellings
                    .iter()
                    .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
                    .map_or(slug, |(name, _)| name);
                posts.shrink_to_fit();
                (slug.to_owned(), Group { name: name.to_owned(), posts })
            })
            .collect()
    }
}

/// True when `post` belongs in the curated `feed`: it has one of each list's terms (an empty
/// list takes every post).
pub fn curated_match(feed: &CuratedFeed, post: &Post) -> bool {
    fn any<'a>(wanted: &[String], mut have: impl Iterator<Item = &'a str>) -> bool {
        wanted.is_empty() || have.any(|h| wanted.iter().any(|w| w == h))
    }
    any(&feed.categories, post.categories.iter().map(|t| t.slug.as_str()))
        && any(&feed.authors, post.authors.iter().map(|p| p.key.as_str()))
        && any(&feed.tags, post.tags.iter().map(|t| t.slug.as_str()))
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
            url: format!("https://x.test/{source}").into(),
            id: format!("https://x.test/{source}").into(),
            categories: Box::new([Arc::new(Term { name: category.to_owned(), slug: category.to_lowercase() })]),
            tags: Box::new([]),
            authors: Box::new([Arc::new(Person {
                key: author.to_owned(),
                name: author.to_uppercase(),
                email: None,
                uri: None,
            })]),
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

    #[test]
    fn an_edit_that_keeps_date_and_terms_is_made_in_place() {
        let posts = vec![
            post("a", "2020-01-01T00:00:00Z", "ops", "tim"),
            post("b", "2021-01-01T00:00:00Z", "ops", "ann"),
            post("c", "2022-01-01T00:00:00Z", "dev", "tim"),
        ];
        let now = DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z").unwrap().to_utc();
        let bodies = BodySource::detached(Arc::new(SiteConfig::default()));
        let index = Index::build(&posts, bodies.clone(), now, 1);
        let retitled = Arc::new(Post { title: "B, retitled".to_owned(), hash: 1, ..(*posts[1]).clone() });
        let edited = index.with_edits(&[(posts[1].clone(), retitled.clone())], bodies.clone(), now, 2).unwrap();
        assert_eq!(edited.generation, 2);
        assert!(Arc::ptr_eq(&edited.posts[1], &retitled));
        assert_eq!(edited.categories["ops"].posts, index.categories["ops"].posts);
        let redated = Arc::new(Post {
            published: DateTime::parse_from_rfc3339("2023-01-01T00:00:00Z").unwrap(),
            ..(*posts[1]).clone()
        });
        assert!(index.with_edits(&[(posts[1].clone(), redated)], bodies.clone(), now, 2).is_none(), "moves: rebuild");
        let stranger = post("x", "2021-01-01T00:00:00Z", "ops", "ann");
        assert!(index.with_edits(&[(stranger.clone(), stranger)], bodies, now, 2).is_none(), "not in the index");
    }
}

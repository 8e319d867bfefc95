//! The running service's state: the loaded site, the current index snapshot (swapped
//! atomically) and the feed cache. Scheduled posts are published here, on time.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};

use crate::cache::{DEFAULT_CAPACITY, FeedCache};
use crate::content::Site;
use crate::index::Index;
use crate::websub::{Publisher, RetryPolicy};

/// Shared state behind every request.
pub struct App {
    site: Site,
    index: ArcSwap<Index>,
    generation: AtomicU64,
    websub: Option<Publisher>,
    /// Rendered feeds.
    pub cache: FeedCache,
}

impl App {
    /// State for `site` as seen at `now`.
    pub fn new(site: Site, now: DateTime<Utc>) -> App {
        App::with_websub_policy(site, now, RetryPolicy::default())
    }

    /// Like [`App::new`], with its own retry policy for WebSub hubs.
    pub fn with_websub_policy(site: Site, now: DateTime<Utc>, policy: RetryPolicy) -> App {
        let index = Index::build(site.config.clone(), &site.posts, now, 1);
        let websub = Publisher::new(&site.config.websub_hubs, policy);
        App {
            site,
            index: ArcSwap::from_pointee(index),
            generation: AtomicU64::new(1),
            websub,
            cache: FeedCache::new(DEFAULT_CAPACITY),
        }
    }

    /// The current snapshot; a request keeps the one it started with.
    pub fn index(&self) -> Arc<Index> {
        self.index.load_full()
    }

    /// The loaded site (configuration, posts, diagnostics).
    pub fn site(&self) -> &Site {
        &self.site
    }

    /// Builds and swaps in a new snapshot as seen at `now`, and tells WebSub hubs (in the
    /// background) which feeds changed. Must be called within the tokio runtime.
    pub fn rebuild(&self, now: DateTime<Utc>) {
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let index = Arc::new(Index::build(self.site.config.clone(), &self.site.posts, now, generation));
        let old = self.index.swap(index.clone());
        if let Some(websub) = &self.websub {
            websub.notify(old, index);
        }
    }

    /// Publishes future-dated posts at their time, for as long as the process runs.
    pub async fn publish_scheduled(self: Arc<Self>) {
        while let Some(next) = self.index().next_publish {
            let wait = (next.to_utc() - Utc::now()).to_std().unwrap_or_default();
            tokio::time::sleep(wait).await;
            // Sleep may wake a little early or late; rebuilding at the true `now` is right either way.
            let now = Utc::now().max(next.to_utc());
            self.rebuild(now);
            tracing::info!(at = %next, "published scheduled posts");
        }
    }
}

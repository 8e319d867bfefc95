//! What changed when a new snapshot is swapped in, worked out once and told to every
//! [`FeedsChanged`] listener (WebSub pings, the built-in hub). Swaps are compared one at a
//! time, in order; those that come meanwhile wait as one (from the first's `old` to the
//! last's `new`), so at most two snapshots wait, and listeners hear of changes in the order
//! they were made. Nothing is compared when no listener is concerned.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use crate::feed::{self, FeedKey};
use crate::hooks::FeedsChanged;
use crate::index::Index;
use crate::metrics::Metrics;

/// The listeners and the swaps not compared yet. Cloning shares them.
#[derive(Clone, Default)]
pub struct Listeners {
    listeners: Vec<Arc<dyn FeedsChanged>>,
    swaps: Arc<Mutex<Swaps>>,
    metrics: Arc<Metrics>,
}

/// Swaps not compared yet, as one: the snapshot before the first and the one after the last;
/// and whether the comparer runs.
#[derive(Default)]
struct Swaps {
    waiting: Option<(Arc<Index>, Arc<Index>)>,
    running: bool,
}

impl Listeners {
    /// No listener yet; each swap told is counted in `metrics` (`tidings_feed_changes_total`).
    pub fn new(metrics: Arc<Metrics>) -> Listeners {
        Listeners { metrics, ..Listeners::default() }
    }

    /// Tells `listener` too.
    pub fn listen(&mut self, listener: Arc<dyn FeedsChanged>) {
        self.listeners.push(listener);
    }

    /// Starts working out, in the background, what changed from `old` to `new` for the
    /// listeners concerned. Must be called within the tokio runtime.
    pub fn swapped(&self, old: Arc<Index>, new: Arc<Index>) {
        let start = {
            let mut swaps = self.swaps.lock().unwrap_or_else(|p| p.into_inner());
            match &mut swaps.waiting {
                Some((_, last)) => *last = new,
                None => {
                    if !self.listeners.iter().any(|l| l.concerns(&old, &new)) {
                        return;
                    }
                    swaps.waiting = Some((old, new));
                }
            }
            !std::mem::replace(&mut swaps.running, true)
        };
        if start {
            tokio::spawn(self.clone().compare_swaps());
        }
    }

    /// The swap waiting to be compared; `None` (and the comparer stops) when none waits.
    fn next_swap(&self) -> Option<(Arc<Index>, Arc<Index>)> {
        let mut swaps = self.swaps.lock().unwrap_or_else(|p| p.into_inner());
        let next = swaps.waiting.take();
        swaps.running = next.is_some();
        next
    }

    /// The comparer: finds the feeds each waiting swap changed and tells the listeners
    /// concerned, until no swap waits.
    async fn compare_swaps(self) {
        while let Some((old, new)) = self.next_swap() {
            let concerned: Vec<&Arc<dyn FeedsChanged>> =
                self.listeners.iter().filter(|l| l.concerns(&old, &new)).collect();
            if concerned.is_empty() {
                continue;
            }
            let (before, after) = (old.clone(), new.clone());
            let keys = match tokio::task::spawn_blocking(move || changed_keys(&before, &after)).await {
                Ok(keys) => keys,
                Err(e) => {
                    tracing::error!(error = %e, "comparing feeds failed");
                    continue;
                }
            };
            for listener in concerned {
                listener.feeds_changed(&old, &new, &keys).await;
            }
            self.metrics.feed_changes_told();
        }
    }
}

/// Absolute URLs of the feeds (first pages, every format) that changed between two
/// snapshots, including feeds that appeared or disappeared (see [`changed_keys`]). Pure.
pub fn changed_feeds(old: &Index, new: &Index) -> Vec<String> {
    changed_keys(old, new).into_iter().map(|key| format!("{}{}", new.config.base_url, key.path())).collect()
}

/// The feeds (first pages, every format) that changed between two snapshots, including feeds
/// that appeared or disappeared: those whose fingerprint (the cache key: what the page shows)
/// differs, so nothing is rendered to find out. Pure.
pub fn changed_keys(old: &Index, new: &Index) -> Vec<FeedKey> {
    let keys: BTreeSet<FeedKey> = feed::all_keys(old).into_iter().chain(feed::all_keys(new)).collect();
    keys.into_iter().filter(|key| feed::fingerprint(old, key) != feed::fingerprint(new, key)).collect()
}

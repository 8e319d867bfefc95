//! Polite polling: a client that fetches a feed's whole body, without validators, more often
//! than the configured interval gets `429 Too Many Requests` with `Retry-After`. Clients that
//! send `If-None-Match` or `If-Modified-Since` are never refused: a `304` costs nothing.
//! Off unless `--min-poll-interval` is set.

use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Most clients remembered; past it the least recently seen are forgotten first (and may
/// poll again at once), so memory stays bounded whatever the audience.
pub const MAX_CLIENTS: u64 = 100_000;

/// The recent full fetches of each (address, User-Agent, feed URL), for as long as they count.
pub struct PolitePolling {
    interval: Duration,
    seen: moka::sync::Cache<u64, Instant>,
}

impl PolitePolling {
    /// A policy of one full fetch of each feed per `interval` and client.
    pub fn new(interval: Duration) -> PolitePolling {
        PolitePolling {
            interval,
            seen: moka::sync::Cache::builder().max_capacity(MAX_CLIENTS).time_to_live(interval).build(),
        }
    }

    /// The interval.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// `None` when a full fetch of `target` by this client may go ahead now (it is recorded);
    /// otherwise how long the client should wait. The address and User-Agent are hashed
    /// together, never stored.
    pub fn check(&self, address: IpAddr, user_agent: &[u8], target: &str, now: Instant) -> Option<Duration> {
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        (address, user_agent, target).hash(&mut hasher);
        let key = hasher.finish();
        if let Some(last) = self.seen.get(&key) {
            let elapsed = now.saturating_duration_since(last);
            if elapsed < self.interval {
                return Some(self.interval - elapsed);
            }
        }
        self.seen.insert(key, now);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_full_fetch_per_interval_and_client() {
        let policy = PolitePolling::new(Duration::from_secs(60));
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let start = Instant::now();
        assert_eq!(policy.check(a, b"Reader/1", "/feed.rss", start), None);
        let wait = policy.check(a, b"Reader/1", "/feed.rss", start + Duration::from_secs(20));
        assert_eq!(wait, Some(Duration::from_secs(40)));
        // Another feed, another reader, another address: each its own allowance.
        assert_eq!(policy.check(a, b"Reader/1", "/feed.atom", start), None);
        assert_eq!(policy.check(a, b"Reader/2", "/feed.rss", start), None);
        assert_eq!(policy.check(b, b"Reader/1", "/feed.rss", start), None);
        assert_eq!(policy.check(a, b"Reader/1", "/feed.rss", start + Duration::from_secs(61)), None);
    }
}

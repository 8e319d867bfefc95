//! Polite polling: a client that is sent a feed's whole body more often than the configured
//! interval gets `429 Too Many Requests` with `Retry-After`. What counts is the outcome: a
//! `GET` answered with a full `200` (a validator that matches nothing is a full fetch); a
//! `304` and a `HEAD` cost nothing and are never refused. A client is its address (an IPv6
//! one: its /64), whatever its `User-Agent`; a feed is its canonical URL (old aliases and
//! query strings that name the same feed are that feed). Each (client, feed) may have
//! [`BURST`] full fetches at once, then one per interval, so that readers behind one
//! address (a household, an office) each get their first fetch.
//! Off unless `--min-poll-interval` is set.

use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Most (client, feed) pairs remembered; past it the least recently seen are forgotten first
/// (and may fetch again at once), so memory stays bounded whatever the audience.
pub const MAX_CLIENTS: u64 = 100_000;

/// Full fetches of one feed that one address may make at once before the interval applies.
pub const BURST: u32 = 4;

/// The full fetches of each (address, feed) still within their interval: when the pair's
/// allowance is next whole (the "theoretical arrival time" of the generic cell rate algorithm).
pub struct PolitePolling {
    interval: Duration,
    due: moka::sync::Cache<u64, Instant>,
}

impl PolitePolling {
    /// A policy of one full fetch of each feed per `interval` and address, [`BURST`] at once.
    pub fn new(interval: Duration) -> PolitePolling {
        PolitePolling {
            interval,
            due: moka::sync::Cache::builder().max_capacity(MAX_CLIENTS).time_to_live(interval * BURST).build(),
        }
    }

    /// The interval.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// `None` when a full fetch of `feed` (its canonical URL) by `address` may be sent now
    /// (it is counted); otherwise how long the client should wait. The address is hashed,
    /// never stored.
    pub fn check(&self, address: IpAddr, feed: &str, now: Instant) -> Option<Duration> {
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        (super::slots::address_key(address), feed).hash(&mut hasher);
        let key = hasher.finish();
        let due = self.due.get(&key).map_or(now, |due| due.max(now));
        let slack = self.interval * (BURST - 1);
        let ahead = due.saturating_duration_since(now);
        if ahead > slack {
            return Some(ahead - slack);
        }
        self.due.insert(key, due + self.interval);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_full_fetch_per_interval_and_address() {
        let policy = PolitePolling::new(Duration::from_secs(60));
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let start = Instant::now();
        for _ in 0..BURST {
            assert_eq!(policy.check(a, "/feed.rss", start), None);
        }
        let wait = policy.check(a, "/feed.rss", start + Duration::from_secs(20));
        assert_eq!(wait, Some(Duration::from_secs(40)));
        // Another feed, another address: each its own allowance.
        assert_eq!(policy.check(a, "/feed.atom", start), None);
        assert_eq!(policy.check(b, "/feed.rss", start), None);
        // One interval later, one more full fetch, and no more.
        assert_eq!(policy.check(a, "/feed.rss", start + Duration::from_secs(61)), None);
        assert!(policy.check(a, "/feed.rss", start + Duration::from_secs(62)).is_some());
        // After BURST intervals of quiet, the whole burst again.
        let later = start + Duration::from_secs(60 * u64::from(BURST + 1));
        for _ in 0..BURST {
            assert_eq!(policy.check(a, "/feed.rss", later), None);
        }
    }

    #[test]
    fn an_ipv6_client_is_its_64() {
        let policy = PolitePolling::new(Duration::from_secs(60));
        let start = Instant::now();
        for host in 1..=BURST {
            let address: IpAddr = format!("2001:db8::{host}").parse().unwrap();
            assert_eq!(policy.check(address, "/feed.rss", start), None);
        }
        assert!(policy.check("2001:db8::ffff".parse().unwrap(), "/feed.rss", start).is_some());
    }
}

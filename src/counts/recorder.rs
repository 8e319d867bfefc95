//! Counting subscribers as feeds are fetched, cheaply and without keeping addresses: a
//! request adds to an in-memory batch (an aggregator's announced count, or a salted hash of
//! the poller's address and User-Agent), and the batch goes to the database every so often.
//! The salt is the day's, shared through the database by replicas and restarts, and deleted
//! when the day is over, after which no hash can be tied to an address again.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};

use super::agents;
use crate::db::{CountBatch, Db, DbError, MAX_POLLERS_PER_ADDRESS};

/// Poller hashes (and, apart, announced counts) kept between two writes at most; past it
/// new ones are not counted until the next write (the log says how many were dropped), so
/// a flood of addresses or made-up User-Agents cannot grow memory.
pub const MAX_PENDING: usize = 100_000;

/// The recorder: cheap to clone, one per process.
#[derive(Clone)]
pub struct Recorder {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    pending: Mutex<Pending>,
    salt: Mutex<(NaiveDate, String)>,
}

#[derive(Default)]
struct Pending {
    batch: CountBatch,
    hashes: HashSet<(String, NaiveDate, String)>,
    /// Pollers gathered per (feed, day, address hash), for the per-address cap.
    per_address: HashMap<(String, NaiveDate, String), i64>,
    dropped: u64,
}

impl Pending {
    /// Adds a poller unless it is known, or its address or the batch has its fill.
    fn add_poller(&mut self, feed: &str, day: NaiveDate, poller: String, address: String) {
        let key = (feed.to_owned(), day, poller);
        if self.hashes.contains(&key) {
            return;
        }
        let from_address = self.per_address.entry((feed.to_owned(), day, address.clone())).or_default();
        if *from_address >= MAX_POLLERS_PER_ADDRESS {
            return;
        }
        if self.hashes.len() >= MAX_PENDING {
            self.dropped += 1;
            return;
        }
        *from_address += 1;
        self.hashes.insert(key.clone());
        self.batch.pollers.push((key.0, key.1, key.2, address));
    }
}

impl Recorder {
    /// A recorder writing to `db`, with the salt of `now`'s day.
    pub async fn new(db: Db, now: DateTime<Utc>) -> Result<Recorder, DbError> {
        let day = now.date_naive();
        let fresh =
            crate::digest::random_hex(32).map_err(|e| DbError::Other(format!("no salt for the poller hashes: {e}")))?;
        let salt = db.salt(day, &fresh).await?;
        Ok(Recorder {
            inner: Arc::new(Inner { db, pending: Mutex::new(Pending::default()), salt: Mutex::new((day, salt)) }),
        })
    }

    /// Where counts are written.
    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    /// Notes one fetch of the feed at `feed` (its URL path) by `peer` with `user_agent`.
    pub fn record(&self, feed: &str, peer: IpAddr, user_agent: &str, now: DateTime<Utc>) {
        let day = now.date_naive();
        if let Some(reported) = agents::reported(user_agent) {
            let key = (feed.to_owned(), day, reported.aggregator.to_owned(), reported.feed_id.unwrap_or_default());
            let mut pending = lock(&self.inner.pending);
            if pending.batch.reported.len() >= MAX_PENDING && !pending.batch.reported.contains_key(&key) {
                pending.dropped += 1;
                return;
            }
            // The day's figure is the largest announced (see `Db::add_counts`).
            let announced = reported.subscribers.min(i64::MAX as u64) as i64;
            let entry = pending.batch.reported.entry(key).or_insert((announced, now.timestamp()));
            *entry = (entry.0.max(announced), now.timestamp());
            return;
        }
        let (poller, address) = {
            let mut salt = lock(&self.inner.salt);
            if salt.0 != day {
                // A new day: a fresh salt until the next write stores it (or adopts the one
                // another replica stored first). Without one, the poll is not counted: a
                // salt that could be guessed would make the hashes reversible.
                match crate::digest::random_hex(32) {
                    Ok(fresh) => *salt = (day, fresh),
                    Err(e) => {
                        tracing::warn!("a poll not counted: {e}");
                        return;
                    }
                }
            }
            (poller_hash(&salt.1, peer, user_agent), address_hash(&salt.1, peer))
        };
        lock(&self.inner.pending).add_poller(feed, day, poller, address);
    }

    /// Writes what was gathered, with the hub's live subscriptions per feed path (`websub`)
    /// for `now`'s day; returns today's figures per feed as Prometheus gauge lines.
    pub async fn flush(&self, websub: &BTreeMap<String, u64>, now: DateTime<Utc>) -> Result<String, DbError> {
        let today = now.date_naive();
        // The salt first: if the database cannot be reached, what was gathered stays.
        let fresh = lock(&self.inner.salt).1.clone();
        let stored = self.inner.db.salt(today, &fresh).await?;
        if stored != fresh {
            *lock(&self.inner.salt) = (today, stored);
        }
        let (batch, dropped) = {
            let mut pending = lock(&self.inner.pending);
            let taken = std::mem::take(&mut *pending);
            (taken.batch, taken.dropped)
        };
        if dropped > 0 {
            tracing::warn!(dropped, "more distinct pollers than the counts keep between writes; some were not counted");
        }
        if let Err(e) = self.inner.db.add_counts(&batch, websub, today).await {
            if !e.is_transient() {
                // The same rows would fail the same way next time (a constraint, a bad
                // statement): they are dropped, not retried for ever.
                tracing::error!(rows = batch.pollers.len() + batch.reported.len(), "subscriber counts dropped: {e}");
                return Err(e);
            }
            // Busy, or the connection broke: keep what was gathered for the next try.
            let mut pending = lock(&self.inner.pending);
            for (key, value) in batch.reported {
                let entry = pending.batch.reported.entry(key).or_insert(value);
                *entry = (entry.0.max(value.0), entry.1.max(value.1));
            }
            for (feed, day, poller, address) in batch.pollers {
                pending.add_poller(&feed, day, poller, address);
            }
            return Err(e);
        }
        let counts = self.inner.db.counts(today, today, agents::MAX_PLAUSIBLE).await?;
        Ok(gauges(&counts))
    }
}

/// The salted hash that stands for one poller on one day: HMAC-SHA256 of its address and
/// User-Agent under the day's salt, 16 bytes in hex.
fn poller_hash(salt: &str, peer: IpAddr, user_agent: &str) -> String {
    let mac = crate::digest::hmac_sha256(salt.as_bytes(), format!("{peer}\n{user_agent}").as_bytes());
    crate::digest::hex(&mac[..16])
}

/// The salted hash that stands for a poller's address (an IPv6 one: its /64) on one day, for
/// the per-address cap: HMAC-SHA256 under the day's salt, 8 bytes in hex.
fn address_hash(salt: &str, peer: IpAddr) -> String {
    let address = crate::http::slots::address_key(peer);
    let mac = crate::digest::hmac_sha256(salt.as_bytes(), format!("address\n{address}").as_bytes());
    crate::digest::hex(&mac[..8])
}

/// Today's figures as `tidings_feed_subscribers{feed,source}` gauges.
fn gauges(counts: &[crate::db::DayCounts]) -> String {
    let mut out = String::from(
        "# HELP tidings_feed_subscribers A feed's subscribers today, by source: what an aggregator announced, \
         distinct other pollers, or built-in hub subscriptions.\n# TYPE tidings_feed_subscribers gauge\n",
    );
    for day in counts {
        let feed = label(&day.feed);
        for (aggregator, n) in &day.reported {
            out.push_str(&format!(
                "tidings_feed_subscribers{{feed=\"{feed}\",source=\"{}\"}} {n}\n",
                label(aggregator)
            ));
        }
        out.push_str(&format!("tidings_feed_subscribers{{feed=\"{feed}\",source=\"pollers\"}} {}\n", day.pollers));
        out.push_str(&format!("tidings_feed_subscribers{{feed=\"{feed}\",source=\"websub\"}} {}\n", day.websub));
    }
    out
}

/// A Prometheus label value, escaped.
fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_pollers_once_and_aggregators_by_their_word() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path().join("t.db").to_str().unwrap()).await.unwrap();
        let now: DateTime<Utc> = "2026-11-30T12:00:00Z".parse().unwrap();
        let recorder = Recorder::new(db.clone(), now).await.unwrap();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "2001:db8::1".parse().unwrap();
        for _ in 0..3 {
            recorder.record("/feed.atom", a, "Mozilla/5.0 Firefox/140.0", now);
        }
        recorder.record("/feed.atom", a, "NetNewsWire (RSS Reader; https://netnewswire.com/)", now);
        recorder.record("/feed.atom", b, "Mozilla/5.0 Firefox/140.0", now);
        recorder.record(
            "/feed.atom",
            a,
            "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 123 subscribers; like FeedFetcher-Google)",
            now,
        );
        let websub = BTreeMap::from([("/feed.atom".to_owned(), 1)]);
        let text = recorder.flush(&websub, now).await.unwrap();
        assert!(text.contains("tidings_feed_subscribers{feed=\"/feed.atom\",source=\"pollers\"} 3\n"), "{text}");
        assert!(text.contains("source=\"feedly\"} 123\n"), "{text}");
        assert!(text.contains("source=\"websub\"} 1\n"), "{text}");
        // The same poller after the write is still one poller; no address is stored.
        recorder.record("/feed.atom", a, "Mozilla/5.0 Firefox/140.0", now);
        let text = recorder.flush(&websub, now).await.unwrap();
        assert!(text.contains("source=\"pollers\"} 3\n"), "{text}");
        let file = std::fs::read(dir.path().join("t.db")).unwrap();
        let wal = std::fs::read(dir.path().join("t.db-wal")).unwrap_or_default();
        for stored in [file, wal] {
            let stored = String::from_utf8_lossy(&stored);
            assert!(!stored.contains("192.0.2.1") && !stored.contains("2001:db8"), "an address was stored");
        }
    }

    /// Issue 10: a client that makes up a User-Agent per request, or announces a feed's count
    /// anew, cannot move the day's figures far.
    #[tokio::test]
    async fn made_up_pollers_and_later_smaller_claims_move_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path().join("t.db").to_str().unwrap()).await.unwrap();
        let now: DateTime<Utc> = "2026-11-30T12:00:00Z".parse().unwrap();
        let recorder = Recorder::new(db.clone(), now).await.unwrap();
        let flooder: IpAddr = "192.0.2.66".parse().unwrap();
        let feedly = |n: u64| format!("Feedly/1.0 (+http://www.feedly.com/fetcher.html; {n} subscribers)");
        recorder.record("/feed.atom", "192.0.2.1".parse().unwrap(), &feedly(5000), now);
        for round in 0..3 {
            for n in 0..1000 {
                recorder.record("/feed.atom", flooder, &format!("Made-up/{round}.{n}"), now);
            }
            recorder.record("/feed.atom", flooder, &feedly(1), now);
            recorder.flush(&BTreeMap::new(), now).await.unwrap();
        }
        let today = db.counts(now.date_naive(), now.date_naive(), agents::MAX_PLAUSIBLE).await.unwrap();
        assert_eq!(today[0].reported.get("feedly"), Some(&5000), "the day's largest announcement stands");
        assert_eq!(today[0].pollers, MAX_POLLERS_PER_ADDRESS as u64, "one address, a few pollers");
        // Other addresses are counted as before (two hosts of one /64 share one cap).
        recorder.record("/feed.atom", "2001:db8::1".parse().unwrap(), "Reader/1", now);
        recorder.record("/feed.atom", "2001:db8::2".parse().unwrap(), "Reader/1", now);
        recorder.flush(&BTreeMap::new(), now).await.unwrap();
        assert_eq!(db.counts(now.date_naive(), now.date_naive(), agents::MAX_PLAUSIBLE).await.unwrap()[0].pollers, 18);
    }

    #[test]
    fn hashes_depend_on_the_salt() {
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(poller_hash("s", ip, "ua"), poller_hash("s", ip, "ua"));
        assert_ne!(poller_hash("s", ip, "ua"), poller_hash("t", ip, "ua"));
        assert_eq!(poller_hash("s", ip, "ua").len(), 32);
    }
}

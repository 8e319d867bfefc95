//! WebSub publishing (W3C WebSub §5.1 and the hubs' common `hub.mode=publish` ping): when a
//! new index is swapped in, every hub is told about each feed URL whose bytes changed. The
//! hubs are the ones the snapshots' settings name, so a `websub.hubs` edited while serving
//! takes effect with the same reload that changes the feeds' links. It runs in the
//! background, with bounded retries and backoff; serving never waits on a hub. At most
//! [`MAX_PINGS`] feeds are being told about at once; a feed that changes again meanwhile
//! waits once, with its newest bytes, and what waits is only the feed's URL, the hubs and the
//! entity tag `websub.confirm` looks for, never a snapshot.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, header};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::cache::FeedCache;
use crate::coalesce::Coalescing;
use crate::document::Document;
use crate::feed::FeedKey;
use crate::hooks::FeedsChanged;
use crate::index::Index;
use crate::metrics::Metrics;

/// How hard to try to reach a hub ([`RetryPolicy::WEBSUB`] unless a test says otherwise).
pub use crate::retry::RetryPolicy;

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Feeds being told about at most at once (each confirmed, then pinged to every hub).
pub const MAX_PINGS: usize = 16;

/// Tells the hubs that the site's settings name about changed feeds.
#[derive(Clone)]
pub struct Publisher {
    policy: RetryPolicy,
    client: HttpsClient,
    metrics: Arc<Metrics>,
    cache: FeedCache,
    /// The path under the base URL of this server's own hub (`serve --hub`), which is never
    /// pinged: it hears of changes directly.
    own_hub: Option<&'static str>,
    /// Pings by feed URL: the newest waiting for each, at most [`MAX_PINGS`] under way.
    pings: Arc<Coalescing<Ping>>,
}

/// What telling the hubs about one version of one feed needs.
#[derive(Debug)]
struct Ping {
    /// The hubs to tell.
    hubs: Arc<[String]>,
    /// With `websub.confirm`: what the public URL must serve first.
    confirm: Option<Confirm>,
}

/// The entity tag the feed's public URL must answer with before the hubs are told, and for
/// how long to wait for it.
#[derive(Debug)]
struct Confirm {
    etag: String,
    bound: Duration,
}

/// How often a feed's public URL is asked again while `websub.confirm` waits for it.
const CONFIRM_EVERY: Duration = Duration::from_secs(1);
/// Past the cache's own bounds (max-age and stale-while-revalidate), how much longer
/// `websub.confirm` waits before it pings anyway.
const CONFIRM_SLACK: Duration = Duration::from_secs(60);

impl Publisher {
    /// A publisher; it pings nobody until a snapshot names hubs. `cache` renders the new
    /// feeds whose public URL `websub.confirm` checks.
    pub fn new(policy: RetryPolicy, metrics: Arc<Metrics>, cache: FeedCache) -> Publisher {
        let connector =
            hyper_rustls::HttpsConnectorBuilder::new().with_webpki_roots().https_or_http().enable_http1().build();
        let client = Client::builder(TokioExecutor::new()).build(connector);
        let pings = Arc::new(Coalescing::new(MAX_PINGS));
        let queue = pings.clone();
        metrics.set_websub_pending(Box::new(move || {
            let (waiting, running) = queue.load();
            (waiting + running) as u64
        }));
        Publisher { policy, client, metrics, cache, own_hub: None, pings }
    }

    /// Never pings the hub at `path` under the base URL: this server's own, which hears of
    /// changes directly.
    pub fn with_own_hub(mut self, path: &'static str) -> Publisher {
        self.own_hub = Some(path);
        self
    }

    /// Queues a ping of every hub of [`hubs_to_tell`] about each feed of `keys` as `new` has
    /// it; the newest waits per feed, at most [`MAX_PINGS`] are under way.
    async fn queue(&self, old: &Index, new: &Arc<Index>, keys: &[FeedKey]) {
        let hubs = hubs_to_tell(old, new, self.own_hub);
        if hubs.is_empty() {
            return;
        }
        let hubs: Arc<[String]> = hubs.into();
        for key in keys {
            let url = format!("{}{}", new.config.base_url, key.path());
            // The bytes the public URL must serve are found now, so that no snapshot is
            // held while waiting for it.
            let confirm = match new.config.websub_confirm {
                true => self.to_confirm(new, key).await,
                false => None,
            };
            if self.pings.push(url, Ping { hubs: hubs.clone(), confirm }) {
                tokio::spawn(self.clone().tell_hubs());
            }
        }
    }

    /// A worker: tells the hubs about waiting feeds, one at a time, until none waits.
    async fn tell_hubs(self) {
        let mut done: Option<String> = None;
        while let Some((url, ping)) = self.pings.next(done.as_deref()) {
            self.tell(&url, &ping).await;
            done = Some(url);
        }
    }

    /// Tells every hub about `url`, after confirming it when asked to; not when a newer
    /// version of the feed waits (its own ping tells them).
    async fn tell(&self, url: &str, ping: &Ping) {
        if let Some(confirm) = &ping.confirm
            && !self.confirm(url, confirm).await
        {
            return;
        }
        for hub in ping.hubs.iter() {
            let ok = self.ping(hub, url).await;
            self.metrics.websub(ok);
        }
    }

    /// What `websub.confirm` waits for about `key` in `index`: its entity tag, for the cache's
    /// bounds plus [`CONFIRM_SLACK`]; `None` when the feed has gone (nothing to wait for).
    async fn to_confirm(&self, index: &Arc<Index>, key: &FeedKey) -> Option<Confirm> {
        let (rendered, _) = self.cache.get(index, &Document::Feed(key.clone())).await?;
        let config = &index.config;
        let bound = Duration::from_secs(config.max_age_secs + config.stale_while_revalidate_secs) + CONFIRM_SLACK;
        Some(Confirm { etag: rendered.identity.etag.clone(), bound })
    }

    /// Waits until `url` answers with the entity tag `confirm` names (a cache in front may
    /// still hold the old one), asking every [`CONFIRM_EVERY`]; gives up after its bound.
    /// False when a newer version of the feed came meanwhile: this one is told about no more.
    async fn confirm(&self, url: &str, confirm: &Confirm) -> bool {
        let expected = &confirm.etag;
        let started = tokio::time::Instant::now();
        loop {
            if self.pings.superseded(url) {
                tracing::debug!(url, "a newer version of the feed waits: its ping tells the hubs");
                return false;
            }
            let request = Request::builder()
                .uri(url)
                .header(header::ACCEPT_ENCODING, "identity")
                .header(header::USER_AGENT, concat!("tidings/", env!("CARGO_PKG_VERSION"), " (websub confirm)"))
                .body(Full::new(Bytes::new()));
            let Ok(request) = request else { return true };
            let seen = match tokio::time::timeout(self.policy.timeout, self.client.request(request)).await {
                Ok(Ok(response)) => {
                    response.headers().get(header::ETAG).and_then(|v| v.to_str().ok()).map(str::to_owned)
                }
                _ => None,
            };
            if seen.as_deref() == Some(expected.as_str()) {
                tracing::debug!(url, ms = started.elapsed().as_millis() as u64, "new feed is public");
                return true;
            }
            if started.elapsed() >= confirm.bound {
                tracing::warn!(url, expected, seen, "the public URL still serves other bytes; telling the hubs anyway");
                return true;
            }
            tokio::time::sleep(CONFIRM_EVERY).await;
        }
    }

    /// One `hub.mode=publish` POST, retried with backoff on network errors, 429 and 5xx. The
    /// URL goes as both `hub.url` (Google's hub and most others) and `hub.topic` (flask-websub
    /// and hubs that follow the subscription parameter's name).
    async fn ping(&self, hub: &str, url: &str) -> bool {
        let body = publish_body(url);
        for attempt in 1..=self.policy.attempts {
            let request = Request::builder()
                .method(Method::POST)
                .uri(hub)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::USER_AGENT, concat!("tidings/", env!("CARGO_PKG_VERSION")))
                .body(Full::new(Bytes::from(body.clone())));
            let Ok(request) = request else {
                tracing::warn!(hub, "WebSub hub URL is not usable");
                return false;
            };
            let outcome = tokio::time::timeout(self.policy.timeout, self.client.request(request)).await;
            let retry = match outcome {
                Ok(Ok(response)) if response.status().is_success() => {
                    tracing::info!(hub, url, status = %response.status(), "told WebSub hub");
                    return true;
                }
                Ok(Ok(response)) => {
                    let status = response.status();
                    tracing::warn!(hub, url, %status, attempt, "WebSub hub refused the ping");
                    status.is_server_error() || status == http::StatusCode::TOO_MANY_REQUESTS
                }
                Ok(Err(e)) => {
                    tracing::warn!(hub, url, error = %e, attempt, "WebSub hub unreachable");
                    true
                }
                Err(_) => {
                    tracing::warn!(hub, url, attempt, "WebSub hub timed out");
                    true
                }
            };
            if !retry || attempt == self.policy.attempts {
                break;
            }
            tokio::time::sleep(self.policy.backoff(attempt)).await;
        }
        tracing::error!(hub, url, "gave up telling WebSub hub");
        false
    }
}

impl FeedsChanged for Publisher {
    fn concerns(&self, old: &Index, new: &Index) -> bool {
        !hubs_to_tell(old, new, self.own_hub).is_empty()
    }

    fn feeds_changed<'a>(
        &'a self,
        old: &'a Index,
        new: &'a Arc<Index>,
        keys: &'a [FeedKey],
    ) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
        Box::pin(self.queue(old, new, keys))
    }
}

/// The hubs to ping about a change from `old` to `new`: those `new` names (the ones its feeds
/// advertise, where subscribers now subscribe), then those only `old` named, so that when
/// `websub.hubs` changes, the subscribers of a hub being left get the feed naming its
/// successor. The hub at `own_hub` under either's base URL is not pinged: it is this server's,
/// which hears of changes directly. Pure.
pub fn hubs_to_tell(old: &Index, new: &Index, own_hub: Option<&str>) -> Vec<String> {
    let own = |index: &Index| own_hub.map(|path| format!("{}{path}", index.config.base_url));
    let own = [own(old), own(new)];
    let mut hubs: Vec<String> = Vec::new();
    for hub in new.config.websub_hubs.iter().chain(&old.config.websub_hubs) {
        if !hubs.contains(hub) && !own.iter().any(|o| o.as_deref() == Some(hub.as_str())) {
            hubs.push(hub.clone());
        }
    }
    hubs
}

/// The form body of a publish ping for `url`.
fn publish_body(url: &str) -> String {
    let url = form_encode(url);
    format!("hub.mode=publish&hub.url={url}&hub.topic={url}")
}

/// `application/x-www-form-urlencoded` encoding of one value.
fn form_encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::config::SiteConfig;
    use std::io::{BufRead, BufReader, Write};

    /// A public URL that never serves the new feed: it answers every GET with another entity
    /// tag, and sends the path of each GET it gets.
    fn stale_public_url() -> (String, std::sync::mpsc::Receiver<String>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (seen, gets) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut line = String::new();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let _ = reader.read_line(&mut line);
                while reader.read_line(&mut String::new()).is_ok_and(|n| n > 2) {}
                let path = line.split(' ').nth(1).unwrap_or_default().to_owned();
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nETag: \"old\"\r\nContent-Length: 0\r\n\r\n");
                if seen.send(path).is_err() {
                    return;
                }
            }
        });
        (url, gets)
    }

    fn snapshot(title: &str, base_url: &str) -> Arc<Index> {
        let config = SiteConfig {
            title: title.to_owned(),
            base_url: base_url.to_owned(),
            websub_hubs: vec!["http://127.0.0.1:9/hub".to_owned()],
            websub_confirm: true,
            max_age_secs: 600,
            ..SiteConfig::default()
        };
        let bodies = crate::content::BodySource::detached(Arc::new(config));
        Arc::new(Index::build(&[], bodies, chrono::Utc::now(), 1))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn pings_waiting_for_the_public_url_hold_no_snapshot_and_the_newest_wins() {
        // Issue 26, item 2: each changed feed's ping task held the whole snapshot for as long
        // as `websub.confirm` waited (up to the cache's bounds plus a minute), one per change.
        let (base, gets) = stale_public_url();
        let store = crate::store::Store::new(16 << 20);
        let publisher = Publisher::new(RetryPolicy::WEBSUB, Arc::default(), FeedCache::new(store));
        let (old, new) = (snapshot("Before", &base), snapshot("After", &base));
        let feeds: BTreeSet<String> = crate::changes::changed_feeds(&old, &new).into_iter().collect();
        assert!(!feeds.is_empty());
        let mut listeners = crate::changes::Listeners::default();
        listeners.listen(Arc::new(publisher.clone()));
        listeners.swapped(old, new.clone());
        // Every changed feed's public URL is being asked: its ping is waiting.
        let mut asked = BTreeSet::new();
        while !feeds.iter().all(|f| asked.contains(f)) {
            let path = tokio::task::block_in_place(|| gets.recv_timeout(Duration::from_secs(10))).unwrap();
            asked.insert(format!("{base}{path}"));
        }
        let started = std::time::Instant::now();
        while Arc::strong_count(&new) > 1 {
            assert!(started.elapsed() < Duration::from_secs(10), "the waiting pings hold the snapshot");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(publisher.pings.load(), (0, feeds.len()), "one ping per feed, none waiting");

        // Edits while they wait: one ping waits per feed, the newest, and the older pings give
        // up waiting for bytes that will never be served.
        let edits: Vec<Arc<Index>> = ["Again", "And again", "Newest"].iter().map(|t| snapshot(t, &base)).collect();
        let mut before = new.clone();
        for edit in &edits {
            listeners.swapped(before, edit.clone());
            before = edit.clone();
        }
        drop(before);
        let started = std::time::Instant::now();
        loop {
            let (waiting, running) = publisher.pings.load();
            assert!(waiting <= feeds.len() && running <= MAX_PINGS, "{waiting} waiting, {running} running");
            let held = edits.iter().chain([&new]).any(|s| Arc::strong_count(s) > 1);
            if waiting == 0 && !held {
                assert_eq!(running, feeds.len(), "one ping per feed");
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(20), "{waiting} waiting, {running} running");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[test]
    fn urls_are_form_encoded() {
        assert_eq!(
            form_encode("https://x.example/feed.rss?page=2&a=b"),
            "https%3A%2F%2Fx.example%2Ffeed.rss%3Fpage%3D2%26a%3Db"
        );
    }

    #[test]
    fn pings_name_the_feed_both_ways() {
        assert_eq!(
            publish_body("https://x.example/feed.atom"),
            "hub.mode=publish&hub.url=https%3A%2F%2Fx.example%2Ffeed.atom&hub.topic=https%3A%2F%2Fx.example%2Ffeed.atom"
        );
    }
}

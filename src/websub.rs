//! WebSub publishing (W3C WebSub §5.1 and the hubs' common `hub.mode=publish` ping): when a
//! new index is swapped in, every hub is told about each feed URL whose bytes changed. The
//! hubs are the ones the snapshots' settings name, so a `websub.hubs` edited while serving
//! takes effect with the same reload that changes the feeds' links. It runs in the
//! background, with bounded retries and backoff; serving never waits on a hub.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, header};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::cache::{Document, FeedCache};
use crate::feed::{self, FeedKey};
use crate::index::Index;
use crate::metrics::Metrics;

/// How hard to try to reach a hub ([`RetryPolicy::WEBSUB`] unless a test says otherwise).
pub use crate::retry::RetryPolicy;

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Tells the hubs that the site's settings name about changed feeds.
#[derive(Clone)]
pub struct Publisher {
    policy: RetryPolicy,
    client: HttpsClient,
    metrics: Arc<Metrics>,
    cache: FeedCache,
    /// The built-in hub (`serve --hub`), which delivers changed feeds to its subscribers.
    builtin: Option<crate::hub::service::Hub>,
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
        Publisher { policy, client, metrics, cache, builtin: None }
    }

    /// Hands changed feeds to the built-in hub too.
    pub fn with_builtin_hub(mut self, hub: crate::hub::service::Hub) -> Publisher {
        self.builtin = Some(hub);
        self
    }

    /// Starts telling the hubs of [`hubs_to_tell`] about the feeds that differ between `old`
    /// and `new`, in the background. Must be called within the tokio runtime.
    pub fn notify(&self, old: Arc<Index>, new: Arc<Index>) {
        let hubs = hubs_to_tell(&old, &new);
        let builtin = self.builtin.clone().filter(|_| new.config.hub_url.is_some());
        if hubs.is_empty() && builtin.is_none() {
            return;
        }
        let publisher = self.clone();
        tokio::spawn(async move {
            let compared = new.clone();
            let keys = match tokio::task::spawn_blocking(move || changed_keys(&old, &compared)).await {
                Ok(keys) => keys,
                Err(e) => {
                    tracing::error!(error = %e, "comparing feeds for WebSub failed");
                    return;
                }
            };
            if let Some(hub) = builtin {
                hub.distribute(new.clone(), keys.clone(), publisher.cache.clone());
            }
            if hubs.is_empty() {
                return;
            }
            let mut pings = tokio::task::JoinSet::new();
            for key in keys {
                let (publisher, hubs, new) = (publisher.clone(), hubs.clone(), new.clone());
                pings.spawn(async move {
                    let url = format!("{}{}", new.config.base_url, key.path());
                    if new.config.websub_confirm {
                        publisher.confirm(&new, &key, &url).await;
                    }
                    for hub in &hubs {
                        let ok = publisher.ping(hub, &url).await;
                        publisher.metrics.websub(ok);
                    }
                });
            }
            while pings.join_next().await.is_some() {}
        });
    }

    /// Waits until `url` answers with the entity tag of `key`'s page in `index` (a cache in
    /// front may still hold the old one), asking every [`CONFIRM_EVERY`]; gives up after the
    /// cache's bounds plus [`CONFIRM_SLACK`], or at once when the feed has gone.
    async fn confirm(&self, index: &Arc<Index>, key: &FeedKey, url: &str) {
        let Some((rendered, _)) = self.cache.get(index, &Document::Feed(key.clone())).await else { return };
        let expected = &rendered.identity.etag;
        let config = &index.config;
        let bound = Duration::from_secs(config.max_age_secs + config.stale_while_revalidate_secs) + CONFIRM_SLACK;
        let started = tokio::time::Instant::now();
        loop {
            let request = Request::builder()
                .uri(url)
                .header(header::ACCEPT_ENCODING, "identity")
                .header(header::USER_AGENT, concat!("tidings/", env!("CARGO_PKG_VERSION"), " (websub confirm)"))
                .body(Full::new(Bytes::new()));
            let Ok(request) = request else { return };
            let seen = match tokio::time::timeout(self.policy.timeout, self.client.request(request)).await {
                Ok(Ok(response)) => {
                    response.headers().get(header::ETAG).and_then(|v| v.to_str().ok()).map(str::to_owned)
                }
                _ => None,
            };
            if seen.as_deref() == Some(expected.as_str()) {
                tracing::debug!(url, ms = started.elapsed().as_millis() as u64, "new feed is public");
                return;
            }
            if started.elapsed() >= bound {
                tracing::warn!(url, expected, seen, "the public URL still serves other bytes; telling the hubs anyway");
                return;
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

/// The hubs to ping about a change from `old` to `new`: those `new` names (the ones its feeds
/// advertise, where subscribers now subscribe), then those only `old` named, so that when
/// `websub.hubs` changes, the subscribers of a hub being left get the feed naming its
/// successor. The built-in hub is not pinged: it hears of changes directly. Pure.
pub fn hubs_to_tell(old: &Index, new: &Index) -> Vec<String> {
    let builtin = [&old.config.hub_url, &new.config.hub_url];
    let mut hubs: Vec<String> = Vec::new();
    for hub in new.config.websub_hubs.iter().chain(&old.config.websub_hubs) {
        if !hubs.contains(hub) && !builtin.iter().any(|b| b.as_deref() == Some(hub.as_str())) {
            hubs.push(hub.clone());
        }
    }
    hubs
}

/// Absolute URLs of the feeds (first pages, every format) that changed between two
/// snapshots, including feeds that appeared or disappeared: those whose fingerprint (the
/// cache key: what the page shows) differs, so nothing is rendered to find out. Pure.
pub fn changed_feeds(old: &Index, new: &Index) -> Vec<String> {
    changed_keys(old, new).into_iter().map(|key| format!("{}{}", new.config.base_url, key.path())).collect()
}

/// The feeds of [`changed_feeds`], as keys.
fn changed_keys(old: &Index, new: &Index) -> Vec<FeedKey> {
    let keys: BTreeSet<FeedKey> = feed::all_keys(old).into_iter().chain(feed::all_keys(new)).collect();
    keys.into_iter().filter(|key| feed::fingerprint(old, key) != feed::fingerprint(new, key)).collect()
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
    use super::*;

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

//! The built-in hub at work (W3C WebSub §5–7): it takes subscription requests, verifies the
//! subscriber's intent in the background, keeps leases in the database, and POSTs each
//! changed feed to its subscribers, signed when they gave a secret, with retries. Every
//! callback goes through [`callback`], which refuses private addresses.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use tokio::sync::Semaphore;

use super::callback::{self, CallbackPolicy};
use super::request::{self, HubRequest, LeasePolicy, Mode};
use crate::cache::{Coding, Document, FeedCache};
use crate::db::{Db, Subscription};
use crate::feed::{self, FeedKey};
use crate::index::Index;
use crate::metrics::Metrics;
use crate::retry::RetryPolicy;

/// Where the hub listens, under the site's base URL.
pub const HUB_PATH: &str = "/hub";

/// How the hub behaves; [`HubSettings::new`] gives the defaults.
#[derive(Clone, Debug)]
pub struct HubSettings {
    /// How callbacks are reached (and whether private addresses may be).
    pub callbacks: CallbackPolicy,
    /// Leases granted.
    pub leases: LeasePolicy,
    /// Live subscriptions at most per callback host.
    pub max_per_host: u64,
    /// How hard a delivery is tried.
    pub retry: RetryPolicy,
    /// Verifications and deliveries in flight at most; past it requests get 503.
    pub concurrency: usize,
    /// Verifications in flight at most per callback host; past it requests get 429, so that
    /// the hub cannot be used to send a host a stream of GETs.
    pub verifications_per_host: usize,
}

impl HubSettings {
    /// The defaults: public callbacks only, 10 s per call, leases of [`LeasePolicy::DEFAULT`],
    /// 100 subscriptions per callback host, 4 delivery attempts, 64 calls in flight.
    pub fn new(allow_private: bool) -> HubSettings {
        HubSettings {
            callbacks: CallbackPolicy { allow_private, ..CallbackPolicy::DEFAULT },
            leases: LeasePolicy::DEFAULT,
            max_per_host: 100,
            retry: RetryPolicy { attempts: 4, first_backoff: Duration::from_secs(2), timeout: Duration::from_secs(10) },
            concurrency: 64,
            verifications_per_host: 4,
        }
    }
}

/// Why a subscription request was not taken: the status and a message for the requester.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// 400 for a bad request, 503 when the hub is busy, 500 when its database fails.
    pub status: StatusCode,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl Refused {
    fn bad(message: impl Into<String>) -> Refused {
        Refused { status: StatusCode::BAD_REQUEST, message: message.into() }
    }
}

/// The hub: cheap to clone.
#[derive(Clone)]
pub struct Hub {
    db: Db,
    settings: Arc<HubSettings>,
    metrics: Arc<Metrics>,
    calls: Arc<Semaphore>,
    /// Verifications in flight per callback host.
    verifying: Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>>,
}

impl Hub {
    /// A hub keeping its subscriptions in `db`.
    pub fn new(db: Db, settings: HubSettings, metrics: Arc<Metrics>) -> Hub {
        let calls = Arc::new(Semaphore::new(settings.concurrency.max(1)));
        Hub { db, settings: Arc::new(settings), metrics, calls, verifying: Arc::default() }
    }

    /// Where subscriptions are kept.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Takes one subscriber request (the POST body) for the site `index` shows. `Ok` means
    /// `202 Accepted`: the intent is verified in the background, as §5.3 has it.
    pub async fn take(&self, body: &[u8], index: &Index) -> Result<(), Refused> {
        let request = request::parse(body).map_err(Refused::bad)?;
        let topic = topic_of(&request.topic, index).map_err(Refused::bad)?;
        callback::resolve(&request.callback, &self.settings.callbacks)
            .await
            .map_err(|refusal| Refused::bad(format!("hub.callback: {refusal}")))?;
        let host = callback_host(&request.callback);
        if request.mode == Mode::Subscribe {
            let now = now();
            let renewal = self
                .db
                .subscriptions(&topic, now)
                .await
                .map_err(internal)?
                .iter()
                .any(|s| s.callback == request.callback.as_str());
            let on_host = self.db.subscriptions_on_host(&host, now).await.map_err(internal)?;
            if !renewal && on_host >= self.settings.max_per_host {
                return Err(Refused::bad(format!(
                    "hub.callback: {host} already has {on_host} subscriptions, the most this hub keeps for one host"
                )));
            }
        }
        let Ok(permit) = self.calls.clone().try_acquire_owned() else {
            return Err(Refused {
                status: StatusCode::SERVICE_UNAVAILABLE,
                message: "the hub is busy verifying other subscriptions: try again in a minute".into(),
            });
        };
        let Some(slot) = VerifyingSlot::take(&self.verifying, &host, self.settings.verifications_per_host) else {
            return Err(Refused {
                status: StatusCode::TOO_MANY_REQUESTS,
                message: format!(
                    "the hub is already verifying {} subscriptions at {host}: answer those first",
                    self.settings.verifications_per_host
                ),
            });
        };
        let hub = self.clone();
        tokio::spawn(async move {
            hub.verify(request, topic, host).await;
            drop((permit, slot));
        });
        Ok(())
    }

    /// Asks the callback to confirm (§5.3): a GET with a challenge it must echo. Only then is
    /// the subscription stored or removed.
    async fn verify(&self, request: HubRequest, topic: String, host: String) {
        let challenge = crate::digest::random_hex(16);
        let lease = self.settings.leases.grant(request.lease_seconds);
        let mut url = request.callback.clone();
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("hub.mode", mode_name(request.mode));
            query.append_pair("hub.topic", &request.topic);
            query.append_pair("hub.challenge", &challenge);
            if request.mode == Mode::Subscribe {
                query.append_pair("hub.lease_seconds", &lease.to_string());
            }
        }
        let callback = request.callback.as_str();
        let confirmed = match callback::get(&url, &self.settings.callbacks).await {
            Ok((status, body)) if status.is_success() && body.as_ref() == challenge.as_bytes() => true,
            Ok((status, _)) => {
                tracing::info!(callback, topic, %status, "WebSub subscriber did not confirm");
                false
            }
            Err(e) => {
                tracing::info!(callback, topic, error = ?e, "WebSub subscriber could not be asked to confirm");
                false
            }
        };
        self.metrics.hub_verification(confirmed);
        if !confirmed {
            return;
        }
        let stored = match request.mode {
            Mode::Subscribe => {
                let now = now();
                let subscription = Subscription {
                    topic: topic.clone(),
                    callback: callback.to_owned(),
                    callback_host: host,
                    secret: request.secret.clone().unwrap_or_default(),
                    lease_seconds: lease as i64,
                    expires_at: now + lease as i64,
                    created_at: now,
                };
                self.db.put_subscription(&subscription).await.map(drop)
            }
            Mode::Unsubscribe => self.db.delete_subscription(&topic, callback).await.map(drop),
        };
        match stored {
            Ok(()) => {
                tracing::info!(callback, topic, mode = mode_name(request.mode), lease, "WebSub subscription verified")
            }
            Err(e) => tracing::error!(callback, topic, "WebSub subscription verified but not stored: {e}"),
        }
    }

    /// Delivers the feeds of `changed` (first pages, no old URLs) as `index` has them to their
    /// subscribers, in the background. Each subscribed topic, old feed URLs included (a
    /// Jekyll site's `/feed.xml` is its site feed), whose feed changed is rendered (or taken
    /// from the cache) once and POSTed to every live subscription, each claimed in the
    /// database first, so that replicas sharing one never deliver the same bytes twice.
    pub fn distribute(&self, index: Arc<Index>, changed: Vec<FeedKey>, cache: FeedCache) {
        let hub = self.clone();
        tokio::spawn(async move {
            let Some(hub_url) = index.config.hub_url.clone() else { return };
            let now = now();
            let topics = match hub.db.subscription_counts(now).await {
                Ok(topics) => topics,
                Err(e) => {
                    tracing::error!("WebSub subscriptions not read: {e}");
                    return;
                }
            };
            let changed: std::collections::HashSet<FeedKey> = changed.into_iter().collect();
            for topic in topics.into_keys() {
                let Some(key) = key_of(&topic, &index) else { continue };
                if !changed.contains(&FeedKey { alias: None, ..key.clone() }) {
                    continue;
                }
                let subscriptions = match hub.db.subscriptions(&topic, now).await {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::error!(topic, "WebSub subscriptions not read: {e}");
                        continue;
                    }
                };
                let Some((rendered, _)) = cache.get(&index, &Document::Feed(key)).await else { continue };
                let content = Arc::new(Content {
                    body: rendered.body(Coding::Identity).clone(),
                    etag: rendered.identity.etag.clone(),
                    media_type: rendered.media_type,
                    hub_url: hub_url.clone(),
                    topic: topic.clone(),
                });
                for subscription in subscriptions {
                    match hub.db.claim_delivery(&topic, &subscription.callback, &content.etag, now).await {
                        Ok(true) => {}
                        Ok(false) => continue, // another replica has it
                        Err(e) => tracing::warn!(topic, "delivery not claimed, delivering anyway: {e}"),
                    }
                    let Ok(permit) = hub.calls.clone().acquire_owned().await else { return };
                    let (hub, content) = (hub.clone(), content.clone());
                    tokio::spawn(async move {
                        hub.deliver(&subscription, &content).await;
                        drop(permit);
                    });
                }
            }
        });
    }

    /// One content distribution (§7): POST with the feed's type, `Link` headers and the
    /// signature; retried with backoff on failures, 429 and 5xx; a `410 Gone` ends the
    /// subscription.
    async fn deliver(&self, subscription: &Subscription, content: &Content) {
        let Ok(url) = url::Url::parse(&subscription.callback) else { return };
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content.media_type));
        for link in [format!("<{}>; rel=\"hub\"", content.hub_url), format!("<{}>; rel=\"self\"", content.topic)] {
            if let Ok(value) = HeaderValue::from_str(&link) {
                headers.append(header::LINK, value);
            }
        }
        if !subscription.secret.is_empty() {
            let signature = callback::signature(subscription.secret.as_bytes(), &content.body);
            if let Ok(value) = HeaderValue::from_str(&signature) {
                headers.insert("x-hub-signature", value);
            }
        }
        let policy = CallbackPolicy { timeout: self.settings.retry.timeout, ..self.settings.callbacks.clone() };
        let mut backoff = self.settings.retry.first_backoff;
        let callback = subscription.callback.as_str();
        for attempt in 1..=self.settings.retry.attempts {
            let retry = match callback::post(&url, &policy, headers.clone(), content.body.clone()).await {
                Ok(status) if status.is_success() => {
                    tracing::info!(callback, topic = content.topic, %status, "WebSub content delivered");
                    self.metrics.hub_delivery(true);
                    return;
                }
                Ok(StatusCode::GONE) => {
                    tracing::info!(callback, topic = content.topic, "WebSub subscriber is gone (410): unsubscribed");
                    let _ = self.db.delete_subscription(&subscription.topic, callback).await;
                    return;
                }
                Ok(status) => {
                    tracing::warn!(callback, %status, attempt, "WebSub subscriber refused the content");
                    status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS
                }
                Err(callback::CallError::Refused(refusal)) => {
                    // The name now resolves somewhere it must not: never retry that.
                    tracing::warn!(callback, "WebSub delivery refused: {refusal}");
                    false
                }
                Err(e) => {
                    tracing::warn!(callback, attempt, error = ?e, "WebSub delivery failed");
                    true
                }
            };
            if !retry || attempt == self.settings.retry.attempts {
                break;
            }
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
        self.metrics.hub_delivery(false);
    }

    /// Deletes ended leases every hour, for as long as the process runs.
    pub async fn expire_leases(self) {
        let mut every = tokio::time::interval(Duration::from_secs(3600));
        loop {
            every.tick().await;
            match self.db.expire_subscriptions(now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(expired = n, "WebSub leases ended"),
                Err(e) => tracing::warn!("WebSub leases not expired: {e}"),
            }
        }
    }
}

/// One verification in flight for a host, counted until dropped.
struct VerifyingSlot {
    counts: Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>>,
    host: String,
}

impl VerifyingSlot {
    /// A slot for `host` if it has fewer than `most` verifications in flight.
    fn take(
        counts: &Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>>,
        host: &str,
        most: usize,
    ) -> Option<VerifyingSlot> {
        let mut map = counts.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(host.to_owned()).or_default();
        if *n >= most {
            return None;
        }
        *n += 1;
        Some(VerifyingSlot { counts: counts.clone(), host: host.to_owned() })
    }
}

impl Drop for VerifyingSlot {
    fn drop(&mut self) {
        let mut map = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.host) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.host);
            }
        }
    }
}

/// What one feed change delivers.
struct Content {
    body: Bytes,
    /// The body's entity tag: one delivery per subscriber and version.
    etag: String,
    media_type: &'static str,
    hub_url: String,
    topic: String,
}

/// The canonical URL of a topic, if it is the first page of one of the site's feeds (at its
/// own URL or at an old one the site still serves it at).
fn topic_of(topic: &str, index: &Index) -> Result<String, String> {
    let base = &index.config.base_url;
    let key = key_of(topic, index).ok_or_else(|| {
        format!(
            "hub.topic: {topic:?} is not a feed of this site; this hub only distributes the site's own feeds, \
             e.g. {base}/feed.atom (see {base}/feeds.opml for all of them)"
        )
    })?;
    if key.page != 1 {
        let first = FeedKey { page: 1, ..key };
        return Err(format!(
            "hub.topic: {topic:?} is a later page; subscribe to the feed's first page, {base}{}",
            first.path()
        ));
    }
    Ok(format!("{base}{}", key.path()))
}

/// The feed a topic URL names, if the site has it now (any page; old URLs too).
fn key_of(topic: &str, index: &Index) -> Option<FeedKey> {
    let rest = topic.strip_prefix(index.config.base_url.as_str())?;
    let (path, query) = rest.split_once('?').map_or((rest, None), |(p, q)| (p, Some(q)));
    let key = match FeedKey::from_request(path, query) {
        Ok(Some(key)) => key,
        Ok(None) => match feed::legacy::route(path, query, &index.config) {
            Some(feed::legacy::Legacy::Feed(key)) => key,
            _ => return None,
        },
        Err(_) => return None,
    };
    // The scope's description is the index's own lookup: no list of every feed is made.
    feed::model::describe(index, &key.scope).is_some().then_some(key)
}

fn callback_host(url: &url::Url) -> String {
    url.host_str().unwrap_or_default().to_ascii_lowercase()
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Subscribe => "subscribe",
        Mode::Unsubscribe => "unsubscribe",
    }
}

fn internal(e: crate::db::DbError) -> Refused {
    tracing::error!("WebSub hub database: {e}");
    Refused {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        message: "the hub cannot reach its database: try again later".into(),
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

//! The built-in hub at work (W3C WebSub §5–7): it takes subscription requests, verifies the
//! subscriber's intent in the background, keeps leases in the database, and POSTs each
//! changed feed to its subscribers, signed when they gave a secret, with retries. Every
//! callback goes through [`callback`], which refuses private addresses.
//!
//! No party can take the hub for itself: `POST /hub` is rate-limited per client address;
//! verifications and deliveries have pools of their own, and calls to one host (its
//! registrable domain, or its address for IP literals) are limited in each; the places are
//! taken before the callback's name is resolved, and given back during back-off. A change's
//! deliveries are all started at once; a callback that fails is tried again on a slow lane of
//! its own, and kept there by a [`Breaker`] until it answers, so slow callbacks never hold up
//! the others. Subscriptions are capped per resolved address, per registrable domain and in all.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use tokio::sync::Semaphore;

use super::breaker::Breaker;
use super::callback::{self, CallbackPolicy};
use super::latest::Latest;
use super::limit::{self, KeyedLimit, RateLimit};
use super::request::{self, HubRequest, LeasePolicy, Mode};
use crate::cache::FeedCache;
use crate::db::{Db, Subscription};
use crate::document::Document;
use crate::feed::{self, FeedKey};
use crate::index::Index;
use crate::metrics::Metrics;
use crate::representation::Coding;
use crate::retry::RetryPolicy;

/// Where the hub listens, under the site's base URL.
pub const HUB_PATH: &str = "/hub";

/// Live subscriptions at most per resolved callback address (an IPv6 /64), by default.
pub const MAX_PER_ADDRESS: u64 = 100;
/// Live subscriptions at most per registrable domain of the callback, by default.
pub const MAX_PER_DOMAIN: u64 = 100;
/// Live subscriptions at most in all, by default.
pub const MAX_SUBSCRIPTIONS: u64 = 100_000;
/// Subscription requests a minute per client address (an IPv6 /64), by default.
pub const REQUESTS_PER_MINUTE: u32 = 30;

/// How the hub behaves; [`HubSettings::new`] gives the defaults.
#[derive(Clone, Debug)]
pub struct HubSettings {
    /// How callbacks are reached (and whether private addresses may be).
    pub callbacks: CallbackPolicy,
    /// Leases granted.
    pub leases: LeasePolicy,
    /// Live subscriptions at most per address a callback resolves to (IPv6: per /64).
    pub max_per_address: u64,
    /// Live subscriptions at most per registrable domain of the callback's host.
    pub max_per_domain: u64,
    /// Live subscriptions at most in all; past it requests get 503.
    pub max_subscriptions: u64,
    /// How hard a delivery is tried.
    pub retry: RetryPolicy,
    /// Verifications in flight at most; past it requests get 503.
    pub verifications: usize,
    /// Verifications in flight at most per callback host (registrable domain or address);
    /// past it requests get 429, so that the hub cannot be used to send a host a stream of GETs.
    pub verifications_per_host: usize,
    /// First delivery attempts in flight at most (the hot path).
    pub deliveries: usize,
    /// How long a first attempt on the hot path may take (at most the retry policy's
    /// timeout); a callback slower than that is tried again on the slow lane, with the full
    /// timeout, so the hot path is never held longer than this by anyone.
    pub hot_timeout: Duration,
    /// Retried deliveries, and deliveries to callbacks whose breaker is open, in flight at most
    /// (the slow lane).
    pub retries: usize,
    /// Deliveries in flight at most per callback host (registrable domain or address), both
    /// lanes together, and per address connected to (however many names point there).
    pub deliveries_per_host: usize,
    /// `POST /hub` requests a minute per client address (IPv6: per /64); 0 for no limit.
    pub requests_per_minute: u32,
}

impl HubSettings {
    /// The defaults: public callbacks only, 10 s per call, leases of [`LeasePolicy::DEFAULT`],
    /// [`MAX_PER_ADDRESS`], [`MAX_PER_DOMAIN`] and [`MAX_SUBSCRIPTIONS`] subscriptions, 4
    /// delivery attempts, 64 verifications and 512 first deliveries in flight (4 per host) for
    /// at most 2 s each, 16 on the slow lane, [`REQUESTS_PER_MINUTE`] requests per client.
    pub fn new(allow_private: bool) -> HubSettings {
        HubSettings {
            callbacks: CallbackPolicy { allow_private, ..CallbackPolicy::DEFAULT },
            leases: LeasePolicy::DEFAULT,
            max_per_address: MAX_PER_ADDRESS,
            max_per_domain: MAX_PER_DOMAIN,
            max_subscriptions: MAX_SUBSCRIPTIONS,
            retry: RetryPolicy { attempts: 4, first_backoff: Duration::from_secs(2), timeout: Duration::from_secs(10) },
            verifications: 64,
            verifications_per_host: 4,
            deliveries: 512,
            hot_timeout: Duration::from_secs(2),
            retries: 16,
            deliveries_per_host: 4,
            requests_per_minute: REQUESTS_PER_MINUTE,
        }
    }
}

/// Why a subscription request was not taken: the status and a message for the requester.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// 400 for a bad request, 429 when the client or the callback's host asks too often, 503
    /// when the hub is busy or full, 500 when its database fails.
    pub status: StatusCode,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl Refused {
    fn bad(message: impl Into<String>) -> Refused {
        Refused { status: StatusCode::BAD_REQUEST, message: message.into() }
    }

    fn busy(message: impl Into<String>) -> Refused {
        Refused { status: StatusCode::SERVICE_UNAVAILABLE, message: message.into() }
    }
}

/// The hub: cheap to clone.
#[derive(Clone)]
pub struct Hub {
    db: Db,
    settings: Arc<HubSettings>,
    metrics: Arc<Metrics>,
    /// Subscription requests per client.
    requests: Arc<RateLimit>,
    /// Verifications in flight.
    verifications: Arc<Semaphore>,
    /// Verifications in flight per callback host.
    verifying: Arc<KeyedLimit>,
    /// First delivery attempts in flight (the hot path).
    deliveries: Arc<Semaphore>,
    /// Retries and deliveries to failing callbacks in flight (the slow lane).
    retries: Arc<Semaphore>,
    /// Deliveries in flight per callback host.
    delivering: Arc<KeyedLimit>,
    /// Deliveries in flight per address connected to (names re-pointed at one address share it).
    delivering_to: Arc<KeyedLimit>,
    /// Callbacks whose deliveries failed.
    breaker: Arc<Breaker>,
    /// Deliveries under way, one per subscription, and the newest version waiting for each.
    latest: Arc<Latest<Arc<Content>>>,
    /// The change waiting for the distributor, and whether one runs.
    pending: Arc<std::sync::Mutex<Pending>>,
}

/// Changes not yet distributed, and whether a distributor runs.
#[derive(Default)]
struct Pending {
    waiting: Option<Change>,
    running: bool,
}

/// What one distribution delivers: the feeds changed, as the newest snapshot has them.
struct Change {
    index: Arc<Index>,
    changed: std::collections::HashSet<FeedKey>,
}

impl Hub {
    /// A hub keeping its subscriptions in `db`.
    pub fn new(db: Db, settings: HubSettings, metrics: Arc<Metrics>) -> Hub {
        Hub {
            db,
            metrics,
            requests: Arc::new(RateLimit::new(settings.requests_per_minute)),
            verifications: Arc::new(Semaphore::new(settings.verifications.max(1))),
            verifying: KeyedLimit::new(settings.verifications_per_host),
            deliveries: Arc::new(Semaphore::new(settings.deliveries.max(1))),
            retries: Arc::new(Semaphore::new(settings.retries.max(1))),
            delivering: KeyedLimit::new(settings.deliveries_per_host),
            delivering_to: KeyedLimit::new(settings.deliveries_per_host),
            breaker: Arc::default(),
            latest: Arc::default(),
            pending: Arc::default(),
            settings: Arc::new(settings),
        }
    }

    /// Where subscriptions are kept.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Takes one subscriber request (the POST body, from `client`) for the site `index`
    /// shows. `Ok` means `202 Accepted`: the intent is verified in the background, as §5.3
    /// has it. The client's rate, then a verification place (in all and for the callback's
    /// host) are taken before the callback's name is resolved; the caps are checked after.
    pub async fn take(&self, body: &[u8], index: &Index, client: IpAddr) -> Result<(), Refused> {
        if let Err(wait) = self.requests.check(client, Instant::now()) {
            return Err(Refused {
                status: StatusCode::TOO_MANY_REQUESTS,
                message: format!(
                    "{client} has sent {} subscription requests in the last minute, the most this hub takes: \
                     try again in {} s",
                    self.settings.requests_per_minute,
                    wait.as_secs() + 1
                ),
            });
        }
        let request = request::parse(body).map_err(|e| Refused::bad(e.to_string()))?;
        let topic = topic_of(&request.topic, index).map_err(Refused::bad)?;
        let host = callback_host(&request.callback);
        let domain = limit::host_key(&request.callback);
        let Ok(permit) = self.verifications.clone().try_acquire_owned() else {
            return Err(Refused::busy("the hub is busy verifying other subscriptions: try again in a minute"));
        };
        let Some(slot) = self.verifying.try_take(&domain) else {
            return Err(Refused {
                status: StatusCode::TOO_MANY_REQUESTS,
                message: format!(
                    "the hub is already verifying {} subscriptions at {domain}: answer those first",
                    self.settings.verifications_per_host
                ),
            });
        };
        let resolved = callback::resolve(&request.callback, &self.settings.callbacks)
            .await
            .map_err(|refusal| Refused::bad(format!("hub.callback: {refusal}")))?;
        let mut addresses: Vec<String> = resolved.iter().map(|a| limit::address_key(a.ip())).collect();
        addresses.sort();
        addresses.dedup();
        if request.mode == Mode::Subscribe {
            let now = now();
            let renewal = self.db.is_subscribed(&topic, request.callback.as_str(), now).await.map_err(internal)?;
            if !renewal {
                self.check_caps(&host, &addresses, &domain, now).await?;
            }
        }
        let address = addresses.into_iter().next().unwrap_or_default();
        let hub = self.clone();
        tokio::spawn(async move {
            hub.verify(request, topic, Callback { host, address, domain }).await;
            drop((permit, slot));
        });
        Ok(())
    }

    /// Refuses a new subscription past the caps: per resolved address, per registrable
    /// domain, in all.
    async fn check_caps(&self, host: &str, addresses: &[String], domain: &str, now: i64) -> Result<(), Refused> {
        let most = self.settings.max_per_address;
        for address in addresses {
            let n = self.db.subscriptions_at_address(address, now).await.map_err(internal)?;
            if n >= most {
                return Err(Refused::bad(format!(
                    "hub.callback: {address} already has {n} subscriptions, the most this hub keeps for one \
                     address ({host} resolves to it)"
                )));
            }
        }
        let n = self.db.subscriptions_in_domain(domain, now).await.map_err(internal)?;
        if n >= self.settings.max_per_domain {
            return Err(Refused::bad(format!(
                "hub.callback: {domain} already has {n} subscriptions, the most this hub keeps for one domain"
            )));
        }
        let (n, most) = (self.db.live_subscriptions(now).await.map_err(internal)?, self.settings.max_subscriptions);
        if n >= most {
            return Err(Refused::busy(format!(
                "the hub keeps at most {most} subscriptions and has them all: try again later"
            )));
        }
        Ok(())
    }

    /// Asks the callback to confirm (§5.3): a GET with a challenge it must echo. Only then is
    /// the subscription stored or removed.
    async fn verify(&self, request: HubRequest, topic: String, at: Callback) {
        let challenge = match crate::digest::random_hex(16) {
            Ok(challenge) => challenge,
            Err(e) => {
                // A challenge that could be guessed would let anyone subscribe anyone.
                tracing::error!(callback = request.callback.as_str(), "WebSub subscription not verified: {e}");
                self.metrics.hub_verification(false);
                return;
            }
        };
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
        if !confirmed {
            self.metrics.hub_verification(false);
            return;
        }
        let stored = match request.mode {
            Mode::Subscribe => {
                let now = now();
                let subscription = Subscription {
                    topic: topic.clone(),
                    callback: callback.to_owned(),
                    callback_host: at.host,
                    callback_address: at.address,
                    callback_domain: at.domain,
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
        // Counted once stored: a confirmed count is a subscription in force (or one that ended).
        self.metrics.hub_verification(true);
    }

    /// Delivers the feeds of `changed` (first pages, no old URLs) as `index` has them to their
    /// subscribers, in the background. Each subscribed topic, old feed URLs included (a
    /// Jekyll site's `/feed.xml` is its site feed), whose feed changed is rendered (or taken
    /// from the cache) once and POSTed to every live subscription, each claimed in the
    /// database first, so that replicas sharing one never deliver the same bytes twice.
    ///
    /// One distribution runs at a time. Changes that come meanwhile wait as one: the newest
    /// snapshot and every feed changed since the last distribution began; so at most one
    /// snapshot waits, and a distribution holds its own only while it renders the changed
    /// feeds, not while it waits for the database or for subscribers.
    pub fn distribute(&self, index: Arc<Index>, changed: Vec<FeedKey>, cache: FeedCache) {
        let start = {
            let mut pending = self.lock_pending();
            match &mut pending.waiting {
                Some(waiting) => {
                    waiting.index = index;
                    waiting.changed.extend(changed);
                }
                None => pending.waiting = Some(Change { index, changed: changed.into_iter().collect() }),
            }
            !std::mem::replace(&mut pending.running, true)
        };
        if start {
            let hub = self.clone();
            tokio::spawn(async move { while hub.distribute_waiting(&cache).await {} });
        }
    }

    /// Delivers the change waiting, if one is; false when none was (the distributor stops).
    async fn distribute_waiting(&self, cache: &FeedCache) -> bool {
        if !self.change_waits() {
            return false;
        }
        let now = now();
        // What is subscribed, read before the change is taken: no snapshot waits for the database.
        let topics = self.db.subscription_counts(now).await;
        // Only the distributor takes a change, so the one that waited is still there.
        let Some(Change { index, changed }) = self.lock_pending().waiting.take() else { return false };
        let topics = match topics {
            Ok(topics) => topics,
            Err(e) => {
                tracing::error!("WebSub subscriptions not read: {e}");
                return true;
            }
        };
        let hub_url = format!("{}{HUB_PATH}", index.config.base_url);
        // Rendered (or taken from the cache) with the snapshot; delivered without it.
        let mut contents = Vec::new();
        for topic in topics.into_keys() {
            let Some(key) = key_of(&topic, &index) else { continue };
            if !changed.contains(&FeedKey { alias: None, ..key.clone() }) {
                continue;
            }
            let Some((rendered, _)) = cache.get(&index, &Document::Feed(key)).await else { continue };
            contents.push(Arc::new(Content {
                body: rendered.body(Coding::Identity).clone(),
                etag: rendered.identity.etag.clone(),
                media_type: rendered.media_type,
                hub_url: hub_url.clone(),
                topic,
            }));
        }
        drop(index);
        for content in contents {
            let topic = &content.topic;
            let subscriptions = match self.db.subscriptions(topic, now).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(topic, "WebSub subscriptions not read: {e}");
                    continue;
                }
            };
            // Each delivery on its own: none waits for another, nor for a place.
            for subscription in subscriptions {
                match self.db.claim_delivery(topic, &subscription.callback, &content.etag, now).await {
                    Ok(true) => {}
                    Ok(false) => continue, // another replica has it
                    Err(e) => tracing::warn!(topic, "delivery not claimed, delivering anyway: {e}"),
                }
                self.start_delivery(subscription, content.clone());
            }
        }
        self.metrics.hub_distribution();
        true
    }

    /// Whether a change waits for the distributor; when none does, the distributor stops.
    fn change_waits(&self) -> bool {
        let mut pending = self.lock_pending();
        pending.running = pending.waiting.is_some();
        pending.running
    }

    fn lock_pending(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Delivers `content` to `subscription` in a task of its own, unless a delivery to it is
    /// under way: then `content` waits for it, replacing any older version waiting, and is
    /// delivered after it by the same task.
    fn start_delivery(&self, subscription: Subscription, content: Arc<Content>) {
        let key = format!("{} {}", subscription.topic, subscription.callback);
        let Some(mut content) = self.latest.start(&key, content) else { return };
        self.metrics.hub_delivering(true);
        let hub = self.clone();
        tokio::spawn(async move {
            loop {
                hub.deliver(&subscription, &content).await;
                match hub.latest.next(&key) {
                    Some(newer) => content = newer,
                    None => break,
                }
            }
            hub.metrics.hub_delivering(false);
        });
    }

    /// One content distribution (§7): POST with the feed's type, `Link` headers and the
    /// signature; retried with backoff on failures, 429 and 5xx; a `410 Gone` ends the
    /// subscription. Each attempt takes a place for the callback's host, then one on the hot
    /// path (a first attempt to a callback whose breaker is closed, for at most
    /// [`HubSettings::hot_timeout`]) or on the slow lane (retries, failing callbacks), and gives
    /// both back before sleeping.
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
        let callback = subscription.callback.as_str();
        let host = limit::host_key(&url);
        let mut hot = !self.breaker.is_open(callback, Instant::now());
        for attempt in 1..=self.settings.retry.attempts {
            let posted = {
                let _host = self.delivering.take(&host).await;
                let lane = if hot { &self.deliveries } else { &self.retries };
                let Ok(_place) = lane.clone().acquire_owned().await else { return };
                let hot_policy;
                let policy = if hot {
                    hot_policy =
                        CallbackPolicy { timeout: policy.timeout.min(self.settings.hot_timeout), ..policy.clone() };
                    &hot_policy
                } else {
                    &policy
                };
                let (headers, body) = (headers.clone(), content.body.clone());
                callback::post_limited(&url, policy, headers, body, Some(&self.delivering_to)).await
            };
            let retry = match posted {
                Ok(status) if status.is_success() => {
                    self.breaker.succeeded(callback);
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
            if retry {
                self.breaker.failed(callback, Instant::now());
            }
            if !retry || attempt == self.settings.retry.attempts {
                break;
            }
            hot = false;
            tokio::time::sleep(self.settings.retry.backoff(attempt)).await;
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

/// Where a callback is, as the caps count it.
struct Callback {
    /// Its host as in its URL.
    host: String,
    /// The first of the addresses it resolved to ([`limit::address_key`]).
    address: String,
    /// Its registrable domain, or address for an IP literal ([`limit::host_key`]).
    domain: String,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SiteConfig;

    fn snapshot(generation: u64) -> Arc<Index> {
        let config = SiteConfig { base_url: "https://blog.example".into(), ..SiteConfig::default() };
        let bodies = crate::content::BodySource::detached(Arc::new(config));
        Arc::new(Index::build(&[], bodies, chrono::Utc::now(), generation))
    }

    #[tokio::test]
    async fn changes_that_come_during_a_distribution_wait_as_one_with_the_newest_snapshot() {
        // Issue 26, item 2: each change's distribution was a task of its own holding its
        // snapshot while it waited for the database and for renders.
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("hub.db").display().to_string()).await.unwrap();
        let hub = Hub::new(db, HubSettings::new(false), Arc::default());
        let cache = FeedCache::new(crate::store::Store::new(1 << 20));
        let snapshots: Vec<Arc<Index>> = (1..=50).map(snapshot).collect();
        let keys = feed::all_keys(&snapshots[0]);
        assert!(keys.len() >= 3);
        for (n, snapshot) in snapshots.iter().enumerate() {
            hub.distribute(snapshot.clone(), vec![keys[n % 3].clone()], cache.clone());
        }
        // On this one-thread runtime the distributor has not started: all of it waits as one.
        {
            let pending = hub.lock_pending();
            let waiting = pending.waiting.as_ref().unwrap();
            assert_eq!(waiting.index.generation, 50, "the newest snapshot");
            assert_eq!(waiting.changed, keys[..3].iter().cloned().collect(), "every feed changed");
        }
        assert!(snapshots[..49].iter().all(|s| Arc::strong_count(s) == 1), "no older snapshot is held");
        assert_eq!(Arc::strong_count(&snapshots[49]), 2);
        let started = std::time::Instant::now();
        while hub.lock_pending().running {
            assert!(started.elapsed() < Duration::from_secs(10), "the distribution ends");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(Arc::strong_count(&snapshots[49]), 1, "nor the newest, once distributed");
    }
}

//! Counters and gauges for `/metrics`, in the Prometheus text format. Lock-free on the
//! request path: fixed arrays of atomics, no allocation.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Which kind of resource a request was for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// A feed page.
    Feed,
    /// `/feeds.opml`.
    Opml,
    /// `/`.
    Home,
    /// A feed's browser view: a navigation to a feed, or its `.html` address.
    View,
    /// `/embed.js`.
    Asset,
    /// `/headlines.json` and `/embed/…`.
    Headlines,
    /// `/healthz`, `/readyz`, `/diagnostics`, `/metrics`, `/stats`.
    Ops,
    /// The built-in WebSub hub's endpoint.
    Hub,
    /// Anything else (404s, bad methods).
    Other,
}

impl Route {
    const ALL: [Route; 9] = [
        Route::Feed,
        Route::View,
        Route::Opml,
        Route::Home,
        Route::Asset,
        Route::Headlines,
        Route::Ops,
        Route::Hub,
        Route::Other,
    ];

    fn label(self) -> &'static str {
        match self {
            Route::Feed => "feed",
            Route::Opml => "opml",
            Route::Home => "home",
            Route::View => "view",
            Route::Asset => "asset",
            Route::Headlines => "headlines",
            Route::Ops => "ops",
            Route::Hub => "hub",
            Route::Other => "other",
        }
    }
}

/// Status codes counted one by one; any other is counted as `other`.
const STATUSES: [u16; 11] = [200, 202, 304, 400, 404, 405, 414, 429, 431, 500, 503];
/// Upper bounds of the render-time histogram, in seconds.
const RENDER_BUCKETS: [f64; 11] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

const ROUTES: usize = Route::ALL.len();
const STATUS_SLOTS: usize = STATUSES.len() + 1;

/// A figure read when `/metrics` is scraped.
type PendingFn = Box<dyn Fn() -> u64 + Send + Sync>;

/// Everything `/metrics` reports that is counted as it happens.
pub struct Metrics {
    requests: [[AtomicU64; STATUS_SLOTS]; ROUTES],
    response_bytes: [AtomicU64; ROUTES],
    cache_hits: AtomicU64,
    cache_misses: AtomicU64,
    render_buckets: [AtomicU64; RENDER_BUCKETS.len()],
    render_count: AtomicU64,
    render_micros: AtomicU64,
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
    last_reload_unix: AtomicU64,
    websub_ok: AtomicU64,
    websub_failed: AtomicU64,
    refused_connections: AtomicU64,
    evicted_connections: AtomicU64,
    polls_refused: AtomicU64,
    hub_verified: AtomicU64,
    hub_unverified: AtomicU64,
    hub_delivered: AtomicU64,
    hub_undelivered: AtomicU64,
    hub_distributions: AtomicU64,
    hub_delivering: AtomicU64,
    feed_changes: AtomicU64,
    /// How many WebSub pings wait or are under way, asked at scrape time (the publisher's queue).
    websub_pending: std::sync::Mutex<Option<PendingFn>>,
    /// Subscriber gauges as last written by the counts recorder (Prometheus lines).
    subscriber_gauges: std::sync::Mutex<String>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            requests: std::array::from_fn(|_| std::array::from_fn(|_| AtomicU64::new(0))),
            response_bytes: std::array::from_fn(|_| AtomicU64::new(0)),
            cache_hits: AtomicU64::new(0),
            cache_misses: AtomicU64::new(0),
            render_buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            render_count: AtomicU64::new(0),
            render_micros: AtomicU64::new(0),
            reloads_ok: AtomicU64::new(0),
            reloads_failed: AtomicU64::new(0),
            last_reload_unix: AtomicU64::new(0),
            websub_ok: AtomicU64::new(0),
            websub_failed: AtomicU64::new(0),
            refused_connections: AtomicU64::new(0),
            evicted_connections: AtomicU64::new(0),
            polls_refused: AtomicU64::new(0),
            hub_verified: AtomicU64::new(0),
            hub_unverified: AtomicU64::new(0),
            hub_delivered: AtomicU64::new(0),
            hub_undelivered: AtomicU64::new(0),
            hub_distributions: AtomicU64::new(0),
            hub_delivering: AtomicU64::new(0),
            feed_changes: AtomicU64::new(0),
            websub_pending: std::sync::Mutex::new(None),
            subscriber_gauges: std::sync::Mutex::new(String::new()),
        }
    }
}

/// Values read at scrape time rather than counted.
pub struct Gauges {
    /// Posts in the current index.
    pub posts: usize,
    /// Current errors.
    pub errors: usize,
    /// Current warnings.
    pub warnings: usize,
    /// The index generation.
    pub generation: u64,
    /// Bytes of rendered bodies and documents kept, as weighed.
    pub cache_bytes: u64,
    /// The byte budget they share.
    pub cache_budget: u64,
    /// Rendered bodies and documents kept.
    pub cache_entries: u64,
}

impl Metrics {
    /// Counts one response.
    pub fn request(&self, route: Route, status: u16, body_bytes: usize) {
        let r = Route::ALL.iter().position(|x| *x == route).unwrap_or(ROUTES - 1);
        let s = STATUSES.iter().position(|x| *x == status).unwrap_or(STATUS_SLOTS - 1);
        self.requests[r][s].fetch_add(1, Relaxed);
        self.response_bytes[r].fetch_add(body_bytes as u64, Relaxed);
    }

    /// Counts a cache lookup.
    pub fn cache(&self, hit: bool) {
        if hit { &self.cache_hits } else { &self.cache_misses }.fetch_add(1, Relaxed);
    }

    /// Records how long one render took.
    pub fn render(&self, took: Duration) {
        let secs = took.as_secs_f64();
        for (bound, bucket) in RENDER_BUCKETS.iter().zip(&self.render_buckets) {
            if secs <= *bound {
                bucket.fetch_add(1, Relaxed);
            }
        }
        self.render_count.fetch_add(1, Relaxed);
        self.render_micros.fetch_add(took.as_micros() as u64, Relaxed);
    }

    /// Counts a reload and remembers when it happened.
    pub fn reload(&self, ok: bool, at_unix: u64) {
        if ok { &self.reloads_ok } else { &self.reloads_failed }.fetch_add(1, Relaxed);
        self.last_reload_unix.store(at_unix, Relaxed);
    }

    /// Counts a WebSub ping's outcome (after its retries).
    pub fn websub(&self, ok: bool) {
        if ok { &self.websub_ok } else { &self.websub_failed }.fetch_add(1, Relaxed);
    }

    /// Counts a connection refused for being over the limit.
    pub fn refused(&self) {
        self.refused_connections.fetch_add(1, Relaxed);
    }

    /// Counts an idle connection closed to make room for a new one.
    pub fn evicted(&self) {
        self.evicted_connections.fetch_add(1, Relaxed);
    }

    /// Counts a feed fetch refused (`429`) for coming too soon after the last.
    pub fn poll_refused(&self) {
        self.polls_refused.fetch_add(1, Relaxed);
    }

    /// Counts a subscription request's verification of intent by the built-in hub.
    pub fn hub_verification(&self, confirmed: bool) {
        if confirmed { &self.hub_verified } else { &self.hub_unverified }.fetch_add(1, Relaxed);
    }

    /// Counts a content delivery by the built-in hub (after its retries).
    pub fn hub_delivery(&self, ok: bool) {
        if ok { &self.hub_delivered } else { &self.hub_undelivered }.fetch_add(1, Relaxed);
    }

    /// Counts a change the built-in hub handed to its subscribers: every delivery it made is
    /// under way (counted by [`Metrics::hub_delivering`]) when this is counted.
    pub fn hub_distribution(&self) {
        self.hub_distributions.fetch_add(1, Relaxed);
    }

    /// One more (`true`) or one fewer subscription being delivered to by the built-in hub.
    pub fn hub_delivering(&self, started: bool) {
        if started {
            self.hub_delivering.fetch_add(1, Relaxed);
        } else {
            self.hub_delivering.fetch_sub(1, Relaxed);
        }
    }

    /// Counts a new snapshot whose changed feeds every listener has been told of (WebSub
    /// pings queued, the hub's distribution handed the change).
    pub fn feed_changes_told(&self) {
        self.feed_changes.fetch_add(1, Relaxed);
    }

    /// Where `tidings_websub_pings_pending` is read from: WebSub pings waiting or under way.
    pub fn set_websub_pending(&self, pending: PendingFn) {
        *self.websub_pending.lock().unwrap_or_else(|p| p.into_inner()) = Some(pending);
    }

    /// Replaces the subscriber gauges (complete Prometheus lines, `# HELP` and `# TYPE`
    /// included), written by the counts recorder after each flush.
    pub fn set_subscriber_gauges(&self, text: String) {
        *self.subscriber_gauges.lock().unwrap_or_else(|p| p.into_inner()) = text;
    }

    /// The Prometheus text exposition of every metric; the subscriber gauges only when
    /// `subscribers` (the scraper showed the stats token).
    pub fn render_text(&self, gauges: &Gauges, subscribers: bool) -> String {
        let mut out = String::with_capacity(4096);
        let _ = writeln!(
            out,
            "# HELP tidings_http_requests_total Responses by route kind and status code.\n# TYPE tidings_http_requests_total counter"
        );
        for (r, route) in Route::ALL.iter().enumerate() {
            for (s, count) in self.requests[r].iter().enumerate() {
                let count = count.load(Relaxed);
                if count > 0 {
                    let status = STATUSES.get(s).map_or("other".to_owned(), u16::to_string);
                    let _ = writeln!(
                        out,
                        "tidings_http_requests_total{{route=\"{}\",status=\"{status}\"}} {count}",
                        route.label()
                    );
                }
            }
        }
        let _ = writeln!(
            out,
            "# HELP tidings_http_response_bytes_total Response body bytes sent, by route kind.\n# TYPE tidings_http_response_bytes_total counter"
        );
        for (r, route) in Route::ALL.iter().enumerate() {
            let _ = writeln!(
                out,
                "tidings_http_response_bytes_total{{route=\"{}\"}} {}",
                route.label(),
                self.response_bytes[r].load(Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP tidings_cache_lookups_total Rendered-document cache lookups.\n# TYPE tidings_cache_lookups_total counter"
        );
        let _ = writeln!(out, "tidings_cache_lookups_total{{result=\"hit\"}} {}", self.cache_hits.load(Relaxed));
        let _ = writeln!(out, "tidings_cache_lookups_total{{result=\"miss\"}} {}", self.cache_misses.load(Relaxed));
        let _ = writeln!(
            out,
            "# HELP tidings_render_seconds Time to render and compress one document.\n# TYPE tidings_render_seconds histogram"
        );
        for (bound, bucket) in RENDER_BUCKETS.iter().zip(&self.render_buckets) {
            let _ = writeln!(out, "tidings_render_seconds_bucket{{le=\"{bound}\"}} {}", bucket.load(Relaxed));
        }
        let count = self.render_count.load(Relaxed);
        let _ = writeln!(out, "tidings_render_seconds_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "tidings_render_seconds_sum {}", self.render_micros.load(Relaxed) as f64 / 1e6);
        let _ = writeln!(out, "tidings_render_seconds_count {count}");
        let gauge = |out: &mut String, name: &str, help: &str, value: String| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}");
        };
        gauge(&mut out, "tidings_posts_indexed", "Posts in the current index.", gauges.posts.to_string());
        gauge(&mut out, "tidings_index_generation", "Snapshots built since start.", gauges.generation.to_string());
        gauge(
            &mut out,
            "tidings_cache_bytes",
            "Bytes of rendered bodies and documents kept, as weighed against the budget.",
            gauges.cache_bytes.to_string(),
        );
        gauge(&mut out, "tidings_cache_budget_bytes", "The cache's byte budget.", gauges.cache_budget.to_string());
        #[cfg(feature = "heap-stats")]
        {
            let (live, peak) = (crate::heap_stats::live_bytes(), crate::heap_stats::peak_bytes());
            gauge(&mut out, "tidings_heap_live_bytes", "Bytes allocated and not freed.", live.to_string());
            gauge(&mut out, "tidings_heap_peak_bytes", "The most bytes allocated at once.", peak.to_string());
        }
        gauge(
            &mut out,
            "tidings_cache_entries",
            "Rendered bodies and documents kept.",
            gauges.cache_entries.to_string(),
        );
        let _ = writeln!(
            out,
            "# HELP tidings_diagnostics Current problems in the content, by severity.\n# TYPE tidings_diagnostics gauge"
        );
        let _ = writeln!(out, "tidings_diagnostics{{severity=\"error\"}} {}", gauges.errors);
        let _ = writeln!(out, "tidings_diagnostics{{severity=\"warning\"}} {}", gauges.warnings);
        let _ = writeln!(out, "# HELP tidings_reloads_total Content reloads.\n# TYPE tidings_reloads_total counter");
        let _ = writeln!(out, "tidings_reloads_total{{result=\"ok\"}} {}", self.reloads_ok.load(Relaxed));
        let _ = writeln!(out, "tidings_reloads_total{{result=\"failed\"}} {}", self.reloads_failed.load(Relaxed));
        gauge(
            &mut out,
            "tidings_last_reload_timestamp_seconds",
            "When the content was last reloaded (Unix time; 0 before the first).",
            self.last_reload_unix.load(Relaxed).to_string(),
        );
        let _ = writeln!(
            out,
            "# HELP tidings_websub_pings_total WebSub hub pings, after retries.\n# TYPE tidings_websub_pings_total counter"
        );
        let _ = writeln!(out, "tidings_websub_pings_total{{result=\"ok\"}} {}", self.websub_ok.load(Relaxed));
        let _ = writeln!(out, "tidings_websub_pings_total{{result=\"failed\"}} {}", self.websub_failed.load(Relaxed));
        let _ = writeln!(
            out,
            "# HELP tidings_refused_connections_total Connections refused for being over the limit.\n# TYPE tidings_refused_connections_total counter"
        );
        let _ = writeln!(out, "tidings_refused_connections_total {}", self.refused_connections.load(Relaxed));
        let _ = writeln!(
            out,
            "# HELP tidings_evicted_connections_total Idle connections closed to make room for new ones (a cap reached).\n# TYPE tidings_evicted_connections_total counter"
        );
        let _ = writeln!(out, "tidings_evicted_connections_total {}", self.evicted_connections.load(Relaxed));
        let _ = writeln!(
            out,
            "# HELP tidings_polls_refused_total Feed fetches without validators refused (429) for coming sooner than --min-poll-interval.\n# TYPE tidings_polls_refused_total counter"
        );
        let _ = writeln!(out, "tidings_polls_refused_total {}", self.polls_refused.load(Relaxed));
        let _ = writeln!(
            out,
            "# HELP tidings_hub_verifications_total Subscription requests to the built-in hub, by whether the subscriber confirmed.\n# TYPE tidings_hub_verifications_total counter"
        );
        let _ = writeln!(
            out,
            "tidings_hub_verifications_total{{result=\"confirmed\"}} {}",
            self.hub_verified.load(Relaxed)
        );
        let _ =
            writeln!(out, "tidings_hub_verifications_total{{result=\"failed\"}} {}", self.hub_unverified.load(Relaxed));
        let _ = writeln!(
            out,
            "# HELP tidings_hub_deliveries_total Feed deliveries by the built-in hub, after retries.\n# TYPE tidings_hub_deliveries_total counter"
        );
        let _ = writeln!(out, "tidings_hub_deliveries_total{{result=\"ok\"}} {}", self.hub_delivered.load(Relaxed));
        let _ =
            writeln!(out, "tidings_hub_deliveries_total{{result=\"failed\"}} {}", self.hub_undelivered.load(Relaxed));
        let _ = writeln!(
            out,
            "# HELP tidings_feed_changes_total New snapshots whose changed feeds every listener (WebSub pings, the built-in hub) was told of.\n# TYPE tidings_feed_changes_total counter\ntidings_feed_changes_total {}",
            self.feed_changes.load(Relaxed)
        );
        let pending = self.websub_pending.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map_or(0, |f| f());
        let _ = writeln!(
            out,
            "# HELP tidings_websub_pings_pending Feeds whose WebSub pings wait or are under way.\n# TYPE tidings_websub_pings_pending gauge\ntidings_websub_pings_pending {pending}"
        );
        let _ = writeln!(
            out,
            "# HELP tidings_hub_distributions_total Changes the built-in hub handed to their subscribers.\n# TYPE tidings_hub_distributions_total counter\ntidings_hub_distributions_total {}",
            self.hub_distributions.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP tidings_hub_deliveries_in_flight Subscriptions the built-in hub is delivering to now.\n# TYPE tidings_hub_deliveries_in_flight gauge\ntidings_hub_deliveries_in_flight {}",
            self.hub_delivering.load(Relaxed)
        );
        if subscribers {
            out.push_str(&self.subscriber_gauges.lock().unwrap_or_else(|p| p.into_inner()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_format() {
        let m = Metrics::default();
        m.request(Route::Feed, 200, 100);
        m.request(Route::Feed, 200, 50);
        m.request(Route::Other, 418, 0);
        m.render(Duration::from_millis(3));
        m.set_subscriber_gauges("tidings_feed_subscribers{feed=\"/feed.atom\",source=\"feedly\"} 7\n".into());
        let gauges = Gauges {
            posts: 3,
            errors: 1,
            warnings: 0,
            generation: 2,
            cache_bytes: 10,
            cache_budget: 20,
            cache_entries: 1,
        };
        // Issue 10: subscriber figures are for those with the stats token only.
        assert!(!m.render_text(&gauges, false).contains("tidings_feed_subscribers"));
        assert!(m.render_text(&gauges, true).contains("source=\"feedly\"} 7\n"));
        let text = m.render_text(&gauges, false);
        assert!(text.contains("tidings_http_requests_total{route=\"feed\",status=\"200\"} 2\n"), "{text}");
        assert!(text.contains("tidings_http_requests_total{route=\"other\",status=\"other\"} 1\n"));
        assert!(text.contains("tidings_http_response_bytes_total{route=\"feed\"} 150\n"));
        assert!(text.contains("tidings_render_seconds_bucket{le=\"0.0025\"} 0\n"));
        assert!(text.contains("tidings_render_seconds_bucket{le=\"0.005\"} 1\n"));
        assert!(text.contains("tidings_posts_indexed 3\n"));
        assert!(text.contains("tidings_diagnostics{severity=\"error\"} 1\n"));
        m.hub_delivering(true);
        m.hub_distribution();
        let text = m.render_text(&gauges, false);
        assert!(
            text.contains("tidings_hub_distributions_total 1\n")
                && text.contains("tidings_hub_deliveries_in_flight 1\n")
        );
        m.hub_delivering(false);
        assert!(m.render_text(&gauges, false).contains("tidings_hub_deliveries_in_flight 0\n"));
        m.feed_changes_told();
        m.set_websub_pending(Box::new(|| 3));
        let text = m.render_text(&gauges, false);
        assert!(text.contains("tidings_feed_changes_total 1\n") && text.contains("tidings_websub_pings_pending 3\n"));
    }
}

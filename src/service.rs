//! The one place the running service is assembled, for `tidings serve` and for the
//! integration tests alike: the content loaded, the database opened when a feature needs it,
//! the features at the edge plugged in (the built-in hub, the subscriber counts, polite
//! polling), and every background task started (scheduled publishing, live reload, `SIGHUP`
//! reload, lease expiry, writing the counts).

#[cfg(feature = "counts")]
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::net::TcpListener;

use crate::app::{App, Reload};
use crate::content::{self, Library, Sources};
#[cfg(feature = "counts")]
use crate::counts::endpoint::StatsPage;
#[cfg(feature = "counts")]
use crate::counts::recorder::Recorder;
#[cfg(feature = "db")]
use crate::db::{Db, DbError};
use crate::diagnostic::Diagnostic;
use crate::hooks::{Endpoint, FeedObserver};
use crate::http::polite::PolitePolling;
use crate::http::{self, Edge, ServerOptions};
#[cfg(feature = "hub")]
use crate::hub::endpoint::{HubDelivery, HubEndpoint};
#[cfg(feature = "hub")]
use crate::hub::service::{HUB_PATH, Hub, HubSettings};
use crate::retry::RetryPolicy;
use crate::watch::{self, Watch, WatchHandle};
use crate::websub::Publisher;

/// Everything the service is told: what to read, which features are on and how they behave.
pub struct Settings {
    /// The content and feeds folders and how they are read.
    pub sources: Sources,
    /// How live reload learns of changed files.
    pub watch: Watch,
    /// Refuse (`429`) full fetches of one feed by one address more often than this.
    pub min_poll_interval: Option<Duration>,
    /// How hard the WebSub hubs the settings name are tried.
    pub websub_retry: RetryPolicy,
    /// The database (`sqlite` file or `postgres://…`), opened only when the hub or the counts
    /// are on.
    #[cfg(feature = "db")]
    pub database: String,
    /// The built-in WebSub hub (`serve --hub`), with its limits.
    #[cfg(feature = "hub")]
    pub hub: Option<HubSettings>,
    /// Subscriber counting (`serve --count-subscribers`).
    #[cfg(feature = "counts")]
    pub counts: Option<CountSettings>,
}

/// How subscriber counts are kept.
#[cfg(feature = "counts")]
pub struct CountSettings {
    /// How often the counts gathered in memory are written.
    pub every: Duration,
    /// Who may read `/stats` and the subscriber gauges of `/metrics`; `None`: nobody.
    pub operator_token: Option<String>,
}

impl Settings {
    /// `serve`'s defaults for `sources`: no hub, no counts, live reload by file events.
    pub fn new(sources: Sources) -> Settings {
        Settings {
            sources,
            watch: Watch::Notify,
            min_poll_interval: None,
            websub_retry: RetryPolicy::WEBSUB,
            #[cfg(feature = "db")]
            database: String::new(),
            #[cfg(feature = "hub")]
            hub: None,
            #[cfg(feature = "counts")]
            counts: None,
        }
    }

    /// Whether a feature that is on keeps its state in the database.
    #[cfg(feature = "db")]
    fn needs_database(&self) -> bool {
        #[cfg(feature = "hub")]
        if self.hub.is_some() {
            return true;
        }
        #[cfg(feature = "counts")]
        if self.counts.is_some() {
            return true;
        }
        false
    }
}

/// A service ready to serve: content loaded, features plugged in, background tasks running.
pub struct Service {
    /// The running state.
    pub app: Arc<App>,
    edge: Arc<Edge>,
    #[cfg(feature = "counts")]
    counts: Option<Counts>,
    _watch: Option<WatchHandle>,
}

/// The counts' writer: what it writes with and where the hub's subscriptions come from.
#[cfg(feature = "counts")]
#[derive(Clone)]
struct Counts {
    recorder: Recorder,
    #[cfg(feature = "hub")]
    hub: Option<Hub>,
    app: Arc<App>,
}

/// Why the service did not start.
#[derive(Debug)]
pub enum StartError {
    /// The database could not be opened, migrated or read (the hub and the counts need it).
    #[cfg(feature = "db")]
    Database(DbError),
    /// The content could not be loaded: a broken configuration or a missing content folder.
    Content(Diagnostic),
    /// Loading the content stopped short (its thread panicked or was cancelled).
    Join(tokio::task::JoinError),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            #[cfg(feature = "db")]
            StartError::Database(e) => write!(f, "{e}"),
            StartError::Content(d) => write!(f, "{d}"),
            StartError::Join(e) => write!(f, "loading content failed: {e}"),
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            #[cfg(feature = "db")]
            StartError::Database(e) => Some(e),
            StartError::Content(_) => None,
            StartError::Join(e) => Some(e),
        }
    }
}

#[cfg(feature = "db")]
impl From<DbError> for StartError {
    fn from(e: DbError) -> StartError {
        StartError::Database(e)
    }
}

/// Why serving stopped other than by the shutdown asked for: the listener failed.
#[derive(Debug)]
pub struct ServeError(pub std::io::Error);

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "server failed: {}", self.0)
    }
}

impl std::error::Error for ServeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl Service {
    /// Opens the database if a feature needs it, loads the content, assembles the service
    /// and starts its background tasks. Must be called within the tokio runtime.
    pub async fn start(settings: Settings) -> Result<Service, StartError> {
        #[cfg(feature = "db")]
        let db = match settings.needs_database() {
            true => {
                let db = Db::open(&settings.database).await?;
                tracing::info!(database = %db.description, "database open");
                Some(db)
            }
            false => None,
        };
        #[allow(unused_mut)]
        let mut sources = settings.sources.clone();
        #[cfg(feature = "hub")]
        {
            sources.own_hub = settings.hub.is_some().then_some(HUB_PATH);
        }
        let library = tokio::task::spawn_blocking(move || Library::load(&sources))
            .await
            .map_err(StartError::Join)?
            .map_err(|content::Fatal(d)| StartError::Content(d))?;
        let (content_dir, feeds_dir) = (library.sources().content_dir.clone(), library.sources().feeds_dir.clone());
        #[allow(unused_mut)]
        let mut app = App::new(library, Utc::now());
        #[allow(unused_mut)]
        let mut publisher = Publisher::new(settings.websub_retry, app.metrics.clone(), app.cache.clone());
        #[allow(unused_mut)]
        let mut endpoints: Vec<Arc<dyn Endpoint>> = Vec::new();
        #[allow(unused_mut)]
        let mut feed_observers: Vec<Arc<dyn FeedObserver>> = Vec::new();
        #[cfg(feature = "hub")]
        #[cfg_attr(not(feature = "counts"), allow(unused_variables))] // the counts writer asks it
        let hub = match (settings.hub, &db) {
            (Some(hub_settings), Some(db)) => {
                let hub = Hub::new(db.clone(), hub_settings, app.metrics.clone());
                tokio::spawn(hub.clone().expire_leases());
                tracing::info!(url = format!("{}{HUB_PATH}", app.index().config.base_url), "WebSub hub on");
                let delivery = HubDelivery { hub: hub.clone(), cache: app.cache.clone() };
                app = app.with_listener(Arc::new(delivery));
                endpoints.push(Arc::new(HubEndpoint(hub.clone())));
                publisher = publisher.with_own_hub(HUB_PATH);
                Some(hub)
            }
            _ => None,
        };
        let app = Arc::new(app.with_listener(Arc::new(publisher)));
        #[allow(unused_mut)]
        let mut operator_token = None;
        #[cfg(feature = "counts")]
        let counts = match (settings.counts, &db) {
            (Some(count_settings), Some(db)) => {
                let recorder = Recorder::new(db.clone(), Utc::now()).await?;
                feed_observers.push(Arc::new(recorder.clone()));
                operator_token = count_settings.operator_token.filter(|t| !t.is_empty());
                if operator_token.is_some() {
                    endpoints.push(Arc::new(StatsPage(recorder.clone())));
                }
                let writer = Counts {
                    recorder,
                    #[cfg(feature = "hub")]
                    hub,
                    app: app.clone(),
                };
                tokio::spawn(writer.clone().write_every(count_settings.every.max(Duration::from_millis(1))));
                Some(writer)
            }
            _ => None,
        };
        tokio::spawn(app.clone().publish_scheduled());
        // Listening for `SIGHUP` before `start` returns: from then on one never ends the process.
        #[cfg(unix)]
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
            Ok(hangups) => drop(tokio::spawn(reload_on_hangup(app.clone(), hangups))),
            Err(e) => tracing::warn!("SIGHUP will not reload: {e}"),
        }
        let watch = watch::spawn(app.clone(), &content_dir, &feeds_dir, settings.watch)
            .map_err(|e| tracing::warn!("live reload is off: {e}; try --watch poll"))
            .ok()
            .flatten();
        let edge = Edge {
            app: app.clone(),
            endpoints,
            feed_observers,
            polite: settings.min_poll_interval.map(PolitePolling::new),
            operator_token,
        };
        Ok(Service {
            app,
            edge: Arc::new(edge),
            #[cfg(feature = "counts")]
            counts,
            _watch: watch,
        })
    }

    /// Serves on `listener` until `shutdown` completes, lets requests in flight finish, then
    /// writes what was counted since the last write.
    pub async fn serve(
        self,
        listener: TcpListener,
        options: ServerOptions,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), ServeError> {
        http::serve(listener, self.edge.clone(), options, shutdown).await.map_err(ServeError)?;
        #[cfg(feature = "counts")]
        if let Some(counts) = &self.counts {
            counts.flush().await;
        }
        Ok(())
    }
}

#[cfg(feature = "counts")]
impl Counts {
    /// Writes the subscriber counts gathered since the last time, with the hub's live
    /// subscriptions, and refreshes their gauges in `/metrics`.
    async fn flush(&self) {
        let now = Utc::now();
        #[allow(unused_mut)]
        let mut websub = BTreeMap::new();
        #[cfg(feature = "hub")]
        if let Some(hub) = &self.hub {
            match hub.db().subscription_counts(now.timestamp()).await {
                Ok(by_topic) => {
                    let base = self.app.index().config.base_url.clone();
                    for (topic, n) in by_topic {
                        if let Some(path) = topic.strip_prefix(&base) {
                            websub.insert(path.to_owned(), n);
                        }
                    }
                }
                Err(e) => tracing::warn!("hub subscriptions not counted: {e}"),
            }
        }
        match self.recorder.flush(&websub, now).await {
            Ok(gauges) => self.app.metrics.set_subscriber_gauges(gauges),
            Err(e) if e.is_transient() => tracing::warn!("subscriber counts not written (kept for the next try): {e}"),
            Err(e) => tracing::warn!("subscriber counts not written: {e}"),
        }
    }

    /// Writes the counts every `every`, for as long as the process runs.
    async fn write_every(self, every: Duration) {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            self.flush().await;
        }
    }
}

/// Re-reads everything on each `SIGHUP`.
#[cfg(unix)]
async fn reload_on_hangup(app: Arc<App>, mut hangups: tokio::signal::unix::Signal) {
    while hangups.recv().await.is_some() {
        tracing::info!("SIGHUP: reading everything again");
        let reloading = app.clone();
        match tokio::task::spawn_blocking(move || reloading.reload(Reload::Everything)).await {
            Ok(changes) => tracing::info!(
                reread = changes.reread,
                removed = changes.removed,
                config = changes.config,
                "SIGHUP: reloaded"
            ),
            Err(e) => {
                tracing::error!("SIGHUP: reload failed: {e}; the content loaded before stays in force");
                app.metrics.reload(false, Utc::now().timestamp().max(0) as u64);
            }
        }
    }
}

//! The serving layer's plug-in points: what a feature at the service's edge (the built-in
//! WebSub hub, the subscriber counts) implements, so that the router knows only these traits
//! and [`crate::service`] alone knows which features are on.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::{Request, Response};
use http_body_util::Full;

use crate::feed::FeedKey;
use crate::index::Index;
use crate::metrics::Route;

/// The response body type used everywhere.
pub type Body = Full<Bytes>;

/// An error a request body can fail with while it is read.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A request's body as an endpoint reads it (with a limit of its choosing).
pub type RequestBody = http_body_util::combinators::UnsyncBoxBody<Bytes, BoxError>;

/// A response an endpoint is working out.
pub type Answer<'a> = Pin<Box<dyn Future<Output = Response<Body>> + Send + 'a>>;

/// One request to an [`Endpoint`], with what the router knows of it.
pub struct Call {
    /// The request, its body unread.
    pub request: Request<RequestBody>,
    /// Who asks.
    pub peer: IpAddr,
    /// The snapshot in force when the request came in.
    pub index: Arc<Index>,
    /// The request carries the operator's token (`--stats-token`).
    pub operator: bool,
}

/// A path the service answers with a handler of its own, whatever the method.
pub trait Endpoint: Send + Sync {
    /// The path it answers, exactly (no query).
    fn path(&self) -> &'static str;
    /// What `/metrics` counts its requests as.
    fn route(&self) -> Route;
    /// Answers one request.
    fn answer(&self, call: Call) -> Answer<'_>;
}

/// Told of every `200` or `304` answer to the first page of a feed (a poll that found it).
pub trait FeedObserver: Send + Sync {
    /// The feed at `path` was served to `peer`, who sent `user_agent`, at `at`.
    fn feed_served(&self, path: &str, peer: IpAddr, user_agent: &str, at: DateTime<Utc>);
}

/// Told, one swap at a time and in order, which feeds changed when a new snapshot was
/// swapped in (WebSub pings, the built-in hub's deliveries).
pub trait FeedsChanged: Send + Sync {
    /// Whether the change from `old` to `new` concerns it: cheap, it decides whether the
    /// feeds are compared at all.
    fn concerns(&self, old: &Index, new: &Index) -> bool;
    /// The feeds of `keys` (first pages, every format) differ between `old` and `new`. It
    /// must not hold `new` while it waits on the network or a database.
    fn feeds_changed<'a>(
        &'a self,
        old: &'a Index,
        new: &'a Arc<Index>,
        keys: &'a [FeedKey],
    ) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>>;
}

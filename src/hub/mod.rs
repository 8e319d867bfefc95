//! The built-in WebSub hub (W3C WebSub §5–8): subscribers ask it to push the site's feeds to
//! their callbacks. [`request`] reads their requests; [`callback`] talks to their callbacks
//! without letting strangers aim it at private addresses; [`service`] keeps subscriptions and
//! delivers changed feeds; [`limit`], [`breaker`] and [`latest`] keep any one party from
//! taking all of it; [`endpoint`] is its place in the service (`POST /hub`).

pub mod breaker;
pub mod callback;
pub mod endpoint;
pub mod latest;
pub mod limit;
pub mod request;
pub mod service;

//! tidings serves RSS 2.0, Atom 1.0 and JSON Feed 1.1 feeds of a folder of Markdown posts
//! with Jekyll-style front matter: one for the whole site, and one per category, author and
//! tag.
//!
//! This crate is the service around the pure core ([`tidings_core`], re-exported here module
//! by module, so `tidings::content` is the core's `content`): the core turns files into
//! documents; this crate keeps them, serves them, stores state and calls out. A request picks
//! a document out of the current index, finds it in the [`cache`] or renders it, and [`http`]
//! answers.
//!
//! # Layout, lowest first (the core's modules are listed in [`tidings_core`])
//! - [`metrics`], [`heap_stats`], [`offload`], [`retry`], [`coalesce`]: counters for
//!   `/metrics`; a counting allocator for benchmarks; the few threads documents are rendered
//!   and compressed on; how hard outgoing requests are tried; bounded, coalesced background
//!   work.
//! - [`cache`]: rendered documents kept by what they show; one render per miss however many ask.
//! - [`hooks`]: the plug-in points for features at the edge (endpoints, feed observers,
//!   change listeners); [`changes`]: which feeds a new snapshot changed, worked out once.
//! - [`app`], [`watch`]: the running state (current index, scheduled publishing); live reload.
//! - [`http`]: the only code that knows hyper's server.
//! - [`export`]: `tidings build`, the static export.
//! - [`db`] (features `hub`, `counts`): the service's own state in SQLite or PostgreSQL.
//! - [`websub`]: tells WebSub hubs which feeds changed; [`hub`] (feature `hub`): the built-in
//!   hub; [`counts`] (feature `counts`): subscriber counts; [`s3`] (feature `s3`):
//!   `build --upload`; [`probe`]: the health check that needs no curl.
//! - [`service`]: the one place the service is assembled, for `serve` and the tests.
//! - [`cli`]: `serve`, `check`, `build`, `probe`, `stats`; the only code that prints or picks
//!   exit codes.

#![warn(missing_docs)]

pub use tidings_core::{
    cmark_html, config, content, diagnostic, digest, discovery, document, feed, frontmatter, headlines, index, jekyll,
    markdown, representation, sanitize, store, text, yaml,
};

pub mod app;
pub mod cache;
pub mod changes;
pub mod cli;
pub mod coalesce;
#[cfg(feature = "counts")]
pub mod counts;
#[cfg(feature = "db")]
pub mod db;
pub mod export;
pub mod heap_stats;
pub mod hooks;
pub mod http;
#[cfg(feature = "hub")]
pub mod hub;
pub mod metrics;
pub mod offload;
pub mod probe;
pub mod retry;
#[cfg(feature = "s3")]
pub mod s3;
pub mod service;
#[cfg(all(test, feature = "db"))]
mod test_support;
pub mod watch;
pub mod websub;

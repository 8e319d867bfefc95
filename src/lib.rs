//! tidings serves RSS 2.0 and Atom 1.0 feeds of a folder of Markdown posts with Jekyll-style
//! front matter: one for the whole site, and one per category, author and tag.
//!
//! Data flows one way: files' front matter is read into [`content::Post`]s (bodies are
//! rendered when a document shows them); an [`index::Index`] is
//! an immutable snapshot of the visible posts; a request picks a feed out of the current
//! index, finds it in the [`cache`] or renders it through [`feed`], and [`http`] answers.
//!
//! # Layout
//! - [`cli`]: `serve`, `check`, `build`, `probe`; the only code that prints or picks exit codes.
//! - [`config`]: `site.yaml` and the authors table, validated once.
//! - [`content`]: the only code that reads content files; posts and diagnostics.
//! - [`jekyll`]: a Jekyll site's configuration, dates, permalinks, ids and Liquid.
//! - [`markdown`]: Markdown to HTML with absolute URLs; summaries. Pure.
//! - [`sanitize`]: removes scripts, styles, handlers and `javascript:` URLs from post HTML.
//! - [`index`]: posts newest first, by category, author and tag. Pure.
//! - [`feed`]: feed keys and URL paths, the format-neutral model, RSS and Atom writers. Pure.
//! - [`discovery`]: the OPML list and the HTML index page. Pure.
//! - [`headlines`]: `/headlines.json` and the `/embed/…` page for other sites. Pure.
//! - [`document`]: every servable document: how it renders, its fingerprint, its export path.
//! - [`representation`]: a document's bytes as served: compressed twins, entity tags, headers.
//! - [`cache`]: rendered documents kept by what they show; one render per miss however many ask.
//! - [`offload`]: the few threads documents are rendered and compressed on.
//! - [`store`]: one byte budget for rendered bodies and documents.
//! - [`export`]: `tidings build`, the static export.
//! - [`s3`]: `tidings build --upload`, the export sent to S3-compatible storage, only what changed.
//! - [`app`]: the running state: current index, cache, scheduled publishing.
//! - [`hooks`]: the plug-in points for features at the edge (endpoints, feed observers, change listeners).
//! - [`changes`]: which feeds a new snapshot changed, worked out once for every listener.
//! - [`service`]: the one place the service is assembled, for `serve` and the tests.
//! - [`http`]: the only code that knows hyper's server.
//! - [`watch`]: live reload on file changes.
//! - [`websub`]: tells WebSub hubs which feeds changed.
//! - [`hub`]: the built-in WebSub hub: subscription requests and calls to subscribers.
//! - [`metrics`]: counters for `/metrics`.
//! - [`heap_stats`]: a counting allocator, for benchmarks (`/metrics` shows it with the `heap-stats` feature).
//! - [`counts`]: subscriber counts: who announces how many in the User-Agent; the stats table and page. Pure.
//! - [`probe`]: `tidings probe`, the health check that needs no curl.
//! - [`retry`]: how hard outgoing requests (WebSub pings, hub deliveries, S3) are tried: back-off with jitter.
//! - [`coalesce`]: background work by key, bounded and coalesced (WebSub pings).
//! - [`diagnostic`], [`text`], [`yaml`]: small shared helpers.

#![warn(missing_docs)]

pub mod app;
pub mod cache;
pub mod changes;
pub mod cli;
pub mod cmark_html;
pub mod coalesce;
pub mod config;
pub mod content;
#[cfg(feature = "counts")]
pub mod counts;
#[cfg(feature = "db")]
pub mod db;
pub mod diagnostic;
pub mod digest;
pub mod discovery;
pub mod document;
pub mod export;
pub mod feed;
pub mod frontmatter;
pub mod headlines;
pub mod heap_stats;
pub mod hooks;
pub mod http;
#[cfg(feature = "hub")]
pub mod hub;
pub mod index;
pub mod jekyll;
pub mod markdown;
pub mod metrics;
pub mod offload;
pub mod probe;
pub mod representation;
pub mod retry;
#[cfg(feature = "s3")]
pub mod s3;
pub mod sanitize;
pub mod service;
pub mod store;
#[cfg(test)]
mod test_support;
pub mod text;
pub mod watch;
pub mod websub;
pub mod yaml;

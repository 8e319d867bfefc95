//! tidings' core: everything from a post's file to a document's bytes, with no server, no
//! database and no network (its `Cargo.toml` has none of their crates, so the compiler keeps
//! it that way). Files' front matter is read into [`content::Post`]s (bodies are rendered when
//! a document shows them); an [`index::Index`] is an immutable snapshot of the visible posts;
//! a [`document::Document`] renders from an index to bytes ([`representation`]).
//!
//! # Layout, lowest first
//! - [`text`], [`diagnostic`], [`yaml`], [`digest`], [`store`]: small shared helpers; the one
//!   byte-budgeted store of rendered bodies and documents.
//! - [`sanitize`], [`cmark_html`], [`markdown`]: Markdown to safe HTML with absolute URLs;
//!   summaries.
//! - [`frontmatter`]: a post cut into front matter and body; the raw fields.
//! - [`jekyll`]: a Jekyll site's configuration, dates, permalinks, ids, SmartyPants and Liquid.
//! - [`config`]: `site.yaml`, the authors table and curated feeds, validated once.
//! - [`content`]: the only code that reads content files; posts, bodies and diagnostics.
//! - [`index`]: posts newest first, by category, author, tag and curated feed.
//! - [`feed`], [`discovery`], [`headlines`]: feed keys and URLs, RSS, Atom, JSON Feed and
//!   their browser pages; the OPML list and home page; headlines for other sites.
//! - [`document`]: every servable document: how it renders, its fingerprint, its export path.
//! - [`representation`]: a document's bytes as served: compressed twins, entity tags.

#![warn(missing_docs)]

pub mod cmark_html;
pub mod config;
pub mod content;
pub mod diagnostic;
pub mod digest;
pub mod discovery;
pub mod document;
pub mod feed;
pub mod frontmatter;
pub mod headlines;
pub mod index;
pub mod jekyll;
pub mod markdown;
pub mod representation;
pub mod sanitize;
pub mod store;
#[cfg(test)]
mod test_support;
pub mod text;
pub mod yaml;

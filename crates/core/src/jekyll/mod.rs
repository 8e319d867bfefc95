//! Jekyll compatibility: a Jekyll site (`_config.yml`, `_posts/`) is served as it is, with
//! the dates, URLs, ids and feed URLs that Jekyll and jekyll-feed gave it (see `JEKYLL.md`
//! in the shared docs for every rule and where it comes from).
//!
//! - [`config`]: `_config.yml` into the site configuration.
//! - [`date`]: front-matter dates as Ruby's `Time.parse` reads them; post file names; dates in date filters.
//! - [`url`]: permalinks, Jekyll's `slugify`, jekyll-feed's entry ids and titles.
//! - [`smartypants`]: kramdown's SmartyPants (`smartify`) for entry titles.
//! - [`liquid`]: Liquid in post bodies.

pub mod config;
pub mod date;
pub mod liquid;
pub mod smartypants;
pub mod url;

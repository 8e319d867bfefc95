//! tidings' integration tests: real folders, a real server on 127.0.0.1:0, real parsers.

mod bad_input;
mod corpora;
mod export;
mod formats;
mod fuzz;
mod golden;
mod headlines;
mod http;
#[cfg(all(feature = "hub", feature = "counts"))]
mod hub;
mod jekyll;
mod lazy;
mod limits;
mod outside;
mod pipeline;
mod reload;
mod sample_site;
mod support;
mod websub;
mod wellformed;

//! Subscriber counts: who reads the feeds, without storing who they are.
//!
//! Aggregators announce how many of their users follow a feed in the User-Agent of their
//! polls ([`agents`]); every other poller is counted once a day by a salted hash of its
//! address and User-Agent ([`recorder`]); hub subscriptions come from the WebSub hub.
//! [`report`] turns the database's rows into the `tidings stats` table and the `/stats` page;
//! [`endpoint`] plugs the recorder and that page into the service.
//! `agents` and `report` are pure: no I/O and no clock (the day is passed in).

pub mod agents;
pub mod endpoint;
pub mod recorder;
pub mod report;

/// How often, in seconds, the recorder writes the day's counts to the database by default
/// (`--counts-every`); the reports quote it when there is nothing to show yet.
pub const FLUSH_INTERVAL_SECS: u64 = 60;

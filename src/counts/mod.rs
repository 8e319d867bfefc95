//! Subscriber counts: who reads the feeds, without storing who they are.
//!
//! Aggregators announce how many of their users follow a feed in the User-Agent of their
//! polls ([`agents`]); every other poller is counted once a day by a salted hash of its
//! address and User-Agent (the recorder, elsewhere); hub subscriptions come from the WebSub
//! hub. Pure: no I/O and no clock.

pub mod agents;

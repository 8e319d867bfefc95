//! Who reports subscribers in the User-Agent, and how many.
//!
//! Hosted aggregators poll a feed once for all their users and say how many users that is:
//! `Feedly/1.0 (+http://www.feedly.com/fetcher.html; 123 subscribers; like FeedFetcher-Google)`,
//! `Feedbin feed-id:1234 - 7 subscribers`, `NewsBlur Feed Fetcher - 42 subscribers - …/site/1234/…`.
//! The formats, with where each comes from, are the fixture `tests/data/user-agents.txt`,
//! which the tests here check line by line. Self-hosted and desktop readers (Miniflux,
//! FreshRSS, Tiny Tiny RSS, NetNewsWire, browsers) announce nothing: they are other pollers.
//!
//! The count is the first `N subscribers` / `N subscriber` / `N readers` (any case; `1,234`
//! grouping allowed) or `Subscriber Count: N` in the string. Which aggregator said it is the
//! known one (see `KNOWN`) whose name appears first in the string; a count from an unknown
//! one is attributed to [`OTHER`]. Anyone can send any User-Agent, so a count is a
//! claim, not a proof: counts above [`MAX_PLAUSIBLE`] are refused, and User-Agents longer than
//! [`MAX_USER_AGENT`] bytes are not read at all, which bounds the work a request can cause (the
//! regex crate matches in linear time, without backtracking).

use std::sync::LazyLock;

use regex::Regex;

/// A subscriber count an aggregator announced in its User-Agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reported {
    /// Canonical id of the aggregator, e.g. `"feedly"`; [`OTHER`] for an unknown one.
    pub aggregator: &'static str,
    /// The aggregator's own id of the feed when the User-Agent names one (Feedbin's
    /// `feed-id:1234`, NewsBlur's `/site/1234/`, The Old Reader's `feed-id=…`), else `None`.
    /// For [`OTHER`] it is the sender's product token (lowercase, `[a-z0-9.-]`, at most 32
    /// characters), followed by `:` and the feed id if the User-Agent has one, so that two
    /// unknown aggregators polling one feed are two entries, not one overwriting the other.
    pub feed_id: Option<String>,
    /// How many subscribers the aggregator says it polls for.
    pub subscribers: u64,
}

/// The aggregator id of a count from a User-Agent no known aggregator's name appears in.
pub const OTHER: &str = "other";

/// User-Agents longer than this many bytes are not read (none of the real formats comes near).
pub const MAX_USER_AGENT: usize = 1024;

/// Counts above this are not believed: the largest aggregators report tens of thousands. It
/// also caps what one aggregator's announcements add up to for one feed and day (over its
/// feed ids), so that made-up ids cannot multiply it.
pub const MAX_PLAUSIBLE: u64 = 1_000_000;

/// How a known aggregator's id of the feed is written in its User-Agent.
#[derive(Clone, Copy)]
enum FeedId {
    /// It names none.
    None,
    /// After this (lowercase) marker, then optional spaces: letters, digits, `_` and `-`.
    After(&'static str),
}

/// An aggregator that announces counts: its id, its human name, the lowercase text that
/// identifies it in a User-Agent, and where its feed id is.
struct Known {
    id: &'static str,
    name: &'static str,
    marker: &'static str,
    feed_id: FeedId,
}

/// The aggregators known to announce counts (Feedspot is here too: its fetcher announces
/// none today, but a count it sends should carry its name). Sources: the fixture.
const KNOWN: &[Known] = &[
    Known { id: "feedly", name: "Feedly", marker: "feedly", feed_id: FeedId::None },
    Known { id: "inoreader", name: "Inoreader", marker: "inoreader", feed_id: FeedId::None },
    Known { id: "newsblur", name: "NewsBlur", marker: "newsblur", feed_id: FeedId::After("/site/") },
    Known { id: "feedbin", name: "Feedbin", marker: "feedbin", feed_id: FeedId::After("feed-id:") },
    Known { id: "theoldreader", name: "The Old Reader", marker: "theoldreader", feed_id: FeedId::After("feed-id=") },
    Known { id: "bazqux", name: "BazQux Reader", marker: "bazqux", feed_id: FeedId::None },
    Known { id: "netvibes", name: "Netvibes", marker: "netvibes", feed_id: FeedId::After("feedid:") },
    Known { id: "feedhq", name: "FeedHQ", marker: "feedhq", feed_id: FeedId::None },
    Known { id: "feedspot", name: "Feedspot", marker: "feedspot", feed_id: FeedId::None },
    Known { id: "overcast", name: "Overcast", marker: "overcast", feed_id: FeedId::After("feed-id=") },
    Known { id: "dreamwidth", name: "Dreamwidth", marker: "dreamwidth", feed_id: FeedId::None },
    Known { id: "livejournal", name: "LiveJournal", marker: "livejournal", feed_id: FeedId::None },
];

/// Where an unknown aggregator may name its feed id (lowercase markers).
const GENERIC_FEED_ID: &[&str] = &["feed-id=", "feed-id:", "feedid=", "feedid:"];

/// The longest feed id kept; longer ones are cut.
const MAX_FEED_ID: usize = 64;

/// The longest product token kept for an unknown aggregator.
const MAX_PRODUCT: usize = 32;

/// `N subscribers`, `N subscriber`, `N readers` (after the start, a space, `(`, `;` or `[`,
/// so `v2 readers` or `12,34 subscribers` give nothing), or `Subscriber Count: N`. A number is
/// at most 15 digits, plain or grouped by commas in threes.
static COUNT: LazyLock<Regex> = LazyLock::new(|| {
    let number = r"(\d{1,3}(?:,\d{3}){1,4}|\d{1,15})";
    Regex::new(&format!(
        r"(?i)(?:^|[\s(;\[]){number}\s+(?:subscribers?|readers?)\b|subscriber\s+count\s*:\s*{number}(?:[^\d,]|$)"
    ))
    .expect("valid regex")
});

/// The count announced by `user_agent`, if any.
pub fn reported(user_agent: &str) -> Option<Reported> {
    if user_agent.len() > MAX_USER_AGENT {
        return None;
    }
    let caps = COUNT.captures(user_agent)?;
    let digits = caps.get(1).or_else(|| caps.get(2))?.as_str();
    let subscribers: u64 = digits.replace(',', "").parse().ok()?;
    if subscribers > MAX_PLAUSIBLE {
        return None;
    }
    // ASCII lowercasing keeps every byte where it was, so offsets found in `lower` index
    // `user_agent` too.
    let lower = user_agent.to_ascii_lowercase();
    let known = KNOWN.iter().filter_map(|k| lower.find(k.marker).map(|at| (at, k))).min_by_key(|&(at, _)| at);
    let (aggregator, feed_id) = match known {
        Some((_, k)) => {
            let id = match k.feed_id {
                FeedId::None => None,
                FeedId::After(marker) => id_after(user_agent, &lower, marker),
            };
            (k.id, id)
        }
        None => {
            let id = GENERIC_FEED_ID.iter().find_map(|m| id_after(user_agent, &lower, m));
            let product = product(&lower);
            (
                OTHER,
                Some(match id {
                    Some(id) => format!("{product}:{id}"),
                    None => product,
                }),
            )
        }
    };
    Some(Reported { aggregator, feed_id, subscribers })
}

/// The human name of an aggregator id ("feedly" -> "Feedly"), for tables and pages.
///
/// Unknown ids come back unchanged (they may come from a database: escape them for output).
pub fn display_name(aggregator: &str) -> &str {
    if aggregator == OTHER {
        return "Other";
    }
    KNOWN.iter().find(|k| k.id == aggregator).map_or(aggregator, |k| k.name)
}

/// The feed id written after the first `marker` (lowercase) in `ua`: letters, digits, `_` and
/// `-`, after optional spaces, at most [`MAX_FEED_ID`] of them; `None` if there are none.
fn id_after(ua: &str, lower: &str, marker: &str) -> Option<String> {
    let at = lower.find(marker)? + marker.len();
    let id: String = ua[at..]
        .trim_start_matches(' ')
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
        .take(MAX_FEED_ID)
        .collect();
    (!id.is_empty()).then_some(id)
}

/// The product token of an unknown sender, from its lowercased User-Agent: the first word, or the first
/// word after `compatible;` when it starts `Mozilla/`; lowercased, only `[a-z0-9.-]`, at
/// most [`MAX_PRODUCT`] characters, `unknown` when nothing is left.
fn product(lower: &str) -> String {
    let start = match lower.find("compatible;") {
        Some(at) if lower.trim_start().starts_with("mozilla/") => at + "compatible;".len(),
        _ => 0,
    };
    let token: String = lower[start..]
        .trim_start()
        .chars()
        .take_while(|c| !matches!(c, '/' | ';' | '(' | ')') && !c.is_whitespace())
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-'))
        .take(MAX_PRODUCT)
        .collect();
    if token.is_empty() { "unknown".to_owned() } else { token }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixture: every real format, one `User-Agent<TAB>expected` a line.
    const FIXTURE: &str = include_str!("../../tests/data/user-agents.txt");

    /// `expected` as `reported` should give it: `none` or `aggregator feed_id|- subscribers`.
    fn expected(text: &str) -> Option<(String, Option<String>, u64)> {
        if text == "none" {
            return None;
        }
        let parts: Vec<&str> = text.split(' ').collect();
        assert_eq!(parts.len(), 3, "expected `aggregator feed_id|- subscribers` or `none`, got {text:?}");
        let id = (parts[1] != "-").then(|| parts[1].to_owned());
        Some((parts[0].to_owned(), id, parts[2].parse().expect("a number of subscribers")))
    }

    #[test]
    fn fixture_is_the_spec() {
        let mut cases = 0;
        let mut sources = 0;
        for (n, line) in FIXTURE.lines().enumerate() {
            if line.starts_with("# source:") {
                sources += 1;
            }
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let (ua, want) = line.split_once('\t').unwrap_or_else(|| panic!("line {}: no tab in {line:?}", n + 1));
            let got = reported(ua).map(|r| (r.aggregator.to_owned(), r.feed_id, r.subscribers));
            assert_eq!(got, expected(want), "line {}: {ua}", n + 1);
            cases += 1;
        }
        assert!(cases >= 25, "the fixture should have at least 25 cases, has {cases}");
        assert!(sources >= 10, "every group of the fixture names its source");
    }

    #[test]
    fn counts_and_their_limits() {
        let count = |ua: &str| reported(ua).map(|r| r.subscribers);
        assert_eq!(count("Evil/1.0 (1000000 subscribers)"), Some(MAX_PLAUSIBLE));
        assert_eq!(count("Evil/1.0 (1000001 subscribers)"), None);
        assert_eq!(count("Evil/1.0 (99999999 subscribers)"), None);
        assert_eq!(count("Evil/1.0 (1000000000 subscribers)"), None);
        assert_eq!(count("Evil/1.0 (999999999999999 subscribers)"), None);
        assert_eq!(count("Evil/1.0 (99999999999999999999999999 subscribers)"), None, "more digits than u64");
        assert_eq!(count("Evil/1.0 (18446744073709551616 subscribers)"), None, "u64::MAX + 1");
        assert_eq!(count("SomeReader/2.1 (1,204 readers)"), Some(1204));
        assert_eq!(count("SomeReader/2.1 (12,34 subscribers)"), None, "a comma out of place");
        assert_eq!(count("SomeReader/2.1 (1,2345 subscribers)"), None);
        assert_eq!(count("SomeReader/2.1 (v2 readers)"), None);
        assert_eq!(count("SomeReader/2.1 (a2 subscribers)"), None);
        assert_eq!(count("SomeReader/2.1 (0 subscribers)"), Some(0));
        assert_eq!(count("SomeReader/2.1 (7 SUBSCRIBERS)"), Some(7));
        assert_eq!(count("SomeReader/2.1 (7 subscribersfoo)"), None);
        assert_eq!(count("PlainFeeder v0.0.1 (+http://plainfeeder.com/about ; Subscriber Count: 1,500)"), Some(1500));
        assert_eq!(count("PlainFeeder v0.0.1 (Subscriber Count: 1234567890123456)"), None);
        assert_eq!(count("Feedly/1.0 (3 subscribers; 9 subscribers)"), Some(3), "the first count");
        assert_eq!(count(""), None);
        assert_eq!(count("subscribers"), None);
    }

    #[test]
    fn long_and_hostile_user_agents() {
        let padded = |len: usize| {
            let tail = "; 5 subscribers)";
            format!("Feedly/1.0 ({}{tail}", "x".repeat(len - "Feedly/1.0 (".len() - tail.len()))
        };
        assert_eq!(padded(MAX_USER_AGENT).len(), MAX_USER_AGENT);
        assert_eq!(reported(&padded(MAX_USER_AGENT)).map(|r| r.subscribers), Some(5));
        assert_eq!(reported(&padded(MAX_USER_AGENT + 1)), None);
        // Many near-misses: linear work, and nothing found.
        assert_eq!(reported(&"1 subscribe ".repeat(85)), None);
        assert_eq!(reported(&"9".repeat(1000)), None);
        // Non-ASCII around the markers does not shift offsets or panic.
        let r = reported("Ünïcødé feedbin feed-id:42 - 3 subscribers ✓").unwrap();
        assert_eq!((r.aggregator, r.feed_id.as_deref(), r.subscribers), ("feedbin", Some("42"), 3));
        let r = reported("Ωmega/1.0 (2 subscribers; feed-id=ß)").unwrap();
        assert_eq!((r.aggregator, r.feed_id.as_deref()), (OTHER, Some("mega")));
    }

    #[test]
    fn feed_ids_are_bounded_and_clean() {
        let r = reported(&format!("Feedbin feed-id:{} - 1 subscribers", "7".repeat(200))).unwrap();
        assert_eq!(r.feed_id.map(|id| id.len()), Some(MAX_FEED_ID));
        let r = reported("Feedbin feed-id:<script> - 1 subscribers").unwrap();
        assert_eq!(r.feed_id, None);
        let r = reported(&format!("{}/1.0 (4 subscribers)", "Very-Long.Product_Name".repeat(5))).unwrap();
        let product = r.feed_id.unwrap();
        assert_eq!(product.len(), MAX_PRODUCT);
        assert!(product.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-'));
        assert_eq!(reported("(2 subscribers)").unwrap().feed_id.as_deref(), Some("unknown"));
    }

    #[test]
    fn the_first_named_aggregator_is_the_sender() {
        // Feedly's and Feedspot's fetchers say `like FeedFetcher-Google`; NewsBlur's embeds a
        // Safari User-Agent: neither changes who sent it.
        let r = reported("Feedspot/1.0 (+https://www.feedspot.com/fs/fetcher; 3 subscribers; like Feedly)").unwrap();
        assert_eq!(r.aggregator, "feedspot");
    }

    #[test]
    fn display_names() {
        assert_eq!(display_name("feedly"), "Feedly");
        assert_eq!(display_name("theoldreader"), "The Old Reader");
        assert_eq!(display_name(OTHER), "Other");
        assert_eq!(display_name("not-known"), "not-known");
        for k in KNOWN {
            assert_eq!(k.marker, k.marker.to_ascii_lowercase());
            assert!(reported(&format!("{}/1.0 (1 subscriber)", k.name.replace(' ', ""))).is_some());
        }
    }
}

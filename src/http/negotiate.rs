//! `Accept-Encoding` negotiation (RFC 9110 §12.5.3) over the codings the cache stores, and
//! the `Accept` test that tells a browser from a feed reader.

use crate::representation::Coding;

/// Header items as `(token, q)`: `text/html;level=1;q=0.5` → `("text/html", 0.5)`, tokens
/// as written (compare them ignoring case); a malformed q counts as 0. Allocates nothing:
/// it runs on every poll.
fn weighted(header: &str) -> impl Iterator<Item = (&str, f32)> + '_ {
    header.split(',').filter_map(|part| {
        let mut pieces = part.split(';');
        let token = pieces.next().unwrap_or("").trim();
        if token.is_empty() {
            return None;
        }
        let mut q = 1.0f32;
        for param in pieces {
            if let Some((name, value)) = param.split_once('=')
                && name.trim().eq_ignore_ascii_case("q")
            {
                q = value.trim().parse::<f32>().ok().filter(|q| (0.0..=1.0).contains(q)).unwrap_or(0.0);
            }
        }
        Some((token, q))
    })
}

/// Media types a feed reader names in `Accept` when it wants a feed.
const FEED_TYPES: [&str; 8] = [
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/json",
    "application/xml",
    "text/xml",
    "application/rdf+xml",
    "application/x-rss+xml",
];

/// True when a request is a browser navigation, to be shown a page rather than a feed:
/// `Sec-Fetch-Dest: document` (every current browser sends it to https and loopback
/// origins); or, with no `Sec-Fetch-Dest` (plain http elsewhere, older browsers), an `Accept`
/// that names `text/html` with a higher q-value than every feed or XML type it names. A tie
/// goes to the feed, and wildcards make no browser: `*/*` alone is a feed reader.
pub fn is_navigation(sec_fetch_dest: Option<&str>, accept: Option<&str>) -> bool {
    if let Some(dest) = sec_fetch_dest {
        return dest.trim().eq_ignore_ascii_case("document");
    }
    // Most readers name no HTML at all: that answer costs no parsing on the poll path.
    let Some(accept) = accept.filter(|a| a.as_bytes().windows(4).any(|w| w.eq_ignore_ascii_case(b"html"))) else {
        return false;
    };
    let mut html = 0.0f32;
    let mut feed = 0.0f32;
    for (token, q) in weighted(accept) {
        if token.eq_ignore_ascii_case("text/html") {
            html = html.max(q);
        } else if FEED_TYPES.iter().any(|t| token.eq_ignore_ascii_case(t)) {
            feed = feed.max(q);
        }
    }
    html > feed
}

/// The coding to send for an `Accept-Encoding` header value (`None` when the header is
/// absent). The highest q-value wins; ties go to the better compression. Identity is
/// acceptable unless refused (`identity;q=0`, or `*;q=0` without `identity`); when everything
/// is refused, identity is sent anyway, as the RFC allows.
pub fn choose(accept_encoding: Option<&str>) -> Coding {
    let Some(header) = accept_encoding else {
        return Coding::Identity;
    };
    let mut star: Option<f32> = None;
    // The highest q each stored coding is named with, in `Coding::PREFERENCE` order.
    let mut named: [Option<f32>; 3] = [None; 3];
    for (token, q) in weighted(header) {
        if token == "*" {
            star = Some(q);
            continue;
        }
        let slot = Coding::PREFERENCE.iter().position(|coding| {
            token.eq_ignore_ascii_case(coding.token())
                || (*coding == Coding::Gzip && token.eq_ignore_ascii_case("x-gzip"))
        });
        if let Some(slot) = slot {
            named[slot] = Some(named[slot].map_or(q, |known: f32| known.max(q)));
        }
    }
    let mut best = (Coding::Identity, 0.0f32);
    for (coding, named) in Coding::PREFERENCE.into_iter().zip(named) {
        let q = match named {
            Some(q) => q,
            None if coding == Coding::Identity => star.unwrap_or(1.0),
            None => star.unwrap_or(0.0),
        };
        if q > best.1 {
            best = (coding, q);
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation() {
        for (header, expected) in [
            (None, Coding::Identity),
            (Some(""), Coding::Identity),
            (Some("gzip"), Coding::Gzip),
            (Some("gzip, deflate, br"), Coding::Brotli),
            (Some("br;q=0.5, gzip"), Coding::Gzip),
            (Some("gzip;q=0, br;q=0"), Coding::Identity),
            (Some("*"), Coding::Brotli),
            (Some("*;q=0.5, br;q=0"), Coding::Gzip),
            (Some("identity"), Coding::Identity),
            (Some("identity;q=0, gzip;q=0.1"), Coding::Gzip),
            (Some("compress, zstd-unknown"), Coding::Identity),
            (Some("x-gzip"), Coding::Gzip),
            (Some("GZIP;Q=1.0"), Coding::Gzip),
            (Some("gzip;q=nonsense"), Coding::Identity),
            (Some("identity;q=0, *;q=0"), Coding::Identity),
        ] {
            assert_eq!(choose(header), expected, "{header:?}");
        }
    }

    #[test]
    fn navigations_are_told_from_readers() {
        // Real Accept headers: Chromium, Firefox and Safari navigating to a page.
        let chrome = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";
        let firefox = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        let safari = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        for browser in [chrome, firefox, safari, "TEXT/HTML; Q=0.5"] {
            assert!(is_navigation(None, Some(browser)), "{browser}");
            assert!(is_navigation(Some("document"), Some(browser)));
            // A page's script fetching the feed is no navigation, whatever it accepts.
            assert!(!is_navigation(Some("empty"), Some(browser)));
        }
        // SimplePie (FreshRSS, WordPress), and readers that send little or nothing.
        let simplepie = "application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, text/html;q=0.7, unknown/unknown;q=0.1, application/unknown;q=0.1, */*;q=0.1";
        for reader in [
            None,
            Some(simplepie),
            Some("application/atom+xml"),
            Some("text/html;q=0, application/rss+xml"),
            Some("*/*"),
            Some("text/html, application/rss+xml"),
        ] {
            assert!(!is_navigation(None, reader), "{reader:?}");
        }
        assert!(is_navigation(Some(" Document "), None));
    }
}

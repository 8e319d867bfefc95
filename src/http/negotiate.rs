//! `Accept-Encoding` negotiation (RFC 9110 §12.5.3) over the codings the cache stores, and
//! the `Accept` test that tells a browser from a feed reader.

use crate::cache::Coding;

/// Header items as `(token, q)`: `text/html;level=1;q=0.5` → `("text/html", 0.5)`, tokens
/// lower-cased; a malformed q counts as 0.
fn weighted(header: &str) -> impl Iterator<Item = (String, f32)> + '_ {
    header.split(',').filter_map(|part| {
        let mut pieces = part.split(';');
        let token = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
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

/// True when an `Accept` header asks for HTML (`text/html` with a q above 0): a browser's
/// navigation, not a feed reader. `text/html;q=0` refuses HTML.
pub fn wants_html(accept: Option<&str>) -> bool {
    accept.is_some_and(|header| weighted(header).any(|(token, q)| token == "text/html" && q > 0.0))
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
    let mut listed: Vec<(String, f32)> = Vec::new();
    for (token, q) in weighted(header) {
        if token == "*" {
            star = Some(q);
        } else {
            listed.push((token, q));
        }
    }
    let q_of = |coding: Coding| -> f32 {
        let named = listed.iter().filter(|(t, _)| t == coding.token() || (coding == Coding::Gzip && t == "x-gzip"));
        match named.map(|(_, q)| *q).reduce(f32::max) {
            Some(q) => q,
            None if coding == Coding::Identity => star.unwrap_or(1.0),
            None => star.unwrap_or(0.0),
        }
    };
    let mut best = (Coding::Identity, 0.0f32);
    for coding in Coding::PREFERENCE {
        let q = q_of(coding);
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
    fn browsers_ask_for_html() {
        // Issue 10, hardening: `text/html;q=0` refuses HTML; it is no browser.
        let chrome = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8";
        assert!(wants_html(Some(chrome)));
        assert!(wants_html(Some("TEXT/HTML; Q=0.5")));
        for reader in [None, Some("application/atom+xml"), Some("text/html;q=0, application/rss+xml"), Some("*/*")] {
            assert!(!wants_html(reader), "{reader:?}");
        }
    }
}

//! Conditional GET (RFC 9110 §13): does a request's validator match what we would send?

use std::time::SystemTime;

use http::HeaderMap;
use http::header::{IF_MODIFIED_SINCE, IF_NONE_MATCH};

/// True when the client's copy is current and a `304 Not Modified` is the answer. `etags`
/// are the tags of every representation of the current content. `If-None-Match` wins over
/// `If-Modified-Since` when both are sent.
pub fn not_modified(headers: &HeaderMap, etags: &[&str], last_modified: Option<SystemTime>) -> bool {
    if let Some(value) = headers.get(IF_NONE_MATCH) {
        let Ok(value) = value.to_str() else { return false };
        return value.trim() == "*"
            || value.split(',').map(|t| t.trim()).any(|t| etags.contains(&t.strip_prefix("W/").unwrap_or(t)));
    }
    match (headers.get(IF_MODIFIED_SINCE).and_then(|v| v.to_str().ok()), last_modified) {
        (Some(since), Some(modified)) => httpdate::parse_http_date(since).is_ok_and(|since| modified <= since),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (http::HeaderName::from_static(k), v.parse().unwrap())).collect()
    }

    #[test]
    fn entity_tags() {
        let etag = &["\"abc\"", "\"abc-gzip\""][..];
        assert!(not_modified(&headers(&[("if-none-match", "\"abc\"")]), etag, None));
        assert!(not_modified(&headers(&[("if-none-match", "\"x\", W/\"abc\"")]), etag, None));
        assert!(not_modified(&headers(&[("if-none-match", "*")]), etag, None));
        assert!(not_modified(&headers(&[("if-none-match", "\"abc-gzip\"")]), etag, None));
        assert!(!not_modified(&headers(&[("if-none-match", "\"old\"")]), etag, None));
        assert!(!not_modified(&headers(&[]), etag, None));
    }

    #[test]
    fn dates_and_precedence() {
        let modified = SystemTime::UNIX_EPOCH + Duration::from_secs(1_417_564_800); // 2014-12-03
        let at = "Wed, 03 Dec 2014 00:00:00 GMT";
        let after = "Thu, 04 Dec 2014 00:00:00 GMT";
        let before = "Tue, 02 Dec 2014 00:00:00 GMT";
        assert!(not_modified(&headers(&[("if-modified-since", at)]), &["\"e\""], Some(modified)));
        assert!(not_modified(&headers(&[("if-modified-since", after)]), &["\"e\""], Some(modified)));
        assert!(!not_modified(&headers(&[("if-modified-since", before)]), &["\"e\""], Some(modified)));
        assert!(!not_modified(&headers(&[("if-modified-since", "garbage")]), &["\"e\""], Some(modified)));
        // A stale entity tag beats a matching date.
        assert!(!not_modified(
            &headers(&[("if-none-match", "\"old\""), ("if-modified-since", after)]),
            &["\"e\""],
            Some(modified)
        ));
    }
}

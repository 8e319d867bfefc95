//! The small responses every route and endpoint makes: plain text, uncached, not found.

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Response, StatusCode};

use crate::hooks::Body;

/// The index page's and feed pages' policy: their own inline style and nothing else; no framing.
pub const PAGE_CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// A short plain-text response.
pub fn text(status: StatusCode, body: &str) -> Response<Body> {
    plain(status, "text/plain; charset=utf-8", body.to_owned())
}

/// An uncached response with a body and its type.
pub fn plain(status: StatusCode, content_type: &'static str, body: String) -> Response<Body> {
    let mut response = Response::new(Body::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// `response`, marked never to be stored by a cache.
pub fn uncached(mut response: Response<Body>) -> Response<Body> {
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `404`, without the request path: a body that echoes what a stranger sent is a way to
/// put their text on this origin.
pub fn not_found() -> Response<Body> {
    text(StatusCode::NOT_FOUND, "not found: no feed at this URL; see / for the list of feeds\n")
}

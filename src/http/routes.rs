//! Request routing: which resource a request names, and the response for it.

use bytes::Bytes;
use http::header::{
    ACCEPT_ENCODING, ACCESS_CONTROL_ALLOW_ORIGIN, ALLOW, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_SECURITY_POLICY,
    CONTENT_TYPE, ETAG, HeaderMap, HeaderName, HeaderValue, LAST_MODIFIED, LINK, VARY,
};
use http::{Method, Request, Response, StatusCode};

use super::conditional::not_modified;
use super::polite::PolitePolling;
use super::respond::{PAGE_CSP, not_found, plain, text, uncached};
use super::{Client, Edge, negotiate};
use crate::app::App;
use crate::cache::Lookup;
use crate::discovery::OPML_PATH;
use crate::document::Document;
use crate::feed::FeedKey;
use crate::feed::legacy::Legacy;
use crate::headlines;
use crate::hooks::{Answer, Body, Call, Endpoint};
use crate::metrics::Route;
use crate::representation::Coding;

/// Longest request URI accepted; feed URLs are far shorter.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// Answers one request from `client`. Never fails: every problem is a status code.
pub async fn handle<B>(req: Request<B>, edge: &Edge, client: Client) -> Response<Body>
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    // An endpoint's future is boxed (by the endpoint): rare routes with large futures, which
    // would otherwise make every request's future as large as theirs (and copied as often).
    let (route, mut response) = match edge.endpoints.iter().find(|e| e.path() == req.uri().path()) {
        Some(endpoint) => (endpoint.route(), call(endpoint.as_ref(), req, edge, client).await),
        None => route(&req, edge, client).await,
    };
    // No response is ever to be read as another type than the one it says (a 304 has no body).
    if response.status() != StatusCode::NOT_MODIFIED {
        response.headers_mut().insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    }
    let bytes = hyper::body::Body::size_hint(response.body()).exact().unwrap_or(0) as usize;
    edge.app.metrics.request(route, response.status().as_u16(), bytes);
    response
}

/// Hands `req` to `endpoint`, with what the router knows of it.
fn call<'a, B>(endpoint: &'a dyn Endpoint, req: Request<B>, edge: &Edge, client: Client) -> Answer<'a>
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let operator = has_operator_token(&req, edge);
    let request =
        req.map(|body| http_body_util::BodyExt::boxed_unsync(http_body_util::BodyExt::map_err(body, Into::into)));
    endpoint.answer(Call { request, peer: client.peer.ip(), index: edge.app.index(), operator })
}

async fn route<B>(req: &Request<B>, edge: &Edge, client: Client) -> (Route, Response<Body>) {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed: only GET and HEAD\n");
        response.headers_mut().insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return (Route::Other, response);
    }
    let path = req.uri().path();
    if path.len() + req.uri().query().map_or(0, str::len) > MAX_URI_BYTES {
        return (Route::Other, text(StatusCode::URI_TOO_LONG, "URI too long\n"));
    }
    let legacy = || crate::feed::legacy::route(path, req.uri().query(), &edge.app.index().config);
    let document = match path {
        "/" if req.uri().query().is_some_and(|q| q.split('&').any(|p| p.starts_with("feed="))) => match legacy() {
            Some(old) => return (Route::Feed, legacy_response(old, &edge.app)),
            None => Document::Home,
        },
        "/healthz" => return (Route::Ops, text(StatusCode::OK, "ok\n")),
        // The server starts listening only once the first index is loaded.
        "/readyz" => return (Route::Ops, text(StatusCode::OK, "ready\n")),
        "/diagnostics" => return (Route::Ops, diagnostics(&edge.app, client)),
        "/metrics" => return (Route::Ops, metrics(req, edge)),
        "/" => Document::Home,
        OPML_PATH => Document::Opml,
        "/embed.js" => Document::EmbedScript,
        "/headlines.json" => match headlines::parse(&edge.app.index(), req.uri().query(), None) {
            Ok(request) => Document::Headlines(headlines::Request { images: false, ..request }),
            Err(problem) => return (Route::Headlines, headline_problem(&problem)),
        },
        _ if path.starts_with("/embed/") => {
            match headlines::parse(&edge.app.index(), req.uri().query(), Some(&path["/embed".len()..])) {
                Ok(request) => Document::Embed(request),
                Err(problem) => {
                    return (Route::Headlines, text(problem_status(&problem), &format!("{}\n", problem.message())));
                }
            }
        }
        // A feed's browser view at its own address (`/feed.atom.html`), as the static export
        // writes it.
        _ if path.ends_with(".html") => match FeedKey::from_request(&path[..path.len() - 5], req.uri().query()) {
            Ok(Some(key)) => Document::View(key),
            // An old feed URL's page (`/feed.xml.html`), which the export writes beside it.
            Ok(None) => match crate::feed::legacy::route(&path[..path.len() - 5], None, &edge.app.index().config) {
                Some(Legacy::Feed(key)) => Document::View(key),
                _ => return (Route::Other, not_found()),
            },
            Err(bad) => return (Route::View, text(StatusCode::BAD_REQUEST, &format!("{}\n", bad.0))),
        },
        _ => match FeedKey::from_request(path, req.uri().query()) {
            Ok(Some(key)) => Document::Feed(key),
            Ok(None) => match legacy() {
                Some(Legacy::Feed(key)) => Document::Feed(key),
                Some(old) => return (Route::Feed, legacy_response(old, &edge.app)),
                None => return (Route::Other, not_found()),
            },
            Err(bad) => return (Route::Feed, text(StatusCode::BAD_REQUEST, &format!("{}\n", bad.0))),
        },
    };
    // A browser opening a feed's address is shown the feed's page; readers get the feed.
    let at_feed_url = matches!(document, Document::Feed(_));
    let document = match document {
        Document::Feed(key) if is_navigation(req) => Document::View(key),
        other => other,
    };
    let route = match document {
        Document::Feed(_) => Route::Feed,
        Document::View(_) => Route::View,
        Document::Opml => Route::Opml,
        Document::Home => Route::Home,
        Document::EmbedScript => Route::Asset,
        Document::Headlines(_) | Document::Embed(_) => Route::Headlines,
    };
    // Shared caches must keep a feed's page and the feed apart at its URL (see
    // deploy/nginx-replicas.conf for a cache key that does so with two variants instead of one
    // per Accept string).
    let vary = if at_feed_url { "Accept-Encoding, Accept, Sec-Fetch-Dest" } else { "Accept-Encoding" };
    let response = serve_document(req, &edge.app, &document, vary).await;
    if let Document::Feed(key) = &document
        && let Some(policy) = &edge.polite
        && let Some(wait) = too_soon(req, key, &response, policy, client)
    {
        edge.app.metrics.poll_refused();
        return (Route::Feed, too_many_polls(wait, policy));
    }
    if let Document::Feed(key) = &document
        && key.page == 1
        && !edge.feed_observers.is_empty()
        && matches!(response.status(), StatusCode::OK | StatusCode::NOT_MODIFIED)
    {
        let agent = req.headers().get(http::header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
        let (path, now) = (key.path(), chrono::Utc::now());
        for observer in &edge.feed_observers {
            observer.feed_served(&path, client.peer.ip(), agent, now);
        }
    }
    (route, response)
}

/// How long a client that was to be sent the whole body of the feed `key` (`response`) should
/// still wait, under `--min-poll-interval`; `None` when it may have it now. Only a `GET`
/// answered with a full `200` counts: a `304` or a `HEAD` never does.
fn too_soon<B>(
    req: &Request<B>,
    key: &FeedKey,
    response: &Response<Body>,
    policy: &PolitePolling,
    client: Client,
) -> Option<std::time::Duration> {
    if req.method() != Method::GET || response.status() != StatusCode::OK {
        return None;
    }
    // The feed's own URL, whichever old alias or query string named it.
    let canonical = FeedKey { alias: None, ..key.clone() }.path_and_query();
    policy.check(client.peer.ip(), &canonical, std::time::Instant::now())
}

/// `429` with `Retry-After` (whole seconds, rounded up) and what to do instead.
fn too_many_polls(wait: std::time::Duration, policy: &PolitePolling) -> Response<Body> {
    let interval = policy.interval().as_secs();
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut response = text(
        StatusCode::TOO_MANY_REQUESTS,
        &format!(
            "too many polls: fetch this feed's whole body at most once every {interval} s from this address, \
             and send If-None-Match / If-Modified-Since with the ETag / Last-Modified you got (a 304 is always \
             answered); retry in {seconds} s\n"
        ),
    );
    let headers = response.headers_mut();
    headers.insert(http::header::RETRY_AFTER, HeaderValue::from(seconds));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Whether the request is a browser navigation (see [`negotiate::is_navigation`]).
fn is_navigation<B>(req: &Request<B>) -> bool {
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    negotiate::is_navigation(header(SEC_FETCH_DEST), header(http::header::ACCEPT))
}

/// A permanent redirect or `410 Gone` for an old feed URL.
fn legacy_response(old: Legacy, app: &App) -> Response<Body> {
    match old {
        Legacy::Redirect(to) => {
            let location = format!("{}{to}", app.index().config.base_url);
            let mut response = text(StatusCode::MOVED_PERMANENTLY, &format!("moved permanently to {location}\n"));
            if let Ok(value) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(http::header::LOCATION, value);
            }
            response
        }
        Legacy::Gone => text(StatusCode::GONE, "gone: this site has no comment feeds\n"),
        // Feeds are served as documents by the caller.
        Legacy::Feed(_) => text(StatusCode::NOT_FOUND, "not found\n"),
    }
}

fn problem_status(problem: &headlines::Problem) -> StatusCode {
    match problem {
        headlines::Problem::UnknownFeed(_) => StatusCode::NOT_FOUND,
        headlines::Problem::BadQuery(_) => StatusCode::BAD_REQUEST,
    }
}

/// A headlines error as JSON, readable by the widget from any origin.
fn headline_problem(problem: &headlines::Problem) -> Response<Body> {
    let body = serde_json::json!({ "error": problem.message() });
    let mut response = plain(problem_status(problem), JSON, format!("{body}\n"));
    response.headers_mut().insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

const JSON: &str = "application/json; charset=utf-8";

/// `/metrics` in the Prometheus text format; the subscriber gauges only for a scraper that
/// has the operator's token (as `/stats` asks it).
fn metrics<B>(req: &Request<B>, edge: &Edge) -> Response<Body> {
    let text = edge.app.metrics_text(has_operator_token(req, edge));
    uncached(plain(StatusCode::OK, "text/plain; version=0.0.4; charset=utf-8", text))
}

/// A cached document, negotiated and validated; `vary` is its `Vary` header.
async fn serve_document<B>(req: &Request<B>, app: &App, document: &Document, vary: &'static str) -> Response<Body> {
    let hit = app.cache.hit(&app.snapshot(), document);
    let found = match hit {
        Some(rendered) => Some((rendered, Lookup::Hit)),
        None => app.cache.get(&app.index(), document).await,
    };
    let Some((rendered, lookup)) = found else {
        return not_found();
    };
    app.metrics.cache(lookup == Lookup::Hit);
    if lookup == Lookup::Miss {
        app.metrics.render(rendered.render_time);
    }
    let coding = negotiate::choose(req.headers().get(ACCEPT_ENCODING).and_then(|v| v.to_str().ok()));
    let unchanged = not_modified(req.headers(), &rendered.etags(), rendered.last_modified);
    // The bytes, compressed now if this coding was never asked for (boxed, as a miss is:
    // once per document and coding); none for a 304.
    let (coding, body) = match rendered.get(coding).ready() {
        _ if unchanged => (coding, Bytes::new()),
        Some(bytes) => (coding, bytes.clone()),
        None => Box::pin(app.cache.body(&rendered, coding)).await,
    };
    // A 304's five headers fit the smallest map (room for six); a 200's map is sized for the
    // most headers a document gets (with `nosniff`, added by `handle`), so that none grows.
    let mut headers = if unchanged { HeaderMap::new() } else { HeaderMap::with_capacity(16) };
    headers.insert(ETAG, rendered.get(coding).etag_value.clone());
    headers.insert(CACHE_CONTROL, rendered.cache_control.clone());
    headers.insert(VARY, HeaderValue::from_static(vary));
    // Public, read-only data that in-browser readers and widgets fetch from other origins.
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    // Sent on 304s too, as nginx does: a reader that keeps only the validators of its latest
    // response would otherwise lose its date and fetch the whole feed next time.
    if let Some(modified) = &rendered.last_modified_value {
        headers.insert(LAST_MODIFIED, modified.clone());
    }
    if unchanged {
        // A 304 carries the validators and what caches update (RFC 9110 15.4.5): the poll
        // aggregators make all day, so nothing more.
        let mut response = Response::new(Body::default());
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        *response.headers_mut() = headers;
        return response;
    }
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(rendered.media_type));
    if coding != Coding::Identity {
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static(coding.token()));
    }
    headers.insert(X_TIDINGS_CACHE, HeaderValue::from_static(if lookup == Lookup::Hit { "hit" } else { "miss" }));
    if matches!(document, Document::Headlines(_) | Document::Embed(_) | Document::EmbedScript) {
        // Loadable by pages that require it of cross-origin resources (COEP).
        headers.insert("cross-origin-resource-policy", HeaderValue::from_static("cross-origin"));
    }
    match document {
        Document::Embed(_) => {
            headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(headlines::EMBED_CSP));
        }
        Document::Home | Document::View(_) => {
            headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_CSP));
        }
        _ => {}
    }
    let index = app.snapshot();
    if let Document::Feed(key) = document
        && !index.config.websub_hubs.is_empty()
    {
        // WebSub discovery (W3C WebSub §4): the hubs and exactly one self URL.
        for hub in &index.config.websub_hubs {
            if let Ok(value) = HeaderValue::from_str(&format!("<{hub}>; rel=\"hub\"")) {
                headers.append(LINK, value);
            }
        }
        let self_url = format!("{}{}", index.config.base_url, key.path_and_query());
        if let Ok(value) = HeaderValue::from_str(&format!("<{self_url}>; rel=\"self\"")) {
            headers.append(LINK, value);
        }
    }
    let mut response = Response::new(Body::new(body));
    *response.headers_mut() = headers;
    response
}

/// Header names read or set on every poll, made once.
const X_CONTENT_TYPE_OPTIONS: HeaderName = HeaderName::from_static("x-content-type-options");
const X_TIDINGS_CACHE: HeaderName = HeaderName::from_static("x-tidings-cache");
const SEC_FETCH_DEST: HeaderName = HeaderName::from_static("sec-fetch-dest");

/// Whether the request carries the operator's token (`Authorization: Bearer TOKEN` or
/// `?token=TOKEN`); never when none is configured.
fn has_operator_token<B>(req: &Request<B>, edge: &Edge) -> bool {
    let Some(expected) = &edge.operator_token else { return false };
    let bearer = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let query = req.uri().query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "token").map(|(_, v)| v.into_owned())
    });
    let given = bearer.map(str::to_owned).or(query);
    given.is_some_and(|t| constant_time_eq(t.as_bytes(), expected.as_bytes()))
}

/// Whether two byte strings are equal, in time that depends only on their lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Every current problem as JSON (see [`crate::diagnostic::to_json`]).
fn diagnostics(app: &App, client: Client) -> Response<Body> {
    let allowed = match client.diagnostics {
        super::Exposure::Public => true,
        super::Exposure::Local => client.peer.ip().is_loopback(),
        super::Exposure::Off => false,
    };
    if !allowed {
        return not_found();
    }
    let body = crate::diagnostic::to_json(&app.public_diagnostics());
    uncached(plain(StatusCode::OK, JSON, format!("{body:#}\n")))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    /// Every request's future is moved into hyper's connection state and through each await:
    /// the rare routes with large futures (the hub, `/stats` with its database calls) are
    /// boxed, and so are a cache miss and a first compression, so that a poll copies little:
    /// 1,024 bytes, where it was 3,872 with nothing boxed.
    #[test]
    fn a_request_future_stays_small() {
        fn size<F: std::future::Future>(_: &F) -> usize {
            std::mem::size_of::<F>()
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let sources = crate::content::Sources::new(root.join("content"), root.join("feeds"));
        let app = Arc::new(App::new(crate::content::Library::load(&sources).unwrap(), chrono::Utc::now()));
        let edge = Edge::new(app);
        let req = Request::get("/feed.atom").body(http_body_util::Empty::<Bytes>::new()).unwrap();
        let client = Client { peer: "127.0.0.1:1".parse().unwrap(), diagnostics: super::super::Exposure::Public };
        let bytes = size(&handle(req, &edge, client));
        assert!(bytes <= 1024, "a request's future is {bytes} bytes");
    }

    /// Issue 16: by default `/diagnostics` (which names broken posts' files) answers loopback
    /// clients only.
    #[tokio::test]
    async fn diagnostics_answer_only_loopback_clients_by_default() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let sources = crate::content::Sources::new(root.join("content"), root.join("feeds"));
        let app = Arc::new(App::new(crate::content::Library::load(&sources).unwrap(), chrono::Utc::now()));
        let edge = Edge::new(app);
        let exposure = super::super::ServerOptions::default().diagnostics;
        for (peer, status) in [("192.0.2.7:1", StatusCode::NOT_FOUND), ("127.0.0.1:1", StatusCode::OK)] {
            let client = Client { peer: peer.parse().unwrap(), diagnostics: exposure };
            let req = Request::get("/diagnostics").body(http_body_util::Empty::<Bytes>::new()).unwrap();
            assert_eq!(handle(req, &edge, client).await.status(), status, "{peer}");
        }
    }

    /// A 304 carries the validators and what caches update, in a header map that never grew
    /// past its first allocation (room for six).
    #[tokio::test]
    async fn a_304_carries_five_headers_in_the_smallest_map() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let sources = crate::content::Sources::new(root.join("content"), root.join("feeds"));
        let app = Arc::new(App::new(crate::content::Library::load(&sources).unwrap(), chrono::Utc::now()));
        let edge = Edge::new(app);
        let client = Client { peer: "127.0.0.1:1".parse().unwrap(), diagnostics: super::super::Exposure::Public };
        let get = |etag: Option<&str>| {
            let mut req = Request::get("/feed.atom");
            if let Some(etag) = etag {
                req = req.header(http::header::IF_NONE_MATCH, etag);
            }
            req.body(http_body_util::Empty::<Bytes>::new()).unwrap()
        };
        let full = handle(get(None), &edge, client).await;
        let etag = full.headers()[ETAG].to_str().unwrap().to_owned();
        let response = handle(get(Some(&etag)), &edge, client).await;
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
        let mut names: Vec<&str> = response.headers().keys().map(HeaderName::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["access-control-allow-origin", "cache-control", "etag", "last-modified", "vary"]);
        // A map's first insert makes room for six; a map made larger, or grown, has more.
        assert_eq!(response.headers().capacity(), 6);
    }
}

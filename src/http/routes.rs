//! Request routing: which resource a request names, and the response for it.

use bytes::Bytes;
use http::header::{
    ACCEPT_ENCODING, ACCESS_CONTROL_ALLOW_ORIGIN, ALLOW, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_SECURITY_POLICY,
    CONTENT_TYPE, ETAG, HeaderMap, HeaderName, HeaderValue, LAST_MODIFIED, LINK, VARY,
};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;

use super::Client;
use super::conditional::not_modified;
use super::negotiate;
use crate::app::App;
use crate::cache::{Coding, Document, Lookup};
use crate::discovery::OPML_PATH;
use crate::feed::FeedKey;
use crate::feed::legacy::Legacy;
use crate::headlines;
use crate::hub::service::HUB_PATH;
use crate::metrics::Route;

/// Longest request URI accepted; feed URLs are far shorter.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// The response body type used everywhere.
pub type Body = Full<Bytes>;

/// Answers one request from `client`. Never fails: every problem is a status code.
pub async fn handle<B>(req: Request<B>, app: &App, client: Client) -> Response<Body>
where
    B: hyper::body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    // The hub's and `/stats`' futures are boxed: rare routes with large futures, which would
    // otherwise make every request's future as large as theirs (and copied as often).
    let (route, mut response) = if req.uri().path() == HUB_PATH && app.hub.is_some() {
        (Route::Hub, Box::pin(hub(req, app, client)).await)
    } else {
        route(&req, app, client).await
    };
    // No response is ever to be read as another type than the one it says (a 304 has no body).
    if response.status() != StatusCode::NOT_MODIFIED {
        response.headers_mut().insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    }
    let bytes = hyper::body::Body::size_hint(response.body()).exact().unwrap_or(0) as usize;
    app.metrics.request(route, response.status().as_u16(), bytes);
    response
}

async fn route<B>(req: &Request<B>, app: &App, client: Client) -> (Route, Response<Body>) {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed: only GET and HEAD\n");
        response.headers_mut().insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return (Route::Other, response);
    }
    let path = req.uri().path();
    if path.len() + req.uri().query().map_or(0, str::len) > MAX_URI_BYTES {
        return (Route::Other, text(StatusCode::URI_TOO_LONG, "URI too long\n"));
    }
    let legacy = || crate::feed::legacy::route(path, req.uri().query(), &app.index().config);
    let document = match path {
        "/" if req.uri().query().is_some_and(|q| q.split('&').any(|p| p.starts_with("feed="))) => match legacy() {
            Some(old) => return (Route::Feed, legacy_response(old, app)),
            None => Document::Home,
        },
        "/healthz" => return (Route::Ops, text(StatusCode::OK, "ok\n")),
        // The server starts listening only once the first index is loaded.
        "/readyz" => return (Route::Ops, text(StatusCode::OK, "ready\n")),
        "/diagnostics" => return (Route::Ops, diagnostics(app, client)),
        "/metrics" => return (Route::Ops, metrics(req, app)),
        "/stats" => return (Route::Ops, Box::pin(stats(req, app)).await),
        "/" => Document::Home,
        OPML_PATH => Document::Opml,
        "/embed.js" => Document::EmbedScript,
        "/headlines.json" => match headlines::parse(&app.index(), req.uri().query(), None) {
            Ok(request) => Document::Headlines(headlines::Request { images: false, ..request }),
            Err(problem) => return (Route::Headlines, headline_problem(&problem)),
        },
        _ if path.starts_with("/embed/") => {
            match headlines::parse(&app.index(), req.uri().query(), Some(&path["/embed".len()..])) {
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
            Ok(None) => return (Route::Other, not_found()),
            Err(bad) => return (Route::View, text(StatusCode::BAD_REQUEST, &format!("{}\n", bad.0))),
        },
        _ => match FeedKey::from_request(path, req.uri().query()) {
            Ok(Some(key)) => Document::Feed(key),
            Ok(None) => match legacy() {
                Some(Legacy::Feed(key)) => Document::Feed(key),
                Some(old) => return (Route::Feed, legacy_response(old, app)),
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
    let response = serve_document(req, app, &document, vary).await;
    if let Document::Feed(key) = &document
        && let Some(wait) = too_soon(req, key, &response, app, client)
    {
        app.metrics.poll_refused();
        return (Route::Feed, too_many_polls(wait, app));
    }
    if let (Document::Feed(key), Some(counts)) = (&document, &app.counts)
        && key.page == 1
        && matches!(response.status(), StatusCode::OK | StatusCode::NOT_MODIFIED)
    {
        let agent = req.headers().get(http::header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
        counts.record(&key.path(), client.peer.ip(), agent, chrono::Utc::now());
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
    app: &App,
    client: Client,
) -> Option<std::time::Duration> {
    let policy = app.polite.as_ref()?;
    if req.method() != Method::GET || response.status() != StatusCode::OK {
        return None;
    }
    // The feed's own URL, whichever old alias or query string named it.
    let canonical = FeedKey { alias: None, ..key.clone() }.path_and_query();
    policy.check(client.peer.ip(), &canonical, std::time::Instant::now())
}

/// `429` with `Retry-After` (whole seconds, rounded up) and what to do instead.
fn too_many_polls(wait: std::time::Duration, app: &App) -> Response<Body> {
    let interval = app.polite.as_ref().map_or(0, |p| p.interval().as_secs());
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
/// has the stats token (as `/stats` asks it).
fn metrics<B>(req: &Request<B>, app: &App) -> Response<Body> {
    let text = app.metrics_text(has_stats_token(req, app));
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
            headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(HOME_CSP));
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

/// Longest subscription request body the hub reads.
const MAX_HUB_BODY: usize = 16 * 1024;

/// The built-in hub's endpoint: `POST` a subscription request, `202` when it is taken (the
/// verification follows), else the status and why; `client` is who asks.
async fn hub<B>(req: Request<B>, app: &App, client: Client) -> Response<Body>
where
    B: hyper::body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let Some(hub) = &app.hub else { return not_found() };
    if req.method() != Method::POST {
        let mut response = text(
            StatusCode::METHOD_NOT_ALLOWED,
            "this is a WebSub hub: POST hub.mode=subscribe, hub.topic and hub.callback here (W3C WebSub 5.1)\n",
        );
        response.headers_mut().insert(ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let form = req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/x-www-form-urlencoded")
    });
    if !form {
        return text(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the subscription request as application/x-www-form-urlencoded (W3C WebSub 5.1)\n",
        );
    }
    let body = http_body_util::Limited::new(req.into_body(), MAX_HUB_BODY);
    let body =
        match tokio::time::timeout(std::time::Duration::from_secs(10), http_body_util::BodyExt::collect(body)).await {
            Ok(Ok(collected)) => collected.to_bytes(),
            Ok(Err(e)) => {
                return text(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    &format!("the request body could not be read ({e}); send at most {MAX_HUB_BODY} bytes\n"),
                );
            }
            Err(_) => return text(StatusCode::REQUEST_TIMEOUT, "the request body took longer than 10 s\n"),
        };
    match hub.take(&body, &app.index(), client.peer.ip()).await {
        Ok(()) => text(
            StatusCode::ACCEPTED,
            "accepted: the hub now asks the callback to confirm with a GET carrying hub.challenge\n",
        ),
        Err(refused) => text(refused.status, &format!("{}\n", refused.message)),
    }
}

/// `/stats`: the subscriber counts page, for those who have the token (`Authorization:
/// Bearer TOKEN` or `?token=TOKEN`); a `401` asking for it when a token is configured, so an
/// operator can tell a mistyped token from a page switched off, which is a `404`.
async fn stats<B>(req: &Request<B>, app: &App) -> Response<Body> {
    let (Some(counts), Some(_)) = (&app.counts, &app.stats_token) else { return not_found() };
    if !has_stats_token(req, app) {
        let mut response = uncached(text(
            StatusCode::UNAUTHORIZED,
            "the subscriber counts need the stats token: send `Authorization: Bearer TOKEN`\n",
        ));
        response
            .headers_mut()
            .insert(http::header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"tidings stats\""));
        return response;
    }
    let today = chrono::Utc::now().date_naive();
    let first = today - chrono::Duration::days(89);
    let rows = match counts.db().counts(first, today, crate::counts::agents::MAX_PLAUSIBLE).await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::error!("/stats: {e}");
            return text(StatusCode::INTERNAL_SERVER_ERROR, "the counts cannot be read from the database right now\n");
        }
    };
    let page = crate::counts::report::page(&rows, today, &app.index().config.title);
    let mut response = uncached(plain(StatusCode::OK, "text/html; charset=utf-8", page));
    response.headers_mut().insert("content-security-policy", HeaderValue::from_static(HOME_CSP));
    response.headers_mut().insert("x-robots-tag", HeaderValue::from_static("noindex"));
    response.headers_mut().insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    response
}

/// Whether the request carries the stats token (`Authorization: Bearer TOKEN` or
/// `?token=TOKEN`); never when none is configured.
fn has_stats_token<B>(req: &Request<B>, app: &App) -> bool {
    let Some(expected) = &app.stats_token else { return false };
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

/// Marks a live status response as not to be stored by caches.
fn uncached(mut response: Response<Body>) -> Response<Body> {
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `404`, without the request path: a body that echoes what a stranger sent is a way to
/// put their text on this origin.
fn not_found() -> Response<Body> {
    text(StatusCode::NOT_FOUND, "not found: no feed at this URL; see / for the list of feeds\n")
}

/// The index page's and feed pages' policy: their own inline style and nothing else; no framing.
const HOME_CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// A short plain-text response.
pub fn text(status: StatusCode, body: &str) -> Response<Body> {
    plain(status, "text/plain; charset=utf-8", body.to_owned())
}

/// An uncached response with a body and its type.
fn plain(status: StatusCode, content_type: &'static str, body: String) -> Response<Body> {
    let mut response = Response::new(Body::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

#[cfg(test)]
mod tests {
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
        let app = App::new(crate::content::Library::load(&sources).unwrap(), chrono::Utc::now());
        let req = Request::get("/feed.atom").body(http_body_util::Empty::<Bytes>::new()).unwrap();
        let client = Client { peer: "127.0.0.1:1".parse().unwrap(), diagnostics: super::super::Exposure::Public };
        let bytes = size(&handle(req, &app, client));
        assert!(bytes <= 1024, "a request's future is {bytes} bytes");
    }

    /// Issue 16: by default `/diagnostics` (which names broken posts' files) answers loopback
    /// clients only.
    #[tokio::test]
    async fn diagnostics_answer_only_loopback_clients_by_default() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let sources = crate::content::Sources::new(root.join("content"), root.join("feeds"));
        let app = App::new(crate::content::Library::load(&sources).unwrap(), chrono::Utc::now());
        let exposure = super::super::ServerOptions::default().diagnostics;
        for (peer, status) in [("192.0.2.7:1", StatusCode::NOT_FOUND), ("127.0.0.1:1", StatusCode::OK)] {
            let client = Client { peer: peer.parse().unwrap(), diagnostics: exposure };
            let req = Request::get("/diagnostics").body(http_body_util::Empty::<Bytes>::new()).unwrap();
            assert_eq!(handle(req, &app, client).await.status(), status, "{peer}");
        }
    }

    /// A 304 carries the validators and what caches update, in a header map that never grew
    /// past its first allocation (room for six).
    #[tokio::test]
    async fn a_304_carries_five_headers_in_the_smallest_map() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let sources = crate::content::Sources::new(root.join("content"), root.join("feeds"));
        let app = App::new(crate::content::Library::load(&sources).unwrap(), chrono::Utc::now());
        let client = Client { peer: "127.0.0.1:1".parse().unwrap(), diagnostics: super::super::Exposure::Public };
        let get = |etag: Option<&str>| {
            let mut req = Request::get("/feed.atom");
            if let Some(etag) = etag {
                req = req.header(http::header::IF_NONE_MATCH, etag);
            }
            req.body(http_body_util::Empty::<Bytes>::new()).unwrap()
        };
        let full = handle(get(None), &app, client).await;
        let etag = full.headers()[ETAG].to_str().unwrap().to_owned();
        let response = handle(get(Some(&etag)), &app, client).await;
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
        let mut names: Vec<&str> = response.headers().keys().map(HeaderName::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["access-control-allow-origin", "cache-control", "etag", "last-modified", "vary"]);
        // A map's first insert makes room for six; a map made larger, or grown, has more.
        assert_eq!(response.headers().capacity(), 6);
    }
}

//! Request routing: which resource a request names, and the response for it.

use bytes::Bytes;
use std::time::SystemTime;

use http::header::{
    ACCEPT_ENCODING, ALLOW, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, HeaderValue, LAST_MODIFIED, VARY,
};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;

use super::conditional::not_modified;
use super::negotiate;
use crate::app::App;
use crate::cache::{Coding, Lookup};
use crate::feed::{self, FeedKey};

/// The response body type used everywhere.
pub type Body = Full<Bytes>;

/// Answers one request. Never fails: every problem is a status code.
pub async fn handle<B>(req: Request<B>, app: &App) -> Response<Body> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed: only GET and HEAD\n");
        response.headers_mut().insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let path = req.uri().path();
    match path {
        "/healthz" => text(StatusCode::OK, "ok\n"),
        "/" => home(app),
        _ => match FeedKey::from_path(path) {
            Some(key) => feed(&req, app, &key).await,
            None => not_found(path),
        },
    }
}

async fn feed<B>(req: &Request<B>, app: &App, key: &FeedKey) -> Response<Body> {
    let index = app.index();
    let Some((rendered, lookup)) = app.cache.get(&index, key).await else {
        return not_found(req.uri().path());
    };
    let cache_control = index.config.cache_control();
    let coding = negotiate::choose(req.headers().get(ACCEPT_ENCODING).and_then(|v| v.to_str().ok()));
    let representation = rendered.get(coding);
    let mut response = if not_modified(req.headers(), &rendered.etags(), rendered.last_modified) {
        let mut r = Response::new(Body::default());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        let mut r = Response::new(Body::new(representation.body.clone()));
        r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(rendered.media_type));
        if coding != Coding::Identity {
            r.headers_mut().insert(CONTENT_ENCODING, HeaderValue::from_static(coding.token()));
        }
        r
    };
    add_validators(&mut response, &representation.etag, rendered.last_modified, &cache_control);
    let x_cache = if lookup == Lookup::Hit { "hit" } else { "miss" };
    response.headers_mut().insert("x-cache", HeaderValue::from_static(x_cache));
    response
}

/// `ETag`, `Last-Modified`, `Cache-Control` and `Vary`, sent with both 200 and 304.
fn add_validators(response: &mut Response<Body>, etag: &str, last_modified: Option<SystemTime>, cache_control: &str) {
    let headers = response.headers_mut();
    if let Ok(etag) = HeaderValue::from_str(etag) {
        headers.insert(ETAG, etag);
    }
    if let Some(modified) = last_modified
        && let Ok(value) = HeaderValue::from_str(&httpdate::fmt_http_date(modified))
    {
        headers.insert(LAST_MODIFIED, value);
    }
    if let Ok(value) = HeaderValue::from_str(cache_control) {
        headers.insert(CACHE_CONTROL, value);
    }
    headers.insert(VARY, HeaderValue::from_static("Accept-Encoding"));
}

/// A small HTML page listing every feed.
fn home(app: &App) -> Response<Body> {
    let index = app.index();
    let config = &index.config;
    let mut html = String::new();
    html.push_str("<!DOCTYPE html>\n<html lang=\"");
    html.push_str(&escape(&config.language));
    html.push_str("\">\n<head>\n<meta charset=\"utf-8\">\n<title>");
    html.push_str(&escape(&config.title));
    html.push_str(" — feeds</title>\n");
    for format in feed::Format::ALL {
        let key = FeedKey { scope: feed::Scope::Site, format };
        let media = format.media_type().split(';').next().unwrap_or_default();
        html.push_str(&format!(
            "<link rel=\"alternate\" type=\"{media}\" title=\"{}\" href=\"{}\">\n",
            escape(&config.title),
            escape(&format!("{}{}", config.base_url, key.path()))
        ));
    }
    html.push_str("</head>\n<body>\n<h1>");
    html.push_str(&escape(&config.title));
    html.push_str("</h1>\n<ul>\n");
    for key in feed::all_keys(&index) {
        let path = key.path();
        html.push_str(&format!("<li><a href=\"{0}\">{0}</a></li>\n", escape(&path)));
    }
    html.push_str("</ul>\n</body>\n</html>\n");
    let mut response = Response::new(Body::new(Bytes::from(html)));
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    response
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn not_found(path: &str) -> Response<Body> {
    let shown: String = path.chars().take(200).collect();
    text(StatusCode::NOT_FOUND, &format!("not found: no feed at {shown}; see / for the list of feeds\n"))
}

/// A short plain-text response.
pub fn text(status: StatusCode, body: &str) -> Response<Body> {
    let mut response = Response::new(Body::new(Bytes::from(body.to_owned())));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

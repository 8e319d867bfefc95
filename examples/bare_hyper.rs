//! The serving benchmark's floor (bench/serve.sh): a bare hyper 1 server that answers every
//! request with one file's bytes, from memory, with one `If-None-Match` comparison and no
//! routing, logging or metrics. What tidings' feed path costs beyond hyper itself is the
//! difference between the two in the same run.
//!
//! Usage: `bare_hyper FILE ADDR` — serves FILE (and FILE.gz, when it exists, to clients that
//! accept gzip) at every path on ADDR. Worker threads: `TOKIO_WORKER_THREADS`.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

/// One file's bytes in both codings, with their entity tags.
struct Served {
    identity: (Bytes, HeaderValue),
    gzip: Option<(Bytes, HeaderValue)>,
    media_type: HeaderValue,
}

fn answer(served: &Served, req: &Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    let gzip = req.headers().get(ACCEPT_ENCODING).is_some_and(|v| v.as_bytes().windows(4).any(|w| w == b"gzip"));
    let (body, etag) = match (&served.gzip, gzip) {
        (Some(g), true) => g,
        _ => &served.identity,
    };
    if req.headers().get(IF_NONE_MATCH) == Some(etag) {
        let mut response = Response::new(Full::default());
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        response.headers_mut().insert(ETAG, etag.clone());
        return response;
    }
    let mut response = Response::new(Full::new(body.clone()));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, served.media_type.clone());
    headers.insert(ETAG, etag.clone());
    if gzip && served.gzip.is_some() {
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}

fn tagged(bytes: Vec<u8>, suffix: &str) -> (Bytes, HeaderValue) {
    let hash = xxhash_rust::xxh3::xxh3_64(&bytes);
    let etag = HeaderValue::from_str(&format!("\"{hash:016x}{suffix}\"")).expect("hex is a header value");
    (Bytes::from(bytes), etag)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(file), Some(addr)) = (args.next(), args.next()) else {
        eprintln!("usage: bare_hyper FILE ADDR");
        std::process::exit(2);
    };
    let media_type = match file.rsplit('.').next() {
        Some("atom") => "application/atom+xml",
        Some("rss") => "application/rss+xml",
        Some("json") => "application/feed+json",
        _ => "application/octet-stream",
    };
    let served = Arc::new(Served {
        identity: tagged(std::fs::read(&file)?, ""),
        gzip: std::fs::read(format!("{file}.gz")).ok().map(|b| tagged(b, "-gzip")),
        media_type: HeaderValue::from_static(media_type),
    });
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let served = served.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let response = answer(&served, &req);
                async move { Ok::<_, Infallible>(response) }
            });
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

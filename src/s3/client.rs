//! The few S3 requests the upload makes (ListObjectsV2, HEAD, PUT, DELETE), path-style,
//! signed with SigV4, each attempt bounded by a timeout and retried with backoff on network
//! errors, timeouts, 5xx, 429 and S3's `RequestTimeout`.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::Failure;
use super::listing::{self, Listed};
use super::sigv4::{self, Credentials, Scope};

/// Largest response body read (a ListObjectsV2 page of 1,000 keys is well under 1 MiB).
const MAX_RESPONSE_BYTES: usize = 16 << 20;
/// Longest wait for a TCP (and TLS) connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub use crate::retry::RetryPolicy;

/// Where requests go: scheme and authority, a base path, and the `Host` value signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// `https://s3.us-east-1.amazonaws.com`, without a trailing slash or path.
    origin: String,
    /// A path the service lives under (`/s3`), or empty.
    base_path: String,
    /// The `Host` header: host, and port when not the scheme's default.
    host: String,
}

/// Why a text is not an S3 endpoint; each variant holds the text as given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EndpointError {
    /// Not a URL at all.
    NotUrl {
        /// The text.
        text: String,
        /// What the URL parser found wrong.
        reason: url::ParseError,
    },
    /// A URL of another scheme than http(s), or with a query or a fragment.
    Shape(String),
    /// A URL without a host.
    NoHost(String),
}

impl std::fmt::Display for EndpointError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EndpointError::NotUrl { text, reason } => write!(f, "{text:?} is not a URL: {reason}"),
            EndpointError::Shape(text) => write!(f, "{text:?}: the S3 endpoint must be http(s)://HOST[:PORT][/PATH]"),
            EndpointError::NoHost(text) => write!(f, "{text:?}: the S3 endpoint has no host"),
        }
    }
}

impl std::error::Error for EndpointError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            EndpointError::NotUrl { reason, .. } => Some(reason),
            EndpointError::Shape(_) | EndpointError::NoHost(_) => None,
        }
    }
}

impl Endpoint {
    /// Parses `http(s)://HOST[:PORT][/PATH]`.
    pub fn parse(text: &str) -> Result<Endpoint, EndpointError> {
        let url = url::Url::parse(text).map_err(|reason| EndpointError::NotUrl { text: text.to_owned(), reason })?;
        if !matches!(url.scheme(), "http" | "https") || url.query().is_some() || url.fragment().is_some() {
            return Err(EndpointError::Shape(text.to_owned()));
        }
        let Some(host) = url.host_str() else { return Err(EndpointError::NoHost(text.to_owned())) };
        let host = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        Ok(Endpoint {
            origin: format!("{}://{host}", url.scheme()),
            base_path: url.path().trim_end_matches('/').to_owned(),
            host,
        })
    }

    /// The path of `key` in `bucket` (empty key: the bucket), URI-encoded once as S3 wants.
    pub fn path(&self, bucket: &str, key: &str) -> String {
        let bucket = sigv4::uri_encode(bucket, false);
        if key.is_empty() {
            format!("{}/{bucket}", self.base_path)
        } else {
            format!("{}/{bucket}/{}", self.base_path, sigv4::uri_encode(key, true))
        }
    }
}

/// A response read in full.
#[derive(Debug)]
pub struct Response {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

type HttpsClient = HyperClient<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A signing S3 client for one endpoint, region and key.
#[derive(Clone)]
pub struct Client {
    http: HttpsClient,
    endpoint: Endpoint,
    region: String,
    credentials: Credentials,
    policy: RetryPolicy,
}

impl Client {
    /// A client; must be created within a tokio runtime.
    pub fn new(endpoint: Endpoint, region: String, credentials: Credentials, policy: RetryPolicy) -> Client {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(CONNECT_TIMEOUT));
        connector.enforce_http(false);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        let http = HyperClient::builder(TokioExecutor::new()).build(connector);
        Client { http, endpoint, region, credentials, policy }
    }

    /// `s3://bucket/key`, for messages.
    fn name(bucket: &str, key: &str) -> String {
        format!("s3://{bucket}/{key}")
    }

    /// Every object under `prefix` (ListObjectsV2, every page).
    pub async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<Listed>, Failure> {
        let mut objects = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut query = vec![("list-type", "2"), ("prefix", prefix), ("encoding-type", "url")];
            if let Some(token) = &token {
                query.push(("continuation-token", token));
            }
            let operation = format!("LIST {}", Client::name(bucket, prefix));
            let response = self.send(&operation, Method::GET, bucket, "", &query, &[], Bytes::new()).await?;
            expect(&operation, &response, &[StatusCode::OK])?;
            let page = listing::parse(&response.body).map_err(|e| Failure::new(&operation, e.to_string()))?;
            objects.extend(page.objects);
            match page.next {
                Some(next) if !next.is_empty() => token = Some(next),
                _ => return Ok(objects),
            }
        }
    }

    /// The headers of `key`, or `None` when there is no such object.
    pub async fn head(&self, bucket: &str, key: &str) -> Result<Option<HeaderMap>, Failure> {
        let operation = format!("HEAD {}", Client::name(bucket, key));
        let response = self.send(&operation, Method::HEAD, bucket, key, &[], &[], Bytes::new()).await?;
        if response.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        expect(&operation, &response, &[StatusCode::OK])?;
        Ok(Some(response.headers))
    }

    /// Stores `body` at `key` with `headers` (`content-type`, `x-amz-meta-…`).
    pub async fn put(&self, bucket: &str, key: &str, headers: &[(&str, &str)], body: Bytes) -> Result<(), Failure> {
        let operation = format!("PUT {}", Client::name(bucket, key));
        let response = self.send(&operation, Method::PUT, bucket, key, &[], headers, body).await?;
        expect(&operation, &response, &[StatusCode::OK])
    }

    /// Deletes `key` (a missing key is no error, as in S3).
    pub async fn delete(&self, bucket: &str, key: &str) -> Result<(), Failure> {
        let operation = format!("DELETE {}", Client::name(bucket, key));
        let response = self.send(&operation, Method::DELETE, bucket, key, &[], &[], Bytes::new()).await?;
        expect(&operation, &response, &[StatusCode::NO_CONTENT, StatusCode::OK, StatusCode::NOT_FOUND])
    }

    /// Signs and sends one request, retrying as the policy says; the last answer (whatever
    /// its status) or a failure to get one.
    #[allow(clippy::too_many_arguments)]
    async fn send(
        &self,
        operation: &str,
        method: Method,
        bucket: &str,
        key: &str,
        query: &[(&str, &str)],
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<Response, Failure> {
        let mut attempt = 1;
        loop {
            let outcome =
                tokio::time::timeout(self.policy.timeout, self.attempt(&method, bucket, key, query, headers, &body))
                    .await;
            let failure = match outcome {
                Ok(Ok(response)) if !retryable(&response) || attempt >= self.policy.attempts => return Ok(response),
                Ok(Ok(response)) => response.status.to_string(),
                Ok(Err(e)) => e,
                Err(_) => format!("no answer within {} s", self.policy.timeout.as_secs()),
            };
            if attempt >= self.policy.attempts {
                return Err(Failure::new(operation, format!("{failure} (after {attempt} attempts)")));
            }
            tokio::time::sleep(self.policy.backoff(attempt)).await;
            attempt += 1;
        }
    }

    /// One signed attempt.
    async fn attempt(
        &self,
        method: &Method,
        bucket: &str,
        key: &str,
        query: &[(&str, &str)],
        extra: &[(&str, &str)],
        body: &Bytes,
    ) -> Result<Response, String> {
        let path = self.endpoint.path(bucket, key);
        let query_string = sigv4::canonical_query(query);
        let amz_date = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
        let payload_sha256 = sigv4::sha256_hex(body);
        let mut headers: Vec<(&str, &str)> =
            vec![("host", &self.endpoint.host), ("x-amz-date", &amz_date), ("x-amz-content-sha256", &payload_sha256)];
        if let Some(token) = &self.credentials.session_token {
            headers.push(("x-amz-security-token", token));
        }
        headers.extend_from_slice(extra);
        let scope = Scope { amz_date: &amz_date, region: &self.region, service: "s3" };
        let request = sigv4::Request {
            method: method.as_str(),
            path: &path,
            query,
            headers: &headers,
            payload_sha256: &payload_sha256,
        };
        let authorization = sigv4::authorization(&self.credentials, &scope, &request);
        let uri = if query_string.is_empty() {
            format!("{}{path}", self.endpoint.origin)
        } else {
            format!("{}{path}?{query_string}", self.endpoint.origin)
        };
        let mut builder = http::Request::builder()
            .method(method.clone())
            .uri(uri)
            .header(http::header::AUTHORIZATION, authorization)
            .header(http::header::USER_AGENT, concat!("tidings/", env!("CARGO_PKG_VERSION")));
        for (name, value) in &headers {
            builder = builder.header(*name, *value);
        }
        let request = builder.body(Full::new(body.clone())).map_err(|e| format!("cannot make the request: {e}"))?;
        let response = self.http.request(request).await.map_err(|e| describe_client_error(&e))?;
        let (parts, incoming) = response.into_parts();
        let body = Limited::new(incoming, MAX_RESPONSE_BYTES)
            .collect()
            .await
            .map_err(|e| format!("reading the answer: {e}"))?
            .to_bytes();
        Ok(Response { status: parts.status, headers: parts.headers, body })
    }
}

/// Whether an answer is worth another try: 5xx, 429, or S3's `RequestTimeout` (a 400).
fn retryable(response: &Response) -> bool {
    response.status.is_server_error()
        || response.status == StatusCode::TOO_MANY_REQUESTS
        || (response.status == StatusCode::BAD_REQUEST
            && listing::error(&response.body).is_some_and(|(code, _)| code == "RequestTimeout"))
}

/// `Ok` for an expected status; otherwise the failure, with S3's error code and message.
fn expect(operation: &str, response: &Response, ok: &[StatusCode]) -> Result<(), Failure> {
    if ok.contains(&response.status) {
        return Ok(());
    }
    let status = response.status.as_u16();
    let detail = match listing::error(&response.body) {
        Some((code, message)) if message.is_empty() => format!("{status} {code}"),
        Some((code, message)) => format!("{status} {code}: {message}"),
        None => format!("{status} {}", response.status.canonical_reason().unwrap_or("")).trim_end().to_owned(),
    };
    Err(Failure::new(operation, detail))
}

/// A client error with its causes, on one line (hyper's own message is only "client error").
fn describe_client_error(error: &hyper_util::client::legacy::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_give_origin_host_and_base_path() {
        let e = Endpoint::parse("http://127.0.0.1:18120").unwrap();
        assert_eq!(
            (e.origin.as_str(), e.host.as_str(), e.base_path.as_str()),
            ("http://127.0.0.1:18120", "127.0.0.1:18120", "")
        );
        let e = Endpoint::parse("https://s3.eu-west-1.amazonaws.com:443/").unwrap();
        assert_eq!(
            (e.origin.as_str(), e.host.as_str()),
            ("https://s3.eu-west-1.amazonaws.com", "s3.eu-west-1.amazonaws.com")
        );
        let e = Endpoint::parse("https://storage.example/s3/").unwrap();
        assert_eq!(e.path("b", "a b/c"), "/s3/b/a%20b/c");
        assert!(Endpoint::parse("ftp://x").is_err());
        assert!(Endpoint::parse("s3.amazonaws.com").is_err());
        assert!(Endpoint::parse("http://x/?a=b").is_err());
        assert_eq!(
            Endpoint::parse("s3.amazonaws.com").unwrap_err().to_string(),
            "\"s3.amazonaws.com\" is not a URL: relative URL without a base"
        );
        assert_eq!(Endpoint::parse("ftp://x"), Err(EndpointError::Shape("ftp://x".into())));
        assert_eq!(
            Endpoint::parse("ftp://x").unwrap_err().to_string(),
            "\"ftp://x\": the S3 endpoint must be http(s)://HOST[:PORT][/PATH]"
        );
    }

    #[test]
    fn object_paths_encode_keys_once_and_keep_slashes() {
        let e = Endpoint::parse("http://127.0.0.1:9000").unwrap();
        assert_eq!(e.path("feeds", ""), "/feeds");
        assert_eq!(e.path("feeds", "site/feed.atom"), "/feeds/site/feed.atom");
        assert_eq!(e.path("feeds", "tags/main cat/feed.rss"), "/feeds/tags/main%20cat/feed.rss");
        assert_eq!(e.path("feeds", "tags/café/feed.json"), "/feeds/tags/caf%C3%A9/feed.json");
        assert_eq!(e.path("feeds", "tags/c++/feed.json"), "/feeds/tags/c%2B%2B/feed.json");
        assert_eq!(e.path("feeds", "feed/Main%20Cat.xml"), "/feeds/feed/Main%2520Cat.xml");
    }

    fn response(status: u16, body: &str) -> Response {
        Response {
            status: StatusCode::from_u16(status).unwrap(),
            headers: HeaderMap::new(),
            body: Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn server_errors_throttling_and_request_timeouts_are_retried() {
        assert!(retryable(&response(503, "<Error><Code>SlowDown</Code></Error>")));
        assert!(retryable(&response(500, "")));
        assert!(retryable(&response(429, "")));
        assert!(retryable(&response(400, "<Error><Code>RequestTimeout</Code><Message>m</Message></Error>")));
        assert!(!retryable(&response(400, "<Error><Code>InvalidArgument</Code></Error>")));
        assert!(!retryable(&response(403, "<Error><Code>AccessDenied</Code></Error>")));
    }

    #[test]
    fn failures_say_the_operation_status_code_and_message() {
        let denied = response(
            403,
            "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>",
        );
        let failure = expect("PUT s3://b/feed.atom", &denied, &[StatusCode::OK]).unwrap_err();
        assert_eq!(failure.to_string(), "PUT s3://b/feed.atom: 403 AccessDenied: Access Denied");
        let failure = expect("HEAD s3://b/x", &response(403, ""), &[StatusCode::OK]).unwrap_err();
        assert_eq!(failure.to_string(), "HEAD s3://b/x: 403 Forbidden");
        assert!(expect("DELETE s3://b/x", &response(204, ""), &[StatusCode::NO_CONTENT]).is_ok());
    }
}

//! Calls to subscribers' callbacks (W3C WebSub §5.3 verification of intent, §7 content
//! distribution) without being an SSRF tool: strangers choose the URLs, so the hub resolves
//! the host itself, refuses loopback, private, link-local, multicast and other non-public
//! addresses (unless [`CallbackPolicy::allow_private`]), connects only to an address it has
//! checked, never follows redirects, and bounds time and the bytes it reads.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout, timeout_at};
use tokio_rustls::rustls;
use url::{Host, Position, Url};

use super::limit::{self, KeyedLimit, KeyedPermit};

/// The `User-Agent` of the hub's calls.
pub const USER_AGENT: &str = concat!("tidings/", env!("CARGO_PKG_VERSION"), " (WebSub hub)");

/// Most bytes of a response's status line and headers.
const MAX_HEAD: usize = 16 * 1024;

/// Most host-name lookups (`getaddrinfo`, on tokio's blocking pool) in flight at once, in the
/// whole process. A lookup whose caller gave up still holds its place until the system's
/// resolver returns, so names whose DNS never answers hold at most this many threads.
pub const MAX_LOOKUPS: usize = 8;

/// A host name's addresses, blocking: what [`CallbackPolicy::lookup`] calls.
pub type Lookup = fn(&str, u16) -> std::io::Result<Vec<SocketAddr>>;

/// The system's resolver (`getaddrinfo`).
pub fn system_lookup(name: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
    use std::net::ToSocketAddrs;
    Ok((name, port).to_socket_addrs()?.collect())
}

/// How callbacks are reached.
#[derive(Clone, Debug)]
pub struct CallbackPolicy {
    /// Call loopback, private, link-local and other non-public addresses too (tests, or a hub
    /// on a private network); off by default.
    pub allow_private: bool,
    /// The whole exchange: resolving, connecting, TLS, request, response.
    pub timeout: Duration,
    /// Most bytes of a response body the hub reads (a verification answer is a short challenge).
    pub max_response_bytes: usize,
    /// How host names are resolved (run on tokio's blocking pool, at most [`MAX_LOOKUPS`] at once).
    pub lookup: Lookup,
}

impl CallbackPolicy {
    /// Public addresses only, ten seconds, 64 KiB, the system's resolver.
    pub const DEFAULT: CallbackPolicy = CallbackPolicy {
        allow_private: false,
        timeout: Duration::from_secs(10),
        max_response_bytes: 64 * 1024,
        lookup: system_lookup,
    };
}

impl Default for CallbackPolicy {
    fn default() -> CallbackPolicy {
        CallbackPolicy::DEFAULT
    }
}

/// Why a callback is not contacted.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The URL's scheme is neither http nor https.
    NotHttp,
    /// The URL names no host.
    NoHost,
    /// The host name has no address (the resolver's words).
    Unresolvable(String),
    /// The host is, or resolves to, an address the hub does not call (see [`is_forbidden`]).
    Forbidden(IpAddr),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NotHttp => f.write_str("the callback is not an http:// or https:// URL; subscribe with one"),
            Refusal::NoHost => f.write_str(
                "the callback URL has no host; subscribe with an absolute URL such as https://reader.example/cb",
            ),
            Refusal::Unresolvable(why) => {
                write!(f, "the callback's host cannot be resolved ({why}); check the host name in hub.callback")
            }
            Refusal::Forbidden(ip) => {
                let kind = match why_forbidden(*ip) {
                    Some(Why::Range(kind)) => kind.to_owned(),
                    Some(Why::Inside(v4, kind)) => format!("which carries {v4}, {kind}"),
                    None => "an address this hub does not call".to_owned(),
                };
                write!(
                    f,
                    "callback host resolves to {ip}, {kind}; this hub only calls public addresses \
                     (start with --hub-allow-private to allow it)"
                )
            }
        }
    }
}

impl std::error::Error for Refusal {}

/// Why an address is refused: it is in a range, or it is an IPv6 address that carries a
/// refused IPv4 address (mapped, NAT64, 6to4, Teredo).
enum Why {
    Range(&'static str),
    Inside(Ipv4Addr, &'static str),
}

/// Whether an address is one the hub refuses unless allowed: loopback, private (10/8,
/// 172.16/12, 192.168/16, fc00::/7), link-local (169.254/16, fe80::/10), multicast,
/// unspecified, broadcast, shared (100.64/10), documentation, benchmarking, 0/8, reserved,
/// IPv6 outside global unicast (2000::/3), and IPv6 forms that carry a refused IPv4 address
/// (IPv4-mapped and -compatible, NAT64 64:ff9b::/96, 6to4 2002::/16, Teredo 2001::/32).
pub fn is_forbidden(ip: IpAddr) -> bool {
    why_forbidden(ip).is_some()
}

fn why_forbidden(ip: IpAddr) -> Option<Why> {
    match ip {
        IpAddr::V4(v4) => v4_kind(v4).map(Why::Range),
        IpAddr::V6(v6) => v6_why(v6),
    }
}

fn v4_kind(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip.is_unspecified() => "the unspecified address",
        _ if ip.is_broadcast() => "the broadcast address",
        (0, ..) => "a this-network address (0.0.0.0/8)",
        (127, ..) => "a loopback address",
        (10, ..) | (172, 16..=31, _) | (192, 168, _) => "a private address",
        (100, 64..=127, _) => "a shared (carrier-grade NAT) address",
        (169, 254, _) => "a link-local address",
        (192, 0, 0) => "an IETF protocol address (192.0.0.0/24)",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "a documentation address",
        (192, 88, 99) => "a 6to4 relay address (192.88.99.0/24)",
        (198, 18..=19, _) => "a benchmarking address",
        (224..=239, ..) => "a multicast address",
        (240..=255, ..) => "a reserved address",
        _ => return None,
    })
}

fn v6_why(ip: Ipv6Addr) -> Option<Why> {
    let s = ip.segments();
    let inside = |high: u16, low: u16| {
        let v4 = Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
        v4_kind(v4).map(|kind| Why::Inside(v4, kind))
    };
    let range = |kind| Some(Why::Range(kind));
    if ip.is_unspecified() {
        return range("the unspecified address");
    }
    if ip.is_loopback() {
        return range("a loopback address");
    }
    match s {
        // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (the deprecated compatible form).
        [0, 0, 0, 0, 0, 0xffff | 0, high, low] => inside(high, low),
        // NAT64's well-known prefix; its local-use prefix reaches whatever the local translator does.
        [0x64, 0xff9b, 0, 0, 0, 0, high, low] => inside(high, low),
        [0x64, 0xff9b, 1, ..] => range("a local-use NAT64 address (64:ff9b:1::/48)"),
        [0x2002, high, low, ..] => inside(high, low),
        // Teredo: the client's address, inverted, in the last 32 bits.
        [0x2001, 0, _, _, _, _, high, low] => inside(!high, !low),
        [0x2001, 0xdb8, ..] => range("a documentation address"),
        [0x3fff, second, ..] if second < 0x1000 => range("a documentation address"),
        [0x2001, 2, 0, ..] => range("a benchmarking address"),
        [0x2001, second, ..] if (0x10..0x30).contains(&second) => range("an ORCHID address (not routable)"),
        [first, ..] if first & 0xe000 == 0x2000 => None,
        [first, ..] if first & 0xfe00 == 0xfc00 => range("a unique local (private) address"),
        [first, ..] if first & 0xffc0 == 0xfe80 => range("a link-local address"),
        [first, ..] if first & 0xff00 == 0xff00 => range("a multicast address"),
        _ => range("a reserved address (outside IPv6 global unicast, 2000::/3)"),
    }
}

/// Resolves the callback's host (bounded by the policy's timeout) and returns the addresses to
/// use, or the refusal. Every resolved address must be allowed: a name that resolves to a
/// public and a loopback address is refused. IP literals are checked without resolving.
pub async fn resolve(url: &Url, policy: &CallbackPolicy) -> Result<Vec<SocketAddr>, Refusal> {
    match timeout(policy.timeout, addresses(url, policy)).await {
        Ok(found) => found,
        Err(_) => Err(Refusal::Unresolvable(format!(
            "{}: no answer within {} ms",
            url.host_str().unwrap_or_default(),
            policy.timeout.as_millis()
        ))),
    }
}

/// [`resolve`] without its time bound.
async fn addresses(url: &Url, policy: &CallbackPolicy) -> Result<Vec<SocketAddr>, Refusal> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Refusal::NotHttp);
    }
    let port = url.port_or_known_default().ok_or(Refusal::NotHttp)?;
    let found = match url.host() {
        None => return Err(Refusal::NoHost),
        Some(Host::Domain("")) => return Err(Refusal::NoHost),
        Some(Host::Ipv4(ip)) => vec![SocketAddr::new(ip.into(), port)],
        Some(Host::Ipv6(ip)) => vec![SocketAddr::new(ip.into(), port)],
        Some(Host::Domain(name)) => {
            let resolved = lookup(name, port, policy.lookup).await?;
            let mut found: Vec<SocketAddr> = Vec::new();
            for address in resolved {
                if !found.contains(&address) {
                    found.push(address);
                }
            }
            if found.is_empty() {
                return Err(Refusal::Unresolvable(format!("{name} has no address")));
            }
            found
        }
    };
    if !policy.allow_private
        && let Some(forbidden) = found.iter().find(|address| is_forbidden(address.ip()))
    {
        return Err(Refusal::Forbidden(forbidden.ip()));
    }
    Ok(found)
}

/// `lookup(name, port)` on tokio's blocking pool once one of the [`MAX_LOOKUPS`] places is
/// free; the place is held by the blocking call itself, so it is given back only when the
/// system's resolver returns, even if the caller stopped waiting.
async fn lookup(name: &str, port: u16, resolver: Lookup) -> Result<Vec<SocketAddr>, Refusal> {
    static LOOKUPS: OnceLock<Arc<tokio::sync::Semaphore>> = OnceLock::new();
    let places = LOOKUPS.get_or_init(|| Arc::new(tokio::sync::Semaphore::new(MAX_LOOKUPS)));
    let place = places.clone().acquire_owned().await.map_err(|e| Refusal::Unresolvable(e.to_string()))?;
    let owned = name.to_owned();
    let found = tokio::task::spawn_blocking(move || {
        let found = resolver(&owned, port);
        drop(place);
        found
    })
    .await
    .map_err(|e| Refusal::Unresolvable(format!("{name}: {e}")))?;
    found.map_err(|e| Refusal::Unresolvable(format!("{name}: {e}")))
}

/// What happened when calling a callback.
#[derive(Debug)]
pub enum CallError {
    /// Not contacted: see the refusal.
    Refused(Refusal),
    /// No connection (TCP or TLS) to any of the callback's addresses.
    Connect(String),
    /// The exchange did not finish within the policy's timeout.
    Timeout,
    /// The callback's answer is not usable HTTP/1.1.
    Http(String),
    /// The answer's body is longer than the policy's `max_response_bytes`.
    TooLarge,
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Refused(refusal) => refusal.fmt(f),
            CallError::Connect(why) => write!(f, "cannot connect to the callback: {why}"),
            CallError::Timeout => f.write_str("the callback did not answer in time"),
            CallError::Http(why) => write!(f, "the callback's answer is not usable HTTP: {why}"),
            CallError::TooLarge => f.write_str("the callback's answer is longer than the hub reads"),
        }
    }
}

impl std::error::Error for CallError {}

impl From<Refusal> for CallError {
    fn from(refusal: Refusal) -> CallError {
        CallError::Refused(refusal)
    }
}

/// A GET (verification of intent: the caller builds the query). It connects only to an
/// address from [`resolve`], sends `Host` from the URL, never follows redirects (a 3xx is
/// returned like any status), and reads at most `max_response_bytes` of body, all within the
/// policy's timeout. Returns status and body.
pub async fn get(url: &Url, policy: &CallbackPolicy) -> Result<(StatusCode, Bytes), CallError> {
    let deadline = Instant::now() + policy.timeout;
    let call = call(url, policy, Method::GET, HeaderMap::new(), Bytes::new(), deadline).await?;
    let status = call.response.status();
    let declared = call.response.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok());
    if declared.and_then(|v| v.parse::<u64>().ok()).is_some_and(|n| n > policy.max_response_bytes as u64) {
        return Err(CallError::TooLarge);
    }
    let body = timeout_at(deadline, read_capped(call.response.into_body(), policy.max_response_bytes))
        .await
        .map_err(|_| CallError::Timeout)??;
    Ok((status, body))
}

/// A content distribution POST with the given headers and body, under the rules of [`get`]
/// (`Host` and `User-Agent` are the hub's). The response body is read, at most
/// `max_response_bytes` of it until the deadline, and dropped: the status is the answer.
pub async fn post(
    url: &Url,
    policy: &CallbackPolicy,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, CallError> {
    post_limited(url, policy, headers, body, None).await
}

/// [`post`], holding a place of `per_address` for the address it connects to (its
/// [`limit::address_key`]) from before connecting until the answer is read: however many
/// names point at one address, the hub has at most that many calls to it in flight.
pub async fn post_limited(
    url: &Url,
    policy: &CallbackPolicy,
    headers: HeaderMap,
    body: Bytes,
    per_address: Option<&Arc<KeyedLimit>>,
) -> Result<StatusCode, CallError> {
    let deadline = Instant::now() + policy.timeout;
    let call = call_limited(url, policy, Method::POST, headers, body, deadline, per_address).await?;
    let status = call.response.status();
    let _ = timeout_at(deadline, read_capped(call.response.into_body(), policy.max_response_bytes)).await;
    Ok(status)
}

/// `sha256=<hex>`: the `X-Hub-Signature` of `body` under `secret` (HMAC-SHA256).
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    format!("sha256={}", crate::digest::hex(&crate::digest::hmac_sha256(secret, body)))
}

/// A response whose body is still to be read, and the task that drives its connection
/// (stopped when the call is dropped, read or not).
struct Call {
    response: http::Response<Incoming>,
    _connection: AbortOnDrop,
    _place: Option<KeyedPermit>,
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Resolves and checks, connects to a checked address, does TLS for https, sends the request
/// and waits for the response's head, by `deadline`.
async fn call(
    url: &Url,
    policy: &CallbackPolicy,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
    deadline: Instant,
) -> Result<Call, CallError> {
    call_limited(url, policy, method, headers, body, deadline, None).await
}

/// [`call`], first waiting (by `deadline`) for a place of `per_address` for the first
/// address resolved, which the returned call holds.
async fn call_limited(
    url: &Url,
    policy: &CallbackPolicy,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
    deadline: Instant,
    per_address: Option<&Arc<KeyedLimit>>,
) -> Result<Call, CallError> {
    let request = request(url, method, headers, body)?;
    let addresses = timeout_at(deadline, addresses(url, policy)).await.map_err(|_| CallError::Timeout)??;
    let place = match (per_address, addresses.first()) {
        (Some(places), Some(first)) => Some(
            timeout_at(deadline, places.take(&limit::address_key(first.ip()))).await.map_err(|_| CallError::Timeout)?,
        ),
        _ => None,
    };
    let tcp = connect(&addresses, deadline).await?;
    let exchange = async {
        if url.scheme() == "https" {
            let name = server_name(url)?;
            let tls = tls().connect(name, tcp).await.map_err(|e| CallError::Connect(format!("TLS: {e}")))?;
            send(tls, request).await
        } else {
            send(tcp, request).await
        }
    };
    let mut call = timeout_at(deadline, exchange).await.map_err(|_| CallError::Timeout)??;
    call._place = place;
    Ok(call)
}

/// The request as sent: origin-form target, the caller's headers, then the hub's `Host`,
/// `User-Agent` and `Connection: close`.
fn request(url: &Url, method: Method, headers: HeaderMap, body: Bytes) -> Result<Request<Full<Bytes>>, CallError> {
    let unusable = |e: &dyn fmt::Display| CallError::Http(format!("the callback URL cannot be sent ({e})"));
    let target = &url[Position::BeforePath..Position::AfterQuery];
    let mut request = Request::builder().method(method).uri(target).body(Full::new(body)).map_err(|e| unusable(&e))?;
    let host = match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        (None, _) => return Err(CallError::Refused(Refusal::NoHost)),
    };
    *request.headers_mut() = headers;
    let headers = request.headers_mut();
    headers.insert(header::HOST, HeaderValue::from_str(&host).map_err(|e| unusable(&e))?);
    headers.insert(header::USER_AGENT, HeaderValue::from_static(USER_AGENT));
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    Ok(request)
}

/// A connection to the first address that takes one, each tried for its share of the time left.
async fn connect(addresses: &[SocketAddr], deadline: Instant) -> Result<TcpStream, CallError> {
    let mut failures = Vec::new();
    for (tried, address) in addresses.iter().enumerate() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(CallError::Timeout);
        }
        let share = left / (addresses.len() - tried) as u32;
        match timeout(share, TcpStream::connect(address)).await {
            Ok(Ok(stream)) => {
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Ok(Err(e)) => failures.push(format!("{address}: {e}")),
            Err(_) if tried + 1 == addresses.len() => return Err(CallError::Timeout),
            Err(_) => failures.push(format!("{address}: no answer within {} ms", share.as_millis())),
        }
    }
    Err(CallError::Connect(failures.join("; ")))
}

/// The name the callback's certificate must show: its host name or IP address.
fn server_name(url: &Url) -> Result<rustls::pki_types::ServerName<'static>, CallError> {
    match url.host() {
        Some(Host::Domain(name)) => rustls::pki_types::ServerName::try_from(name.to_owned())
            .map_err(|e| CallError::Connect(format!("TLS: {name} is not a valid server name ({e})"))),
        Some(Host::Ipv4(ip)) => Ok(IpAddr::V4(ip).into()),
        Some(Host::Ipv6(ip)) => Ok(IpAddr::V6(ip).into()),
        None => Err(CallError::Refused(Refusal::NoHost)),
    }
}

/// TLS 1.2 and 1.3 with Mozilla's roots (as the WebSub publisher's client), HTTP/1.1 only.
fn tls() -> tokio_rustls::TlsConnector {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    let config = CONFIG.get_or_init(|| {
        use hyper_rustls::ConfigBuilderExt;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports TLS 1.2 and 1.3")
            .with_webpki_roots()
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(config)
    });
    tokio_rustls::TlsConnector::from(config.clone())
}

/// One HTTP/1.1 request over `io`; the connection is driven by a task of its own.
async fn send<S>(io: S, request: Request<Full<Bytes>>) -> Result<Call, CallError>
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::Builder::new()
        .max_header_size(MAX_HEAD)
        .handshake(TokioIo::new(io))
        .await
        .map_err(|e| CallError::Http(e.to_string()))?;
    let connection = AbortOnDrop(tokio::spawn(async move {
        let _ = connection.await;
    }));
    let response = sender.send_request(request).await.map_err(|e| CallError::Http(e.to_string()))?;
    Ok(Call { response, _connection: connection, _place: None })
}

/// The body, or [`CallError::TooLarge`] as soon as it passes `max` bytes.
async fn read_capped(mut body: Incoming, max: usize) -> Result<Bytes, CallError> {
    let mut read = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| CallError::Http(e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            if read.len() + data.len() > max {
                return Err(CallError::TooLarge);
            }
            read.extend_from_slice(&data);
        }
    }
    Ok(read.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::sync::mpsc;

    /// Lets private addresses through: every server in these tests is on 127.0.0.1.
    fn local(timeout_ms: u64) -> CallbackPolicy {
        CallbackPolicy { allow_private: true, timeout: Duration::from_millis(timeout_ms), ..CallbackPolicy::DEFAULT }
    }

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    /// Reads one request (head, and a body of the declared length) from `stream`.
    fn read_request(stream: &mut std::net::TcpStream) -> Vec<u8> {
        let mut request = Vec::new();
        let mut buffer = [0u8; 4096];
        loop {
            if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
                let length = head
                    .lines()
                    .find_map(|line| line.strip_prefix("content-length:"))
                    .map_or(0, |n| n.trim().parse::<usize>().unwrap());
                if request.len() >= end + 4 + length {
                    return request;
                }
            }
            match stream.read(&mut buffer) {
                Ok(0) | Err(_) => return request,
                Ok(n) => request.extend_from_slice(&buffer[..n]),
            }
        }
    }

    /// A server on 127.0.0.1 that answers one connection with `answer` (after `delay`) and
    /// passes on the request it read.
    fn serve(answer: Vec<u8>, delay: Duration) -> (SocketAddr, mpsc::Receiver<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let (tell, told) = mpsc::channel();
        std::thread::spawn(move || {
            let Ok((mut stream, _)) = listener.accept() else { return };
            let request = read_request(&mut stream);
            let _ = tell.send(String::from_utf8_lossy(&request).into_owned());
            std::thread::sleep(delay);
            let _ = stream.write_all(&answer);
        });
        (address, told)
    }

    /// A listener on 127.0.0.1 that nobody should connect to.
    fn untouched() -> TcpListener {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        listener
    }

    fn assert_never_connected(listener: &TcpListener) {
        match listener.accept() {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            other => panic!("something connected: {other:?}"),
        }
    }

    #[test]
    fn addresses_that_are_not_public_are_forbidden() {
        for forbidden in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "::1",
            "fe80::1",
            "fc00::1",
            "::ffff:127.0.0.1",
            "224.0.0.1",
            "0.0.0.0",
            "100.64.0.1",
            "::",
            "0.1.2.3",
            "255.255.255.255",
            "240.0.0.1",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "192.0.0.170",
            "fd12:3456::1",
            "ff02::1",
            "fec0::1",
            "2001:db8::1",
            "3fff::1",
            "100::1",
            "::ffff:10.1.2.3",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::1",
            "2002:7f00:1::1",
            "2002:a00:1::",
            // Teredo whose client, inverted in the last 32 bits, is 192.168.0.1.
            "2001:0:4136:e378:8000:63bf:3f57:fffe",
        ] {
            assert!(is_forbidden(forbidden.parse().unwrap()), "{forbidden} should be forbidden");
        }
        for allowed in [
            "93.184.216.34",
            "2606:2800:220:1::1",
            "8.8.8.8",
            "172.15.255.255",
            "172.32.0.1",
            "100.128.0.1",
            "192.169.0.1",
            "::ffff:93.184.216.34",
            "64:ff9b::5db8:d822",
            "2002:5db8:d822::1",
            "2001:0:4136:e378:8000:63bf:a247:27dd",
            "2a00:1450:4001:80b::200e",
        ] {
            assert!(!is_forbidden(allowed.parse().unwrap()), "{allowed} should be allowed");
        }
    }

    #[test]
    fn refusals_say_how_to_fix_them() {
        assert_eq!(
            Refusal::Forbidden("10.0.0.1".parse().unwrap()).to_string(),
            "callback host resolves to 10.0.0.1, a private address; this hub only calls public addresses \
             (start with --hub-allow-private to allow it)"
        );
        let mapped = Refusal::Forbidden("::ffff:127.0.0.1".parse().unwrap()).to_string();
        assert!(mapped.starts_with("callback host resolves to ::ffff:127.0.0.1, which carries 127.0.0.1, a loopback"));
        assert!(Refusal::NotHttp.to_string().contains("http:// or https://"));
    }

    #[tokio::test]
    async fn literal_non_public_addresses_are_refused() {
        let policy = CallbackPolicy::DEFAULT;
        for (callback, ip) in [
            ("http://10.0.0.1/cb", "10.0.0.1"),
            ("http://169.254.169.254/latest", "169.254.169.254"),
            ("http://[::1]:9/cb", "::1"),
            ("https://[::ffff:7f00:1]/cb", "::ffff:127.0.0.1"),
            // The URL standard reads these as 127.0.0.1.
            ("http://0x7f.1/cb", "127.0.0.1"),
            ("http://2130706433/cb", "127.0.0.1"),
        ] {
            assert_eq!(resolve(&url(callback), &policy).await, Err(Refusal::Forbidden(ip.parse().unwrap())));
        }
        assert_eq!(resolve(&url("ftp://127.0.0.1/cb"), &policy).await, Err(Refusal::NotHttp));
        assert_eq!(resolve(&url("file:///etc/passwd"), &policy).await, Err(Refusal::NotHttp));
    }

    #[tokio::test]
    async fn loopback_is_refused_before_connecting_by_address_or_by_name() {
        let listener = untouched();
        let port = listener.local_addr().unwrap().port();
        let policy = CallbackPolicy::DEFAULT;
        for callback in [format!("http://127.0.0.1:{port}/cb"), format!("http://localhost:{port}/cb")] {
            let callback = url(&callback);
            match resolve(&callback, &policy).await {
                Err(Refusal::Forbidden(ip)) => assert!(ip.is_loopback(), "{ip}"),
                other => panic!("{callback}: {other:?}"),
            }
            match get(&callback, &policy).await {
                Err(CallError::Refused(Refusal::Forbidden(ip))) => assert!(ip.is_loopback(), "{ip}"),
                other => panic!("{callback}: {other:?}"),
            }
            let post = post(&callback, &policy, HeaderMap::new(), Bytes::from_static(b"feed")).await;
            assert!(matches!(post, Err(CallError::Refused(Refusal::Forbidden(_)))), "{post:?}");
        }
        assert_never_connected(&listener);
        let allowed = resolve(&url(&format!("http://127.0.0.1:{port}/cb")), &local(5000)).await;
        assert_eq!(allowed, Ok(vec![SocketAddr::from(([127, 0, 0, 1], port))]));
    }

    #[tokio::test]
    async fn a_get_sends_host_and_user_agent_and_returns_the_body() {
        let (address, told) = serve(b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\nchallenge".to_vec(), Duration::ZERO);
        let callback = url(&format!("http://{address}/cb?hub.mode=subscribe&hub.challenge=challenge"));
        let (status, body) = get(&callback, &local(5000)).await.unwrap();
        assert_eq!((status, &body[..]), (StatusCode::OK, &b"challenge"[..]));
        let request = told.recv().unwrap().to_ascii_lowercase();
        assert!(request.starts_with("get /cb?hub.mode=subscribe&hub.challenge=challenge http/1.1\r\n"), "{request}");
        assert!(request.contains(&format!("\r\nhost: {address}\r\n")), "{request}");
        assert!(request.contains(&format!("\r\nuser-agent: {}\r\n", USER_AGENT.to_ascii_lowercase())), "{request}");
    }

    #[tokio::test]
    async fn a_post_sends_the_headers_and_body_and_returns_the_status() {
        let (address, told) = serve(b"HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\nok".to_vec(), Duration::ZERO);
        let body = Bytes::from_static(b"<feed/>");
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/atom+xml"));
        headers.insert("x-hub-signature", HeaderValue::from_str(&signature(b"key", &body)).unwrap());
        let status = post(&url(&format!("http://{address}/push")), &local(5000), headers, body).await.unwrap();
        assert_eq!(status, StatusCode::ACCEPTED);
        let request = told.recv().unwrap();
        assert!(request.starts_with("POST /push HTTP/1.1\r\n"), "{request}");
        assert!(request.to_ascii_lowercase().contains("\r\ncontent-type: application/atom+xml\r\n"), "{request}");
        assert!(request.contains(&format!("\r\nx-hub-signature: {}\r\n", signature(b"key", b"<feed/>"))));
        assert!(request.ends_with("\r\n\r\n<feed/>"), "{request}");
    }

    #[tokio::test]
    async fn a_redirect_is_returned_not_followed() {
        let elsewhere = untouched();
        let target = elsewhere.local_addr().unwrap();
        let answer = format!("HTTP/1.1 302 Found\r\nlocation: http://{target}/\r\ncontent-length: 0\r\n\r\n");
        let (address, told) = serve(answer.into_bytes(), Duration::ZERO);
        let (status, _) = get(&url(&format!("http://{address}/cb")), &local(5000)).await.unwrap();
        assert_eq!(status, StatusCode::FOUND);
        told.recv().unwrap();
        assert_never_connected(&elsewhere);
    }

    #[tokio::test]
    async fn a_long_body_is_too_large() {
        let policy = CallbackPolicy { max_response_bytes: 1000, ..local(5000) };
        let body = "x".repeat(1001);
        let declared = format!("HTTP/1.1 200 OK\r\ncontent-length: 1001\r\n\r\n{body}");
        let (address, _told) = serve(declared.into_bytes(), Duration::ZERO);
        assert!(matches!(get(&url(&format!("http://{address}/")), &policy).await, Err(CallError::TooLarge)));
        // No length given: the body runs to the end of the connection.
        let undeclared = format!("HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n{body}");
        let (address, _told) = serve(undeclared.into_bytes(), Duration::ZERO);
        assert!(matches!(get(&url(&format!("http://{address}/")), &policy).await, Err(CallError::TooLarge)));
        let at_limit = format!("HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n{}", &body[1..]);
        let (address, _told) = serve(at_limit.into_bytes(), Duration::ZERO);
        assert_eq!(get(&url(&format!("http://{address}/")), &policy).await.unwrap().1.len(), 1000);
        // A delivery's status counts, however long the answer that follows.
        let (address, _told) = serve(format!("HTTP/1.1 200 OK\r\n\r\n{body}").into_bytes(), Duration::ZERO);
        let delivered = post(&url(&format!("http://{address}/")), &policy, HeaderMap::new(), Bytes::new()).await;
        assert_eq!(delivered.unwrap(), StatusCode::OK);
    }

    #[tokio::test]
    async fn a_silent_callback_times_out() {
        let (address, _told) = serve(b"HTTP/1.1 200 OK\r\n\r\n".to_vec(), Duration::from_secs(3));
        let started = std::time::Instant::now();
        let outcome = get(&url(&format!("http://{address}/cb")), &local(200)).await;
        assert!(matches!(outcome, Err(CallError::Timeout)), "{outcome:?}");
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    }

    #[tokio::test]
    async fn a_closed_port_and_a_server_that_speaks_no_tls_fail_to_connect() {
        let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let outcome = get(&url(&format!("http://{closed}/cb")), &local(5000)).await;
        assert!(matches!(outcome, Err(CallError::Connect(_))), "{outcome:?}");
        // A plain HTTP server answers the TLS greeting at once, with no TLS.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let Ok((mut stream, _)) = listener.accept() else { return };
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n");
            let _ = stream.read(&mut [0u8; 4096]);
        });
        let outcome = get(&url(&format!("https://{address}/cb")), &local(5000)).await;
        assert!(matches!(&outcome, Err(CallError::Connect(why)) if why.starts_with("TLS")), "{outcome:?}");
    }

    /// Lookups of [`hang`] in flight now, and at most so far.
    static HANGING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    static MOST_HANGING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    /// A resolver whose DNS does not answer (for a second and a half).
    fn hang(_: &str, _: u16) -> std::io::Result<Vec<SocketAddr>> {
        use std::sync::atomic::Ordering::SeqCst;
        let now = HANGING.fetch_add(1, SeqCst) + 1;
        MOST_HANGING.fetch_max(now, SeqCst);
        std::thread::sleep(Duration::from_millis(1500));
        HANGING.fetch_sub(1, SeqCst);
        Err(std::io::Error::other("no answer"))
    }

    /// Security finding 9: names whose DNS never answers hold at most [`MAX_LOOKUPS`] threads
    /// of the blocking pool however many callers ask, and each caller gets its answer in time.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn lookups_that_never_answer_hold_a_bounded_number_of_threads() {
        use std::sync::atomic::Ordering::SeqCst;
        let policy = CallbackPolicy { lookup: hang, ..local(200) };
        let started = std::time::Instant::now();
        let callers: Vec<_> = (0..5 * MAX_LOOKUPS)
            .map(|i| {
                let policy = policy.clone();
                tokio::spawn(async move { resolve(&url(&format!("http://n{i}.never.example/cb")), &policy).await })
            })
            .collect();
        for caller in callers {
            let outcome = caller.await.unwrap();
            assert!(matches!(outcome, Err(Refusal::Unresolvable(_))), "{outcome:?}");
        }
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
        assert!(MOST_HANGING.load(SeqCst) <= MAX_LOOKUPS, "{} lookups at once", MOST_HANGING.load(SeqCst));
        assert!(MOST_HANGING.load(SeqCst) >= 1);
    }

    #[test]
    fn the_signature_is_hmac_sha256_in_hex() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}

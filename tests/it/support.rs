//! Test helpers: a real server on 127.0.0.1:0 over a real site folder, and a small HTTP/1.1
//! client that shows exactly what went over the wire.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use tidings::content::Sources;
use tidings::http::ServerOptions;
#[cfg(all(feature = "hub", feature = "counts"))]
use tidings::service::CountSettings;
use tidings::service::{Service, Settings};
use tidings::watch::Watch;
use tidings::websub::RetryPolicy;

/// The folder with the test fixtures.
pub fn data(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(path)
}

/// The repository root (for the sample site in `content/` and `feeds/`).
pub fn root(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The shared corpora folder (`../shared/corpora`), or `None`, with a note that `test` is
/// skipped, on a plain clone with nothing beside it. Under `CI=true` an absent folder fails
/// the test: CI has it and runs every test.
pub fn corpora_dir(test: &str) -> Option<PathBuf> {
    let dir = root("../shared/corpora");
    if dir.is_dir() {
        return Some(dir);
    }
    let missing = format!("{test}: {} is absent (the shared corpora sit beside the repository)", dir.display());
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{missing}; CI runs every test");
    // Straight to stderr: the test harness captures `eprintln!` of passing tests.
    let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("SKIPPED {missing}\n").as_bytes());
    None
}

/// Copies the folder `from` (read-only fixtures, or the shared corpora) into `to`, whole.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in walkdir::WalkDir::new(from).min_depth(1) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A tidings server running on its own runtime and thread; stopped when dropped.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its base URL, `http://127.0.0.1:PORT`.
    pub base_url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// How a test server runs, beside its folders.
struct Setup {
    policy: RetryPolicy,
    options: ServerOptions,
    watch: Watch,
    polite: Option<Duration>,
    #[cfg(feature = "hub")]
    hub: Option<HubSetup>,
}

/// The built-in hub and subscriber counts, for [`TestServer::start_hub`].
#[cfg(feature = "hub")]
pub struct HubSetup {
    /// The SQLite file (or `postgres://…`).
    pub database: String,
    /// Whether callbacks at private addresses are allowed.
    pub allow_private: bool,
    /// Live subscriptions at most per callback address and per callback domain.
    pub max_per_host: u64,
    /// Any other change to the hub's settings (the tests' defaults allow 10,000 requests a
    /// minute per client).
    pub tune: fn(&mut tidings::hub::service::HubSettings),
}

/// The `/stats` token of servers started with [`TestServer::start_hub`].
#[cfg(all(feature = "hub", feature = "counts"))]
pub const STATS_TOKEN: &str = "test-token";

impl Default for Setup {
    fn default() -> Setup {
        Setup {
            policy: RetryPolicy::WEBSUB,
            options: ServerOptions { first_byte_timeout: Duration::from_secs(2), ..ServerOptions::default() },
            watch: Watch::Notify,
            polite: None,
            #[cfg(feature = "hub")]
            hub: None,
        }
    }
}

impl TestServer {
    /// Serves `site_dir/content` and `site_dir/feeds`, with the base URL set to where it listens.
    pub fn start(site_dir: &Path) -> TestServer {
        Self::start_with(&site_dir.join("content"), &site_dir.join("feeds"), None)
    }

    /// Serves the given folders; `base_url` defaults to the server's own address.
    pub fn start_with(content_dir: &Path, feeds_dir: &Path, base_url: Option<&str>) -> TestServer {
        Self::start_with_policy(content_dir, feeds_dir, base_url, RetryPolicy::WEBSUB)
    }

    /// Like [`TestServer::start_with`], with a WebSub retry policy of the test's choosing.
    pub fn start_with_policy(
        content_dir: &Path,
        feeds_dir: &Path,
        base_url: Option<&str>,
        policy: RetryPolicy,
    ) -> TestServer {
        Self::start_inner(content_dir, feeds_dir, base_url, Setup { policy, ..Setup::default() }, |_| {})
    }

    /// Serves `site_dir` with the given connection limits and timeouts.
    pub fn start_with_options(site_dir: &Path, options: ServerOptions) -> TestServer {
        let setup = Setup { options, ..Setup::default() };
        Self::start_inner(&site_dir.join("content"), &site_dir.join("feeds"), None, setup, |_| {})
    }

    /// Serves the given folders with sources the test adjusts (cache budget, render budget).
    pub fn start_tuned(
        content_dir: &Path,
        feeds_dir: &Path,
        base_url: Option<&str>,
        tune: impl FnOnce(&mut Sources),
    ) -> TestServer {
        Self::start_inner(content_dir, feeds_dir, base_url, Setup::default(), tune)
    }

    /// Serves the given folders, learning of changes the way `watch` says.
    pub fn start_watching(content_dir: &Path, feeds_dir: &Path, watch: Watch) -> TestServer {
        Self::start_inner(content_dir, feeds_dir, None, Setup { watch, ..Setup::default() }, |_| {})
    }

    /// Serves `site_dir` with the built-in hub and the given connection limits and timeouts.
    #[cfg(feature = "hub")]
    pub fn start_hub_with_options(site_dir: &Path, hub: HubSetup, options: ServerOptions) -> TestServer {
        let setup = Setup { hub: Some(hub), options, ..Setup::default() };
        Self::start_inner(&site_dir.join("content"), &site_dir.join("feeds"), None, setup, |_| {})
    }

    /// Serves `site_dir` refusing (`429`) full fetches of a feed more often than `interval`.
    pub fn start_polite(site_dir: &Path, interval: Duration) -> TestServer {
        let setup = Setup { polite: Some(interval), ..Setup::default() };
        Self::start_inner(&site_dir.join("content"), &site_dir.join("feeds"), None, setup, |_| {})
    }

    /// Serves `site_dir` with the built-in WebSub hub and subscriber counts (written every
    /// 200 ms), `/stats` open to [`STATS_TOKEN`]; `base_url` defaults to its own address.
    #[cfg(all(feature = "hub", feature = "counts"))]
    pub fn start_hub(site_dir: &Path, hub: HubSetup, base_url: Option<&str>) -> TestServer {
        let setup = Setup { hub: Some(hub), ..Setup::default() };
        Self::start_inner(&site_dir.join("content"), &site_dir.join("feeds"), base_url, setup, |_| {})
    }

    fn start_inner(
        content_dir: &Path,
        feeds_dir: &Path,
        base_url: Option<&str>,
        setup: Setup,
        tune: impl FnOnce(&mut Sources),
    ) -> TestServer {
        let Setup { policy, options, watch, polite, .. } = setup;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let own_url = format!("http://{addr}");
        let base_url = base_url.map_or(own_url, str::to_owned);
        let mut sources = Sources::new(content_dir, feeds_dir);
        sources.base_url = Some(base_url.clone());
        tune(&mut sources);
        let mut settings = Settings::new(sources);
        settings.watch = watch;
        settings.min_poll_interval = polite;
        settings.websub_retry = policy;
        #[cfg(feature = "hub")]
        if let Some(hub) = setup.hub {
            let mut hub_settings = tidings::hub::service::HubSettings::new(hub.allow_private);
            hub_settings.max_per_address = hub.max_per_host;
            hub_settings.max_per_domain = hub.max_per_host;
            hub_settings.requests_per_minute = 10_000;
            hub_settings.retry =
                RetryPolicy { attempts: 2, first_backoff: Duration::from_millis(100), timeout: Duration::from_secs(5) };
            (hub.tune)(&mut hub_settings);
            settings.hub = Some(hub_settings);
            #[cfg(all(feature = "hub", feature = "counts"))]
            {
                let every = Duration::from_millis(200);
                settings.counts = Some(CountSettings { every, operator_token: Some(STATS_TOKEN.to_owned()) });
            }
            settings.database = hub.database;
        }
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready, started) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                // The same assembly `tidings serve` runs: every feature and background task.
                let service = Service::start(settings).await.expect("the service starts");
                ready.send(()).unwrap();
                service
                    .serve(listener, options, async {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        started.recv_timeout(Duration::from_secs(30)).expect("server starts");
        TestServer { addr, base_url, stop: Some(stop), thread: Some(thread) }
    }

    /// GET `path` with no extra headers.
    pub fn get(&self, path: &str) -> Response {
        self.request("GET", path, &[])
    }

    /// Polls `path` until its body contains `text`, for at most `limit`; returns that body.
    pub fn wait_for_text(&self, path: &str, text: &str, limit: Duration) -> Vec<u8> {
        let started = std::time::Instant::now();
        loop {
            let body = self.get(path).body;
            if String::from_utf8_lossy(&body).contains(text) {
                return body;
            }
            assert!(started.elapsed() < limit, "{path} never showed {text:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends one request on a new connection and reads the whole response.
    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Response {
        request(self.addr, method, path, headers)
    }

    #[cfg(all(feature = "hub", feature = "counts"))]
    /// POSTs a form (`application/x-www-form-urlencoded`) of `pairs` to `path`.
    pub fn post_form(&self, path: &str, pairs: &[(&str, &str)]) -> Response {
        let body: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        request_with_body(
            self.addr,
            "POST",
            path,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            body.as_bytes(),
        )
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// An HTTP response as received.
#[derive(Debug)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers, names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    /// The body bytes exactly as sent (not decompressed).
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The body as UTF-8 text.
    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8 body")
    }
}

/// A `/metrics` value of `server`'s (a line `NAME VALUE`).
pub fn metric(server: &TestServer, name: &str) -> u64 {
    let text = server.get("/metrics").text();
    let line = text.lines().find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')));
    line.and_then(|v| v.trim().parse().ok()).unwrap_or_else(|| panic!("no {name} in /metrics:\n{text}"))
}

/// One HTTP/1.1 request with `Connection: close`; the response is read to the end.
pub fn request(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> Response {
    request_with_body(addr, method, path, headers, b"")
}

/// A connection to `addr` from the loopback address `local` (`127.0.0.2` is another client
/// than `127.0.0.1`, on the same machine).
pub fn connect_from(local: std::net::IpAddr, addr: SocketAddr) -> TcpStream {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_io().build().unwrap();
    runtime.block_on(async {
        let socket = if local.is_ipv4() { tokio::net::TcpSocket::new_v4() } else { tokio::net::TcpSocket::new_v6() };
        let socket = socket.expect("socket");
        socket.bind(SocketAddr::new(local, 0)).expect("bind the client's address");
        let stream = socket.connect(addr).await.expect("connect");
        let stream = stream.into_std().unwrap();
        stream.set_nonblocking(false).unwrap();
        stream
    })
}

/// Like [`request`], from the loopback address `local` (see [`connect_from`]).
pub fn request_from(
    local: std::net::IpAddr,
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Response {
    request_on(connect_from(local, addr), addr, method, path, headers, b"")
}

/// Like [`request`], with a body (its `Content-Length` is added).
pub fn request_with_body(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    request_on(TcpStream::connect(addr).expect("connect"), addr, method, path, headers, body)
}

/// Sends one request on `stream` (connected to `addr`) and reads the whole response.
fn request_on(
    mut stream: TcpStream,
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read response");
    parse_response(&raw, method == "HEAD")
}

fn parse_response(raw: &[u8], head_only: bool) -> Response {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("end of headers") + 4;
    let head = std::str::from_utf8(&raw[..end]).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.trim().to_ascii_lowercase(), v.trim().to_owned())
        })
        .collect();
    let body = raw[end..].to_vec();
    let chunked = headers.iter().any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked && !head_only { dechunk(&body) } else { body };
    Response { status, headers, body }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&raw[..line_end]).unwrap().trim(), 16).unwrap();
        raw = &raw[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}

/// Parses `xml` with a strict XML parser, failing the test with its message if it is not
/// well-formed.
pub fn parse_xml(xml: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("not well-formed XML: {e}\n{xml}"))
}

/// Parses JSON strictly, failing the test if it is not JSON.
pub fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("not JSON: {e}"))
}

/// Parses a feed with feed-rs (a parser nobody here wrote).
pub fn parse_feed(bytes: &[u8]) -> feed_rs::model::Feed {
    feed_rs::parser::parse(bytes).unwrap_or_else(|e| panic!("feed-rs rejects the feed: {e}"))
}

/// The PostgreSQL server to test against, `TIDINGS_TEST_POSTGRES`; `None`, after saying on
/// stderr itself (libtest captures `eprintln!`, not this) that the test is skipped.
#[cfg(all(feature = "hub", feature = "counts"))]
pub fn postgres() -> Option<String> {
    let url = std::env::var("TIDINGS_TEST_POSTGRES").ok();
    if url.is_none() {
        let test = std::thread::current().name().unwrap_or("a test").to_owned();
        let note = format!(
            "SKIPPED {test}: set TIDINGS_TEST_POSTGRES=postgres://… (scripts/postgres.sh start) to test PostgreSQL\n"
        );
        let _ = std::io::stderr().write_all(note.as_bytes());
    }
    url
}

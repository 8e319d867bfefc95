//! The only code that knows hyper: the accept loop, connection limits and timeouts,
//! graceful shutdown. Routing is in [`routes`], validators in [`conditional`].

pub mod conditional;
pub mod negotiate;
pub mod polite;
pub mod respond;
pub mod routes;
pub mod slots;

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};

use crate::app::App;
use crate::hooks::{Endpoint, FeedObserver};

/// Limits and timeouts for client connections.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// Time a new connection has to send its first byte.
    pub first_byte_timeout: Duration,
    /// Time a client has to send a request's headers, and the longest a connection with no
    /// request in flight is kept open (HTTP/1 keep-alive and HTTP/2 alike).
    pub header_read_timeout: Duration,
    /// Time in-flight requests get to finish after shutdown is asked for.
    pub shutdown_grace: Duration,
    /// Open connections at most; past it the connection idle longest is closed to make room,
    /// and when none is idle new ones get a `503` and are closed.
    pub max_connections: usize,
    /// Open connections from one address (an IPv6 client: its /64) at most; past it that
    /// address's connection idle longest is closed, or the new one refused.
    pub max_connections_per_address: usize,
    /// Who may read `/diagnostics`.
    pub diagnostics: Exposure,
}

/// Who may read an ops endpoint that tells about the content (`/diagnostics`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Exposure {
    /// Nobody: `404`.
    Off,
    /// Clients on the loopback interface only, the default (a reverse proxy on the same
    /// machine makes every client local: use `off` there).
    #[default]
    Local,
    /// Anyone (paths are shown relative to the content folder).
    Public,
}

/// What a request's route needs to know about its connection.
#[derive(Clone, Copy, Debug)]
pub struct Client {
    /// The peer's address.
    pub peer: std::net::SocketAddr,
    /// Who may read `/diagnostics`.
    pub diagnostics: Exposure,
}

/// Default limit on open connections.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Default limit on open connections from one address.
pub const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS: usize = 64;
/// Default time in-flight requests get after `SIGTERM`.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// Default time a connection gets to send a request's headers, and to stay idle between
/// requests.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest request head (request line and headers) read; past it hyper answers `431`.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Requests one HTTP/2 connection may have in flight at once.
pub const MAX_STREAMS: u32 = 100;
/// How often an HTTP/2 connection is pinged, and how long the answer may take.
const H2_PING_INTERVAL: Duration = Duration::from_secs(30);
const H2_PING_TIMEOUT: Duration = Duration::from_secs(20);

/// Requests in flight on one connection, and when the last one ended: what tells an idle
/// connection (which may still answer pings) from a busy one. Atomics only: it is touched
/// twice by every request.
struct Activity {
    in_flight: AtomicUsize,
    /// When the connection was accepted.
    opened: tokio::time::Instant,
    /// When the last request ended, in milliseconds since `opened`.
    last_ms: AtomicU64,
}

impl Activity {
    fn new() -> Arc<Activity> {
        Arc::new(Activity { in_flight: 0.into(), opened: tokio::time::Instant::now(), last_ms: 0.into() })
    }

    /// Counts a request as in flight until the guard is dropped.
    fn start(self: &Arc<Activity>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(self.clone())
    }

    fn last(&self) -> tokio::time::Instant {
        self.opened + Duration::from_millis(self.last_ms.load(Ordering::SeqCst))
    }

    /// Returns once no request has been in flight for `timeout`.
    async fn idle_for(&self, timeout: Duration) {
        loop {
            if self.in_flight.load(Ordering::SeqCst) > 0 {
                tokio::time::sleep(timeout).await;
                continue;
            }
            let deadline = self.last() + timeout;
            if tokio::time::Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline).await;
        }
    }
}

impl slots::Idle for Activity {
    fn idle_since(&self) -> Option<tokio::time::Instant> {
        (self.in_flight.load(Ordering::SeqCst) == 0).then(|| self.last())
    }
}

/// One request in flight; its end is the connection's latest activity.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let since = self.0.opened.elapsed().as_millis();
        self.0.last_ms.fetch_max(u64::try_from(since).unwrap_or(u64::MAX), Ordering::SeqCst);
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            first_byte_timeout: DEFAULT_IDLE_TIMEOUT,
            header_read_timeout: DEFAULT_IDLE_TIMEOUT,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_connections_per_address: DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
            diagnostics: Exposure::default(),
        }
    }
}

/// The service as the router sees it: the running app and what is plugged in at its edge.
pub struct Edge {
    /// The running state.
    pub app: Arc<App>,
    /// Paths a feature answers with its own handler (the built-in hub, `/stats`).
    pub endpoints: Vec<Arc<dyn Endpoint>>,
    /// Told of every poll of a feed's first page (the subscriber counts).
    pub feed_observers: Vec<Arc<dyn FeedObserver>>,
    /// How often a client may fetch a feed's whole body without validators; `None`: as often
    /// as it likes.
    pub polite: Option<polite::PolitePolling>,
    /// The operator's token (`--stats-token`): it opens `/stats` and the subscriber gauges of
    /// `/metrics`; `None`: nobody has it.
    pub operator_token: Option<String>,
}

impl Edge {
    /// `app` with nothing plugged in.
    pub fn new(app: Arc<App>) -> Edge {
        Edge { app, endpoints: Vec::new(), feed_observers: Vec::new(), polite: None, operator_token: None }
    }
}

/// Serves `edge` on `listener` until `shutdown` completes, then lets open connections finish
/// their requests for up to `options.shutdown_grace`.
pub async fn serve(
    listener: TcpListener,
    edge: Arc<Edge>,
    options: ServerOptions,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    // No header-read timer for HTTP/1: it would be reset on every request (a timer-wheel
    // insert and a clock read per poll), and the idle watch below already closes a connection
    // that has had no request in flight for `header_read_timeout`, which is what a client
    // slow to send its request head has. `max_header_size` is the exact limit (the buffer's
    // limit alone lets a head that arrives in one read be a read's worth longer).
    let mut http1 = hyper::server::conn::http1::Builder::new();
    http1.max_buf_size(MAX_HEAD_BYTES).max_header_size(MAX_HEAD_BYTES);
    let mut http2 = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
    http2
        .timer(TokioTimer::new())
        .keep_alive_interval(H2_PING_INTERVAL)
        .keep_alive_timeout(H2_PING_TIMEOUT)
        .max_concurrent_streams(MAX_STREAMS);
    // Connections close when idle or at shutdown: each watches this and its own activity.
    let (closing, _) = tokio::sync::watch::channel(false);
    let slots = slots::Slots::new(options.max_connections, options.max_connections_per_address);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        // The connection's clock starts now: the time to its first request's head is
        // `header_read_timeout` in all, however the client spreads its bytes.
        let activity = Activity::new();
        let slot = match slots.admit(peer.ip(), activity.clone()) {
            Ok(slot) => {
                if slot.made_room {
                    edge.app.metrics.evicted();
                }
                slot
            }
            Err(full) => {
                edge.app.metrics.refused();
                tracing::debug!(%peer, ?full, "connection refused");
                tokio::spawn(refuse(stream));
                continue;
            }
        };
        let edge = edge.clone();
        let http1 = http1.clone();
        let http2 = http2.clone();
        let mut closing = closing.subscribe();
        let first_byte_timeout = options.first_byte_timeout;
        let idle_timeout = options.header_read_timeout;
        let exposure = options.diagnostics;
        tokio::spawn(async move {
            let evict = slot.evict.clone();
            let _slot = slot;
            let deadline = activity.opened + first_byte_timeout.min(idle_timeout);
            let speaks = tokio::select! {
                speaks = first_bytes(&stream, deadline) => speaks,
                () = evict.notified() => None,
            };
            let Some(speaks) = speaks else { return };
            let client = Client { peer, diagnostics: exposure };
            let counted = activity.clone();
            let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let edge = edge.clone();
                let in_flight = counted.start();
                async move {
                    let response = routes::handle(req, &edge, client).await;
                    drop(in_flight);
                    Ok::<_, Infallible>(response)
                }
            });
            let io = TokioIo::new(stream);
            match speaks {
                Speaks::Http1 => {
                    let conn = http1.serve_connection(io, service);
                    let watch = Watch { activity: &activity, closing: &mut closing, evict: &evict, idle_timeout };
                    drive(conn, |c| c.graceful_shutdown(), Idled::Close, watch).await;
                }
                // `first_bytes` gives `Unsure` never: it waits for the bytes that decide.
                Speaks::Http2 | Speaks::Unsure => {
                    let conn = http2.serve_connection(io, service);
                    let watch = Watch { activity: &activity, closing: &mut closing, evict: &evict, idle_timeout };
                    drive(conn, |c| c.graceful_shutdown(), Idled::Finish, watch).await;
                }
            }
        });
    }

    drop(listener);
    let _ = closing.send(true);
    // Every connection holds a slot until it ends: no slot taken means all connections done.
    let grace_over = tokio::time::Instant::now() + options.shutdown_grace;
    while slots.open() > 0 {
        if tokio::time::Instant::now() >= grace_over {
            tracing::warn!("shutdown grace period over; closing connections still open");
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// Answers a connection over the limit with a short `503` and closes it, without reading
/// its request: existing connections keep being served.
async fn refuse(mut stream: TcpStream) {
    use tokio::io::AsyncWriteExt;
    const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n\
        retry-after: 1\r\nconnection: close\r\ncontent-length: 28\r\n\r\ntoo many connections, retry\n";
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(BUSY)).await;
    let _ = stream.shutdown().await;
}

/// The first bytes of an HTTP/2 connection with prior knowledge.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// What a connection's first bytes say about its protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Speaks {
    /// They cannot begin the HTTP/2 preface.
    Http1,
    /// They are the whole HTTP/2 preface (prior knowledge).
    Http2,
    /// They are the start of the preface: more must arrive to tell.
    Unsure,
}

/// How often a connection that sent the start of the HTTP/2 preface and no more is looked at
/// again (clients send the preface in one packet: this is for those that trickle it).
const PREFACE_RECHECK: Duration = Duration::from_millis(10);

/// Waits until the client has sent enough to tell its protocol, until `deadline`; `None`
/// when it did not (or closed).
async fn first_bytes(stream: &TcpStream, deadline: tokio::time::Instant) -> Option<Speaks> {
    let mut head = [0u8; H2_PREFACE.len()];
    loop {
        match tokio::time::timeout_at(deadline, stream.peek(&mut head)).await {
            Ok(Ok(n)) if n > 0 => match speaks(&head[..n]) {
                Speaks::Unsure => {
                    // Peeking again at once would see the same bytes: wait a little.
                    if tokio::time::Instant::now() + PREFACE_RECHECK >= deadline {
                        return None;
                    }
                    tokio::time::sleep(PREFACE_RECHECK).await;
                }
                decided => return Some(decided),
            },
            _ => return None,
        }
    }
}

/// What `head`, a connection's first bytes, say about its protocol.
fn speaks(head: &[u8]) -> Speaks {
    if !H2_PREFACE.starts_with(head) {
        Speaks::Http1
    } else if head.len() == H2_PREFACE.len() {
        Speaks::Http2
    } else {
        Speaks::Unsure
    }
}

/// What an idle connection gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Idled {
    /// Closed at once (HTTP/1: no request is in flight, and a head still being sent has had
    /// its time).
    Close,
    /// Asked to finish (HTTP/2: a `GOAWAY`), and dropped if it has not after the idle timeout.
    Finish,
}

/// What ends a connection besides itself.
struct Watch<'a> {
    activity: &'a Activity,
    /// Becomes true when the server begins to shut down.
    closing: &'a mut tokio::sync::watch::Receiver<bool>,
    /// Notified when the connection is to make room for another.
    evict: &'a tokio::sync::Notify,
    idle_timeout: Duration,
}

/// Serves `conn` until it ends; when it has been idle for `idle_timeout`, or is evicted, it
/// is closed or finished as `idled` says; when the server begins to shut down, it is asked
/// to finish (`finish` is its graceful shutdown) its requests in flight.
async fn drive<C, E>(conn: C, finish: fn(Pin<&mut C>), idled: Idled, watch: Watch<'_>)
where
    C: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let Watch { activity, closing, evict, idle_timeout } = watch;
    let mut conn = std::pin::pin!(conn);
    let mut shutting_down = false;
    // After a GOAWAY, HTTP/2 waits for the client to answer a ping; one that never does is
    // dropped when this runs out.
    let give_up = tokio::time::sleep(Duration::MAX);
    let mut give_up = std::pin::pin!(give_up);
    loop {
        let idle = tokio::select! {
            ended = conn.as_mut() => {
                if let Err(e) = ended {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                break;
            }
            // An idle connection (HTTP/2 ones answer pings, yet ask for nothing) gives its
            // slot back.
            () = activity.idle_for(idle_timeout), if !shutting_down => true,
            // Made room for another: idle unless a request began since it was chosen.
            () = evict.notified(), if !shutting_down => activity.in_flight.load(Ordering::SeqCst) == 0,
            _ = closing.changed(), if !shutting_down => false,
            () = &mut give_up, if shutting_down => break,
        };
        if idle && idled == Idled::Close {
            break;
        }
        finish(conn.as_mut());
        shutting_down = true;
        if idle {
            give_up.as_mut().reset(tokio::time::Instant::now() + idle_timeout);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_bytes_tell_http1_from_http2() {
        assert_eq!(speaks(b"GET / HTTP/1.1\r\n"), Speaks::Http1);
        assert_eq!(speaks(b"POST /hub HTTP/1.1"), Speaks::Http1);
        assert_eq!(speaks(b"PUT"), Speaks::Http1);
        assert_eq!(speaks(b"P"), Speaks::Unsure);
        assert_eq!(speaks(b"PRI * HTTP/2"), Speaks::Unsure);
        assert_eq!(speaks(b"PRI * HTTP/1.1\r\n"), Speaks::Http1);
        assert_eq!(speaks(H2_PREFACE), Speaks::Http2);
    }
}

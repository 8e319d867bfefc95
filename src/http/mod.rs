//! The only code that knows hyper: the accept loop, connection limits and timeouts,
//! graceful shutdown. Routing is in [`routes`], validators in [`conditional`].

pub mod conditional;
pub mod negotiate;
pub mod routes;

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::app::App;

/// Limits and timeouts for client connections.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// Time a new connection has to send its first byte.
    pub first_byte_timeout: Duration,
    /// Time a client has to send a request's headers, and the longest an idle keep-alive
    /// connection is kept open.
    pub header_read_timeout: Duration,
    /// Time in-flight requests get to finish after shutdown is asked for.
    pub shutdown_grace: Duration,
    /// Open connections at most; past it new ones get a `503` and are closed.
    pub max_connections: usize,
    /// Who may read `/diagnostics`.
    pub diagnostics: Exposure,
}

/// Who may read an ops endpoint that tells about the content (`/diagnostics`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Exposure {
    /// Nobody: `404`.
    Off,
    /// Clients on the loopback interface only (a reverse proxy on the same machine makes
    /// every client local: use `off` there).
    Local,
    /// Anyone (paths are shown relative to the content folder).
    #[default]
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
/// Default time in-flight requests get after `SIGTERM`.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// Longest request head (request line and headers) read; past it hyper answers `431`.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            first_byte_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(10),
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            diagnostics: Exposure::default(),
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then lets open connections finish
/// their requests for up to `options.shutdown_grace`.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    options: ServerOptions,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout)
        .max_buf_size(MAX_HEAD_BYTES);
    builder.http2().timer(TokioTimer::new()).keep_alive_interval(Duration::from_secs(30));
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(options.max_connections));
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
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            app.metrics.refused();
            tokio::spawn(refuse(stream));
            continue;
        };
        let app = app.clone();
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let first_byte_timeout = options.first_byte_timeout;
        let exposure = options.diagnostics;
        tokio::spawn(async move {
            let _slot = slot;
            // hyper-util's protocol sniffing waits forever for a first byte; don't.
            if !sends_first_byte(&stream, first_byte_timeout).await {
                return;
            }
            let client = Client { peer, diagnostics: exposure };
            let service = service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                let app = app.clone();
                req.extensions_mut().insert(client);
                async move { Ok::<_, Infallible>(routes::handle(req, &app).await) }
            });
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            if let Err(e) = watcher.watch(conn.into_owned()).await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(options.shutdown_grace) => {
            tracing::warn!("shutdown grace period over; closing connections still open");
        }
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

/// Waits until the client sends something, for at most `timeout`.
async fn sends_first_byte(stream: &TcpStream, timeout: Duration) -> bool {
    let mut byte = [0u8; 1];
    matches!(tokio::time::timeout(timeout, stream.peek(&mut byte)).await, Ok(Ok(n)) if n > 0)
}

//! `tidings probe URL`: one plain-HTTP GET with a deadline, so that a container's
//! `HEALTHCHECK` (or any supervisor) can ask the server about itself without curl in the image.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// Most of a response read: enough for the status line and headers of any health answer.
const MAX_READ: usize = 16 * 1024;

/// Why a probe failed, said in one line.
#[derive(Debug, PartialEq, Eq)]
pub struct ProbeError(pub String);

impl std::fmt::Display for ProbeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// GETs `url` (`http://host[:port]/path`) within `timeout` and returns the status code when
/// it is 2xx; any other status, a refused connection or a slow answer is an error.
pub fn probe(url: &str, timeout: Duration) -> Result<u16, ProbeError> {
    let fail = |what: String| ProbeError(format!("{url}: {what}"));
    let parsed =
        url::Url::parse(url).map_err(|e| fail(format!("not a URL ({e}); write e.g. http://127.0.0.1:8080/readyz")))?;
    if parsed.scheme() != "http" {
        return Err(fail("only http:// URLs can be probed (the probe speaks plain HTTP/1.1)".into()));
    }
    let host = parsed.host_str().ok_or_else(|| fail("no host".into()))?;
    let port = parsed.port_or_known_default().unwrap_or(80);
    let deadline = Instant::now() + timeout;
    let remaining = || deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
    let addresses = (host, port).to_socket_addrs().map_err(|e| fail(format!("cannot resolve {host}: {e}")))?;
    let mut last_error = format!("{host} has no address");
    let mut stream = None;
    for address in addresses {
        match TcpStream::connect_timeout(&address, remaining()) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last_error = format!("cannot connect to {address}: {e}"),
        }
    }
    let mut stream = stream.ok_or_else(|| fail(last_error))?;
    let target = match parsed.query() {
        Some(query) => format!("{}?{query}", parsed.path()),
        None => parsed.path().to_owned(),
    };
    let host_header = match parsed.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: tidings-probe/{}\r\nConnection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    );
    stream.set_write_timeout(Some(remaining())).map_err(|e| fail(e.to_string()))?;
    stream.write_all(request.as_bytes()).map_err(|e| fail(format!("cannot send the request: {e}")))?;
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while !head.windows(2).any(|w| w == b"\r\n") && head.len() < MAX_READ {
        stream.set_read_timeout(Some(remaining())).map_err(|e| fail(e.to_string()))?;
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
            Err(e) if Instant::now() >= deadline => {
                return Err(fail(format!("no answer within {} ms ({e})", timeout.as_millis())));
            }
            Err(e) => return Err(fail(format!("cannot read the answer: {e}"))),
        }
    }
    let status = status_code(&head).ok_or_else(|| fail("the answer is not HTTP".into()))?;
    if (200..300).contains(&status) { Ok(status) } else { Err(fail(format!("status {status}"))) }
}

/// The status code of a response that starts `HTTP/1.x NNN`.
fn status_code(head: &[u8]) -> Option<u16> {
    let line = head.split(|&b| b == b'\r').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split(' ');
    parts.next().filter(|version| version.starts_with("HTTP/1."))?;
    parts.next()?.parse().ok().filter(|code| (100..600).contains(code))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A one-shot server on port 0 that answers `response` to the first connection.
    fn serve_once(response: &'static [u8]) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            if let Ok((mut stream, _)) = listener.accept() {
                let mut request = [0u8; 1024];
                let _ = stream.read(&mut request);
                let _ = stream.write_all(response);
            }
        });
        format!("http://{address}/readyz")
    }

    #[test]
    fn a_2xx_is_healthy_and_anything_else_is_not() {
        assert_eq!(
            probe(&serve_once(b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nready\n"), Duration::from_secs(5)),
            Ok(200)
        );
        let unavailable = probe(&serve_once(b"HTTP/1.1 503 Service Unavailable\r\n\r\n"), Duration::from_secs(5));
        assert!(unavailable.unwrap_err().0.ends_with("status 503"));
        let garbage = probe(&serve_once(b"SSH-2.0-OpenSSH\r\n"), Duration::from_secs(5));
        assert!(garbage.unwrap_err().0.ends_with("the answer is not HTTP"));
    }

    #[test]
    fn a_closed_port_and_a_silent_server_fail_in_time() {
        let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        assert!(probe(&format!("http://{closed}/readyz"), Duration::from_secs(5)).is_err());
        let silent = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/readyz", silent.local_addr().unwrap());
        let started = Instant::now();
        let error = probe(&url, Duration::from_millis(300)).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5), "{error}");
        assert!(error.0.contains("no answer within 300 ms"), "{error}");
    }

    #[test]
    fn only_plain_http_urls() {
        assert!(probe("https://127.0.0.1/readyz", Duration::from_secs(1)).unwrap_err().0.contains("only http://"));
        assert!(probe("not a url", Duration::from_secs(1)).unwrap_err().0.contains("not a URL"));
    }
}

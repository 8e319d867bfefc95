//! The built-in WebSub hub over a real server: subscription with verification of intent,
//! signed delivery of exactly the feeds an edit changes, unsubscription, subscriptions kept
//! across a restart, callbacks at private addresses refused before any connection, and the
//! `/stats` page behind its token.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hmac::{KeyInit, Mac};

use crate::support::{HubSetup, STATS_TOKEN, TestServer, metric};

/// What a callback received.
#[derive(Clone, Debug)]
struct Received {
    method: String,
    target: String,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

/// A WebSub subscriber's callback on 127.0.0.1: echoes `hub.challenge` to GETs (or answers
/// `verify_status` without it), answers 204 to POSTs, and records everything.
struct Callback {
    url: String,
    seen: Arc<Mutex<Vec<Received>>>,
}

impl Callback {
    fn start(verify_status: Option<&'static str>) -> Callback {
        Callback::start_on("127.0.0.1", verify_status)
    }

    /// [`Callback::start`] on another loopback address.
    fn start_on(ip: &str, verify_status: Option<&'static str>) -> Callback {
        let listener = TcpListener::bind((ip, 0)).unwrap();
        let url = format!("http://{}/callback?client=7", listener.local_addr().unwrap());
        let seen: Arc<Mutex<Vec<Received>>> = Arc::default();
        let recorded = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let Some(received) = read_request(&mut stream) else { continue };
                let answer = if received.method == "GET" {
                    match verify_status {
                        Some(status) => format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
                        None => {
                            let query = received.target.split_once('?').map_or("", |(_, q)| q);
                            let challenge = url::form_urlencoded::parse(query.as_bytes())
                                .find(|(k, _)| k == "hub.challenge")
                                .map(|(_, v)| v.into_owned())
                                .unwrap_or_default();
                            format!(
                                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{challenge}",
                                challenge.len()
                            )
                        }
                    }
                } else {
                    "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n".to_owned()
                };
                let _ = stream.write_all(answer.as_bytes());
                recorded.lock().unwrap().push(received);
            }
        });
        Callback { url, seen }
    }

    fn posts(&self) -> Vec<Received> {
        self.seen.lock().unwrap().iter().filter(|r| r.method == "POST").cloned().collect()
    }

    fn gets(&self) -> Vec<Received> {
        self.seen.lock().unwrap().iter().filter(|r| r.method == "GET").cloned().collect()
    }
}

fn read_request(stream: &mut std::net::TcpStream) -> Option<Received> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers = BTreeMap::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    let length = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Received { method, target, headers, body })
}

fn wait_for<T>(what: &str, timeout: Duration, mut done: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = done() {
            return value;
        }
        assert!(started.elapsed() < timeout, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn site(dir: &Path) {
    let (content, feeds) = (dir.join("content"), dir.join("feeds"));
    std::fs::create_dir_all(content.join("_posts")).unwrap();
    std::fs::create_dir_all(&feeds).unwrap();
    std::fs::write(feeds.join("site.yaml"), "title: Hubbed\n").unwrap();
    std::fs::write(content.join("_posts/2020-01-01-old.md"), "---\ntitle: Old news\ncategory: Archive\n---\nOld.\n")
        .unwrap();
    std::fs::write(content.join("_posts/2021-01-01-ops.md"), "---\ntitle: Ops news\ncategory: Ops\n---\nOps.\n")
        .unwrap();
}

/// POSTs `hub.mode`, `hub.topic` and `hub.callback` to the server's hub.
/// Waits until the hub has handed more than `before` changes to their subscribers and no
/// delivery is under way: what it was to deliver has been delivered (or given up).
fn wait_until_delivered(server: &TestServer, before: u64) {
    wait_for("the hub to finish its deliveries", Duration::from_secs(20), || {
        let done = metric(server, "tidings_hub_distributions_total") > before
            && metric(server, "tidings_hub_deliveries_in_flight") == 0;
        done.then_some(())
    });
}

fn hub_request(server: &TestServer, mode: &str, topic: &str, callback: &str) -> crate::support::Response {
    server.post_form("/hub", &[("hub.mode", mode), ("hub.topic", topic), ("hub.callback", callback)])
}

fn hub(dir: &Path, allow_private: bool) -> HubSetup {
    HubSetup { database: dir.join("tidings.db").display().to_string(), allow_private, max_per_host: 100, tune: |_| {} }
}

#[test]
fn subscribe_deliver_signed_restart_unsubscribe_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("tidings.db").display().to_string();
    round_trip(dir.path(), &database);
}

#[test]
fn subscribe_deliver_signed_restart_unsubscribe_postgres() {
    let Some(database) = crate::support::postgres() else { return };
    let dir = tempfile::tempdir().unwrap();
    round_trip(dir.path(), &database);
}

fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    format!("sha256={}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// Subscribe, a signed delivery of exactly the changed feed, `/stats`, and a restart that
/// keeps the subscription, on `database`.
fn round_trip(dir: &Path, database: &str) {
    let setup = || HubSetup { database: database.to_owned(), allow_private: true, max_per_host: 100, tune: |_| {} };
    site(dir);
    let callback = Callback::start(None);
    let server = TestServer::start_hub(dir, setup(), None);
    let base = server.base_url.clone();
    let topic = format!("{base}/categories/ops/feed.atom");
    let untouched = Callback::start(None);

    // The feeds advertise the hub, first, in the body and the Link header.
    let feed = server.get("/categories/ops/feed.atom");
    assert!(feed.text().contains(&format!("<link href=\"{base}/hub\" rel=\"hub\"/>")), "{}", feed.text());
    assert!(feed.headers.iter().any(|(n, v)| n == "link" && v == &format!("<{base}/hub>; rel=\"hub\"")));

    let answer = server.post_form(
        "/hub",
        &[
            ("hub.mode", "subscribe"),
            ("hub.topic", &topic),
            ("hub.callback", &callback.url),
            ("hub.secret", "s3cret"),
            ("hub.lease_seconds", "7200"),
        ],
    );
    assert_eq!(answer.status, 202, "{}", answer.text());
    let archive = format!("{base}/categories/archive/feed.atom");
    let other = hub_request(&server, "subscribe", &archive, &untouched.url);
    assert_eq!(other.status, 202, "{}", other.text());
    // Verification of intent: a GET to the callback, its own query kept, with the challenge.
    let verify = wait_for("the verification GET", Duration::from_secs(10), || callback.gets().pop());
    assert!(verify.target.starts_with("/callback?client=7&hub.mode=subscribe&hub.topic="), "{}", verify.target);
    assert!(verify.target.contains("hub.lease_seconds=7200"), "{}", verify.target);
    wait_for("the other verification", Duration::from_secs(10), || untouched.gets().pop());

    // An edit to the Ops post: the Ops feed (every format that shows it) is delivered, signed.
    let distributed = metric(&server, "tidings_hub_distributions_total");
    let post = dir.join("content/_posts/2021-01-01-ops.md");
    std::fs::write(&post, "---\ntitle: Ops news, edited\ncategory: Ops\n---\nOps.\n").unwrap();
    let delivery = wait_for("the delivery", Duration::from_secs(10), || callback.posts().pop());
    assert_eq!(delivery.headers.get("content-type").map(String::as_str), Some("application/atom+xml; charset=utf-8"));
    assert!(String::from_utf8_lossy(&delivery.body).contains("Ops news, edited"));
    assert_eq!(delivery.headers.get("x-hub-signature"), Some(&sign("s3cret", &delivery.body)));
    assert_eq!(delivery.body, server.request("GET", "/categories/ops/feed.atom", &[]).body);
    assert!(delivery.target.starts_with("/callback?client=7"), "{}", delivery.target);
    wait_until_delivered(&server, distributed);
    // Nothing was delivered before the edit, nor twice, nor to the feed that did not change.
    assert_eq!(callback.posts().len(), 1, "delivered once");
    assert!(untouched.posts().is_empty(), "the Archive feed did not change and was not delivered");

    // `/stats`: behind the token; without it (or with a wrong one) a 401 that asks for it.
    for wrong in [vec![], vec![("Authorization", "Bearer wrong")]] {
        let refused = server.request("GET", "/stats", &wrong);
        assert_eq!(refused.status, 401);
        assert_eq!(refused.header("www-authenticate"), Some("Bearer realm=\"tidings stats\""));
    }
    let page = wait_for("the counts written", Duration::from_secs(10), || {
        let page = server.request("GET", "/stats", &[("Authorization", &format!("Bearer {STATS_TOKEN}"))]);
        (page.status == 200 && page.text().contains("/categories/ops/feed.atom")).then_some(page)
    });
    assert_eq!(page.header("cache-control"), Some("no-store"));
    crate::support::parse_xml(&page.text().replacen("<!DOCTYPE html>", "", 1));

    // A restart keeps the subscription: a new server on the same database (and the same
    // public base URL, as behind a proxy) delivers the next edit.
    drop(server);
    let server = TestServer::start_hub(dir, setup(), Some(&base));
    std::fs::write(&post, "---\ntitle: Ops news, after a restart\ncategory: Ops\n---\nOps.\n").unwrap();
    let delivery = wait_for("the delivery after the restart", Duration::from_secs(10), || {
        callback.posts().into_iter().find(|p| String::from_utf8_lossy(&p.body).contains("after a restart"))
    });
    assert_eq!(delivery.headers.get("x-hub-signature"), Some(&sign("s3cret", &delivery.body)));
    drop(server);
}

#[test]
fn unsubscribe_is_verified_and_stops_deliveries() {
    let dir = tempfile::tempdir().unwrap();
    site(dir.path());
    let callback = Callback::start(None);
    let server = TestServer::start_hub(dir.path(), hub(dir.path(), true), None);
    let topic = format!("{}/feed.json", server.base_url);
    assert_eq!(hub_request(&server, "subscribe", &topic, &callback.url).status, 202);
    wait_for("subscribe verified", Duration::from_secs(10), || callback.gets().pop());
    assert_eq!(hub_request(&server, "unsubscribe", &topic, &callback.url).status, 202);
    wait_for("unsubscribe verified", Duration::from_secs(10), || {
        callback.gets().iter().find(|g| g.target.contains("hub.mode=unsubscribe")).cloned()
    });
    // Both verifications confirmed and stored: the subscription is gone.
    wait_for("the unsubscription stored", Duration::from_secs(10), || {
        (metric(&server, "tidings_hub_verifications_total{result=\"confirmed\"}") == 2).then_some(())
    });
    let distributed = metric(&server, "tidings_hub_distributions_total");
    let post = dir.path().join("content/_posts/2021-01-01-ops.md");
    std::fs::write(&post, "---\ntitle: After unsubscribing\ncategory: Ops\n---\nOps.\n").unwrap();
    wait_for("the edit served", Duration::from_secs(10), || {
        server.get("/feed.json").text().contains("After unsubscribing").then_some(())
    });
    wait_until_delivered(&server, distributed);
    assert!(callback.posts().is_empty(), "no delivery after unsubscribing");
}

#[test]
fn a_callback_that_does_not_echo_the_challenge_is_not_subscribed() {
    let dir = tempfile::tempdir().unwrap();
    site(dir.path());
    for status in ["404 Not Found", "302 Found\r\nLocation: http://127.0.0.1:9/elsewhere"] {
        let callback = Callback::start(Some(status));
        let server = TestServer::start_hub(dir.path(), hub(dir.path(), true), None);
        let topic = format!("{}/feed.atom", server.base_url);
        let answer = hub_request(&server, "subscribe", &topic, &callback.url);
        assert_eq!(answer.status, 202);
        wait_for("the verification GET", Duration::from_secs(10), || callback.gets().pop());
        // Verified (and refused) before the edit: the refusal is counted.
        wait_for("the failed verification", Duration::from_secs(10), || {
            server.get("/metrics").text().contains("tidings_hub_verifications_total{result=\"failed\"} 1").then_some(())
        });
        let distributed = metric(&server, "tidings_hub_distributions_total");
        std::fs::write(dir.path().join("content/_posts/2022-01-01-new.md"), format!("---\ntitle: {status}\n---\nx\n"))
            .unwrap();
        wait_for("the edit served", Duration::from_secs(10), || {
            server.get("/feed.atom").text().contains("title").then_some(())
        });
        wait_until_delivered(&server, distributed);
        assert!(callback.posts().is_empty(), "{status}: not subscribed, nothing delivered");
        assert_eq!(callback.gets().len(), 1, "{status}: one GET, no redirect followed");
    }
}

#[test]
fn callbacks_at_private_addresses_are_refused_before_connecting() {
    let dir = tempfile::tempdir().unwrap();
    site(dir.path());
    let server = TestServer::start_hub(dir.path(), hub(dir.path(), false), None);
    let topic = format!("{}/feed.atom", server.base_url);
    // A listener the refused callbacks point at: it must never see a connection.
    let trap = TcpListener::bind("127.0.0.1:0").unwrap();
    trap.set_nonblocking(true).unwrap();
    let port = trap.local_addr().unwrap().port();
    let callbacks = [
        format!("http://127.0.0.1:{port}/cb"),
        format!("http://localhost:{port}/cb"),
        format!("http://[::1]:{port}/cb"),
        "http://10.0.0.1/cb".to_owned(),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://192.168.1.1/cb".to_owned(),
        "http://[::ffff:127.0.0.1]/cb".to_owned(),
    ];
    for callback in &callbacks {
        let answer = hub_request(&server, "subscribe", &topic, callback);
        assert_eq!(answer.status, 400, "{callback}: {}", answer.text());
        assert!(answer.text().contains("--hub-allow-private"), "{callback}: {}", answer.text());
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(trap.accept().is_err(), "a refused callback was connected to");
}

#[test]
fn bad_requests_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    site(dir.path());
    let server = TestServer::start_hub(dir.path(), hub(dir.path(), true), None);
    let base = server.base_url.clone();
    let cb = "http://127.0.0.1:9/cb";
    let cases: [(Vec<(&str, &str)>, &str); 4] = [
        (
            vec![("hub.mode", "subscribe"), ("hub.topic", "https://elsewhere.example/feed"), ("hub.callback", cb)],
            "not a feed of this site",
        ),
        (vec![("hub.mode", "publish"), ("hub.topic", "x")], "publish"),
        (vec![("hub.mode", "subscribe"), ("hub.callback", cb)], "hub.topic"),
        (vec![("hub.mode", "subscribe"), ("hub.topic", "x"), ("hub.callback", "ftp://x/")], "hub.callback"),
    ];
    for (form, expected) in cases {
        let answer = server.post_form("/hub", &form);
        assert_eq!(answer.status, 400, "{form:?}");
        assert!(answer.text().contains(expected), "{form:?}: {}", answer.text());
    }
    let later = format!("{base}/feed.atom?page=2");
    let answer = hub_request(&server, "subscribe", &later, cb);
    assert_eq!(answer.status, 400);
    assert!(answer.text().contains("first page"), "{}", answer.text());
    assert_eq!(server.get("/hub").status, 405);
    let plain = crate::support::request_with_body(server.addr, "POST", "/hub", &[("Content-Type", "text/plain")], b"x");
    assert_eq!(plain.status, 415);
}

#[test]
fn without_the_hub_there_is_no_hub() {
    let dir = tempfile::tempdir().unwrap();
    site(dir.path());
    let server = TestServer::start(dir.path());
    assert_eq!(server.post_form("/hub", &[("hub.mode", "subscribe")]).status, 405);
    assert!(!server.get("/feed.atom").text().contains("rel=\"hub\""));
    assert_eq!(server.get("/stats").status, 404);
}

#[test]
fn replicas_sharing_a_database_deliver_each_change_once() {
    let dir = tempfile::tempdir().unwrap();
    site(dir.path());
    let callback = Callback::start(None);
    let first = TestServer::start_hub(dir.path(), hub(dir.path(), true), None);
    let base = first.base_url.clone();
    // The second replica: same content, same database, same public base URL.
    let second = TestServer::start_hub(dir.path(), hub(dir.path(), true), Some(&base));
    let topic = format!("{base}/feed.atom");
    let answer = hub_request(&second, "subscribe", &topic, &callback.url);
    assert_eq!(answer.status, 202, "{}", answer.text());
    wait_for("the verification", Duration::from_secs(10), || callback.gets().pop());
    wait_for("the subscription stored", Duration::from_secs(10), || {
        (metric(&second, "tidings_hub_verifications_total{result=\"confirmed\"}") == 1).then_some(())
    });
    let distributed =
        [metric(&first, "tidings_hub_distributions_total"), metric(&second, "tidings_hub_distributions_total")];
    let post = dir.path().join("content/_posts/2021-01-01-ops.md");
    std::fs::write(&post, "---\ntitle: Seen by both replicas\ncategory: Ops\n---\nOps.\n").unwrap();
    wait_for("both replicas serve the edit", Duration::from_secs(10), || {
        let seen = |s: &TestServer| s.get("/feed.atom").text().contains("Seen by both replicas");
        (seen(&first) && seen(&second)).then_some(())
    });
    wait_for("a delivery", Duration::from_secs(10), || callback.posts().pop());
    // Both replicas have handed the change on and delivered what they claimed.
    wait_until_delivered(&first, distributed[0]);
    wait_until_delivered(&second, distributed[1]);
    assert_eq!(callback.posts().len(), 1, "one delivery for the two replicas");
}

#[test]
fn a_jekyll_sites_old_feed_url_is_a_topic() {
    let dir = tempfile::tempdir().unwrap();
    let (content, feeds) = (dir.path().join("content"), dir.path().join("feeds"));
    std::fs::create_dir_all(content.join("_posts")).unwrap();
    std::fs::create_dir_all(&feeds).unwrap();
    std::fs::write(content.join("_config.yml"), "title: Jekyll blog\n").unwrap();
    let post = content.join("_posts/2021-01-01-hello.md");
    std::fs::write(&post, "---\ntitle: Hello\n---\nHi.\n").unwrap();
    let callback = Callback::start(None);
    let server = TestServer::start_hub(dir.path(), hub(dir.path(), true), None);
    let topic = format!("{}/feed.xml", server.base_url);
    assert!(server.get("/feed.xml").text().contains(&format!("{}/hub", server.base_url)));
    let answer = hub_request(&server, "subscribe", &topic, &callback.url);
    assert_eq!(answer.status, 202, "{}", answer.text());
    let verify = wait_for("the verification", Duration::from_secs(10), || callback.gets().pop());
    assert!(verify.target.contains("feed.xml"), "{}", verify.target);
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(&post, "---\ntitle: Hello again\n---\nHi.\n").unwrap();
    let delivery = wait_for("the delivery", Duration::from_secs(10), || callback.posts().pop());
    let body = String::from_utf8_lossy(&delivery.body).into_owned();
    assert!(body.contains("Hello again"), "{body}");
    assert!(body.contains(&format!("href=\"{topic}\" rel=\"self\"")), "the old URL's own bytes: {body}");
    assert_eq!(delivery.body, server.get("/feed.xml").body);
}

#[test]
fn subscriptions_per_callback_host_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    site(dir.path());
    let setup = HubSetup { max_per_host: 2, ..hub(dir.path(), true) };
    let server = TestServer::start_hub(dir.path(), setup, None);
    let callback = Callback::start(None);
    let subscribe = |topic: &str| {
        let topic = format!("{}{topic}", server.base_url);
        hub_request(&server, "subscribe", &topic, &callback.url)
    };
    for (i, topic) in ["/feed.atom", "/feed.rss"].iter().enumerate() {
        assert_eq!(subscribe(topic).status, 202);
        wait_for("the verification", Duration::from_secs(10), || (callback.gets().len() > i).then_some(()));
    }
    std::thread::sleep(Duration::from_millis(300));
    let third = subscribe("/feed.json");
    assert_eq!(third.status, 400, "{}", third.text());
    assert!(third.text().contains("already has 2 subscriptions"), "{}", third.text());
    // A renewal of one it has is not a new one.
    assert_eq!(subscribe("/feed.atom").status, 202);
}

#[test]
fn verifications_per_callback_host_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    site(dir.path());
    let server = TestServer::start_hub(dir.path(), hub(dir.path(), true), None);
    // A callback that takes connections and never answers: verifications stay in flight.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/cb", silent.local_addr().unwrap());
    let held = Arc::new(Mutex::new(Vec::new()));
    let holder = held.clone();
    std::thread::spawn(move || {
        for stream in silent.incoming().flatten() {
            holder.lock().unwrap().push(stream);
        }
    });
    let topic = format!("{}/feed.atom", server.base_url);
    let statuses: Vec<u16> = (0..6)
        .map(|i| {
            let callback = format!("{url}?n={i}");
            hub_request(&server, "subscribe", &topic, &callback).status
        })
        .collect();
    assert_eq!(statuses, [202, 202, 202, 202, 429, 429]);
    let refused = hub_request(&server, "subscribe", &topic, &url);
    assert!(refused.text().contains("already verifying 4 subscriptions at 127.0.0.1"), "{}", refused.text());
}

/// A subscriber's callback on `ip` that confirms every verification, then takes each
/// delivery's connection, reads the POST and never answers (it holds the connection).
struct Silent {
    base: String,
    posts: Arc<Mutex<usize>>,
}

impl Silent {
    fn start(ip: &str) -> Silent {
        let listener = TcpListener::bind((ip, 0)).unwrap();
        let base = format!("http://{}/slow", listener.local_addr().unwrap());
        let posts: Arc<Mutex<usize>> = Arc::default();
        let counted = posts.clone();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let Some(received) = read_request(&mut stream) else { continue };
                if received.method == "GET" {
                    let query = received.target.split_once('?').map_or("", |(_, q)| q);
                    let challenge = url::form_urlencoded::parse(query.as_bytes())
                        .find(|(k, _)| k == "hub.challenge")
                        .map(|(_, v)| v.into_owned())
                        .unwrap_or_default();
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{challenge}",
                        challenge.len()
                    );
                    let _ = stream.write_all(answer.as_bytes());
                } else {
                    *counted.lock().unwrap() += 1;
                    held.push(stream);
                }
            }
        });
        Silent { base, posts }
    }

    fn posts(&self) -> usize {
        *self.posts.lock().unwrap()
    }
}

/// Subscribes `callback` to `topic` and waits until it has been asked to confirm (retrying
/// while the hub says it is busy with that host), at most 10 s.
fn subscribe_and_wait(server: &TestServer, topic: &str, callback: &str, confirmed: impl Fn() -> bool) {
    wait_for("a subscription taken", Duration::from_secs(10), || {
        let answer = hub_request(server, "subscribe", topic, callback);
        assert!(matches!(answer.status, 202 | 429), "{callback}: {} {}", answer.status, answer.text());
        (answer.status == 202).then_some(())
    });
    wait_for("a subscription confirmed", Duration::from_secs(10), || confirmed().then_some(()));
}

/// Security finding 7: 128 subscribers that confirm and then never answer a delivery (on
/// eight addresses, 127.0.0.2–9) delay neither an honest subscriber's deliveries (of this
/// edit and of the next, while the silent still hold the first) nor the hub's answers to new
/// subscription requests. (Before: 503, and the honest delivery 20 s late.)
#[test]
fn silent_subscribers_stall_neither_deliveries_nor_subscriptions() {
    let dir = tempfile::tempdir().unwrap();
    site(dir.path());
    let server = TestServer::start_hub(dir.path(), hub(dir.path(), true), None);
    let topic = format!("{}/feed.atom", server.base_url);
    let silent: Vec<Silent> = (2..10).map(|i| Silent::start(&format!("127.0.0.{i}"))).collect();
    for host in &silent {
        for n in 0..16 {
            subscribe_and_wait(&server, &topic, &format!("{}?n={n}", host.base), || true);
        }
    }
    // Last in the hub's order (by time, then callback URL), as in the finding.
    let honest = Callback::start_on("127.0.1.1", None);
    subscribe_and_wait(&server, &topic, &honest.url, || !honest.gets().is_empty());
    // Every verification answered and stored: the hub's subscriptions, as `/metrics` counts them.
    wait_for("129 subscriptions stored", Duration::from_secs(30), || {
        let metrics = metrics_with_token(&server);
        let stored = r#"tidings_feed_subscribers{feed="/feed.atom",source="websub"} 129"#;
        metrics.lines().any(|l| l == stored).then_some(())
    });
    let post = dir.path().join("content/_posts/2021-01-01-ops.md");
    std::fs::write(&post, "---\ntitle: Delivered despite the silent\ncategory: Ops\n---\nOps.\n").unwrap();
    // The stall, if any, is under way once the silent ones have been sent 32 deliveries.
    wait_for("deliveries to the silent subscribers", Duration::from_secs(10), || {
        (silent.iter().map(Silent::posts).sum::<usize>() >= 32).then_some(())
    });
    let newcomer = Callback::start(None);
    let answer = hub_request(&server, "subscribe", &format!("{}/feed.rss", server.base_url), &newcomer.url);
    assert_eq!(answer.status, 202, "a new subscription while the silent hold deliveries: {}", answer.text());
    let delivery = wait_for("the honest delivery", Duration::from_secs(8), || honest.posts().pop());
    assert!(String::from_utf8_lossy(&delivery.body).contains("Delivered despite the silent"));
    // A second edit while the silent ones still hold the first: delivered as promptly.
    std::fs::write(&post, "---\ntitle: Edited again\ncategory: Ops\n---\nOps.\n").unwrap();
    wait_for("the second honest delivery", Duration::from_secs(8), || {
        honest.posts().into_iter().find(|p| String::from_utf8_lossy(&p.body).contains("Edited again"))
    });
    assert_eq!(hub_request(&server, "subscribe", &format!("{}/feed.json", server.base_url), &newcomer.url).status, 202);
}

/// Security finding 8: the per-host cap counts the address a callback resolves to, not its
/// name: `localhost` is 127.0.0.1's third subscription when the cap is two.
#[test]
fn the_per_host_cap_counts_resolved_addresses_not_names() {
    let dir = tempfile::tempdir().unwrap();
    site(dir.path());
    let setup = HubSetup { max_per_host: 2, ..hub(dir.path(), true) };
    let server = TestServer::start_hub(dir.path(), setup, None);
    let callback = Callback::start(None);
    for (i, topic) in ["/feed.atom", "/feed.rss"].iter().enumerate() {
        let topic = format!("{}{topic}", server.base_url);
        assert_eq!(hub_request(&server, "subscribe", &topic, &callback.url).status, 202);
        wait_for("the verification", Duration::from_secs(10), || (callback.gets().len() > i).then_some(()));
    }
    std::thread::sleep(Duration::from_millis(300));
    let by_name = callback.url.replace("127.0.0.1", "localhost");
    let third = hub_request(&server, "subscribe", &format!("{}/feed.json", server.base_url), &by_name);
    assert_eq!(third.status, 400, "{}", third.text());
    assert!(third.text().contains("127.0.0.1 already has 2 subscriptions"), "{}", third.text());
}

/// Security finding 8: besides the per-address cap, one registrable domain (here `localhost`,
/// at an address with room to spare) and the hub in all have caps of their own.
#[test]
fn the_per_domain_and_global_caps_hold() {
    let dir = tempfile::tempdir().unwrap();
    site(dir.path());
    let setup = HubSetup {
        tune: |settings| {
            settings.max_per_address = 100;
            settings.max_per_domain = 2;
            settings.max_subscriptions = 3;
        },
        ..hub(dir.path(), true)
    };
    let server = TestServer::start_hub(dir.path(), setup, None);
    let topic = format!("{}/feed.atom", server.base_url);
    let callback = Callback::start(None);
    let by_name = callback.url.replace("127.0.0.1", "localhost");
    for (i, query) in ["a", "b"].iter().enumerate() {
        let answer = hub_request(&server, "subscribe", &topic, &format!("{by_name}&{query}"));
        assert_eq!(answer.status, 202, "{}", answer.text());
        wait_for("the verification", Duration::from_secs(10), || (callback.gets().len() > i).then_some(()));
    }
    std::thread::sleep(Duration::from_millis(300));
    let third = hub_request(&server, "subscribe", &topic, &format!("{by_name}&c"));
    assert_eq!(third.status, 400, "{}", third.text());
    assert!(third.text().contains("localhost already has 2 subscriptions, the most this hub keeps for one domain"));
    // By address, 127.0.0.1 has room: the third subscription in all.
    assert_eq!(hub_request(&server, "subscribe", &topic, &callback.url).status, 202);
    wait_for("the verification", Duration::from_secs(10), || (callback.gets().len() > 2).then_some(()));
    std::thread::sleep(Duration::from_millis(300));
    let fourth = hub_request(&server, "subscribe", &topic, &format!("{}&d", callback.url));
    assert_eq!(fourth.status, 503, "{}", fourth.text());
    assert!(fourth.text().contains("at most 3 subscriptions"), "{}", fourth.text());
    // Renewals are not new subscriptions.
    assert_eq!(hub_request(&server, "subscribe", &topic, &callback.url).status, 202);
}

/// Security finding 9: `POST /hub` is rate-limited per client address.
#[test]
fn subscription_requests_are_rate_limited_per_client() {
    let dir = tempfile::tempdir().unwrap();
    site(dir.path());
    let setup = HubSetup { tune: |settings| settings.requests_per_minute = 3, ..hub(dir.path(), true) };
    let server = TestServer::start_hub(dir.path(), setup, None);
    let topic = format!("{}/feed.atom", server.base_url);
    let statuses: Vec<u16> = (0..4)
        .map(|i| hub_request(&server, "subscribe", &topic, &format!("http://127.0.0.1:9/cb{i}")).status)
        .collect();
    assert_eq!(statuses, [202, 202, 202, 429]);
    let refused = hub_request(&server, "subscribe", &topic, "http://127.0.0.1:9/cb");
    assert!(
        refused.text().contains("127.0.0.1 has sent 3 subscription requests in the last minute"),
        "{}",
        refused.text()
    );
}

/// Lookups by [`never_answers`] in flight now, and at most so far.
static LOOKING_UP: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
static MOST_LOOKING_UP: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A resolver for names whose DNS does not answer (for five seconds): no packet leaves.
fn never_answers(_: &str, _: u16) -> std::io::Result<Vec<std::net::SocketAddr>> {
    use std::sync::atomic::Ordering::SeqCst;
    let now = LOOKING_UP.fetch_add(1, SeqCst) + 1;
    MOST_LOOKING_UP.fetch_max(now, SeqCst);
    std::thread::sleep(Duration::from_secs(5));
    LOOKING_UP.fetch_sub(1, SeqCst);
    Err(std::io::Error::other("no answer"))
}

/// Security finding 9: the per-host verification places are taken before the callback's
/// name is resolved, so names under one domain whose DNS never answers start at most
/// `verifications_per_host` lookups, the rest get 429 at once, and the server keeps serving.
#[test]
fn callbacks_whose_dns_never_answers_are_bounded_before_resolving() {
    let dir = tempfile::tempdir().unwrap();
    site(dir.path());
    let setup = HubSetup { tune: |settings| settings.callbacks.lookup = never_answers, ..hub(dir.path(), true) };
    let server = Arc::new(TestServer::start_hub(dir.path(), setup, None));
    let topic = format!("{}/feed.atom", server.base_url);
    let requests: Vec<_> = (0..10)
        .map(|i| {
            let (server, topic) = (server.clone(), topic.clone());
            std::thread::spawn(move || {
                let callback = format!("http://n{i}.never.example/cb");
                let answer = hub_request(&server, "subscribe", &topic, &callback);
                (answer.status, answer.text())
            })
        })
        .collect();
    // While the lookups hang, the site is served.
    assert_eq!(server.get("/feed.atom").status, 200);
    let answers: Vec<(u16, String)> = requests.into_iter().map(|r| r.join().unwrap()).collect();
    let busy = answers.iter().filter(|(status, _)| *status == 429).count();
    let unresolved =
        answers.iter().filter(|(status, text)| *status == 400 && text.contains("cannot be resolved")).count();
    assert_eq!((busy, unresolved), (6, 4), "{answers:?}");
    assert!(answers.iter().any(|(_, text)| text.contains("already verifying 4 subscriptions at never.example")));
    assert_eq!(MOST_LOOKING_UP.load(std::sync::atomic::Ordering::SeqCst), 4);
}

/// Security finding 8 (names re-pointed at a victim): deliveries are limited per address
/// connected to, not only per name: eight subscriptions under two names of one address
/// (`localhost`, `127.0.0.1`) that never answer hold at most four connections to it.
#[test]
fn deliveries_to_one_address_are_limited_whatever_the_names() {
    let dir = tempfile::tempdir().unwrap();
    site(dir.path());
    let setup = HubSetup {
        tune: |settings| {
            // Nobody gives up during the test: what is in flight stays in flight.
            settings.retry.timeout = Duration::from_secs(30);
            settings.hot_timeout = Duration::from_secs(30);
        },
        ..hub(dir.path(), true)
    };
    let server = TestServer::start_hub(dir.path(), setup, None);
    let topic = format!("{}/feed.atom", server.base_url);
    let victim = Silent::start("127.0.0.1");
    for name in ["127.0.0.1", "localhost"] {
        for n in 0..4 {
            let callback = format!("{}?n={n}", victim.base.replace("127.0.0.1", name));
            subscribe_and_wait(&server, &topic, &callback, || true);
        }
    }
    wait_for("8 subscriptions stored", Duration::from_secs(30), || {
        let metrics = metrics_with_token(&server);
        let stored = r#"tidings_feed_subscribers{feed="/feed.atom",source="websub"} 8"#;
        metrics.lines().any(|l| l == stored).then_some(())
    });
    let post = dir.path().join("content/_posts/2021-01-01-ops.md");
    std::fs::write(&post, "---\ntitle: To the victim\ncategory: Ops\n---\nOps.\n").unwrap();
    wait_for("deliveries to the address", Duration::from_secs(10), || (victim.posts() >= 4).then_some(()));
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(victim.posts(), 4, "connections held to one address");
}

/// `/metrics` as a scraper with the stats token sees it (subscriber gauges included).
fn metrics_with_token(server: &TestServer) -> String {
    let token = format!("Bearer {STATS_TOKEN}");
    server.request("GET", "/metrics", &[("Authorization", token.as_str())]).text()
}

/// Issue 10: a client could make a feed show billions of subscribers, cut an aggregator's
/// real count to 1 with a later claim, and add a poller per made-up User-Agent; `/metrics`
/// published to anyone what `/stats` keeps behind its token.
#[test]
fn forged_counts_move_the_figures_little_and_only_the_token_shows_them() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_hub(&crate::support::data("site"), hub(dir.path(), true), None);
    let feed = "/feed.atom";
    let feedly = |n: &str| format!("Feedly/1.0 (+http://www.feedly.com/fetcher.html; {n} subscribers)");
    assert_eq!(server.request("GET", feed, &[("User-Agent", &feedly("5000"))]).status, 200);
    // Later and smaller, larger than believable, and under twenty made-up ids each.
    assert_eq!(server.request("GET", feed, &[("User-Agent", &feedly("1"))]).status, 200);
    assert_eq!(server.request("GET", feed, &[("User-Agent", &feedly("99999999"))]).status, 200);
    for id in 0..25 {
        let ua = format!("Feedbin feed-id:{id} - 999999 subscribers");
        assert_eq!(server.request("GET", feed, &[("User-Agent", &ua)]).status, 200);
    }
    // A new User-Agent per request.
    for n in 0..40 {
        assert_eq!(server.request("GET", feed, &[("User-Agent", &format!("Made-up/{n}"))]).status, 200);
    }
    let token = [("Authorization", format!("Bearer {STATS_TOKEN}"))];
    let token: Vec<(&str, &str)> = token.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let line = |text: &str, source: &str| {
        let prefix = format!("tidings_feed_subscribers{{feed=\"{feed}\",source=\"{source}\"}} ");
        text.lines().find_map(|l| l.strip_prefix(&prefix)).map(str::to_owned)
    };
    let metrics = wait_for("the counts written", Duration::from_secs(10), || {
        let text = server.request("GET", "/metrics", &token).text();
        (line(&text, "pollers").as_deref() == Some("16")).then_some(text)
    });
    assert_eq!(line(&metrics, "feedly").as_deref(), Some("5000"), "{metrics}");
    assert_eq!(line(&metrics, "feedbin").as_deref(), Some("1000000"), "{metrics}");
    // Without the token, no subscriber figures.
    let open = server.get("/metrics").text();
    assert!(open.contains("tidings_http_requests_total") && !open.contains("tidings_feed_subscribers"), "{open}");
}

//! WebSub: a post scheduled a few seconds ahead appears on time with no file event, and
//! every hub is told about exactly the feeds whose bytes changed, retrying a failing hub.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tidings::websub::RetryPolicy;

use crate::support::{TestServer, metric};

/// A hub on 127.0.0.1 that records every ping and answers 500 to the first ping for each
/// URL, 204 after that.
struct RecordingHub {
    url: String,
    pings: Arc<Mutex<Vec<BTreeMap<String, String>>>>,
}

impl RecordingHub {
    fn start() -> RecordingHub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hub", listener.local_addr().unwrap());
        let pings: Arc<Mutex<Vec<BTreeMap<String, String>>>> = Arc::default();
        let recorded = pings.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':')
                        && name.eq_ignore_ascii_case("content-length")
                    {
                        length = value.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                let form: BTreeMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
                let mut pings = recorded.lock().unwrap();
                let first = !pings.iter().any(|p| p.get("hub.url") == form.get("hub.url"));
                let mut form = form;
                form.insert("_received_ms".into(), millis_now().to_string());
                pings.push(form);
                let status = if first { "500 Internal Server Error" } else { "204 No Content" };
                let _ = write!(stream, "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            }
        });
        RecordingHub { url, pings }
    }
}

/// Milliseconds since the Unix epoch: when a test double saw something happen.
fn millis_now() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()
}

/// A shared cache in front of tidings, as nginx or a CDN is: it keeps each page it fetched
/// for `hold` and answers from that copy meanwhile, whatever tidings serves now. It records
/// when it first answered with each entity tag.
struct HoldingCache {
    url: String,
    upstream: Arc<Mutex<Option<std::net::SocketAddr>>>,
    first_served: Arc<Mutex<BTreeMap<String, u128>>>,
}

impl HoldingCache {
    fn start(hold: Duration) -> HoldingCache {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let upstream: Arc<Mutex<Option<std::net::SocketAddr>>> = Arc::default();
        let first_served: Arc<Mutex<BTreeMap<String, u128>>> = Arc::default();
        let (to, seen) = (upstream.clone(), first_served.clone());
        std::thread::spawn(move || {
            let mut copies: BTreeMap<String, (Instant, String, Vec<u8>)> = BTreeMap::new();
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                let _ = reader.read_line(&mut request_line);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                }
                let path = request_line.split(' ').nth(1).unwrap_or("/").to_owned();
                let Some(addr) = *to.lock().unwrap() else { continue };
                let fresh = copies.get(&path).is_some_and(|(at, _, _)| at.elapsed() < hold);
                if !fresh {
                    let r = crate::support::request(addr, "GET", &path, &[("Accept-Encoding", "identity")]);
                    copies.insert(path.clone(), (Instant::now(), r.header("etag").unwrap_or("").to_owned(), r.body));
                }
                let (_, etag, body) = &copies[&path];
                seen.lock().unwrap().entry(etag.clone()).or_insert_with(millis_now);
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nETag: {etag}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(body);
            }
        });
        HoldingCache { url, upstream, first_served }
    }
}

fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_scheduled_post_appears_on_time_and_hubs_hear_of_the_changed_feeds() {
    let hub = RecordingHub::start();
    let site = tempfile::tempdir().unwrap();
    let (content, feeds) = (site.path().join("content/_posts"), site.path().join("feeds"));
    std::fs::create_dir_all(&content).unwrap();
    std::fs::create_dir_all(&feeds).unwrap();
    std::fs::write(feeds.join("site.yaml"), format!("title: Hubbed\nwebsub:\n  hubs: [{}]\n", hub.url)).unwrap();
    std::fs::write(content.join("2020-01-01-old.md"), "---\ntitle: Old news\ncategory: Archive\n---\nOld.\n").unwrap();
    let due = chrono::Utc::now() + chrono::Duration::seconds(2);
    let soon = format!("---\ntitle: Fresh news\ncategory: Ops\ndate: {}\n---\nNew.\n", due.to_rfc3339());
    std::fs::write(content.join("soon.md"), soon).unwrap();

    let policy = RetryPolicy { attempts: 3, first_backoff: Duration::from_millis(50), timeout: Duration::from_secs(2) };
    let server = TestServer::start_with_policy(&site.path().join("content"), &feeds, None, policy);
    assert!(!server.get("/feed.rss").text().contains("Fresh news"), "held back before its time");
    assert_eq!(server.get("/categories/ops/feed.rss").status, 404);

    wait_for("the scheduled post", Duration::from_secs(10), || server.get("/feed.rss").text().contains("Fresh news"));
    assert!(chrono::Utc::now() >= due, "appeared early");
    assert_eq!(server.get("/categories/ops/feed.atom").status, 200);

    let base = &server.base_url;
    let expected: BTreeSet<String> = [
        "/feed.rss",
        "/feed.atom",
        "/feed.json",
        "/categories/ops/feed.rss",
        "/categories/ops/feed.atom",
        "/categories/ops/feed.json",
    ]
    .iter()
    .map(|p| format!("{base}{p}"))
    .collect();
    wait_for("retried pings for every changed feed", Duration::from_secs(10), || {
        let pings = hub.pings.lock().unwrap();
        expected.iter().all(|url| pings.iter().filter(|p| p.get("hub.url") == Some(url)).count() >= 2)
    });
    std::thread::sleep(Duration::from_millis(300));
    let pings = hub.pings.lock().unwrap();
    assert!(pings.iter().all(|p| p.get("hub.mode").map(String::as_str) == Some("publish")));
    assert!(pings.iter().all(|p| p.get("hub.topic") == p.get("hub.url")), "hub.topic names the feed too");
    let told: BTreeSet<String> = pings.iter().filter_map(|p| p.get("hub.url").cloned()).collect();
    assert_eq!(told, expected, "only the feeds whose bytes changed");
    assert!(pings.len() <= 2 * expected.len(), "no ping repeated after it succeeded: {}", pings.len());
}

/// Pings to `path` (on `server`) that `hub` received.
fn pings_about(hub: &RecordingHub, server: &TestServer, path: &str) -> usize {
    let url = format!("{}{path}", server.base_url);
    hub.pings.lock().unwrap().iter().filter(|p| p.get("hub.url") == Some(&url)).count()
}

/// Regression: the hubs were fixed when the server started, so a `websub.hubs` added or
/// changed in site.yaml while serving was advertised by every feed's links but never told
/// (flask-websub as the new hub, in tests/deploy/websub_hub.py, delivered nothing).
#[test]
fn hubs_named_in_site_yaml_while_serving_are_the_hubs_told() {
    let site = tempfile::tempdir().unwrap();
    let (content, feeds) = (site.path().join("content/_posts"), site.path().join("feeds"));
    std::fs::create_dir_all(&content).unwrap();
    std::fs::create_dir_all(&feeds).unwrap();
    std::fs::write(feeds.join("site.yaml"), "title: Hubless\n").unwrap();
    let post = content.join("2020-01-01-news.md");
    std::fs::write(&post, "---\ntitle: News\ncategory: Ops\n---\nNews.\n").unwrap();
    let policy = RetryPolicy { attempts: 3, first_backoff: Duration::from_millis(50), timeout: Duration::from_secs(2) };
    let server = TestServer::start_with_policy(&site.path().join("content"), &feeds, None, policy);
    assert_eq!(server.get("/categories/ops/feed.atom").header("link"), None);
    let (first, second) = (RecordingHub::start(), RecordingHub::start());
    let feed = "/categories/ops/feed.atom";

    // A hub added while serving: the feeds now name it, so it hears about them (each ping is
    // refused once by the recording hub and retried).
    std::fs::write(feeds.join("site.yaml"), format!("title: Hubbed\nwebsub:\n  hubs: [{}]\n", first.url)).unwrap();
    wait_for("the added hub to be told", Duration::from_secs(10), || pings_about(&first, &server, feed) >= 2);
    assert!(server.get(feed).header("link").is_some_and(|l| l.contains(&first.url)));

    // Moving to another hub: the new one is told, and so is the one being left (its
    // subscribers get the feed that names the new hub).
    let before_move = pings_about(&first, &server, feed);
    std::fs::write(feeds.join("site.yaml"), format!("title: Moved\nwebsub:\n  hubs: [{}]\n", second.url)).unwrap();
    wait_for("the new hub to be told", Duration::from_secs(10), || pings_about(&second, &server, feed) >= 2);
    wait_for("the old hub to hear of the move", Duration::from_secs(10), || {
        pings_about(&first, &server, feed) > before_move
    });
    wait_for("the move's pings to end", Duration::from_secs(10), || {
        metric(&server, "tidings_websub_pings_pending") == 0
    });

    // After the move, an edit goes to the new hub only.
    let (first_count, second_count) = (first.pings.lock().unwrap().len(), pings_about(&second, &server, feed));
    let changes = metric(&server, "tidings_feed_changes_total");
    std::fs::write(&post, "---\ntitle: Later news\ncategory: Ops\n---\nNews.\n").unwrap();
    wait_for("the new hub to hear of the edit", Duration::from_secs(10), || {
        pings_about(&second, &server, feed) > second_count
    });
    // Every ping the edit queued has been sent (or given up) before the old hub is looked at.
    wait_for("the edit's pings to end", Duration::from_secs(10), || {
        metric(&server, "tidings_feed_changes_total") > changes && metric(&server, "tidings_websub_pings_pending") == 0
    });
    assert_eq!(first.pings.lock().unwrap().len(), first_count, "the hub site.yaml no longer names is not told");
}

/// Issue 12: behind a shared cache, a hub told at once fetches the feed through the cache and
/// gets the old bytes. With `websub.confirm`, the ping waits until the public URL serves the
/// new feed: the hub is told no earlier than the cache first answers with the new entity tag.
#[test]
fn with_confirm_hubs_are_told_only_once_the_public_url_serves_the_new_feed() {
    let hub = RecordingHub::start();
    let cache = HoldingCache::start(Duration::from_secs(2));
    let site = tempfile::tempdir().unwrap();
    let (content, feeds) = (site.path().join("content/_posts"), site.path().join("feeds"));
    std::fs::create_dir_all(&content).unwrap();
    std::fs::create_dir_all(&feeds).unwrap();
    let settings = format!(
        "title: Cached\nmax_age: 1\nstale_while_revalidate: 0\nwebsub:\n  hubs: [{}]\n  confirm: true\n",
        hub.url
    );
    std::fs::write(feeds.join("site.yaml"), settings).unwrap();
    let post = content.join("2020-01-01-news.md");
    std::fs::write(&post, "---\ntitle: News\ncategory: Ops\n---\nNews.\n").unwrap();
    let policy = RetryPolicy { attempts: 3, first_backoff: Duration::from_millis(50), timeout: Duration::from_secs(2) };
    let server = TestServer::start_with_policy(&site.path().join("content"), &feeds, Some(&cache.url), policy);
    *cache.upstream.lock().unwrap() = Some(server.addr);
    let feed = "/categories/ops/feed.atom";
    let url = format!("{}{feed}", cache.url);
    // The cache holds the old feed from now on, for two seconds.
    crate::support::request(cache.url.trim_start_matches("http://").parse().unwrap(), "GET", feed, &[]);

    std::fs::write(&post, "---\ntitle: Later news\ncategory: Ops\n---\nNews.\n").unwrap();
    wait_for("tidings to serve the edit", Duration::from_secs(5), || server.get(feed).text().contains("Later news"));
    let new_etag = server.request("GET", feed, &[("Accept-Encoding", "identity")]).header("etag").unwrap().to_owned();
    wait_for("the hub to be told", Duration::from_secs(15), || {
        hub.pings.lock().unwrap().iter().any(|p| p.get("hub.url") == Some(&url))
    });
    let told = hub.pings.lock().unwrap().iter().find(|p| p.get("hub.url") == Some(&url)).unwrap()["_received_ms"]
        .parse::<u128>()
        .unwrap();
    let public = *cache.first_served.lock().unwrap().get(&new_etag).expect("the cache served the new feed");
    assert!(told >= public, "the hub was told {} ms before the public URL served the new feed", public - told);
}

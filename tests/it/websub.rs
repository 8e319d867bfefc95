//! WebSub: a post scheduled a few seconds ahead appears on time with no file event, and
//! every hub is told about exactly the feeds whose bytes changed, retrying a failing hub.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tidings::websub::RetryPolicy;

use crate::support::TestServer;

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
                pings.push(form);
                let status = if first { "500 Internal Server Error" } else { "204 No Content" };
                let _ = write!(stream, "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            }
        });
        RecordingHub { url, pings }
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

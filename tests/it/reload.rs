//! Live reload over a real folder and a real socket: edits appear, a broken post keeps its
//! last good version, deletions leave, editors' habits work, and clients under load never
//! see an error or a torn response.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::{Response, TestServer, parse_feed, parse_xml};

/// A site in a temporary folder, served with live reload.
struct LiveSite {
    _dir: tempfile::TempDir,
    posts: PathBuf,
    server: TestServer,
}

impl LiveSite {
    fn new(posts: &[(&str, &str)]) -> LiveSite {
        let dir = tempfile::tempdir().unwrap();
        let content = dir.path().join("content");
        let feeds = dir.path().join("feeds");
        std::fs::create_dir_all(content.join("_posts")).unwrap();
        std::fs::create_dir_all(&feeds).unwrap();
        std::fs::write(feeds.join("site.yaml"), "title: Live\n").unwrap();
        for (name, text) in posts {
            std::fs::write(content.join("_posts").join(name), text).unwrap();
        }
        let server = TestServer::start_with(&content, &feeds, None);
        LiveSite { posts: content.join("_posts"), server, _dir: dir }
    }

    fn titles(&self) -> Vec<String> {
        let feed = parse_feed(&self.server.get("/feed.atom").body);
        feed.entries.iter().map(|e| e.title.clone().unwrap().content).collect()
    }

    fn wait_for_titles(&self, expected: &[&str]) {
        let start = Instant::now();
        loop {
            let titles = self.titles();
            if titles == expected {
                return;
            }
            assert!(start.elapsed() < Duration::from_secs(5), "still {titles:?}, expected {expected:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The test server is the one `tidings serve` runs (issue 26): `SIGHUP` re-reads a post
/// whose size and time are unchanged, with live reload off.
#[test]
fn sighup_rereads_everything_in_the_test_server_too() {
    let dir = tempfile::tempdir().unwrap();
    let (content, feeds) = (dir.path().join("content"), dir.path().join("feeds"));
    std::fs::create_dir_all(content.join("_posts")).unwrap();
    std::fs::create_dir_all(&feeds).unwrap();
    let file = content.join("_posts/2024-01-01-a.md");
    std::fs::write(&file, post("Before")).unwrap();
    let server = TestServer::start_watching(&content, &feeds, tidings::watch::Watch::Off);
    assert!(server.get("/feed.atom").text().contains("Before"));
    // Same length, same modification time: only a reading of everything finds it.
    let modified = std::fs::metadata(&file).unwrap().modified().unwrap();
    std::fs::write(&file, post("Afore!")).unwrap();
    std::fs::File::options().write(true).open(&file).unwrap().set_modified(modified).unwrap();
    // SAFETY: kill(2) on this very process; every server in it reloads, which is harmless.
    assert_eq!(unsafe { libc::kill(libc::getpid(), libc::SIGHUP) }, 0);
    server.wait_for_text("/feed.atom", "Afore!", Duration::from_secs(10));
}

/// Regression: events name files by their canonical path; a content folder given through a
/// symlink (or relatively) once made a direct write add a second copy of the post.
#[test]
fn a_write_through_a_symlinked_content_folder_replaces_the_post() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    std::fs::create_dir_all(real.join("content/_posts")).unwrap();
    std::fs::create_dir_all(real.join("feeds")).unwrap();
    std::fs::write(real.join("content/_posts/2024-01-01-a.md"), post("Before")).unwrap();
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let server = TestServer::start_with(&link.join("content"), &link.join("feeds"), None);
    // A plain write in place, with no temporary file beside it.
    std::fs::write(real.join("content/_posts/2024-01-01-a.md"), post("After")).unwrap();
    let start = Instant::now();
    loop {
        let feed = parse_feed(&server.get("/feed.atom").body);
        let titles: Vec<String> = feed.entries.iter().map(|e| e.title.clone().unwrap().content).collect();
        if titles == ["After"] {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "{titles:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn post(title: &str) -> String {
    format!("---\ntitle: {title}\ncategory: Ops\n---\nBody of {title}.\n")
}

#[test]
fn edits_appear_and_a_broken_post_keeps_its_last_good_version() {
    let site = LiveSite::new(&[("2024-01-01-a.md", &post("First")), ("2024-01-02-b.md", &post("Second"))]);
    site.wait_for_titles(&["Second", "First"]);
    let before = site.server.get("/feed.atom");
    let file = site.posts.join("2024-01-01-a.md");

    std::fs::write(&file, post("First, edited")).unwrap();
    site.wait_for_titles(&["Second", "First, edited"]);
    assert_ne!(site.server.get("/feed.atom").header("etag"), before.header("etag"));

    std::fs::write(&file, "---\ntitle: [half-written\n").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    site.wait_for_titles(&["Second", "First, edited"]);
    let report: serde_json::Value = serde_json::from_slice(&site.server.get("/diagnostics").body).unwrap();
    assert_eq!(report["errors"], 1);
    let text = report["diagnostics"][0]["text"].as_str().unwrap();
    assert!(text.contains("2024-01-01-a.md:1:1: front matter is not closed"), "{text}");
    assert!(text.ends_with("the last good version is served until this is fixed"), "{text}");

    std::fs::write(&file, post("First, fixed")).unwrap();
    site.wait_for_titles(&["Second", "First, fixed"]);
    let report: serde_json::Value = serde_json::from_slice(&site.server.get("/diagnostics").body).unwrap();
    assert_eq!(report["errors"], 0);

    std::fs::remove_file(&file).unwrap();
    site.wait_for_titles(&["Second"]);
    assert_eq!(site.server.get("/categories/ops/feed.rss").status, 200);
}

#[test]
fn editors_habits_work() {
    let site = LiveSite::new(&[("2024-01-01-a.md", &post("A"))]);
    let file = site.posts.join("2024-01-01-a.md");
    // Atomic save: write a temporary file, rename it over the post.
    let temp = site.posts.join(".2024-01-01-a.md.swp");
    std::fs::write(&temp, post("A, saved atomically")).unwrap();
    std::fs::rename(&temp, &file).unwrap();
    site.wait_for_titles(&["A, saved atomically"]);
    // Several quick writes: the last one wins.
    for i in 0..5 {
        std::fs::write(&file, post(&format!("A, write {i}"))).unwrap();
    }
    site.wait_for_titles(&["A, write 4"]);
    // Deleted and created again.
    std::fs::remove_file(&file).unwrap();
    std::fs::write(&file, post("A, recreated")).unwrap();
    site.wait_for_titles(&["A, recreated"]);
    // A new broken file is reported and left out.
    std::fs::write(site.posts.join("2024-01-02-broken.md"), "no front matter\n").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    site.wait_for_titles(&["A, recreated"]);
    let report: serde_json::Value = serde_json::from_slice(&site.server.get("/diagnostics").body).unwrap();
    assert_eq!(report["errors"], 1);
    // A folder of posts renamed away and back.
    let folder = site.posts.join("2023");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("2023-05-05-old.md"), post("Old")).unwrap();
    site.wait_for_titles(&["A, recreated", "Old"]);
    // Out of the content folder and back.
    let attic = site.posts.parent().unwrap().parent().unwrap().join("attic");
    std::fs::rename(&folder, &attic).unwrap();
    site.wait_for_titles(&["A, recreated"]);
    std::fs::rename(&attic, &folder).unwrap();
    site.wait_for_titles(&["A, recreated", "Old"]);
}

#[test]
fn thousands_of_files_added_at_once_all_appear() {
    let site = LiveSite::new(&[]);
    let staging = site.posts.parent().unwrap().parent().unwrap().join("staging");
    std::fs::create_dir(&staging).unwrap();
    for i in 0..2000 {
        std::fs::write(staging.join(format!("2020-01-01-p{i:04}.md")), post(&format!("P{i:04}"))).unwrap();
    }
    // Moved in as one folder, then a second batch written file by file.
    std::fs::rename(&staging, site.posts.join("bulk")).unwrap();
    for i in 2000..2500 {
        std::fs::write(site.posts.join(format!("2020-01-02-p{i:04}.md")), post(&format!("P{i:04}"))).unwrap();
    }
    let start = Instant::now();
    loop {
        let check: serde_json::Value =
            serde_json::from_slice(&site.server.get("/feed.json?page=125").body).unwrap_or_default();
        if check["items"].as_array().is_some_and(|items| items.len() == 20) {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "2500 posts did not all appear");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(site.server.get("/feed.json?page=126").status, 404);
}

/// Clients fetch feeds continuously while posts are created, rewritten in place and by
/// rename, corrupted, fixed and deleted hundreds of times.
#[test]
fn reload_under_load_never_fails_a_request() {
    let site = LiveSite::new(&[("2024-01-01-stable.md", &post("Stable")), ("2024-01-02-churn.md", &post("Churn 0"))]);
    let addr = site.server.addr;
    let stop = Arc::new(AtomicBool::new(false));
    let requests = Arc::new(AtomicUsize::new(0));
    let failures: Arc<Mutex<Vec<String>>> = Arc::default();
    let clients: Vec<_> = (0..4)
        .map(|n| {
            let (stop, requests, failures) = (stop.clone(), requests.clone(), failures.clone());
            std::thread::spawn(move || {
                let paths = ["/feed.atom", "/feed.rss", "/categories/ops/feed.atom", "/feed.json"];
                let mut i = n;
                while !stop.load(Ordering::Relaxed) && requests.load(Ordering::Relaxed) < 4000 {
                    let path = paths[i % paths.len()];
                    i += 1;
                    let response = match std::panic::catch_unwind(|| crate::support::request(addr, "GET", path, &[])) {
                        Ok(r) => r,
                        Err(_) => {
                            failures.lock().unwrap().push(format!("transport error on {path}"));
                            continue;
                        }
                    };
                    requests.fetch_add(1, Ordering::Relaxed);
                    if let Err(problem) = check_response(path, &response) {
                        failures.lock().unwrap().push(problem);
                    }
                }
            })
        })
        .collect();

    let churn = site.posts.join("2024-01-02-churn.md");
    let mut served_while_broken = 0;
    for round in 0..300 {
        match round % 6 {
            0 => std::fs::write(&churn, post(&format!("Churn {round}"))).unwrap(),
            1 => {
                let temp = site.posts.join(".churn.tmp");
                std::fs::write(&temp, post(&format!("Churn {round}"))).unwrap();
                std::fs::rename(&temp, &churn).unwrap();
            }
            2 => {
                std::fs::write(&churn, "---\ntitle: [corrupt\n").unwrap();
                std::thread::sleep(Duration::from_millis(30));
                let titles = site.titles();
                assert!(titles.contains(&"Stable".to_owned()));
                if titles.iter().any(|t| t.starts_with("Churn")) {
                    served_while_broken += 1;
                }
            }
            3 => std::fs::write(&churn, post(&format!("Churn {round}"))).unwrap(),
            4 => std::fs::write(site.posts.join(format!("2024-02-{:02}-extra.md", round % 28 + 1)), post("Extra"))
                .unwrap(),
            _ => {
                for entry in std::fs::read_dir(&site.posts).unwrap() {
                    let path = entry.unwrap().path();
                    if path.to_string_lossy().ends_with("-extra.md") {
                        std::fs::remove_file(path).unwrap();
                    }
                }
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    std::fs::write(&churn, post("Churn final")).unwrap();
    site.wait_for_titles(&["Churn final", "Stable"]);
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.join().unwrap();
    }
    let failures = failures.lock().unwrap();
    assert!(failures.is_empty(), "{} failures, e.g. {:?}", failures.len(), &failures[..failures.len().min(5)]);
    assert!(requests.load(Ordering::Relaxed) > 500, "only {} requests", requests.load(Ordering::Relaxed));
    assert_eq!(served_while_broken, 50, "the last good version is served while the post is broken");
}

/// A 200 with a well-formed body whose ETag is the hash of its bytes.
fn check_response(path: &str, r: &Response) -> Result<(), String> {
    if r.status != 200 {
        return Err(format!("{path}: status {}", r.status));
    }
    let etag = r.header("etag").ok_or(format!("{path}: no ETag"))?;
    if etag != tidings::representation::Rendered::new(r.body.clone(), None, "").identity.etag {
        return Err(format!("{path}: ETag {etag} does not match the body"));
    }
    let text = std::str::from_utf8(&r.body).map_err(|e| format!("{path}: {e}"))?;
    if path.ends_with(".json") {
        serde_json::from_str::<serde_json::Value>(text).map_err(|e| format!("{path}: {e}"))?;
    } else {
        std::panic::catch_unwind(|| drop(parse_xml(text))).map_err(|_| format!("{path}: not well-formed"))?;
    }
    Ok(())
}

/// The titles of the site feed, newest first.
fn feed_titles(server: &TestServer) -> Vec<String> {
    let feed = parse_feed(&server.get("/feed.atom").body);
    feed.entries.iter().map(|e| e.title.clone().unwrap().content).collect()
}

/// Waits (up to `within`) until the site feed's titles are `expected`.
fn wait_for(server: &TestServer, expected: &[&str], within: Duration) {
    let start = Instant::now();
    loop {
        let titles = feed_titles(server);
        if titles == expected {
            return;
        }
        assert!(start.elapsed() < within, "still {titles:?} after {within:?}, expected {expected:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Issue 12: where no file events arrive (NFS), `--watch poll` finds edits, new and deleted
/// posts and configuration changes by stat alone. The server here gets no file events at all.
#[test]
fn polling_finds_edits_additions_deletions_and_settings_without_file_events() {
    let dir = tempfile::tempdir().unwrap();
    let (content, feeds) = (dir.path().join("content"), dir.path().join("feeds"));
    std::fs::create_dir_all(content.join("_posts")).unwrap();
    std::fs::create_dir_all(&feeds).unwrap();
    std::fs::write(feeds.join("site.yaml"), "title: Polled\n").unwrap();
    let first = content.join("_posts/2024-01-01-a.md");
    std::fs::write(&first, post("One")).unwrap();
    let server = TestServer::start_watching(&content, &feeds, tidings::watch::Watch::Poll(Duration::from_millis(100)));
    let within = Duration::from_secs(5);
    wait_for(&server, &["One"], within);
    // The same size, written within the same second: only the times and the text differ.
    std::fs::write(&first, post("Uno")).unwrap();
    wait_for(&server, &["Uno"], within);
    std::fs::write(content.join("_posts/2024-02-01-b.md"), post("Two")).unwrap();
    wait_for(&server, &["Two", "Uno"], within);
    std::fs::remove_file(&first).unwrap();
    wait_for(&server, &["Two"], within);
    std::fs::write(feeds.join("site.yaml"), "title: Polled again\n").unwrap();
    let start = Instant::now();
    while parse_feed(&server.get("/feed.atom").body).title.unwrap().content != "Polled again" {
        assert!(start.elapsed() < within, "the new site title never showed");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Issue 12: git-sync and Kubernetes volumes publish a new version by swapping a symlink to a
/// new folder in one rename. The server follows the link to the new folder, shows its posts,
/// and then watches the new folder for edits; both with file events and by polling.
#[test]
fn an_atomic_swap_of_the_content_symlink_is_followed() {
    for watch in [tidings::watch::Watch::Notify, tidings::watch::Watch::Poll(Duration::from_millis(100))] {
        let dir = tempfile::tempdir().unwrap();
        let (v1, v2, feeds) = (dir.path().join("rev-1"), dir.path().join("rev-2"), dir.path().join("feeds"));
        for (rev, title) in [(&v1, "Old"), (&v2, "New")] {
            std::fs::create_dir_all(rev.join("_posts")).unwrap();
            std::fs::write(rev.join("_posts/2024-01-01-a.md"), post(title)).unwrap();
        }
        std::fs::create_dir_all(&feeds).unwrap();
        let link = dir.path().join("current");
        std::os::unix::fs::symlink(&v1, &link).unwrap();
        let server = TestServer::start_watching(&link, &feeds, watch);
        wait_for(&server, &["Old"], Duration::from_secs(5));
        // git-sync's way: a new link beside the old one, renamed over it.
        let next = dir.path().join("current.tmp");
        std::os::unix::fs::symlink(&v2, &next).unwrap();
        std::fs::rename(&next, &link).unwrap();
        wait_for(&server, &["New"], Duration::from_secs(5));
        // The old revision goes, as git-sync removes it; edits in the new one still arrive.
        std::fs::remove_dir_all(&v1).unwrap();
        std::fs::write(v2.join("_posts/2024-01-01-a.md"), post("Newer")).unwrap();
        wait_for(&server, &["Newer"], Duration::from_secs(5));
    }
}

/// The watches are set up after the server listens (a recursive watch lists every folder,
/// which must not hold up the first answer). A configuration change made meanwhile used to
/// be lost: the catch-up after watching walked the posts only, so a hub named then was never
/// told (it failed CI). Here 4,000 folders make the setup take a while, and `site.yaml` is
/// written the moment the server listens.
#[test]
fn a_configuration_change_made_while_the_watches_are_set_up_is_not_lost() {
    let dir = tempfile::tempdir().unwrap();
    let (content, feeds) = (dir.path().join("content"), dir.path().join("feeds"));
    for i in 0..4000 {
        std::fs::create_dir_all(content.join(format!("_posts/{}/{i}", i % 40))).unwrap();
    }
    std::fs::create_dir_all(&feeds).unwrap();
    std::fs::write(feeds.join("site.yaml"), "title: Before\n").unwrap();
    std::fs::write(content.join("_posts/2024-01-01-a.md"), "---\ntitle: A\n---\nA.\n").unwrap();
    let server = TestServer::start_watching(&content, &feeds, tidings::watch::Watch::Notify);
    std::fs::write(feeds.join("site.yaml"), "title: After\n").unwrap();
    let start = Instant::now();
    loop {
        let title = parse_feed(&server.get("/feed.atom").body).title.map(|t| t.content);
        if title.as_deref() == Some("After") {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "the site is still titled {title:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

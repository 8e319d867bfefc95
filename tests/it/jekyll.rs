//! A Jekyll site served as it is (issue 9): `tests/data/jekyll` holds one post per rule, with
//! its own `_config.yml` and no tidings configuration.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use tidings::content::{self, Sources};
use tidings::diagnostic::Diagnostic;

use crate::support::{TestServer, copy_tree, data, parse_feed, parse_xml};

fn sources(content_dir: &Path) -> Sources {
    Sources {
        content_dir: content_dir.to_path_buf(),
        feeds_dir: PathBuf::from("/nonexistent-feeds-dir"),
        drafts: false,
        base_url: None,
        max_post_bytes: content::MAX_POST_BYTES,
        render_budget: tidings::content::RENDER_BUDGET,
        cache_bytes: tidings::store::DEFAULT_BUDGET,
        own_hub: None,
    }
}

/// Every post of the fixture site by file name, and every problem (bodies rendered, as
/// `tidings check` renders them).
fn posts() -> (BTreeMap<String, std::sync::Arc<content::Post>>, Vec<Diagnostic>) {
    let (posts, _, diagnostics) = rendered();
    (posts, diagnostics)
}

/// Every post and its body, by file name, and every problem.
#[allow(clippy::type_complexity)]
fn rendered()
-> (BTreeMap<String, std::sync::Arc<content::Post>>, BTreeMap<String, std::sync::Arc<content::Body>>, Vec<Diagnostic>) {
    let site = content::load(&sources(&data("jekyll"))).unwrap();
    let name = |p: &content::Post| p.source.file_name().unwrap().to_string_lossy().into_owned();
    let posts = site.posts.iter().map(|p| (name(p), p.clone())).collect();
    let bodies = site.posts.iter().map(|p| (name(p), site.bodies.body(p))).collect();
    let mut diagnostics = site.diagnostics;
    diagnostics.extend(site.bodies.renderer().problems());
    diagnostics.sort();
    (posts, bodies, diagnostics)
}

#[test]
fn dates_and_urls_are_jekylls() {
    let (posts, _) = posts();
    // (file, published as jekyll-feed writes it, link)
    let cases = [
        // Finding 1: date forms Ruby accepts.
        ("2016-07-19-optional.md", "2016-07-19T00:00:00-07:00", "https://example.com/blog/2016/07/19/optional/"),
        ("2016-03-21-edt.md", "2016-03-21T09:00:00-07:00", "https://example.com/blog/2016/03/21/edt/"),
        ("2016-06-17-bad-offset.md", "2016-06-17T12:00:00-07:00", "https://example.com/blog/2016/06/17/bad-offset/"),
        ("2023-01-29-year-twice.md", "2023-01-29T18:30:22-08:00", "https://example.com/blog/2023/01/29/year-twice/"),
        // Finding 2: the URL's date is the site zone's.
        ("2018-02-25-india.md", "2018-02-24T23:32:08-08:00", "https://example.com/blog/2018/02/24/india/"),
        // Finding 3: unquoted zoneless timestamps are UTC, quoted ones local.
        ("2015-03-17-unquoted.md", "2015-03-17T03:00:00-07:00", "https://example.com/blog/2015/03/17/unquoted/"),
        ("2015-03-18-quoted.md", "2015-03-18T10:00:00-07:00", "https://example.com/blog/2015/03/18/quoted/"),
        // Finding 7: categories in URLs are lower-cased and escaped, not slugified.
        (
            "2016-01-01-one-tag.md",
            "2016-01-01T00:00:00-08:00",
            "https://example.com/blog/main%20cat/2016/01/01/one-tag/",
        ),
        // Finding 10: `defaults` by scope.
        ("2016-02-01-first-guide.md", "2016-02-01T00:00:00-08:00", "https://example.com/blog/guides/first-guide/"),
        // Any extension in `_posts` is a post; HTML is used as written.
        ("2016-01-11-imported.html", "2016-01-11T00:00:00-08:00", "https://example.com/blog/2016/01/11/imported/"),
    ];
    for (file, published, link) in cases {
        let post = posts.get(file).unwrap_or_else(|| panic!("{file} is missing"));
        assert_eq!(post.published.to_rfc3339(), published, "{file}");
        assert_eq!(&*post.url, link, "{file}");
    }
    assert_eq!(posts["2016-02-01-first-guide.md"].image.as_deref(), Some("https://example.com/blog/img/guide.png"));
    assert!(rendered().1["2016-01-11-imported.html"].content_html.contains("<b>HTML</b>"));
}

#[test]
fn only_named_files_in_posts_are_posts() {
    // Finding 6: pages are not posts, and nothing about them is an error.
    let (posts, diagnostics) = posts();
    assert!(!posts.contains_key("events.md") && !posts.contains_key("about.md") && !posts.contains_key("index.md"));
    assert!(!posts.contains_key("2016-02-02-hidden.md"), "an empty `published:` hides a post");
    assert_eq!(posts["2016-04-01-no-fm.md"].title, "No Fm", "a post without front matter is titled from its name");
    assert!(diagnostics.iter().all(|d| !d.is_error()), "{diagnostics:#?}");
    let readme = diagnostics.iter().find(|d| d.path.ends_with("_posts/README.md")).expect("a warning for README");
    assert!(readme.message.starts_with("not a post: Jekyll publishes only files in _posts named"), "{readme}");
    let status =
        Command::new(env!("CARGO_BIN_EXE_tidings")).args(["check", "--content"]).arg(data("jekyll")).output().unwrap();
    assert_eq!(status.status.code(), Some(0), "{}", String::from_utf8_lossy(&status.stdout));
}

#[test]
fn terms_titles_ids_and_languages() {
    let (posts, diagnostics) = posts();
    let post = &posts["2016-01-01-one-tag.md"];
    // Finding 4: a list of one is one tag, in either YAML form.
    assert_eq!(post.tags.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["how we work"]);
    assert_eq!(posts["2016-01-02-bracket-tag.md"].tags[0].name, "how we work");
    // Finding 5: titles as jekyll-feed shows them, as text.
    assert_eq!(post.title, "Interior's and exterior’s – a “study”");
    // Finding 8: a front-matter id that is not a URI is reported and not used.
    assert_eq!(&*post.id, "https://example.com/blog/main%20cat/2016/01/01/one-tag");
    let id_warning =
        diagnostics.iter().find(|d| d.path.ends_with("2016-01-01-one-tag.md") && d.message.contains("`id`"));
    assert!(id_warning.is_some_and(|d| d.line == Some(7)), "{diagnostics:#?}");
    assert_eq!(&*posts["2016-01-11-imported.html"].id, "http://old.example.com/?p=123");
    // Two posts with one id: the older keeps it, the newer takes its URL, so feeds stay valid.
    assert_eq!(&*posts["2016-01-02-bracket-tag.md"].id, "tag:example.com,2016:shared");
    assert_eq!(&*posts["2016-01-03-same-id.md"].id, "https://example.com/blog/same-place/");
    for (file, what) in [("2016-01-02-bracket-tag.md", "same id"), ("2016-01-03-same-id.md", "same id")] {
        assert!(
            diagnostics.iter().any(|d| d.path.ends_with(file) && d.message.contains(what)),
            "{file}: {diagnostics:#?}"
        );
    }
    for file in ["2016-01-03-same-id.md", "2016-01-04-same-place.md"] {
        assert!(diagnostics.iter().any(|d| d.path.ends_with(file) && d.message.contains("same URL")), "{file}");
    }
    // Finding 9: the post's language.
    assert_eq!(post.lang.as_deref(), Some("ja"));
    // Finding 10: unused configuration keys are reported once, with a suggestion.
    let config_warnings: Vec<String> =
        diagnostics.iter().filter(|d| d.path.ends_with("_config.yml")).map(|d| d.message.clone()).collect();
    assert_eq!(config_warnings.len(), 2, "{config_warnings:?}");
    assert!(config_warnings.iter().any(|m| m.contains("`permalnk`") && m.contains("did you mean `permalink`")));
}

#[test]
fn liquid_in_bodies() {
    let (_, bodies, diagnostics) = rendered();
    let html = &bodies["2016-01-01-one-tag.md"].content_html;
    assert!(!html.contains("{{") && !html.contains("{%"), "{html}");
    assert!(html.contains("/blog/img/x.png"), "site.baseurl: {html}");
    assert!(html.contains(r#"href="https://example.com/blog/2016/07/19/optional/""#), "post_url: {html}");
    assert!(html.contains("Included an included note"), "include: {html}");
    assert!(
        html.contains(r#"<figure class="highlight"><pre><code class="language-ruby" data-lang="ruby">def hello"#),
        "highlight: {html}"
    );
    assert!(html.contains("puts &quot;hi&quot;") || html.contains("puts \"hi\""), "{html}");
    let oembed = diagnostics.iter().find(|d| d.message.contains("oembed")).expect("a warning for {% oembed %}");
    assert_eq!(oembed.line, Some(13), "{oembed}");
}

#[test]
fn old_feed_urls_answer() {
    let site = data("jekyll");
    let server = TestServer::start_with(&site, Path::new("/nonexistent-feeds-dir"), None);
    let base = &server.base_url;
    // jekyll-feed's URLs: the same feed, with its self link there.
    for (path, entries) in [
        ("/feed.xml", 14),
        ("/feed/Main%20Cat.xml", 1),
        ("/feed/news.xml", 1),
        ("/feed/Empty.xml", 0),
        ("/feed/by_tag/how%20we%20work.xml", 2),
    ] {
        let response = server.get(path);
        assert_eq!(response.status, 200, "{path}");
        assert_eq!(response.header("content-type"), Some("application/atom+xml; charset=utf-8"), "{path}");
        let text = response.text();
        let doc = parse_xml(&text);
        let self_link = doc
            .descendants()
            .find(|n| n.has_tag_name("link") && n.attribute("rel") == Some("self"))
            .and_then(|n| n.attribute("href"));
        assert_eq!(self_link, Some(format!("{base}{path}").as_str()), "{path}");
        assert_eq!(parse_feed(&response.body).entries.len(), entries, "{path}");
    }
    let atom = server.get("/feed.xml").text();
    assert!(atom.contains(r#"<entry xml:lang="ja">"#), "xml:lang on the Japanese post");
    // WordPress's URLs.
    let rss = server.get("/feed/");
    assert_eq!(rss.status, 200);
    assert!(rss.text().contains(&format!("href=\"{base}/feed/\"")), "self link at /feed/");
    assert_eq!(server.get("/feed").status, 200);
    assert_eq!(server.get("/category/main-cat/feed/").status, 200);
    assert_eq!(server.get("/tag/how-we-work/feed/atom/").status, 200);
    for (path, to) in [("/feed/rss2/", "/feed/"), ("/?feed=rss2", "/feed/"), ("/wp-atom.php", "/feed/atom/")] {
        let response = server.get(path);
        assert_eq!(response.status, 301, "{path}");
        assert_eq!(response.header("location"), Some(format!("{base}{to}").as_str()), "{path}");
    }
    assert_eq!(server.get("/comments/feed/").status, 410);
    assert_eq!(server.get("/feed/no-such-category.xml").status, 404);
}

#[test]
fn jekyll_feeds_urls_give_its_ten_newest_without_posts_limit() {
    // Issue 27, item 2: without `feed.posts_limit`, jekyll-feed gave 10 entries and tidings
    // gave 20, so each subscriber saw 10 old posts as new.
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&data("jekyll"), dir.path());
    let config = std::fs::read_to_string(dir.path().join("_config.yml")).unwrap();
    std::fs::write(dir.path().join("_config.yml"), config.replace("  posts_limit: 100\n", "")).unwrap();
    let server = TestServer::start_with(dir.path(), Path::new("/nonexistent-feeds-dir"), None);
    let feed = parse_feed(&server.get("/feed.xml").body);
    assert_eq!(feed.entries.len(), 10, "jekyll-feed's default");
    assert!(!server.get("/feed.xml").text().contains(r#"rel="next""#), "one page, as jekyll-feed has it");
    assert_eq!(server.get("/feed.xml?page=2").status, 404);
    // The old URL's browser page, at the address the export writes it (feed.xml.html).
    let page = server.get("/feed.xml.html");
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").is_some_and(|t| t.starts_with("text/html")) && page.text().contains("<html"));
    // tidings' own URLs still page, 20 a page.
    assert_eq!(parse_feed(&server.get("/feed.atom").body).entries.len(), 14);
}

#[test]
fn jekyll_feeds_term_urls_choose_and_name_terms_exactly_as_written() {
    // Issue 27, item 3: `by_tag/Foreman.xml` had 1 entry at jekyll-feed and all 141 `foreman`
    // posts at tidings, whose terms were renamed too.
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&data("jekyll"), dir.path());
    let posts = dir.path().join("_posts");
    std::fs::write(posts.join("2024-02-01-upper.md"), "---\ntitle: Upper\ntags: [Foreman, \"puppet,\"]\n---\nU\n")
        .unwrap();
    std::fs::write(posts.join("2024-02-02-lower.md"), "---\ntitle: Lower\ntags: [foreman]\n---\nL\n").unwrap();
    let server = TestServer::start_with(dir.path(), Path::new("/nonexistent-feeds-dir"), None);
    let titles = |path: &str| {
        let feed = parse_feed(&server.get(path).body);
        feed.entries.iter().map(|e| e.title.as_ref().unwrap().content.clone()).collect::<Vec<_>>()
    };
    assert_eq!(titles("/feed/by_tag/Foreman.xml"), ["Upper"]);
    assert_eq!(titles("/feed/by_tag/foreman.xml"), ["Lower"]);
    let upper = server.get("/feed/by_tag/Foreman.xml").text();
    assert!(upper.contains(r#"term="Foreman""#) && upper.contains(r#"term="puppet,""#), "{upper}");
    // tidings' own tag feed still merges spellings.
    assert_eq!(parse_feed(&server.get("/tags/foreman/feed.atom").body).entries.len(), 2);
}

#[test]
fn the_static_export_keeps_jekyll_feeds_urls() {
    let out = tempfile::tempdir().unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_tidings"))
        .args(["build", "--content"])
        .arg(data("jekyll"))
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    for file in ["feed.xml", "feed/Main Cat.xml", "feed/Empty.xml", "feed.xml.gz", "feed.atom"] {
        assert!(out.path().join(file).is_file(), "{file} missing");
    }
    let atom = std::fs::read_to_string(out.path().join("feed/Main Cat.xml")).unwrap();
    assert!(atom.contains(r#"href="https://example.com/blog/feed/Main%20Cat.xml" rel="self""#), "{atom}");
}

#[test]
fn jekyll_feeds_ways_can_be_turned_back() {
    let feeds = tempfile::tempdir().unwrap();
    let render = |site_yaml: &str| {
        std::fs::write(feeds.path().join("site.yaml"), site_yaml).unwrap();
        let site =
            content::load(&Sources { feeds_dir: feeds.path().to_path_buf(), ..sources(&data("jekyll")) }).unwrap();
        let index = tidings::index::Index::build(&site.posts, site.bodies.clone(), chrono::Utc::now(), 1);
        let key = tidings::feed::FeedKey::new(tidings::feed::Scope::Site, tidings::feed::Format::Atom);
        String::from_utf8(tidings::feed::render(&index, &key).unwrap().bytes).unwrap()
    };
    let guide = |atom: &str| {
        let doc = parse_xml(atom);
        let entry = doc
            .descendants()
            .find(|n| n.has_tag_name("entry") && n.descendants().any(|c| c.text() == Some("First guide")))
            .unwrap();
        let authors = entry.children().filter(|c| c.has_tag_name("author")).count();
        let content = entry.children().find(|c| c.has_tag_name("content")).unwrap();
        let base = content.attribute(("http://www.w3.org/XML/1998/namespace", "base")).map(str::to_owned);
        (authors, base, content.text().unwrap().to_owned())
    };
    // tidings' way: every author, absolute links.
    let (authors, base, html) = guide(&render("{}\n"));
    assert_eq!((authors, base), (2, None));
    assert!(html.contains(r#"href="https://example.com/blog/guides/other/""#), "{html}");
    // jekyll-feed's way: the first author, links as written with `xml:base`.
    let (authors, base, html) = guide(&render("links: relative\nco_authors: false\n"));
    assert_eq!((authors, base.as_deref()), (1, Some("https://example.com/blog/guides/first-guide/")));
    assert!(html.contains(r#"href="../other/""#) && html.contains(r#"src="pic.png""#), "{html}");
}

#[test]
fn an_edited_include_reaches_the_posts_that_use_it() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&data("jekyll"), dir.path());
    let server = TestServer::start_with(dir.path(), Path::new("/nonexistent-feeds-dir"), None);
    assert!(server.get("/feed.xml").text().contains("Included an included note"));
    std::fs::write(dir.path().join("_includes/note.html"), "<aside>Changed {{ include.word }} note</aside>\n").unwrap();
    server.wait_for_text("/feed.xml", "Changed an included note", std::time::Duration::from_secs(20));
}

#[test]
fn an_include_edited_while_the_watches_are_set_up_still_reaches_the_posts() {
    // The catch-up after the watches are set looked at posts and configuration only: a body
    // rendered before an include changed kept the old text.
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&data("jekyll"), dir.path());
    // Many folders make the recursive watch slow to set up, so the edit lands before it is.
    for i in 0..4000 {
        std::fs::create_dir_all(dir.path().join(format!("assets/{}/{i}", i % 40))).unwrap();
    }
    let server =
        TestServer::start_watching(dir.path(), Path::new("/nonexistent-feeds-dir"), tidings::watch::Watch::Notify);
    assert!(server.get("/feed.xml").text().contains("Included an included note"));
    std::fs::write(dir.path().join("_includes/note.html"), "<aside>Changed {{ include.word }} note</aside>\n").unwrap();
    server.wait_for_text("/feed.xml", "Changed an included note", std::time::Duration::from_secs(10));
}

/// Runs the binary with `args` and waits at most `limit` for it (killing it past that).
fn run_bounded(args: &[&std::ffi::OsStr], limit: std::time::Duration) -> std::process::Output {
    let child = Command::new(env!("CARGO_BIN_EXE_tidings"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let id = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    match rx.recv_timeout(limit) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").arg(id.to_string()).status();
            panic!("`tidings {args:?}` did not finish within {limit:?}");
        }
    }
}

#[test]
fn check_reports_hostile_liquid_instead_of_hanging() {
    // Issue 25, findings 3 and 4: a quadratic `uniq` took minutes per post, sorting in a loop
    // longer, and a 680-byte post split a captured megabyte of commas into 918 MB; `check`
    // waited for each. Now `uniq` is linear, the sort stops at the work limit or the budget,
    // the commas at the memory limit, and each is reported where it stopped.
    let site = data("hostile/liquid");
    // A budget long enough for a loaded machine's debug build: the limits on work and memory
    // stop these posts, not the clock.
    let budget = ["--render-budget-ms".as_ref(), "60000".as_ref()];
    let output = run_bounded(
        &[&["check".as_ref(), "--content".as_ref(), site.as_os_str()], &budget[..]].concat(),
        Duration::from_secs(90),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    let about = |file: &str| lines.iter().filter(|l| l.contains(file)).copied().collect::<Vec<_>>();
    assert_eq!(about("uniq.md"), [] as [&str; 0], "{stdout}");
    assert_eq!(about("fine.md"), [] as [&str; 0], "{stdout}");
    let sort = about("2024-01-03-sort.md");
    assert_eq!(sort.len(), 1, "{stdout}");
    assert!(sort[0].contains("_posts/2024-01-03-sort.md:5:26: its body cannot be shown (Liquid "), "{}", sort[0]);
    assert!(sort[0].contains("units of work") || sort[0].contains("render budget"), "{}", sort[0]);
    let commas = about("2024-01-04-commas.md");
    assert_eq!(commas.len(), 1, "{stdout}");
    assert!(
        commas[0].contains("_posts/2024-01-04-commas.md:6:1: its body cannot be shown (Liquid values"),
        "{}",
        commas[0]
    );
    assert!(stdout.ends_with("check: 0 errors, 2 warnings in 4 posts\n"), "{stdout}");

    // The budget applies to `check`: at 200 ms the sort stops at the deadline (wherever it is).
    let output = run_bounded(
        &["check".as_ref(), "--content".as_ref(), site.as_os_str(), "--render-budget-ms".as_ref(), "200".as_ref()],
        Duration::from_secs(90),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let sort = stdout.lines().find(|l| l.contains("2024-01-03-sort.md:")).unwrap_or_default();
    assert!(
        sort.contains(": its body cannot be shown (Liquid rendering took longer than the render budget"),
        "{stdout}"
    );
}

#[test]
fn build_exports_hostile_liquid_posts_without_their_bodies() {
    let out = tempfile::tempdir().unwrap();
    let site = data("hostile/liquid");
    let output = run_bounded(
        &[
            "build".as_ref(),
            "--content".as_ref(),
            site.as_os_str(),
            "--out".as_ref(),
            out.path().as_os_str(),
            "--render-budget-ms".as_ref(),
            "60000".as_ref(),
        ],
        Duration::from_secs(90),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    // Reported, as `check` reports them.
    assert!(stderr.contains("2024-01-03-sort.md:5:26: its body cannot be shown (Liquid did more than"), "{stderr}");
    assert!(stderr.contains("2024-01-04-commas.md:6:1: its body cannot be shown (Liquid values"), "{stderr}");
    let feed = std::fs::read_to_string(out.path().join("feed.xml")).unwrap();
    let feed = parse_feed(feed.as_bytes());
    let body = |title: &str| {
        let entry = feed.entries.iter().find(|e| e.title.as_ref().is_some_and(|t| t.content == title)).unwrap();
        entry.content.as_ref().and_then(|c| c.body.clone()).unwrap_or_default()
    };
    assert!(body("Fine").contains("A fine post: a+b."), "{}", body("Fine"));
    assert!(body("Uniq").contains("20001"), "{}", body("Uniq"));
    assert_eq!(body("Sort"), "");
    assert_eq!(body("Commas"), "");
}

#[test]
fn serve_stops_hostile_liquid_and_shows_the_other_bodies() {
    // Issue 25, finding 3: two hostile posts kept both render threads busy for minutes, so no
    // other body was ever ready. Now their renders stop (limits, or the budget) and the
    // empty bodies are kept, so later requests neither wait for them nor render them again.
    let server = TestServer::start_tuned(&data("hostile/liquid"), Path::new("/nonexistent-feeds-dir"), None, |s| {
        s.render_budget = Duration::from_millis(500)
    });
    let fine = server.wait_for_text("/feed.xml", "A fine post: a+b.", Duration::from_secs(60));
    let feed = parse_feed(&fine);
    assert_eq!(feed.entries.len(), 4);
    // Reported once their renders stop, each where it stopped.
    let started = Instant::now();
    loop {
        let diagnostics = server.get("/diagnostics").text();
        if ["2024-01-03-sort.md", "2024-01-04-commas.md"].iter().all(|f| diagnostics.contains(f)) {
            assert!(diagnostics.contains("its body cannot be shown (Liquid values would take"), "{diagnostics}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{diagnostics}");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Kept: the next snapshot-less request is a cache hit or a render with every body ready.
    let started = Instant::now();
    let again = server.get("/feed.xml");
    assert_eq!(again.status, 200);
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert!(again.text().contains("A fine post: a+b."));
}

#[test]
fn an_author_email_that_is_not_an_address_is_left_out_with_a_warning() {
    // Issue 27, item 15: `email: spestov` went into `<email>` and `<managingEditor>`, an error
    // in RSS and Atom.
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&data("jekyll"), dir.path());
    std::fs::write(dir.path().join("_data/authors.yml"), "sp:\n  name: S. P.\n  email: spestov\n").unwrap();
    let site = content::load(&sources(dir.path())).unwrap();
    assert_eq!(site.config.authors["sp"].email, None);
    let warning = site.diagnostics.iter().find(|d| d.message.contains("`email: spestov` is not an e-mail address"));
    assert!(warning.is_some_and(|d| d.path.ends_with("_data/authors.yml")), "{:?}", site.diagnostics);
}

#[test]
fn a_jekyll_site_configured_in_config_yaml_or_toml_is_read_as_one() {
    // Issue 28, item 1: with `_config.yaml`, Liquid was left raw, a post dropped and every URL
    // and id changed.
    let urls = |dir: &Path| {
        let site = content::load(&sources(dir)).unwrap();
        assert!(site.config.jekyll.is_some(), "not read as a Jekyll site");
        site.posts.iter().map(|p| (p.url.to_string(), p.id.to_string())).collect::<Vec<_>>()
    };
    let yml = tempfile::tempdir().unwrap();
    copy_tree(&data("jekyll"), yml.path());
    let expected = urls(yml.path());
    let yaml = tempfile::tempdir().unwrap();
    copy_tree(&data("jekyll"), yaml.path());
    std::fs::rename(yaml.path().join("_config.yml"), yaml.path().join("_config.yaml")).unwrap();
    assert_eq!(urls(yaml.path()), expected);
    let server = TestServer::start_with(yaml.path(), Path::new("/nonexistent-feeds-dir"), None);
    assert!(server.get("/feed.xml").text().contains("Included an included note"), "Liquid runs");

    let toml = tempfile::tempdir().unwrap();
    copy_tree(&data("jekyll"), toml.path());
    std::fs::remove_file(toml.path().join("_config.yml")).unwrap();
    std::fs::write(
        toml.path().join("_config.toml"),
        "title = \"Field Notes\"\nurl = \"https://example.com\"\nbaseurl = \"/blog\"\nauthor = \"ann\"\n\
         timezone = \"America/Los_Angeles\"\npermalink = \"/:categories/:year/:month/:day/:title/\"\n\
         [[defaults]]\nscope = { path = \"_posts/guides\", type = \"posts\" }\n\
         values = { permalink = \"/guides/:title/\", image = \"/img/guide.png\" }\n\
         [feed]\ncategories = [\"Main Cat\", \"Empty\"]\ntags = true\nposts_limit = 100\n",
    )
    .unwrap();
    assert_eq!(urls(toml.path()), expected);
    std::fs::write(toml.path().join("_config.toml"), "title = \n").unwrap();
    let broken = content::load(&sources(toml.path())).unwrap_err();
    assert!(broken.0.to_string().contains("_config.toml:1:"), "{}", broken.0);
}

//! The real Jekyll blogs in ../shared/corpora load without a crash or a hang; every problem
//! is a diagnostic, and every feed they make is well-formed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use tidings::content::{self, Sources};
use tidings::feed::legacy::{self, Legacy};
use tidings::feed::{self, Format};
use tidings::index::Index;

use crate::support::{copy_tree, parse_xml};

use crate::support::corpora_dir;

/// The real Jekyll blogs, or none when the shared corpora are absent.
fn corpora(test: &str) -> Vec<PathBuf> {
    let Some(dir) = corpora_dir(test) else { return Vec::new() };
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("_posts").is_dir())
        .collect();
    found.sort();
    assert!(found.len() >= 4, "expected the four corpora, found {found:?}");
    found
}

#[test]
fn check_reports_corpus_problems_as_diagnostics_without_crashing_or_hanging() {
    let no_feeds = tempfile::tempdir().unwrap();
    for corpus in corpora("check_reports_corpus_problems_as_diagnostics_without_crashing_or_hanging") {
        let child = Command::new(env!("CARGO_BIN_EXE_tidings"))
            .args(["check", "--content"])
            .arg(&corpus)
            .arg("--feeds")
            .arg(no_feeds.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Read the output while it runs: a report longer than a pipe's buffer would block it.
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || done.send(child.wait_with_output()));
        let output = finished
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("{}: check hung", corpus.display()))
            .unwrap();
        let status = output.status;
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            matches!(status.code(), Some(0 | 1)),
            "{}: {status:?}\n{}",
            corpus.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        let lines: Vec<&str> = stdout.lines().collect();
        let (summary, diagnostics) = lines.split_last().unwrap();
        assert!(summary.starts_with("check: "), "{summary}");
        for line in diagnostics {
            let rest = line
                .strip_prefix("error: ")
                .or_else(|| line.strip_prefix("warning: "))
                .unwrap_or_else(|| panic!("{line}"));
            assert!(rest.starts_with(corpus.to_str().unwrap()) && rest.contains(": "), "{line}");
        }
    }
}

#[test]
fn every_corpus_feed_is_well_formed() {
    for corpus in corpora("every_corpus_feed_is_well_formed") {
        let sources = Sources {
            content_dir: corpus.clone(),
            feeds_dir: PathBuf::from("/nonexistent-feeds-dir"),
            drafts: false,
            base_url: Some("https://corpus.example.org".to_owned()),
            max_post_bytes: tidings::content::MAX_POST_BYTES,
            render_budget: tidings::content::RENDER_BUDGET,
            cache_bytes: tidings::store::DEFAULT_BUDGET,
            own_hub: None,
        };
        let site = content::load(&sources).unwrap();
        assert!(site.posts.len() > 50, "{}: only {} posts", corpus.display(), site.posts.len());
        let index = Index::build(&site.posts, site.bodies.clone(), chrono::Utc::now(), 1);
        for key in feed::all_keys(&index) {
            let output = feed::render(&index, &key).unwrap();
            let text = String::from_utf8(output.bytes).unwrap();
            match key.format {
                Format::Json => drop(serde_json::from_str::<serde_json::Value>(&text).unwrap()),
                Format::Rss | Format::Atom => drop(parse_xml(&text)),
            }
        }
    }
}

/// A copy of `corpus` (read-only in CI) with the `_config.yml` jekyll-feed was run with beside
/// it: `reference/_config.used.yml` where there is one, else the corpus's `site.yml`.
fn jekyll_site(corpus: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(corpus, dir.path());
    let used = corpus.join("reference/_config.used.yml");
    let config = if used.is_file() { used } else { corpus.join("site.yml") };
    std::fs::copy(config, dir.path().join("_config.yml")).unwrap();
    dir
}

fn jekyll_sources(dir: &Path) -> Sources {
    Sources {
        content_dir: dir.to_path_buf(),
        feeds_dir: PathBuf::from("/nonexistent-feeds-dir"),
        drafts: false,
        base_url: None,
        max_post_bytes: tidings::content::MAX_POST_BYTES,
        render_budget: tidings::content::RENDER_BUDGET,
        cache_bytes: tidings::store::DEFAULT_BUDGET,
        own_hub: None,
    }
}

/// One Atom entry as a reader tells it apart: id, link, title text, published.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    id: String,
    link: String,
    title: String,
    published: String,
}

/// Every entry of an Atom feed; `html_titles` when titles are `type="html"` (jekyll-feed's).
fn entries(xml: &str) -> Vec<(Entry, String)> {
    let doc = parse_xml(xml);
    doc.descendants()
        .filter(|n| n.has_tag_name("entry"))
        .map(|entry| {
            let child = |name: &str| entry.children().find(|c| c.has_tag_name(name));
            let text = |name: &str| child(name).and_then(|c| c.text()).unwrap_or("").to_owned();
            let title = child("title").unwrap();
            let title_text = title.text().unwrap_or("").to_owned();
            let title_text = if title.attribute("type") == Some("html") {
                tidings::jekyll::url::title_text(&title_text)
            } else {
                title_text
            };
            let link = entry
                .children()
                .find(|c| c.has_tag_name("link") && c.attribute("rel").is_none_or(|r| r == "alternate"))
                .and_then(|c| c.attribute("href"))
                .unwrap_or("")
                .to_owned();
            let content = text("content");
            (Entry { id: text("id"), link, title: title_text, published: text("published") }, content)
        })
        .collect()
}

/// Differences from jekyll-feed that are deliberate, by corpus and entry id, with the reason.
const KNOWN_DIFFERENCES: &[(&str, &str, &str)] = &[];

#[test]
fn jekyll_feed_urls_give_jekyll_feeds_entries() {
    for corpus in
        corpora("jekyll_feed_urls_give_jekyll_feeds_entries").into_iter().filter(|c| c.join("reference").is_dir())
    {
        let name = corpus.file_name().unwrap().to_string_lossy().into_owned();
        let site_dir = jekyll_site(&corpus);
        let site = content::load(&jekyll_sources(site_dir.path())).unwrap();
        let index = Index::build(&site.posts, site.bodies.clone(), chrono::Utc::now(), 1);
        let reference = corpus.join("reference");
        let mut compared = 0;
        for file in walkdir::WalkDir::new(&reference).into_iter().map(|e| e.unwrap()) {
            let relative = file.path().strip_prefix(&reference).unwrap().to_string_lossy().into_owned();
            if !relative.ends_with(".xml") {
                continue;
            }
            let url_path = format!("/{relative}");
            let Some(Legacy::Feed(key)) = legacy::route(&url_path, None, &site.config) else {
                panic!("{name}: {url_path} is not routed to a feed");
            };
            let ours = feed::render(&index, &key).unwrap_or_else(|| panic!("{name}: {url_path}: no feed"));
            let ours = entries(std::str::from_utf8(&ours.bytes).unwrap());
            let theirs = entries(&std::fs::read_to_string(file.path()).unwrap());
            let known = |e: &Entry| KNOWN_DIFFERENCES.iter().any(|(c, id, _)| *c == name && *id == e.id);
            let mut ours_set: Vec<Entry> = ours.iter().map(|(e, _)| e.clone()).filter(|e| !known(e)).collect();
            let mut theirs_set: Vec<Entry> = theirs.iter().map(|(e, _)| e.clone()).filter(|e| !known(e)).collect();
            ours_set.sort();
            theirs_set.sort();
            let missing: Vec<&Entry> = theirs_set.iter().filter(|e| !ours_set.contains(e)).collect();
            let extra: Vec<&Entry> = ours_set.iter().filter(|e| !theirs_set.contains(e)).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{name} {url_path}: jekyll-feed has\n{missing:#?}\nbut tidings has\n{extra:#?}"
            );
            // No Liquid markup unless jekyll-feed shows it too (posts that print Liquid code).
            for (entry, content) in &ours {
                let theirs_content = theirs.iter().find(|(e, _)| e.id == entry.id).map_or("", |(_, c)| c.as_str());
                for marker in ["{{", "{%"] {
                    assert!(
                        !content.contains(marker) || theirs_content.contains(marker),
                        "{name} {url_path} {}: {marker} in the content",
                        entry.id
                    );
                }
            }
            compared += theirs_set.len();
        }
        assert!(compared > 50, "{name}: only {compared} entries compared");
    }
}

#[test]
fn jekyll_corpora_load_with_no_error_on_a_published_post() {
    for corpus in corpora("jekyll_corpora_load_with_no_error_on_a_published_post") {
        let site_dir = jekyll_site(&corpus);
        let site = content::load(&jekyll_sources(site_dir.path())).unwrap();
        let errors: Vec<String> = site.diagnostics.iter().filter(|d| d.is_error()).map(|d| d.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", corpus.display());
        assert!(site.posts.len() > 50, "{}: only {} posts", corpus.display(), site.posts.len());
        // jekyll-feed's ids repeat (bitcoincore's meetings); feeds must not.
        let mut ids: Vec<&str> = site.posts.iter().map(|p| &*p.id).collect();
        ids.sort();
        let repeated: Vec<&&str> = ids.windows(2).filter(|w| w[0] == w[1]).map(|w| &w[0]).collect();
        assert!(repeated.is_empty(), "{}: ids repeat: {repeated:?}", corpus.display());
        let index = Index::build(&site.posts, site.bodies.clone(), chrono::Utc::now(), 1);
        for key in feed::all_keys(&index) {
            let text = String::from_utf8(feed::render(&index, &key).unwrap().bytes).unwrap();
            if key.format != Format::Json {
                drop(parse_xml(&text));
            }
        }
    }
}

/// JEKYLL.md §10: 25 posts of the corpora as Jekyll 4.3 and jekyll-feed 0.17 published them
/// (site zone from `_config.yml`; UTC where the site sets none).
#[test]
fn jekyll_md_compatibility_cases() {
    // (corpus, file under _posts, published, link path, id path or "", terms or [])
    type Case = (&'static str, &'static str, &'static str, &'static str, &'static str, &'static [&'static str]);
    let cases: &[Case] = &[
        (
            "jekyll-news",
            "2013-05-06-jekyll-1-0-0-released.markdown",
            "2013-05-05T17:12:52-07:00",
            "/news/2013/05/05/jekyll-1-0-0-released/",
            "/news/2013/05/05/jekyll-1-0-0-released",
            &["release"],
        ),
        (
            "jekyll-news",
            "2018-03-14-development-update.md",
            "2018-04-19T08:07:00-07:00",
            "/news/2018/04/19/development-update/",
            "",
            &["community"],
        ),
        (
            "jekyll-news",
            "2014-05-06-jekyll-turns-2-0-0.markdown",
            "2014-05-06T00:00:00-07:00",
            "/news/2014/05/06/jekyll-turns-2-0-0/",
            "",
            &["release"],
        ),
        (
            "jekyll-news",
            "2023-01-29-jekyll-3-9-3-released.markdown",
            "2023-01-29T18:30:22-08:00",
            "/news/2023/01/29/jekyll-3-9-3-released/",
            "",
            &["release"],
        ),
        (
            "jekyll-news",
            "2021-09-14-goodbye-dear-frank.markdown",
            "2021-09-14T09:28:02-07:00",
            "/news/2021/09/14/goodbye-dear-frank/",
            "",
            &["team", "community"],
        ),
        (
            "jekyll-news",
            "2015-01-20-jekyll-meet-and-greet.markdown",
            "2015-01-20T19:23:12-08:00",
            "/news/2015/01/20/jekyll-meet-and-greet/",
            "",
            &["meetup"],
        ),
        (
            "jekyll-news",
            "2014-06-04-jekyll-stickers-1-dollar-stickermule.markdown",
            "2014-06-04T12:46:53-07:00",
            "/news/2014/06/04/jekyll-stickers-1-dollar-stickermule/",
            "",
            &["partners"],
        ),
        (
            "jekyll-news",
            "2017-03-21-jekyll-3-4-3-released.markdown",
            "2017-03-21T06:52:53-07:00",
            "/news/2017/03/21/jekyll-3-4-3-released/",
            "",
            &[],
        ),
        (
            "jekyll-news",
            "2015-01-24-jekyll-3-0-0-beta1-released.markdown",
            "2015-01-24T00:42:31-08:00",
            "/news/2015/01/24/jekyll-3-0-0-beta1-released/",
            "",
            &[],
        ),
        (
            "elixir-blog",
            "2020-09-24-paas-with-elixir-at-Heroku.markdown",
            "2020-09-24T00:00:00+00:00",
            "/blog/2020/09/24/paas-with-elixir-at-Heroku/",
            "",
            &["Elixir in Production", "paas", "phoenix"],
        ),
        (
            "elixir-blog",
            "2020-10-08-real-time-communication-at-scale-with-elixir-at-discord.markdown",
            "2020-10-08T00:00:00+00:00",
            "/blog/2020/10/08/real-time-communication-at-scale-with-elixir-at-discord/",
            "",
            &["Elixir in Production", "real-time", "genstage", "otp"],
        ),
        (
            "elixir-blog",
            "2022-12-22-cheatsheets-and-8-other-features-in-exdoc-that-improve-the-developer-experience.markdown",
            "2022-12-22T00:00:00+00:00",
            "/blog/2022/12/22/cheatsheets-and-8-other-features-in-exdoc-that-improve-the-developer-experience/",
            "",
            &["Announcements"],
        ),
        (
            "18f-blog",
            "2017-09-28-three-ways-to manage-research-projects.md",
            "2017-09-27T00:00:00+00:00",
            "/2017/09/27/three-ways-to-manage-research-projects/",
            "/2017/09/27/three-ways-to%20manage-research-projects",
            &[],
        ),
        (
            "18f-blog",
            "2023-04-20-hi-from-the-18F-design-chapter.md",
            "2023-05-02T00:00:00+00:00",
            "/2023/05/02/hi-from-the-18F-design-chapter/",
            "",
            &[],
        ),
        (
            "18f-blog",
            "2015-03-17-for-public-comment-the-https-only-standard.md",
            "2015-03-17T10:00:00+00:00",
            "/2015/03/17/for-public-comment-the-https-only-standard/",
            "",
            &[],
        ),
        (
            "18f-blog",
            "2020-06-30-transforming-how-dojs-civil-rights-division-engages-with-the-public.md",
            "2020-07-07T00:00:00+00:00",
            "/2020/07/07/transforming-how-dojs-civil-rights-division-engages-with-the-public/",
            "",
            &[],
        ),
        (
            "18f-blog",
            "2016-06-17-exciting-additions-to-analytics-usa-gov.md",
            "2016-06-17T12:00:00+00:00",
            "/2016/06/17/exciting-additions-to-analytics-usa-gov/",
            "",
            &[],
        ),
        (
            "18f-blog",
            "2021-07-27-content_governance_what_it_is_and_how_to_get_started.md",
            "2021-07-27T00:00:00+00:00",
            "/2021/07/27/content_governance_what_it_is_and_how_to_get_started/",
            "",
            &[],
        ),
        (
            "18f-blog",
            "2015-05-21-TockingTime.md",
            "2015-05-21T00:00:00+00:00",
            "/2015/05/21/tockingtime/",
            "/2015/05/21/TockingTime",
            &[],
        ),
        ("18f-blog", "2015-08-12-18f-consulting-is-hiring.md", "", "", "", &[]),
        (
            "bitcoincore",
            "en/pages/2016-01-01-index.md",
            "2016-01-01T00:00:00+00:00",
            "/",
            "/index",
            &["bitcoin", "bitcoin core"],
        ),
        (
            "bitcoincore",
            "en/posts/2016-04-14-maintainer-appointed-marcofalke.md",
            "2016-04-14T00:00:00+00:00",
            "/en/blog/2016/04/14/maintainer/",
            "/en/blog/2016/04/14/maintainer-appointed-marcofalke",
            &["announcements", "bitcoin", "maintainer"],
        ),
        (
            "bitcoincore",
            "en/posts/2016-06-24-segwit-next-steps.md",
            "2016-06-24T00:00:00+00:00",
            "/en/2016/06/24/segwit-next-steps/",
            "",
            &["mining"],
        ),
        (
            "bitcoincore",
            "en/meetings/2016-12-01-meeting.md",
            "2016-12-01T00:00:00+00:00",
            "/en/meetings/2016/12/01/",
            "/en/meetings/2016/12/meeting",
            &[],
        ),
        (
            "bitcoincore",
            "ja/releases/2019-08-09-release-0.18.1.md",
            "2018-08-09T00:00:00+00:00",
            "/ja/releases/0.18.1/",
            "",
            &[],
        ),
    ];
    let Some(dir) = corpora_dir("jekyll_md_compatibility_cases") else { return };
    let mut loaded = std::collections::BTreeMap::new();
    for (corpus, file, published, link, id, terms) in cases {
        let site = loaded.entry(*corpus).or_insert_with(|| {
            let site_dir = jekyll_site(&dir.join(corpus));
            (content::load(&jekyll_sources(site_dir.path())).unwrap(), site_dir)
        });
        let site = &site.0;
        let base = &site.config.base_url;
        let post = site.posts.iter().find(|p| *p.source == *Path::new("_posts").join(file));
        let Some(post) = post else {
            assert!(published.is_empty(), "{corpus} {file}: not published");
            continue;
        };
        assert!(!published.is_empty(), "{corpus} {file}: published, but Jekyll leaves it out");
        assert_eq!(post.published.to_rfc3339(), *published, "{corpus} {file}");
        assert_eq!(*post.url, format!("{base}{link}"), "{corpus} {file}");
        if !id.is_empty() {
            assert_eq!(*post.id, format!("{base}{id}"), "{corpus} {file}");
        }
        let names: Vec<&str> = post.categories.iter().chain(&post.tags).map(|t| t.name.as_str()).collect();
        for term in *terms {
            assert!(names.contains(term), "{corpus} {file}: {term} not in {names:?}");
        }
    }
    let (news, _) = &loaded["jekyll-news"];
    let post = |site: &content::Site, file: &str| {
        site.posts.iter().find(|p| *p.source == *Path::new("_posts").join(file)).unwrap().clone()
    };
    let body = |site: &content::Site, file: &str| site.bodies.body(&post(site, file));
    // Case 3 and 8: `post_url` and `link`; case 9: `highlight`.
    assert!(
        body(news, "2014-05-06-jekyll-turns-2-0-0.markdown")
            .content_html
            .contains("/news/2013/05/05/jekyll-1-0-0-released/\"")
    );
    assert!(
        body(news, "2017-03-21-jekyll-3-4-3-released.markdown")
            .content_html
            .contains("/news/2017/01/18/jekyll-3-4-0-released/\"")
    );
    assert!(
        body(news, "2015-01-24-jekyll-3-0-0-beta1-released.markdown")
            .content_html
            .contains(r#"<figure class="highlight"><pre><code class="language-shell" data-lang="shell">"#)
    );
    // Case 6: the title as text.
    assert_eq!(post(news, "2015-01-20-jekyll-meet-and-greet.markdown").title, "Jekyll Meet & Greet at GitHub HQ");
    // Case 12: the author and the image from `defaults`.
    let (elixir, _) = &loaded["elixir-blog"];
    let exdoc = post(
        elixir,
        "2022-12-22-cheatsheets-and-8-other-features-in-exdoc-that-improve-the-developer-experience.markdown",
    );
    assert_eq!(exdoc.authors[0].name, "Hugo Baraúna");
    assert_eq!(exdoc.image.as_deref(), Some("https://elixir-lang.org/images/social/elixir-og-card.jpg"));
    // Case 20: the unpublished post's tag has no feed.
    let (eighteen, _) = &loaded["18f-blog"];
    let index = Index::build(&eighteen.posts, eighteen.bodies.clone(), chrono::Utc::now(), 1);
    assert!(!index.tags.contains_key("hiring"));
    // Case 24: a CRLF post without `excerpt:` has the whole post as its summary.
    let (bitcoin, _) = &loaded["bitcoincore"];
    assert!(body(bitcoin, "en/meetings/2016-12-01-meeting.md").summary_html.len() > 2000);
    // Case 25: the post's language; a file without a date in its name is not a post.
    assert_eq!(post(bitcoin, "ja/releases/2019-08-09-release-0.18.1.md").lang.as_deref(), Some("ja"));
    assert!(!bitcoin.posts.iter().any(|p| p.source.ends_with("scaling-optimizations-zh_ch.md")));
}

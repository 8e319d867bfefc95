//! Nothing outside the content folder is ever published (issue 25, findings 1, 2 and 12):
//! links in `_includes/`, `_data/`, `_authors/` and `_posts/` that lead out are refused and
//! reported, a post swapped for such a link is not read through it, and a body is never
//! paired with another version's title.

use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;

use tidings::watch::Watch;

use crate::support::{TestServer, json};

const SECRET: &str = "SECRET-7f3a";

/// A Jekyll site in `dir/site` whose links lead to `dir/outside`, which holds the secret.
fn hostile_site(dir: &Path) -> std::path::PathBuf {
    let (site, outside) = (dir.join("site"), dir.join("outside"));
    for folder in ["_includes/deeper", "_posts", "_data", "_authors"] {
        std::fs::create_dir_all(site.join(folder)).unwrap();
    }
    std::fs::create_dir_all(outside.join("etc")).unwrap();
    std::fs::write(outside.join("secret.html"), SECRET).unwrap();
    std::fs::write(outside.join("etc/passwd"), SECRET).unwrap();
    std::fs::write(outside.join("authors.yml"), format!("ann:\n  name: {SECRET}\n")).unwrap();
    std::fs::write(outside.join("bob.md"), format!("---\nname: bob\nfull_name: {SECRET}\n---\n")).unwrap();
    std::fs::write(site.join("_config.yml"), "title: Hostile\nurl: https://example.com\n").unwrap();
    std::fs::write(site.join("_includes/fine.html"), "FINE-INCLUDE").unwrap();
    symlink("fine.html", site.join("_includes/alias.html")).unwrap();
    symlink(outside.join("secret.html"), site.join("_includes/env.html")).unwrap();
    symlink("/proc/self/environ", site.join("_includes/proc.html")).unwrap();
    symlink(&outside, site.join("_includes/root")).unwrap();
    symlink("../../../outside/secret.html", site.join("_includes/deeper/up.html")).unwrap();
    symlink(outside.join("authors.yml"), site.join("_data/authors.yml")).unwrap();
    symlink(outside.join("bob.md"), site.join("_authors/bob.md")).unwrap();
    symlink(outside.join("secret.html"), site.join("_posts/2024-01-03-linked.md")).unwrap();
    std::fs::write(
        site.join("_posts/2024-01-01-includes.md"),
        "---\ntitle: Includes\nauthors: [ann, bob]\n---\n\
         {% include fine.html %} {% include alias.html %}\n\n{% include env.html %}\n\n{% include proc.html %}\n\n\
         {% include root/etc/passwd %}\n\n{% include deeper/up.html %}\n",
    )
    .unwrap();
    site
}

#[test]
fn links_out_of_the_content_folder_are_never_read_and_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let site = hostile_site(dir.path());
    let server = TestServer::start_with(&site, Path::new("/nonexistent-feeds-dir"), None);
    for path in ["/feed.xml", "/feed.json", "/feed.atom", "/feed.rss"] {
        let body = server.get(path).text();
        assert!(!body.contains(SECRET), "{path} published a file outside the content folder: {body}");
        assert!(!body.contains("PATH="), "{path} published the environment");
    }
    let feed = json(&server.get("/feed.json").body);
    let html = feed["items"][0]["content_html"].as_str().unwrap();
    assert!(html.contains("FINE-INCLUDE FINE-INCLUDE"), "links inside the folder still work: {html}");
    let diagnostics = server.get("/diagnostics").text();
    for name in ["env.html", "proc.html", "root/etc/passwd", "deeper/up.html"] {
        assert!(
            diagnostics
                .contains(&format!("`{{% include {name} %}}`: `_includes/{name}` resolves outside the content folder")),
            "{name}: {diagnostics}"
        );
    }
    assert!(diagnostics.contains("_authors/bob.md"), "{diagnostics}");
    assert!(diagnostics.contains("2024-01-03-linked.md"), "{diagnostics}");

    // `check` says the same, and exits with problems.
    let output = Command::new(env!("CARGO_BIN_EXE_tidings")).args(["check", "--content"]).arg(&site).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(!stdout.contains(SECRET), "{stdout}");
    assert!(stdout.contains("`{% include env.html %}`: `_includes/env.html` resolves outside"), "{stdout}");
    assert!(stdout.contains("_data/authors.yml: cannot read: resolves outside the content folder"), "{stdout}");
}

#[test]
fn a_post_swapped_for_a_link_to_outside_is_not_read_through_it() {
    let dir = tempfile::tempdir().unwrap();
    let site = hostile_site(dir.path());
    let post = site.join("_posts/2024-01-02-plain.md");
    std::fs::write(&post, "---\ntitle: Plain\n---\nPLAIN-BODY\n").unwrap();
    let server = TestServer::start_watching(&site, Path::new("/nonexistent-feeds-dir"), Watch::Off);
    let tmp = site.join("_posts/p.tmp");
    symlink(dir.path().join("outside/secret.html"), &tmp).unwrap();
    std::fs::rename(&tmp, &post).unwrap();
    for _ in 0..3 {
        let body = server.get("/feed.json").text();
        assert!(!body.contains(SECRET), "read through the swapped link: {body}");
    }
}

#[test]
fn a_body_rewritten_in_place_is_never_served_under_the_old_title() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    std::fs::create_dir_all(site.join("_posts")).unwrap();
    let post = site.join("_posts/2024-01-01-rw.md");
    std::fs::write(&post, "---\ntitle: RW-515\n---\nBODY-515\n").unwrap();
    let server = TestServer::start_watching(&site, Path::new("/nonexistent-feeds-dir"), Watch::Off);
    // Not rendered yet: the first render happens after the rewrite, which the index has not seen.
    std::fs::write(&post, "---\ntitle: RW-516\n---\nBODY-516\n").unwrap();
    for _ in 0..3 {
        let response = server.get("/feed.json");
        let feed = json(&response.body);
        assert_eq!(feed["items"][0]["title"], "RW-515");
        assert_eq!(feed["items"][0]["content_html"], "", "a body of another version under the old title");
        assert_ne!(response.header("x-tidings-cache"), Some("hit"), "an incomplete document was cached");
    }
}

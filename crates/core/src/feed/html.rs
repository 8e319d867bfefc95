//! The browser view of a feed: the page a person sees who opens a feed's address in a web
//! browser. It says what a feed is, gives the address to copy into a reader, and lists the
//! items; it is plain HTML with one inline style and no script, so it needs neither XSLT
//! (which browsers are removing) nor anything fetched. Void elements are closed (`<meta/>`),
//! so the page is well-formed XML too and XML tools can check it. Pure, like the feed writers.

use std::fmt::Write;

use super::model::FeedModel;
use super::{FeedKey, Format};
use crate::text::escape_markup as esc;

/// The page's style: the same look the XSLT view had.
const STYLE: &str = include_str!("../../../../assets/feed-view.css");

/// The HTML page for `key`'s page as `model` holds it. `base_url` is the site's origin (and
/// path prefix), from which the other formats' addresses are made.
pub fn write(model: &FeedModel, key: &FeedKey, base_url: &str) -> Vec<u8> {
    // "JSON Feed" is already a feed: not "JSON Feed feed".
    let kind = match key.format {
        Format::Json => key.format.label().to_owned(),
        format => format!("{} feed", format.label()),
    };
    let title = if model.title.trim().is_empty() { "Untitled feed" } else { model.title.trim() };
    let mut out = String::with_capacity(4096 + model.items.len() * 512);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\"/>\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n\
         <meta name=\"color-scheme\" content=\"light dark\"/>\n<meta name=\"robots\" content=\"noindex\"/>\n\
         <title>{t} ({kind})</title>\n",
        lang = esc(&model.language),
        t = esc(title),
    );
    for format in Format::ALL {
        let url = format!("{base_url}{}", key.with_format(format).path());
        let _ = writeln!(
            out,
            "<link rel=\"alternate\" type=\"{}\" title=\"{} ({})\" href=\"{}\"/>",
            format.mime(),
            esc(title),
            format.label(),
            esc(&url)
        );
    }
    let _ = write!(out, "<style>\n{STYLE}</style>\n</head>\n<body>\n<div class=\"wrap\">\n<header class=\"feed\">\n");
    let _ = writeln!(out, "<p class=\"kind\">{kind}</p>\n<h1>{}</h1>", esc(title));
    if !model.description.trim().is_empty() {
        let _ = writeln!(out, "<p class=\"desc\">{}</p>", esc(model.description.trim()));
    }
    let _ = writeln!(out, "<p class=\"site\"><a href=\"{}\">Visit the website</a></p>", esc(&model.home_url));
    out.push_str("</header>\n<main>\n");
    let _ = write!(
        out,
        "<aside class=\"about\" lang=\"en\" aria-labelledby=\"about-title\">\n\
         <h2 id=\"about-title\">This is a web feed</h2>\n\
         <p>A feed lets you follow this site in a <strong>feed reader</strong>: new posts show up there by \
         themselves, with no account, email or algorithm in between. To subscribe, copy this address into \
         your feed reader.</p>\n\
         <label for=\"feed-url\">Feed address</label>\n\
         <input id=\"feed-url\" type=\"url\" readonly=\"readonly\" value=\"{}\" spellcheck=\"false\" autocomplete=\"off\"/>\n\
         <p class=\"formats\">Also as",
        esc(&model.self_url)
    );
    for format in Format::ALL.into_iter().filter(|f| *f != key.format) {
        let url = format!("{base_url}{}", key.with_format(format).path_and_query());
        let _ = write!(out, " <a href=\"{}\" type=\"{}\">{}</a>", esc(&url), format.mime(), format.label());
    }
    out.push_str(
        "</p>\n<p class=\"hint\">Feed readers are apps and websites that collect feeds; many are free. \
         Below is what this feed holds right now.</p>\n</aside>\n",
    );
    let (total, skipped) = model.position;
    let shown = model.items.len();
    match (shown, total) {
        (0, _) => out.push_str("<p class=\"empty\" lang=\"en\">No posts yet.</p>\n"),
        (1, 1) => out.push_str("<p class=\"count\" lang=\"en\">1 post, newest first</p>\n"),
        (n, all) if n == all => {
            let _ = writeln!(out, "<p class=\"count\" lang=\"en\">{n} posts, newest first</p>");
        }
        // A page of a longer feed: which of how many, and the way to the older ones.
        (n, all) => {
            let which = if skipped == 0 {
                format!("The {n} newest of {all} posts")
            } else {
                format!("Posts {} to {} of {all}, newest first", skipped + 1, skipped + n)
            };
            let _ = write!(out, "<p class=\"count\" lang=\"en\">{which}");
            if let Some(next) = &model.pages.next {
                let _ = write!(out, " · <a rel=\"next\" href=\"{}\">older posts</a>", esc(next));
            }
            out.push_str("</p>\n");
        }
    }
    for item in &model.items {
        let label = if item.title.trim().is_empty() { "(untitled)" } else { item.title.trim() };
        let _ = write!(out, "<article>\n<h2><a href=\"{}\">{}</a></h2>\n", esc(&item.url), esc(label));
        let authors: Vec<&str> = item.authors.iter().map(|a| a.name.as_str()).collect();
        let _ = write!(out, "<p class=\"meta\"><time datetime=\"{}\">", item.published.to_rfc3339());
        let _ = write!(out, "{}</time>", item.published.format("%-d %b %Y"));
        if !authors.is_empty() {
            let _ = write!(out, " · <span class=\"author\">{}</span>", esc(&authors.join(", ")));
        }
        out.push_str("</p>\n");
        if !item.summary_text.trim().is_empty() {
            let _ = writeln!(out, "<p class=\"summary\">{}</p>", esc(item.summary_text.trim()));
        }
        out.push_str("</article>\n");
    }
    if model.pages.previous.is_some() || model.pages.next.is_some() {
        out.push_str("<nav class=\"pages\" lang=\"en\">");
        if let Some(previous) = &model.pages.previous {
            let _ = write!(out, "<a rel=\"prev\" href=\"{}\">Newer posts</a>", esc(previous));
        }
        if let Some(next) = &model.pages.next {
            let _ = write!(out, "<a rel=\"next\" href=\"{}\">Older posts</a>", esc(next));
        }
        out.push_str("</nav>\n");
    }
    out.push_str(
        "</main>\n<footer lang=\"en\">\n<p>You are seeing this page because you opened the feed in a web browser. \
         Feed readers get the same address as the feed itself.</p>\n</footer>\n</div>\n</body>\n</html>\n",
    );
    out.into_bytes()
}

//! How readers find the feeds: the OPML list of every feed and the HTML index page with
//! autodiscovery links. Pure: built from an index.

use std::fmt::Write;

use crate::feed::model::describe;
use crate::feed::{self, FeedKey, Format, Scope};
use crate::index::Index;
use crate::text::escape_markup as esc;

/// The URL path of the OPML list.
pub const OPML_PATH: &str = "/feeds.opml";

/// The kinds of feed, in the order they are listed, with their headings.
fn kind(scope: &Scope) -> (u8, &'static str) {
    match scope {
        Scope::Site => (0, "Whole site"),
        Scope::Category(_) => (1, "Categories"),
        Scope::Author(_) => (2, "Authors"),
        Scope::Tag(_) => (3, "Tags"),
        Scope::Curated(_) => (4, "Curated feeds"),
    }
}

/// Every feed's scope and title, grouped by kind in listing order.
fn groups(index: &Index) -> Vec<(&'static str, Vec<(Scope, String)>)> {
    let mut groups: Vec<(&'static str, Vec<(Scope, String)>)> = Vec::new();
    for scope in feed::all_scopes(index) {
        let Some(info) = describe(index, &scope) else { continue };
        let heading = kind(&scope).1;
        match groups.last_mut() {
            Some((h, feeds)) if *h == heading => feeds.push((scope, info.title)),
            _ => groups.push((heading, vec![(scope, info.title)])),
        }
    }
    groups
}

/// OPML 2.0 listing every feed once (its RSS URL), grouped by kind.
pub fn opml(index: &Index) -> Vec<u8> {
    let config = &index.config;
    let home = format!("{}/", config.base_url);
    let mut out = String::with_capacity(4096);
    out.push_str(feed::DECLARATION);
    out.push_str("<opml version=\"2.0\">\n<head>\n");
    let _ = writeln!(out, "<title>{}</title>", esc(&format!("{} — feeds", config.title)));
    if let Some(updated) = index.updated() {
        let _ = writeln!(out, "<dateModified>{}</dateModified>", updated.to_utc().format("%a, %d %b %Y %H:%M:%S GMT"));
    }
    out.push_str("</head>\n<body>\n");
    for (heading, feeds) in groups(index) {
        let _ = writeln!(out, "<outline text=\"{}\">", esc(heading));
        for (scope, title) in feeds {
            let url = format!("{}{}", config.base_url, FeedKey::new(scope, Format::Rss).path());
            let _ = writeln!(
                out,
                "<outline type=\"rss\" version=\"RSS2\" text=\"{t}\" title=\"{t}\" xmlUrl=\"{}\" htmlUrl=\"{}\"/>",
                esc(&url),
                esc(&home),
                t = esc(&title),
            );
        }
        out.push_str("</outline>\n");
    }
    out.push_str("</body>\n</opml>\n");
    out.into_bytes()
}

/// The HTML page at `/`: every feed in every format, with autodiscovery links for the
/// site's feeds and the OPML list.
pub fn home_page(index: &Index) -> Vec<u8> {
    let config = &index.config;
    let base = &config.base_url;
    let title = esc(&config.title);
    let mut out = String::with_capacity(8192);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title} — feeds</title>\n",
        esc(&config.language)
    );
    for format in Format::ALL {
        let _ = writeln!(
            out,
            "<link rel=\"alternate\" type=\"{}\" title=\"{title} ({})\" href=\"{}\">",
            format.mime(),
            format.label(),
            esc(&format!("{base}{}", FeedKey::new(Scope::Site, format).path()))
        );
    }
    let _ = writeln!(
        out,
        "<link rel=\"outline\" type=\"text/x-opml\" title=\"{title}: every feed\" href=\"{}\">",
        esc(&format!("{base}{OPML_PATH}"))
    );
    out.push_str(STYLE);
    let _ = write!(out, "</head>\n<body>\n<header>\n<h1>{title}</h1>\n");
    if !config.description.trim().is_empty() {
        let _ = writeln!(out, "<p>{}</p>", esc(&config.description));
    }
    let _ = writeln!(
        out,
        "<p class=\"about\">These are web feeds: paste a feed’s address into a feed reader to follow it. \
         Each comes as RSS, Atom and JSON Feed; any reader takes RSS. \
         <a href=\"{}\">Every feed as OPML</a>, to import them all at once.</p>\n</header>\n<main>",
        esc(&format!("{base}{OPML_PATH}"))
    );
    for (heading, feeds) in groups(index) {
        let _ = writeln!(out, "<section>\n<h2>{}</h2>\n<ul>", esc(heading));
        for (scope, feed_title) in feeds {
            // The name opens the feed's page (its browser view), which static hosts serve too.
            let view = format!("{base}{}.html", FeedKey::new(scope.clone(), Format::Rss).path());
            let _ = write!(out, "<li><a class=\"name\" href=\"{}\">{}</a>", esc(&view), esc(&feed_title));
            for format in Format::ALL {
                let url = format!("{base}{}", FeedKey::new(scope.clone(), format).path());
                let _ = write!(out, " <a href=\"{}\" type=\"{}\">{}</a>", esc(&url), format.mime(), format.label());
            }
            out.push_str("</li>\n");
        }
        out.push_str("</ul>\n</section>\n");
    }
    out.push_str("</main>\n</body>\n</html>\n");
    out.into_bytes()
}

const STYLE: &str = "<style>\n\
:root{color-scheme:light dark;font-family:system-ui,sans-serif;line-height:1.5}\n\
body{max-width:46rem;margin:2rem auto;padding:0 1rem}\n\
.about{padding:.75rem 1rem;border-radius:.5rem;background:color-mix(in srgb,CanvasText 7%,Canvas)}\n\
ul{list-style:none;padding:0}li{padding:.3rem 0;border-bottom:1px solid color-mix(in srgb,CanvasText 12%,Canvas)}\n\
.name{display:inline-block;min-width:60%;margin-left:0}a{margin-left:.5rem}\n\
</style>\n";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SiteConfig;
    use std::sync::Arc;

    #[test]
    fn empty_site_lists_the_site_feed() {
        let config =
            SiteConfig { title: "A & B".into(), base_url: "https://x.example".into(), ..SiteConfig::default() };
        let index = Index::build(&[], crate::content::BodySource::detached(Arc::new(config)), chrono::Utc::now(), 1);
        let opml = String::from_utf8(opml(&index)).unwrap();
        assert!(opml.contains("<title>A &amp; B — feeds</title>"), "{opml}");
        assert!(opml.contains("xmlUrl=\"https://x.example/feed.rss\""));
        roxmltree::Document::parse(&opml).expect("well-formed OPML");
        let home = String::from_utf8(home_page(&index)).unwrap();
        assert!(home.contains("<link rel=\"alternate\" type=\"application/atom+xml\" title=\"A &amp; B (Atom)\" href=\"https://x.example/feed.atom\">"), "{home}");
        assert!(home.contains("href=\"https://x.example/feeds.opml\""));
    }
}

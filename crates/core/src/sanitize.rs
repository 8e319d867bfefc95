//! Cleaning post HTML (ammonia) before it goes into feeds and embeds: no scripts, styles,
//! event handlers or `javascript:` URLs, while keeping what posts legitimately use —
//! headings, lists, tables (with alignment), code, images, links, footnotes, task lists.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::LazyLock;

/// The one configured cleaner, built once.
static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder
        .add_tags([
            "input",
            "figure",
            "figcaption",
            "picture",
            "source",
            "video",
            "audio",
            "track",
            "details",
            "summary",
            "section",
            "mark",
        ])
        .add_generic_attributes(GENERIC_ATTRIBUTES)
        .add_tag_attributes("input", ["type", "checked", "disabled"])
        .add_tag_attributes("img", ["srcset", "sizes", "loading", "width", "height"])
        .add_tag_attributes("source", ["src", "srcset", "type", "media", "sizes"])
        .add_tag_attributes("video", ["src", "poster", "controls", "width", "height", "loop", "muted", "playsinline"])
        .add_tag_attributes("audio", ["src", "controls", "loop", "muted"])
        .add_tag_attributes("track", ["src", "kind", "srclang", "label", "default"])
        .add_tag_attributes("th", ["style"])
        .add_tag_attributes("td", ["style"])
        .add_tag_attributes("ol", ["start", "reversed", "type"])
        .add_tag_attributes("li", ["value"])
        // Jekyll's `{% highlight %}` markup.
        .add_tag_attributes("code", ["data-lang"])
        .url_schemes(HashSet::from(URL_SCHEMES))
        .attribute_filter(|element, attribute, value| {
            attribute_allowed(element, attribute, value).then_some(Cow::Borrowed(value))
        })
        .link_rel(None);
    builder
});

/// Attributes kept on every allowed tag, besides ammonia's own (`lang`, `title`). Not `id`: a
/// reader that inlines a post's HTML in its own page would let the post's ids clobber the
/// page's (DOM clobbering); links to a post's anchors point at its page, which keeps them.
pub(crate) const GENERIC_ATTRIBUTES: [&str; 4] = ["class", "title", "lang", "dir"];

/// The schemes an absolute URL in an attribute may have (`data:` on images only): the web's,
/// and the ones posts link people with (`irc:`, `ircs:`, `xmpp:`, `mailto:`, `tel:`).
pub(crate) const URL_SCHEMES: [&str; 9] = ["http", "https", "mailto", "tel", "ftp", "data", "irc", "ircs", "xmpp"];

/// Whether the cleaner keeps `attribute` with this `value` on `element`, once the tag and the
/// attribute's name are allowed.
pub(crate) fn attribute_allowed(element: &str, attribute: &str, value: &str) -> bool {
    match (element, attribute) {
        // Only the alignment pulldown-cmark writes for table columns.
        (_, "style") => {
            let allowed = ["text-align: left", "text-align: center", "text-align: right"];
            allowed.contains(&value.trim().trim_end_matches(';'))
        }
        // Task-list checkboxes, nothing else.
        ("input", "type") => value == "checkbox",
        // Inline images only, of image types: a `data:` URL anywhere else (a link, a video, its
        // poster, a track, a `<source>` that may feed a video), or of another type on an image
        // (`data:text/html`), could smuggle a document.
        ("img", "src") => url_allowed(value, true),
        // Every candidate of a `srcset`, which the cleaner itself does not look into.
        (_, "srcset") => srcset_urls(value).all(|url| url_allowed(url, element == "img")),
        (_, "href" | "src" | "poster") => !is_data(value),
        _ => true,
    }
}

/// Raster image types a `data:` URL may have on an image (SVG, which can carry script, not).
const DATA_IMAGE_TYPES: [&str; 7] = ["png", "jpeg", "jpg", "gif", "webp", "avif", "bmp"];

fn is_data(url: &str) -> bool {
    url.trim_start().get(..5).is_some_and(|scheme| scheme.eq_ignore_ascii_case("data:"))
}

/// Whether a URL may stand in an image's `src` or a `srcset`: relative, or of an allowed
/// scheme; `data:` only when `data_image` and of a raster image type.
fn url_allowed(url: &str, data_image: bool) -> bool {
    if is_data(url) {
        let media = url.trim_start()[5..].split([';', ',']).next().unwrap_or("").trim().to_ascii_lowercase();
        return data_image && media.strip_prefix("image/").is_some_and(|t| DATA_IMAGE_TYPES.contains(&t));
    }
    match url::Url::parse(url.trim()) {
        Ok(parsed) => URL_SCHEMES.contains(&parsed.scheme()),
        Err(url::ParseError::RelativeUrlWithoutBase) => true,
        Err(_) => false,
    }
}

/// The URLs of a `srcset`'s candidates, split as HTML's parser splits them: a URL runs to the
/// next whitespace (commas at its end are separators), then descriptors to the next comma
/// outside parentheses.
fn srcset_urls(value: &str) -> impl Iterator<Item = &str> {
    let mut rest = value;
    std::iter::from_fn(move || {
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == ',');
        if rest.is_empty() {
            return None;
        }
        let end = rest.find(|c: char| c.is_ascii_whitespace()).unwrap_or(rest.len());
        let url = &rest[..end];
        rest = &rest[end..];
        if url.ends_with(',') {
            return Some(url.trim_end_matches(','));
        }
        let mut depth = 0i32;
        let stop = rest
            .char_indices()
            .find(|&(_, c)| {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                c == ',' && depth <= 0
            })
            .map_or(rest.len(), |(i, _)| i + 1);
        rest = &rest[stop..];
        Some(url)
    })
}

/// `html` with everything unsafe removed. Void elements are written XHTML-style (`<br />`),
/// as pulldown-cmark writes them.
pub fn clean(html: &str) -> String {
    let mut cleaned = CLEANER.clean(html).to_string();
    // `replace` copies the whole text even when it finds nothing: most bodies have no `<hr>`.
    for (html5, xhtml) in [("<br>", "<br />"), ("<hr>", "<hr />")] {
        if cleaned.contains(html5) {
            cleaned = cleaned.replace(html5, xhtml);
        }
    }
    cleaned
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_scripts_styles_handlers_and_javascript_urls() {
        let dirty = r#"<p onclick="x()">Hi<script>alert(1)</script><style>p{}</style>
<a href="javascript:alert(1)">j</a> <img src="x" onerror="alert(1)"> <a href="data:text/html,x">d</a></p>"#;
        let clean = clean(dirty);
        for bad in ["onclick", "<script", "alert(1)", "<style", "javascript:", "onerror", "data:text"] {
            assert!(!clean.contains(bad), "{bad} survived: {clean}");
        }
        assert!(clean.contains("<img src=\"x\">"), "{clean}");
    }

    #[test]
    fn keeps_what_posts_use() {
        let html = "<h2 id=\"x\">T</h2>\n<p>a<br />\nb</p>\n<table><thead><tr><th style=\"text-align: right\">n</th></tr></thead></table>\n\
            <ul><li><input disabled=\"\" type=\"checkbox\" checked=\"\"/>\ndone</li></ul>\n\
            <pre><code class=\"language-rust\">fn main() {}</code></pre>\n\
            <sup class=\"footnote-reference\"><a href=\"https://x.example/p.html#1\">1</a></sup>\n\
            <div class=\"footnote-definition\" id=\"1\"><sup class=\"footnote-definition-label\">1</sup><p>note</p></div>\n<hr />";
        let clean = clean(html);
        for kept in [
            "<h2>T</h2>",
            "a<br />\nb",
            "<th style=\"text-align: right\">",
            "<input disabled=\"\" type=\"checkbox\" checked=\"\">",
            "<code class=\"language-rust\">",
            "<a href=\"https://x.example/p.html#1\">1</a>",
            "<div class=\"footnote-definition\">",
            "<hr />",
        ] {
            assert!(clean.contains(kept), "{kept} lost: {clean}");
        }
        assert!(!super::clean(r#"<td style="color: red">x</td>"#).contains("style"));
    }

    #[test]
    fn every_srcset_candidate_and_image_data_url_is_checked() {
        // Issue 25, finding 16.
        for html in [
            r#"<img src="a.png" srcset="a.png 1x, javascript:alert(1) 2x">"#,
            r#"<img src="a.png" srcset="JaVa&#x09;ScRiPt:alert(1)">"#,
            r#"<img src="data:text/html,<script>alert(1)</script>">"#,
            r#"<img src="data:image/svg+xml;base64,PHN2Zz4=">"#,
            r#"<img src="a.png" srcset="data:text/html;base64,AAAA 1x">"#,
            r#"<picture><source srcset="data:image/png;base64,AAAA"></picture>"#,
        ] {
            let cleaned = clean(html);
            assert!(!cleaned.contains("javascript") && !cleaned.contains("data:"), "{html} -> {cleaned}");
        }
        let kept = r#"<img src="data:image/png;base64,iVBO" srcset="a.png 1x, https://x.example/b%2Cc.png 2x, data:image/webp;base64,AA,BB 3x">"#;
        assert!(clean(kept).contains("srcset="), "{}", clean(kept));
        assert!(clean(kept).contains(r#"src="data:image/png;base64,iVBO""#), "{}", clean(kept));
        assert_eq!(
            // As HTML splits it: a URL runs to whitespace, so `c.png,d.png` is one.
            srcset_urls("a.png 1x,b.png  2x , c.png,d.png,, e(1).png 100w").collect::<Vec<_>>(),
            ["a.png", "b.png", "c.png,d.png", "e(1).png"]
        );
    }

    #[test]
    fn chat_links_are_kept() {
        // Issue 27, item 12: `<a>IRC</a>` in 75 entries of one blog, its href dropped.
        for href in
            ["irc://irc.libera.chat/foreman", "ircs://irc.libera.chat:6697/x", "xmpp:room@conf.example.org?join"]
        {
            let html = format!(r#"<a href="{href}">chat</a>"#);
            assert!(clean(&html).contains(&format!(r#"href="{href}""#)), "{}", clean(&html));
        }
    }

    #[test]
    fn ids_are_dropped() {
        let cleaned = clean(r#"<h2 id="x">T</h2><form id="f"></form><img id="body" src="a.png">"#);
        assert!(!cleaned.contains("id="), "{cleaned}");
    }

    #[test]
    fn data_urls_only_on_images() {
        // Issue 10, hardening: `data:` was allowed on video, audio, track and poster.
        let inline = "data:image/png;base64,iVBORw0KGgo=";
        assert!(clean(&format!(r#"<img src="{inline}">"#)).contains(inline));
        for html in [
            r#"<video src="data:video/mp4;base64,AAAA" poster="data:image/png;base64,AAAA"></video>"#,
            r#"<audio src="data:audio/ogg;base64,AAAA"></audio>"#,
            r#"<video><source src="data:video/mp4;base64,AAAA"><track src="data:text/vtt,x"></video>"#,
        ] {
            assert!(!clean(html).contains("data:"), "{html} -> {}", clean(html));
        }
    }
}

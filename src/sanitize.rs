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

/// Attributes kept on every allowed tag, besides ammonia's own (`lang`, `title`).
pub(crate) const GENERIC_ATTRIBUTES: [&str; 5] = ["class", "id", "title", "lang", "dir"];

/// The schemes an absolute URL in an attribute may have (`data:` on images only).
pub(crate) const URL_SCHEMES: [&str; 6] = ["http", "https", "mailto", "tel", "ftp", "data"];

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
        // Inline images only: a `data:` URL anywhere else (a link, a video, its poster, a
        // track, a `<source>` that may feed a video) could smuggle a document.
        ("img", "src" | "srcset") => true,
        (_, "href" | "src" | "srcset" | "poster") => !value.trim_start().to_ascii_lowercase().starts_with("data:"),
        _ => true,
    }
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
            "<h2 id=\"x\">",
            "a<br />\nb",
            "<th style=\"text-align: right\">",
            "<input disabled=\"\" type=\"checkbox\" checked=\"\">",
            "<code class=\"language-rust\">",
            "<a href=\"https://x.example/p.html#1\">1</a>",
            "<div class=\"footnote-definition\" id=\"1\">",
            "<hr />",
        ] {
            assert!(clean.contains(kept), "{kept} lost: {clean}");
        }
        assert!(!super::clean(r#"<td style="color: red">x</td>"#).contains("style"));
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

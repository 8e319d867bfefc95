//! Markdown to HTML with every URL made absolute, and the summaries cut from it. Pure: no I/O.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use url::Url;

use crate::text;

/// Characters of the plain-text summary before it is cut at a word boundary.
pub const PLAIN_SUMMARY_CHARS: usize = 280;

/// A post body rendered for feeds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    /// The whole body as HTML.
    pub content_html: String,
    /// The summary as balanced HTML.
    pub summary_html: String,
    /// The summary as plain text, cut at a word boundary.
    pub summary_text: String,
}

/// The Markdown dialect posts are written in: CommonMark plus tables, footnotes,
/// strikethrough, task lists and smart punctuation.
pub(crate) fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_SMART_PUNCTUATION
}

/// Where a summary ends when the post has no front-matter summary and no separator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoSeparator {
    /// The first paragraph (tidings' rule).
    FirstParagraph,
    /// The whole body (Jekyll's rule: no separator, no cut).
    WholeBody,
}

/// One post body to render, with how its summary is found.
#[derive(Clone, Copy, Debug)]
pub struct Source<'a> {
    /// The body text.
    pub body: &'a str,
    /// False for HTML bodies (Jekyll posts that are not Markdown), which are used as written.
    pub markdown: bool,
    /// A front-matter summary (Markdown), which wins.
    pub summary: Option<&'a str>,
    /// The text that ends the summary; empty for none.
    pub separator: &'a str,
    /// The summary when the separator is not found.
    pub no_separator: NoSeparator,
    /// Finished HTML for the paragraphs `<p>{fragment_marker(n)}</p>` (highlighted code).
    pub fragments: &'a [String],
    /// Make relative URLs absolute (else they are kept as written).
    pub absolute: bool,
}

/// The start of the paragraph text that stands for a fragment: `TIDINGS-FRAGMENT-0` is
/// replaced by [`Source::fragments`]`[0]`.
pub const FRAGMENT_MARK: &str = "TIDINGS-FRAGMENT-";

/// The text of a paragraph that [`Source::fragments`]`[n]` replaces.
pub fn fragment_marker(n: usize) -> String {
    format!("{FRAGMENT_MARK}{n}")
}

/// Renders `body` and its summary. `summary` is a front-matter summary (Markdown) if the post
/// has one; otherwise the text before `separator`, or else the first paragraph, is used.
/// Relative URLs are resolved against `base` (the post's own URL).
pub fn render(body: &str, summary: Option<&str>, separator: &str, base: &Url) -> Rendered {
    let source = Source {
        body,
        markdown: true,
        summary,
        separator,
        no_separator: NoSeparator::FirstParagraph,
        fragments: &[],
        absolute: true,
    };
    render_source(&source, base)
}

/// Renders a [`Source`]: the whole body and its summary, with URLs made absolute against `base`
/// unless the source says otherwise.
pub fn render_source(source: &Source, base: &Url) -> Rendered {
    let base = source.absolute.then_some(base);
    let body = source.body;
    let cut = (!source.separator.is_empty()).then(|| body.find(source.separator)).flatten();
    if !source.markdown {
        let content_html = finish_html(body, source.fragments, base);
        let summary_html = match (source.summary, cut) {
            (Some(summary), _) => to_html(Parser::new_ext(summary, options()), &[], base),
            (None, Some(end)) => finish_html(&body[..end], &[], base),
            (None, None) => content_html.clone(),
        };
        let summary_text = text::cut_at_word(&strip_tags(&summary_html), PLAIN_SUMMARY_CHARS);
        return Rendered { content_html, summary_html, summary_text };
    }
    // Parsed once: a summary taken from the whole body reuses its events.
    let body_events: Vec<Event> = Parser::new_ext(body, options()).collect();
    let content_html = to_html(body_events.iter().cloned(), source.fragments, base);
    let summary_events: Vec<Event> = match source.summary {
        Some(summary) => Parser::new_ext(summary, options()).collect(),
        None => match cut {
            Some(end) => Parser::new_ext(&body[..end], options()).collect(),
            None if source.no_separator == NoSeparator::WholeBody => body_events,
            None => first_paragraph(body_events.into_iter()),
        },
    };
    let summary_events: Vec<Event> =
        summary_events.into_iter().filter(|e| !matches!(e, Event::FootnoteReference(_))).collect();
    let summary_text = text::cut_at_word(&plain_text(&summary_events), PLAIN_SUMMARY_CHARS);
    let summary_html = to_html(summary_events.into_iter(), source.fragments, base);
    Rendered { content_html, summary_html, summary_text }
}

/// HTML with fragments put in, URLs made absolute against `base` (when given) and cleaned.
fn finish_html(html: &str, fragments: &[String], base: Option<&Url>) -> String {
    let html = put_fragments(html, fragments);
    crate::sanitize::clean(&match base {
        Some(base) => absolutize(&html, base),
        None => html,
    })
}

/// `html` with each `<p>TIDINGS-FRAGMENT-n</p>` (or a bare `TIDINGS-FRAGMENT-n`) replaced by
/// `fragments[n]`, in one pass; markers with no fragment stay as they are.
pub fn put_fragments(html: &str, fragments: &[String]) -> String {
    if fragments.is_empty() {
        // Every marker stays as it is: nothing to look for.
        return html.to_owned();
    }
    let mut out = String::with_capacity(html.len() + fragments.iter().map(String::len).sum::<usize>());
    let mut rest = html;
    while let Some(i) = rest.find(FRAGMENT_MARK) {
        let from = i + FRAGMENT_MARK.len();
        let digits = rest[from..].bytes().take_while(u8::is_ascii_digit).count();
        let found = rest[from..from + digits].parse::<usize>().ok().and_then(|n| fragments.get(n));
        match found {
            Some(h) => {
                let (before, after) = (&rest[..i], &rest[from + digits..]);
                let (before, after) = match (before.strip_suffix("<p>"), after.strip_prefix("</p>")) {
                    (Some(b), Some(a)) => (b, a),
                    _ => (before, after),
                };
                out.push_str(before);
                out.push_str(h);
                rest = after;
            }
            None => {
                out.push_str(&rest[..from]);
                rest = &rest[from..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The text of HTML: tags dropped, the few entities the renderers write decoded ([`RENDERER_ESCAPES`]).
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    text::decode_entities(&out, &RENDERER_ESCAPES).map(std::borrow::Cow::into_owned).unwrap_or(out)
}

/// The references the Markdown renderers write (`&lt;`, `&gt;`, `&quot;`, `&#39;`, `&amp;`), and only those: any
/// other stays as written.
const RENDERER_ESCAPES: text::Entities = text::Entities {
    named: |name| match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "#39" => Some('\''),
        "amp" => Some('&'),
        _ => None,
    },
    numeric: text::Numeric::Off,
    strict: false,
};

/// HTML for `events`, with relative `href`, `src`, `srcset` and `poster` URLs made absolute,
/// and anything unsafe removed.
fn to_html<'a>(events: impl Iterator<Item = Event<'a>>, fragments: &[String], base: Option<&Url>) -> String {
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events);
    if fragments.is_empty() {
        // Most posts: finished in one pass, to the same bytes.
        let join = |value: &str| base.and_then(|base| join_relative(value, base));
        if let Some(finished) = crate::cmark_html::finish(&html, &join) {
            debug_assert_eq!(finished, finish_html(&html, fragments, base), "the one-pass finish differs");
            return finished;
        }
    }
    finish_html(&html, fragments, base)
}

/// The events of the first top-level paragraph, or of the first top-level block if the body
/// has no paragraph.
fn first_paragraph<'a>(events: impl Iterator<Item = Event<'a>>) -> Vec<Event<'a>> {
    let mut first_block: Vec<Event<'a>> = Vec::new();
    let mut current: Vec<Event<'a>> = Vec::new();
    let mut depth = 0usize;
    let mut is_paragraph = false;
    for event in events {
        match &event {
            Event::Start(tag) => {
                if depth == 0 {
                    is_paragraph = matches!(tag, Tag::Paragraph);
                    current.clear();
                }
                depth += 1;
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
        let top_level_leaf = depth == 0 && !matches!(event, Event::End(_));
        current.push(event);
        if depth == 0 {
            if is_paragraph && !top_level_leaf {
                return current;
            }
            if first_block.is_empty() && !is_blank_html(&current) {
                first_block = std::mem::take(&mut current);
            }
            current.clear();
        }
    }
    first_block
}

fn is_blank_html(events: &[Event]) -> bool {
    events.iter().all(|e| match e {
        Event::Html(s) | Event::InlineHtml(s) => s.trim().is_empty() || s.trim_start().starts_with("<!--"),
        Event::Start(Tag::HtmlBlock) | Event::End(TagEnd::HtmlBlock) => true,
        _ => false,
    })
}

/// The text of `events`, blocks separated by spaces; markup, images and raw HTML left out.
fn plain_text(events: &[Event]) -> String {
    let mut out = String::new();
    for event in events {
        match event {
            Event::Text(t) if t.starts_with(FRAGMENT_MARK) => {}
            Event::Text(t) | Event::Code(t) => out.push_str(t),
            Event::SoftBreak | Event::HardBreak => out.push(' '),
            Event::End(TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Item | TagEnd::TableCell) => out.push(' '),
            _ => {}
        }
    }
    out
}

/// Rewrites relative URLs in `html` against `base`. Raw HTML written in the post is covered
/// too, since this works on the rendered markup rather than on Markdown links.
pub fn absolutize(html: &str, base: &Url) -> String {
    if !names_a_url_attribute(html) {
        // The rewriter would find no element to change (a summary without links or images).
        return html.to_owned();
    }
    rewrite_urls(html, base)
}

/// Whether `html` may have an attribute [`absolutize`] rewrites: `href`, `src`, `srcset` or
/// `poster`, in any case. Text that merely mentions one is a harmless false alarm.
fn names_a_url_attribute(html: &str) -> bool {
    // `| 0x20` lowers an ASCII capital and leaves a small letter; no other byte becomes one.
    html.as_bytes().windows(3).any(|w| {
        matches!([w[0] | 0x20, w[1] | 0x20, w[2] | 0x20], [b'r', b'e', b'f'] | [b's', b'r', b'c'] | [b'o', b's', b't'])
    })
}

/// `value` (an attribute's text as written, character references and all) resolved against
/// `base`; `None` when it is already absolute or cannot be resolved. An empty value is `base`
/// itself, as a browser resolves it, written out: an empty `href` is a relative reference
/// that RSS readers and validators reject (`[text]()`).
pub(crate) fn join_relative(value: &str, base: &Url) -> Option<String> {
    let value = value.trim();
    if Url::parse(value).is_ok() {
        return None;
    }
    base.join(value).ok().map(String::from)
}

fn rewrite_urls(html: &str, base: &Url) -> String {
    use lol_html::{RewriteStrSettings, element, rewrite_str};
    let join = |value: &str| join_relative(value, base);
    let rewrite_attr = |el: &mut lol_html::html_content::Element, name: &str| {
        if let Some(new) = el.get_attribute(name).and_then(|v| join(&v)) {
            // The name is a valid attribute name, so this cannot fail.
            let _ = el.set_attribute(name, &new);
        }
    };
    let settings = RewriteStrSettings::new()
        .append_element_content_handler(element!("[href]", |el| {
            rewrite_attr(el, "href");
            Ok(())
        }))
        .append_element_content_handler(element!("[src]", |el| {
            rewrite_attr(el, "src");
            Ok(())
        }))
        .append_element_content_handler(element!("[poster]", |el| {
            rewrite_attr(el, "poster");
            Ok(())
        }))
        .append_element_content_handler(element!("[srcset]", |el| {
            if let Some(srcset) = el.get_attribute("srcset") {
                let rewritten: Vec<String> = srcset
                    .split(',')
                    .map(|candidate| {
                        let candidate = candidate.trim();
                        let (url, descriptor) = candidate.split_once(' ').unwrap_or((candidate, ""));
                        let url = join(url).unwrap_or_else(|| url.to_owned());
                        if descriptor.is_empty() { url } else { format!("{url} {}", descriptor.trim()) }
                    })
                    .collect();
                let _ = el.set_attribute("srcset", &rewritten.join(", "));
            }
            Ok(())
        }));
    // The rewriter only fails on memory limits or handler errors, neither of which applies;
    // keep the unrewritten HTML rather than lose the post if it ever does.
    rewrite_str(html, settings).unwrap_or_else(|_| html.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://blog.example.com/operations/2014/12/03/this-is-operations.html").unwrap()
    }

    fn render_body(body: &str) -> Rendered {
        render(body, None, "<!--more-->", &base())
    }

    #[test]
    fn hard_breaks_and_smart_quotes() {
        let r =
            render_body(">Behind the curtain  \n>hearing the applause  \n>the ops team smiles  \n\nIt's \"robust\".\n");
        assert_eq!(
            r.content_html,
            "<blockquote>\n<p>Behind the curtain<br />\nhearing the applause<br />\nthe ops team smiles</p>\n</blockquote>\n<p>It’s “robust”.</p>\n"
        );
    }

    #[test]
    fn relative_urls_become_absolute_in_markdown_and_raw_html() {
        let r = render_body(
            "![Makerbot](/images/makerbot.jpg) [about](/about/) [prev](../../01/x.html) [ext](https://x.org/) [m](mailto:a@b.c)\n\n<a href=\"/contact/\"><img src=\"pic.png\" srcset=\"a.png 1x, /b.png 2x\"></a>\n",
        );
        let html = &r.content_html;
        assert!(html.contains(r#"src="https://blog.example.com/images/makerbot.jpg""#), "{html}");
        assert!(html.contains(r#"href="https://blog.example.com/about/""#));
        assert!(html.contains(r#"href="https://blog.example.com/operations/2014/01/x.html""#));
        assert!(html.contains(r#"href="https://x.org/""#));
        assert!(html.contains(r#"href="mailto:a@b.c""#));
        assert!(html.contains(r#"href="https://blog.example.com/contact/""#));
        assert!(html.contains(r#"src="https://blog.example.com/operations/2014/12/03/pic.png""#));
        assert!(html.contains(
            r#"srcset="https://blog.example.com/operations/2014/12/03/a.png 1x, https://blog.example.com/b.png 2x""#
        ));
    }

    #[test]
    fn html_without_url_attributes_is_left_as_the_rewriter_would_leave_it() {
        let base = base();
        for html in [
            "",
            "<p>Plain <em>text</em> &amp; <code>&lt;a&gt;</code>.</p>\n",
            "<table><tr><td style=\"text-align: left\">x</td></tr></table>",
            "<p>Unclosed <b>bold <i>and</p> stray </div> &bogus; <!-- c --> <br>",
        ] {
            assert!(!names_a_url_attribute(html), "{html}");
            assert_eq!(absolutize(html, &base), rewrite_urls(html, &base), "{html}");
        }
        for html in ["<a HREF=\"/x\">", "<img SRC=\"x.png\">", "<video Poster=\"p.jpg\">", "<img srcset=\"a.png 1x\">"]
        {
            assert!(names_a_url_attribute(html), "{html}");
            assert_ne!(absolutize(html, &base), html, "{html}: rewritten");
        }
    }

    #[test]
    fn extensions_are_on() {
        let r = render_body("| a |\n|---|\n| b |\n\n~~x~~ and[^1]\n\n- [x] done\n\n[^1]: note\n");
        let html = &r.content_html;
        assert!(html.contains("<table>") && html.contains("<del>x</del>") && html.contains("checkbox"), "{html}");
        assert!(
            html.contains(r##"href="https://blog.example.com/operations/2014/12/03/this-is-operations.html#"##),
            "{html}"
        );
    }

    #[test]
    fn summary_is_the_first_paragraph_by_default() {
        let r = render_body("# Title\n\nFirst *para*[^n] [x](/x).\n\nSecond.\n\n[^n]: note\n");
        assert_eq!(r.summary_html, "<p>First <em>para</em> <a href=\"https://blog.example.com/x\">x</a>.</p>\n");
        assert_eq!(r.summary_text, "First para x.");
    }

    #[test]
    fn summary_stops_at_the_separator_and_stays_balanced() {
        let r = render_body("One.\n\n> Two *three\n<!--more-->\nFour.\n");
        assert_eq!(r.summary_html, "<p>One.</p>\n<blockquote>\n<p>Two *three</p>\n</blockquote>\n");
        assert_eq!(r.summary_text, "One. Two *three");
    }

    #[test]
    fn front_matter_summary_wins() {
        let r = render("Body.\n", Some("Short & *sweet*"), "<!--more-->", &base());
        assert_eq!(r.summary_html, "<p>Short &amp; <em>sweet</em></p>\n");
        assert_eq!(r.summary_text, "Short & sweet");
    }

    #[test]
    fn body_without_paragraphs_uses_its_first_block() {
        let r = render_body("<!-- comment -->\n\n- one\n- two\n");
        assert_eq!(r.summary_html, "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n");
        assert_eq!(render_body("").summary_html, "");
    }

    #[test]
    fn restore_handles_many_and_unknown_placeholders() {
        let hs = vec!["<A>".to_owned(), "<B>".to_owned()];
        let html = "<p>TIDINGS-FRAGMENT-1</p><p>TIDINGS-FRAGMENT-0</p>x TIDINGS-FRAGMENT-7 TIDINGS-FRAGMENT-";
        assert_eq!(put_fragments(html, &hs), "<B><A>x TIDINGS-FRAGMENT-7 TIDINGS-FRAGMENT-");
    }
}

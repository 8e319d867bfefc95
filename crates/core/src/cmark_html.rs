//! A post's HTML as pulldown-cmark writes it, finished in one pass: relative URLs made
//! absolute and the text written byte for byte as [`crate::sanitize::clean`] after
//! [`crate::markdown::absolutize`] would write it, without parsing it into a tree.
//!
//! pulldown-cmark's own markup is a small, regular language: the tags of CommonMark and its
//! extensions, every attribute double-quoted, every `&`, `<` and `>` of the text escaped.
//! Hand-written HTML in posts mostly keeps to it (`<sup>`, `<span class="…">`, `<figure>`).
//! Cleaning such HTML only rewrites URLs and re-escapes text and attribute values the way
//! html5ever's serializer does. Anything outside that language, or that an HTML parser would
//! restructure or the cleaner would change (a nested link, an unclosed tag, a `javascript:`
//! URL, a carriage return), gives `None`, and the caller takes the full path. Pure: no I/O.

use url::Url;

use crate::text::{Entities, Numeric, decode_entities};

/// The tags finished in one pass: those pulldown-cmark writes with tidings' options and the
/// inline and block tags posts commonly write by hand. Each with the attributes it may carry
/// besides [`GENERIC`], and whether it is void. The cleaner keeps all of them as they stand
/// (see the tests).
const VOCABULARY: &[(&str, &[&str], bool)] = &[
    ("p", &[], false),
    ("blockquote", &[], false),
    ("ul", &[], false),
    ("ol", &["start"], false),
    ("li", &[], false),
    ("h1", &[], false),
    ("h2", &[], false),
    ("h3", &[], false),
    ("h4", &[], false),
    ("h5", &[], false),
    ("h6", &[], false),
    ("pre", &[], false),
    ("code", &[], false),
    ("em", &[], false),
    ("strong", &[], false),
    ("del", &[], false),
    ("a", &["href"], false),
    ("table", &[], false),
    ("thead", &[], false),
    ("tbody", &[], false),
    ("tr", &[], false),
    ("th", &["style"], false),
    ("td", &["style"], false),
    ("sup", &[], false),
    ("sub", &[], false),
    ("div", &[], false),
    ("span", &[], false),
    ("abbr", &[], false),
    ("b", &[], false),
    ("i", &[], false),
    ("kbd", &[], false),
    ("small", &[], false),
    ("mark", &[], false),
    ("figure", &[], false),
    ("figcaption", &[], false),
    ("details", &[], false),
    ("summary", &[], false),
    ("img", &["src", "alt", "width", "height", "loading"], true),
    ("input", &["disabled", "type", "checked"], true),
    ("br", &[], true),
    ("hr", &[], true),
];

/// Attributes the cleaner keeps on every tag.
const GENERIC: &[&str] = &crate::sanitize::GENERIC_ATTRIBUTES;

/// Start tags before which an HTML parser closes an open `<p>` (those of the vocabulary).
fn closes_p(tag: &str) -> bool {
    matches!(
        tag,
        "p" | "blockquote"
            | "ul"
            | "ol"
            | "li"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "pre"
            | "table"
            | "hr"
            | "div"
            | "figure"
            | "figcaption"
            | "details"
            | "summary"
    )
}

/// `html` (pulldown-cmark's output for events without raw HTML) with each relative `href` and
/// `src` replaced by `join(value)` when that gives one, cleaned as the sanitizer would clean
/// it; `None` when the sanitizer could write anything else.
pub fn finish(html: &str, join: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    if html.bytes().any(|b| b == b'\r' || b == 0) {
        // An HTML parser turns these into other characters.
        return None;
    }
    let mut out = String::with_capacity(html.len() + html.len() / 8);
    let mut open: Vec<&str> = Vec::new();
    let mut rest = html;
    // Right after a `<pre>` start tag, where a parser drops a line feed.
    let mut pre_opened = false;
    while !rest.is_empty() {
        let text_end = rest.find('<').unwrap_or(rest.len());
        let text = &rest[..text_end];
        if !text.is_empty() {
            let parent = open.last().copied().unwrap_or("");
            if matches!(parent, "table" | "thead" | "tbody" | "tr") && !text.bytes().all(|b| b.is_ascii_whitespace()) {
                return None; // moved out of the table by a parser
            }
            if pre_opened && text.starts_with('\n') {
                return None; // dropped by a parser
            }
            escape(&decode(text)?, false, &mut out);
        }
        rest = &rest[text_end..];
        pre_opened = false;
        if rest.is_empty() {
            break;
        }
        if let Some(comment) = rest.strip_prefix("<!--") {
            // Dropped by the cleaner. `<!-->`, `<!--->` and `--!>` end one early in a parser.
            let end = comment.find("-->")?;
            if comment.starts_with('>') || comment.starts_with("->") || comment[..end].contains("--!>") {
                return None;
            }
            rest = &comment[end + 3..];
            continue;
        }
        let end = rest.find('>')?;
        let tag = &rest[1..end];
        rest = &rest[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            if open.pop() != Some(name) {
                return None;
            }
            out.push_str("</");
            out.push_str(name);
            out.push('>');
            continue;
        }
        start_tag(tag, &mut open, &mut out, join)?;
        pre_opened = tag == "pre" || tag.starts_with("pre ");
    }
    open.is_empty().then_some(out)
}

/// Writes the start tag whose text between `<` and `>` is `tag`, checking its place and each
/// attribute; `None` when the sanitizer or a parser would change it.
fn start_tag<'a>(
    tag: &'a str,
    open: &mut Vec<&'a str>,
    out: &mut String,
    join: &dyn Fn(&str) -> Option<String>,
) -> Option<()> {
    let (tag, self_closed) = match tag.strip_suffix('/') {
        Some(t) => (t.trim_end(), true),
        None => (tag, false),
    };
    let name_end = tag.find(' ').unwrap_or(tag.len());
    let name = &tag[..name_end];
    let &(_, allowed, void) = VOCABULARY.iter().find(|(known, ..)| *known == name)?;
    // A void tag may be written either way; `/>` on any other is ignored by a parser.
    if (self_closed && !void) || !well_placed(name, open) {
        return None;
    }
    out.push('<');
    out.push_str(name);
    let mut attrs = tag[name_end..].trim_start();
    let mut seen: Vec<&str> = Vec::new();
    while !attrs.is_empty() {
        let (attr, after) = attrs.split_once("=\"")?;
        let (raw, after) = after.split_once('"')?;
        attrs = after.trim_start();
        // A parser keeps the first of two alike; the cleaner drops what it does not know.
        if seen.contains(&attr) || !(allowed.contains(&attr) || GENERIC.contains(&attr)) {
            return None;
        }
        seen.push(attr);
        let value = match attr {
            "href" | "src" => {
                let joined = join(raw);
                let value = decode(joined.as_deref().unwrap_or(raw))?.into_owned();
                url_kept(&value).then_some(value)?
            }
            _ => decode(raw)?.into_owned(),
        };
        if !crate::sanitize::attribute_allowed(name, attr, &value) {
            return None;
        }
        out.push(' ');
        out.push_str(attr);
        out.push_str("=\"");
        escape(&value, true, out);
        out.push('"');
    }
    // As `sanitize::clean` writes them: XHTML-style when bare, as the cleaner writes them else.
    let bare = seen.is_empty();
    out.push_str(if bare && matches!(name, "br" | "hr") { " />" } else { ">" });
    if !void {
        open.push(name);
    }
    Some(())
}

/// Whether an HTML parser would put a `name` start tag where it stands, inside `open`.
fn well_placed(name: &str, open: &[&str]) -> bool {
    let parent = open.last().copied().unwrap_or("");
    if closes_p(name) && open.contains(&"p") {
        return false;
    }
    match name {
        "a" => !open.contains(&"a"),
        "li" => !matches!(open.iter().rev().find(|t| matches!(**t, "li" | "ul" | "ol")), Some(&"li")),
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => !matches!(parent, "h1" | "h2" | "h3" | "h4" | "h5" | "h6"),
        "thead" | "tbody" => parent == "table",
        "tr" => matches!(parent, "thead" | "tbody"),
        "th" | "td" => parent == "tr",
        _ => !matches!(parent, "table" | "thead" | "tbody" | "tr"),
    }
}

/// Whether the sanitizer keeps a URL attribute with this (decoded) value as it is: an allowed
/// scheme or a relative URL.
fn url_kept(value: &str) -> bool {
    match Url::parse(value) {
        Ok(url) => crate::sanitize::URL_SCHEMES.contains(&url.scheme()),
        Err(url::ParseError::RelativeUrlWithoutBase) => true,
        Err(_) => false,
    }
}

/// Named character references decoded here: those pulldown-cmark writes and those common in
/// hand-written HTML.
const NAMED: &[(&str, char)] = &[
    ("amp", '&'),
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("apos", '\''),
    ("nbsp", '\u{a0}'),
    ("mdash", '\u{2014}'),
    ("ndash", '\u{2013}'),
    ("hellip", '\u{2026}'),
    ("lsquo", '\u{2018}'),
    ("rsquo", '\u{2019}'),
    ("ldquo", '\u{201c}'),
    ("rdquo", '\u{201d}'),
    ("laquo", '\u{ab}'),
    ("raquo", '\u{bb}'),
    ("copy", '\u{a9}'),
    ("reg", '\u{ae}'),
    ("trade", '\u{2122}'),
    ("middot", '\u{b7}'),
    ("times", '\u{d7}'),
];

/// Character references decoded as every parser decodes them: the names in [`NAMED`] and numbers a parser does not
/// replace or remap; any other reference (another name, no `;`, a C1 code) refuses the text.
const REFERENCES: Entities = Entities {
    named: |name| NAMED.iter().find(|(n, _)| *n == name).map(|&(_, c)| c),
    numeric: Numeric::Html,
    strict: true,
};

/// `text` with its character references decoded as a parser decodes them; `None` for one it
/// may decode otherwise (another name, no `;`, a code point a parser replaces).
fn decode(text: &str) -> Option<std::borrow::Cow<'_, str>> {
    decode_entities(text, &REFERENCES)
}

/// Appends `text` escaped as html5ever's serializer escapes text (`&`, `<`, `>`, no-break
/// space) or, with `attribute`, an attribute value (those and `"`).
fn escape(text: &str, attribute: bool, out: &mut String) {
    let mut start = 0;
    for (i, c) in text.char_indices() {
        let replacement = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '\u{a0}' => "&nbsp;",
            '"' if attribute => "&quot;",
            _ => continue,
        };
        out.push_str(&text[start..i]);
        out.push_str(replacement);
        start = i + c.len_utf8();
    }
    out.push_str(&text[start..]);
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use proptest::prelude::*;
    use pulldown_cmark::{Event, Parser};

    use super::*;

    fn base() -> Url {
        Url::parse("https://blog.example.com/operations/2014/12/03/this-is-operations.html").unwrap()
    }

    /// The two ways of finishing `markdown`'s HTML, when the one-pass way takes it.
    fn both_ways(markdown: &str, base: Option<&Url>) -> Option<(String, String)> {
        let events: Vec<Event> = Parser::new_ext(markdown, crate::markdown::options()).collect();
        let mut html = String::new();
        pulldown_cmark::html::push_html(&mut html, events.into_iter());
        let join = |value: &str| base.and_then(|base| crate::markdown::join_relative(value, base));
        let fast = finish(&html, &join)?;
        let slow = crate::sanitize::clean(&match base {
            Some(base) => crate::markdown::absolutize(&html, base),
            None => html.clone(),
        });
        Some((fast, slow))
    }

    /// Posts under `dir` whose body the one-pass way took, of all with a body; panics on the
    /// first that it finishes differently.
    fn check_tree(dir: &Path) -> (usize, usize) {
        let (mut total, mut taken) = (0, 0);
        for (path, text) in crate::test_support::markdown_files(dir) {
            let path = path.as_path();
            let Ok(split) = crate::frontmatter::split(&text, path) else { continue };
            total += 1;
            for base in [Some(&base()), None] {
                if let Some((fast, slow)) = both_ways(split.body, base) {
                    assert_eq!(fast, slow, "the one-pass finish differs on {}", path.display());
                    taken += 1;
                }
            }
        }
        (total, taken / 2)
    }

    #[test]
    fn posts_finish_the_same_both_ways() {
        let root = crate::test_support::repository();
        let (total, taken) = check_tree(&root.join("content"));
        println!("content: one pass took {taken} of {total}");
        // A generated corpus too, when named (BENCHMARKS.md, "Re-measured at 8836fb3").
        if let Some(extra) = std::env::var_os("TIDINGS_FINISH_CORPUS") {
            let (total, taken) = check_tree(Path::new(&extra));
            println!("{}: one pass took {taken} of {total}", Path::new(&extra).display());
        }
        for dir in crate::test_support::corpora().unwrap_or_default() {
            let (total, taken) = check_tree(&dir.join("_posts"));
            let name = dir.file_name().unwrap().to_string_lossy();
            println!("{name}: one pass took {taken} of {total}");
        }
    }

    /// Pieces that Markdown bodies are made of, with the characters that escaping and URL
    /// resolving treat specially.
    fn piece() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "word",
            " ",
            "\n",
            "\n\n",
            "# ",
            "## ",
            "> ",
            "- ",
            "1. ",
            "3. ",
            "- [ ] ",
            "- [x] ",
            "    ",
            "```rust\n",
            "```\n",
            "`",
            "*",
            "_",
            "**",
            "~~",
            "[",
            "]",
            "(",
            ")",
            "![",
            "](",
            "](/a b)",
            "](x.png \"t\")",
            "](https://x.example/?a=1&b=2)",
            "](#frag)",
            "](//cdn.example/x)",
            "](mailto:a@b.c)",
            "](javascript:x)",
            "](data:image/png;base64,AA)",
            "](it's.html)",
            "](caf\u{e9}/\u{e9}t\u{e9})",
            "<https://x.example/>",
            "<a@b.c>",
            "[^1]",
            "[^1]: note\n",
            "| a | b |\n|:--|--:|\n| c | d |\n",
            "&",
            "&amp;",
            "&copy;",
            "&#x27;",
            "<",
            ">",
            "\"",
            "'",
            "\u{a0}",
            "\u{2014}",
            "\t",
            "\\",
            "---\n",
            "***",
            "<!-- c -->",
            "<b>",
            "</b>",
            "<br>",
            "\r\n",
            "<span class=\"x\">",
            "</span>",
            "<sup>",
            "</sup>",
            "<p>",
            "</p>",
            "<img src=\"a.png\" alt=\"x\">",
            "<img src=\"/b.png\"/>",
            "<div class=\"note\">\n",
            "</div>\n",
            "<details>\n",
            "</details>\n",
            "<summary>",
            "</summary>",
            "<a href=\"/x?a=1&amp;b\" class=\"i\">",
            "<a href=\"javascript:x\">",
            "</a>",
            "<!--more-->",
            "<!-->",
            "<!-- a -- b -->",
            "&nbsp;",
            "&#8217;",
            "&#128;",
            "&#x1F600;",
            "<br/>",
            "<hr>",
            "<table>",
            "</table>",
            "<tr>",
            "<td>",
            "</td>",
            "<li>",
            "<ul>",
            "<h2>",
            "</h2>",
            "<pre>\n",
            "</pre>",
            "<em title='x'>",
            "<kbd>",
            "</kbd>",
            "<br class=\"c\">",
        ])
    }

    proptest! {
        #[test]
        fn any_markdown_finishes_the_same_both_ways(pieces in prop::collection::vec(piece(), 0..40), absolute: bool) {
            let markdown: String = pieces.concat();
            let base = base();
            if let Some((fast, slow)) = both_ways(&markdown, absolute.then_some(&base)) {
                prop_assert_eq!(fast, slow, "{:?}", markdown);
            }
        }
    }

    #[test]
    fn every_tag_and_attribute_of_the_vocabulary_passes_the_cleaner_unchanged() {
        for &(tag, attrs, void) in VOCABULARY {
            let attrs: String = attrs
                .iter()
                .chain(GENERIC)
                .map(|attr| match *attr {
                    "href" | "src" => format!(" {attr}=\"https://x.example/a?b=1&amp;c\""),
                    "style" => " style=\"text-align: right\"".to_owned(),
                    "type" => " type=\"checkbox\"".to_owned(),
                    _ => format!(" {attr}=\"v &amp; &lt;w&gt; &quot;\u{a0}&nbsp;\""),
                })
                .collect();
            let element = if void { format!("<{tag}{attrs}>") } else { format!("<{tag}{attrs}>x</{tag}>") };
            let html = match tag {
                "table" => element.replace(">x<", "><tbody><tr><td>x</td></tr></tbody><"),
                "thead" | "tbody" => format!("<table>{}</table>", element.replace(">x<", "><tr><td>x</td></tr><")),
                "tr" => format!("<table><tbody>{}</tbody></table>", element.replace(">x<", "><td>x</td><")),
                "th" | "td" => format!("<table><tbody><tr>{element}</tr></tbody></table>"),
                _ => element,
            };
            let html = html.replace("\u{a0}", "&nbsp;");
            assert_eq!(crate::sanitize::clean(&html), html, "{tag}");
            assert_eq!(finish(&html, &|_: &str| None).as_deref(), Some(html.as_str()), "{tag}");
        }
    }

    #[test]
    fn escapes_as_the_serializer_does() {
        let mut out = String::new();
        escape("a & b < c > d \u{a0} \"q\" 'a'", false, &mut out);
        assert_eq!(out, "a &amp; b &lt; c &gt; d &nbsp; \"q\" 'a'");
        out.clear();
        escape("a & \"q\" < \u{a0}", true, &mut out);
        assert_eq!(out, "a &amp; &quot;q&quot; &lt; &nbsp;");
        assert_eq!(decode("x &amp; &lt;&gt;&quot;&#x27;").unwrap(), "x & <>\"'");
        assert_eq!(decode("&nbsp;&#8217;&#x2014;&hellip;").unwrap(), "\u{a0}\u{2019}\u{2014}\u{2026}");
        for unknown in ["&notin;", "&amp", "&#128;", "&#xD800;", "&#1114112;", "&#;"] {
            assert!(decode(unknown).is_none(), "{unknown}");
        }
    }

    #[test]
    fn what_a_parser_or_the_cleaner_would_change_is_left_to_them() {
        let keep = |_: &str| None;
        for html in [
            "<p>a\r\nb</p>",
            "<p><a href=\"/x\">a <sup class=\"footnote-reference\"><a href=\"#1\">1</a></sup></a></p>",
            "<p><a href=\"javascript:alert(1)\">x</a></p>",
            "<p><a href=\"data:text/html,x\">x</a></p>",
            "<p><script>x</script></p>",
            "<p>unclosed",
            "<p><em>misnested</p></em>",
            "<table><tr><td>x</td></tr></table>",
            "<table>text<tbody></tbody></table>",
            "<p><font>x</font></p>",
            "<pre class=\"x\">\nA</pre>",
            "<p>&#128; &#0; &#13; &notin; &amp</p>",
            "<p><a onclick=\"x\">x</a></p>",
            "<th style=\"color: red\">x</th>",
        ] {
            assert_eq!(finish(html, &keep), None, "{html}");
        }
    }
}

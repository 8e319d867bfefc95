//! Small pure text helpers shared by the content, markdown and feed layers.

use unicode_normalization::UnicodeNormalization;

/// True when XML 1.0 allows `c` in a document (the `Char` production).
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// `s` without the characters XML 1.0 forbids (C0 controls but tab and newlines, U+FFFE, U+FFFF).
///
/// Both feed writers copy such characters verbatim, which makes the whole feed ill-formed,
/// so every string is passed through this before it reaches them.
pub fn xml_safe(s: &str) -> String {
    if is_xml_text(s) { s.to_owned() } else { s.chars().filter(|&c| is_xml_char(c)).collect() }
}

/// True when every character of `s` is an XML 1.0 `Char`, checked on bytes: in UTF-8 the
/// only characters XML forbids are the C0 controls (one byte each, tab and newlines
/// allowed) and U+FFFE and U+FFFF (`EF BF BE`, `EF BF BF`); a `str` holds no surrogates.
fn is_xml_text(s: &str) -> bool {
    let bytes = s.as_bytes();
    // In blocks, without stopping at the first: the compiler checks a block's bytes at once
    // (this ran over every feed's bodies byte by byte, 5.8 % of a cold start's samples).
    let forbidden = |b: u8| (b < 0x20) & (b != b'\t') & (b != b'\n') & (b != b'\r');
    !bytes.chunks(64).any(|block| block.iter().fold(false, |found, &b| found | forbidden(b)))
        && !memchr::memmem::find_iter(bytes, b"\xEF\xBF").any(|at| bytes.get(at + 2).is_some_and(|&b| b >= 0xBE))
}

/// `s` escaped for HTML or XML text and double-quoted attribute values.
pub fn escape_markup(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if is_xml_char(c) => out.push(c),
            _ => {}
        }
    }
    out
}

/// A URL-safe slug: lowercase letters and digits (accents folded where possible), runs of
/// anything else as one `-`. `Operations` and `operations` give the same slug.
pub fn slugify(s: &str) -> String {
    if s.is_ascii() {
        // ASCII never needs Unicode decomposition (most names): the costly part, skipped.
        slug_of(s.chars())
    } else {
        slugify_unicode(s)
    }
}

/// [`slugify`] for any text, through its compatibility decomposition.
fn slugify_unicode(s: &str) -> String {
    slug_of(s.nfkd().filter(|c| !unicode_normalization::char::is_combining_mark(*c)))
}

/// Lowercase letters and digits of `chars`, runs of anything else as one `-`.
fn slug_of(chars: impl Iterator<Item = char>) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in chars {
        if c.is_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.extend(c.to_lowercase());
        } else {
            dash = true;
        }
    }
    out
}

/// Elements that do not nest when left open (void elements, and those a new sibling closes).
const NON_NESTING: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr", "p", "li",
    "dt", "dd", "tr", "td", "th", "option",
];

/// How deep a Markdown text nests, and the 1-based line where it is deepest: quote and list
/// markers at the start of a line, plus HTML elements left open. Linear in the text, so it
/// can guard parsers (html5ever among them) whose cost grows with the square of the depth.
pub fn nesting_depth(text: &str) -> (usize, usize) {
    let mut deepest = (0, 1);
    let mut open_elements = 0usize;
    for (number, line) in lines(text).enumerate() {
        let mut markers = 0;
        let mut rest = line.trim_start();
        loop {
            if let Some(after) = rest.strip_prefix('>') {
                rest = after.trim_start();
            } else if let Some(after) = rest.strip_prefix(['-', '*', '+']).filter(|a| ends_marker(a)) {
                rest = after.trim_start();
            } else if let Some(after) = ordered_marker(rest) {
                rest = after.trim_start();
            } else {
                break;
            }
            markers += 1;
        }
        let mut peak = open_elements;
        let mut tags = line;
        while let Some(at) = memchr::memchr(b'<', tags.as_bytes()) {
            tags = &tags[at + 1..];
            let closing = tags.starts_with('/');
            let name_start = usize::from(closing);
            let name_len =
                tags[name_start..].find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(tags.len() - name_start);
            let name = &tags[name_start..name_start + name_len];
            if name.is_empty()
                || !name.starts_with(|c: char| c.is_ascii_alphabetic())
                || NON_NESTING.iter().any(|n| n.eq_ignore_ascii_case(name))
            {
                continue;
            }
            let self_closing =
                tags[name_start + name_len..].split('>').next().is_some_and(|attrs| attrs.ends_with('/'));
            match (closing, self_closing) {
                (true, _) => open_elements = open_elements.saturating_sub(1),
                (false, false) => {
                    open_elements += 1;
                    peak = peak.max(open_elements);
                }
                (false, true) => {}
            }
        }
        if markers + peak > deepest.0 {
            deepest = (markers + peak, number + 1);
        }
    }
    deepest
}

/// Whether the text after a list marker lets it be one: a space, a tab or the line's end.
fn ends_marker(after: &str) -> bool {
    after.is_empty() || after.starts_with([' ', '\t'])
}

/// The text after an ordered-list marker (one to nine digits, then `.` or `)`) at the start
/// of `text`, if it begins with one.
fn ordered_marker(text: &str) -> Option<&str> {
    let digits = text.bytes().take(10).take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 9 {
        return None;
    }
    text[digits..].strip_prefix(['.', ')']).filter(|a| ends_marker(a))
}

/// The lines of `text` as [`str::lines`] splits them, found with `memchr`: start-up splits
/// every post's front matter into lines, and `str::lines` searches char by char.
pub fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let line = match memchr::memchr(b'\n', rest.as_bytes()) {
            Some(at) => {
                let line = &rest[..at];
                rest = &rest[at + 1..];
                line.strip_suffix('\r').unwrap_or(line)
            }
            // A last line without `\n` keeps a `\r` it ends with.
            None => std::mem::take(&mut rest),
        };
        Some(line)
    })
}

/// The lines of `text`, each with its `\n`, as `text.split_inclusive('\n')` gives them,
/// found with `memchr`.
pub fn lines_inclusive(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = memchr::memchr(b'\n', rest.as_bytes()).map_or(rest.len(), |at| at + 1);
        let (line, after) = rest.split_at(end);
        rest = after;
        Some(line)
    })
}

/// Collapses runs of whitespace to one space and trims the ends.
pub fn squash_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `s` cut to at most `max` characters at a word boundary, with `…` added when cut.
pub fn cut_at_word(s: &str, max: usize) -> String {
    let s = squash_whitespace(s);
    if s.chars().count() <= max {
        return s;
    }
    let limit = s.char_indices().nth(max).map_or(s.len(), |(i, _)| i);
    let head = &s[..limit];
    let at_word_end = s[limit..].starts_with(' ');
    let cut = match head.rfind(' ') {
        _ if at_word_end => head,
        Some(i) if i > 0 => &head[..i],
        _ => head,
    };
    let cut = cut.trim_end_matches(|c: char| c.is_ascii_punctuation() && c != '?' && c != '!' && c != ')');
    format!("{cut}…")
}

/// How [`decode_entities`] and [`entity_at`] read HTML character references. tidings reads them in three places,
/// on purpose differently, so the differences are these parameters:
/// - the sanitizer's fast path (`cmark_html`) decodes only what every HTML parser decodes alike and gives up on
///   anything else (`strict`, HTML's numeric rules, a short table of names);
/// - the SmartyPants port (`jekyll::smartypants`) follows kramdown: its reference syntax, its numeric rules
///   (Windows-1252 for C1 codes) and its table, and leaves what it does not know as written;
/// - the plain-text summary (`markdown`) decodes only the five escapes the Markdown renderers write (`&lt;`,
///   `&gt;`, `&quot;`, `&#39;`, `&amp;`, the last as a name `#39`), leaving every other reference as written.
#[derive(Clone, Copy)]
pub struct Entities {
    /// The character of a named reference, given the text between `&` and `;` (with numeric references off, that
    /// text may start with `#`); `None` for one not known.
    pub named: fn(&str) -> Option<char>,
    /// How `&#DDD;` and `&#xHH;` are read.
    pub numeric: Numeric,
    /// True: a reference runs from `&` to the next `;` whatever lies between, and a text with a reference that
    /// cannot be decoded (or a `&` without a `;` after it) is refused. False: kramdown's syntax (`&#DDD;`,
    /// `&#xHH;`, `&[\w:][\w.:-]*;`), a reference not known is left as written and a `&` starting none is text.
    pub strict: bool,
}

/// The numeric references (`&#DDD;`, `&#xHH;`) an [`Entities`] reads.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Numeric {
    /// None: the text after `&` goes to [`Entities::named`], `#` and all.
    Off,
    /// HTML's, where every parser agrees: `x` or `X`, 1–6 hex or 1–7 decimal digits; C0 controls, DEL and the C1
    /// range are not known (parsers replace or remap them).
    Html,
    /// kramdown's: lowercase `x` only, any number of digits; C1 codes are read as their Windows-1252 characters.
    Kramdown,
}

/// The character reference at the start of `s` (which starts with `&`): its length in bytes and its character, or
/// `None` for a reference not known; `None` when no reference starts there.
pub fn entity_at(s: &str, rules: &Entities) -> Option<(usize, Option<char>)> {
    let rest = s.strip_prefix('&')?;
    let body = if rules.strict {
        rest.split_once(';')?.0
    } else {
        let b = rest.as_bytes();
        let numeric = match (b.first(), b.get(1)) {
            (Some(b'#'), Some(b'x')) => Some((2, 16)),
            (Some(b'#'), _) => Some((1, 10)),
            _ => None,
        };
        let len = match numeric {
            Some((from, radix)) => from + rest[from..].bytes().take_while(|&c| (c as char).is_digit(radix)).count(),
            None if b.first().is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b':') => {
                1 + rest[1..].bytes().take_while(|&c| c.is_ascii_alphanumeric() || b"_.:-".contains(&c)).count()
            }
            None => 0,
        };
        if numeric.is_some_and(|(from, _)| len == from) || len == 0 || b.get(len) != Some(&b';') {
            return None;
        }
        &rest[..len]
    };
    let c = match (body.strip_prefix('#'), rules.numeric) {
        (Some(number), Numeric::Html) => html_number(number),
        (Some(number), Numeric::Kramdown) => {
            let (digits, radix) = number.strip_prefix('x').map_or((number, 10), |hex| (hex, 16));
            u32::from_str_radix(digits, radix).ok().map(windows_1252).and_then(char::from_u32)
        }
        _ => (rules.named)(body),
    };
    Some((body.len() + 2, c))
}

/// `&#…;` by HTML's rules (see [`Numeric::Html`]), given the text after `#`.
fn html_number(number: &str) -> Option<char> {
    let value = match number.strip_prefix(['x', 'X']) {
        Some(hex) if !hex.is_empty() && hex.len() <= 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
            u32::from_str_radix(hex, 16).ok()?
        }
        None if !number.is_empty() && number.len() <= 7 && number.bytes().all(|b| b.is_ascii_digit()) => {
            number.parse().ok()?
        }
        _ => return None,
    };
    // Controls and the C1 range are replaced or mapped by a parser.
    if value < 0x20 || (0x7f..0xa0).contains(&value) {
        return None;
    }
    char::from_u32(value)
}

/// kramdown maps the C1 code points of numeric references to their Windows-1252 characters.
fn windows_1252(code: u32) -> u32 {
    const HIGH: [u32; 32] = [
        8364, 129, 8218, 402, 8222, 8230, 8224, 8225, 710, 8240, 352, 8249, 338, 141, 381, 143, 144, 8216, 8217, 8220,
        8221, 8226, 8211, 8212, 732, 8482, 353, 8250, 339, 157, 382, 376,
    ];
    match code {
        128..=159 => HIGH[(code - 128) as usize],
        _ => code,
    }
}

/// `text` with its character references decoded by `rules`; `None` when `rules` is strict and one cannot be.
pub fn decode_entities<'a>(text: &'a str, rules: &Entities) -> Option<std::borrow::Cow<'a, str>> {
    if !text.contains('&') {
        return Some(std::borrow::Cow::Borrowed(text));
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        match entity_at(rest, rules) {
            Some((len, Some(c))) => {
                out.push(c);
                rest = &rest[len..];
            }
            Some((len, None)) if !rules.strict => {
                out.push_str(&rest[..len]);
                rest = &rest[len..];
            }
            None if !rules.strict => {
                out.push('&');
                rest = &rest[1..];
            }
            _ => return None,
        }
    }
    out.push_str(rest);
    Some(std::borrow::Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_is_checked_on_bytes_as_on_characters() {
        let samples = [
            "",
            "plain",
            "tab\tnl\ncr\r",
            "\u{1}",
            "\u{1F}",
            "\u{7F}",
            "\u{FFFD}",
            "\u{FFFE}",
            "\u{FFFF}",
            "\u{FFC0}\u{EFFF}",
            "\u{10000}\u{10FFFF}",
            "é\u{0}",
        ];
        for s in samples {
            assert_eq!(is_xml_text(s), s.chars().all(is_xml_char), "{s:?}");
        }
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let s = format!("a{c}b");
            assert_eq!(is_xml_text(&s), is_xml_char(c), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn xml_safe_drops_forbidden_characters_only() {
        assert_eq!(xml_safe("a\u{1}b\tc\u{FFFE}d\u{1F600}\u{5D0}"), "ab\tcd\u{1F600}\u{5D0}");
        assert_eq!(xml_safe("plain & <ok>"), "plain & <ok>");
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(escape_markup("a & <b> \"c\" 'd'\u{1}"), "a &amp; &lt;b&gt; &quot;c&quot; &#39;d&#39;");
    }

    #[test]
    fn slugs() {
        assert_eq!(slugify("Operations"), "operations");
        assert_eq!(slugify("operations"), "operations");
        assert_eq!(slugify("Elixir in Production"), "elixir-in-production");
        assert_eq!(slugify("C++ & C#"), "c-c");
        assert_eq!(slugify("Ünïcödé Straße"), "unicode-straße");
        assert_eq!(slugify("  --x--  "), "x");
        assert_eq!(slugify("日本語"), "日本語");
        let all_ascii: String = (0..128u8).map(char::from).collect();
        assert_eq!(slugify(&all_ascii), slugify_unicode(&all_ascii));
    }

    proptest::proptest! {
        #[test]
        fn ascii_slugs_are_the_unicode_ones(s in "[ -~\t\n]{0,40}") {
            proptest::prop_assert_eq!(slugify(&s), slugify_unicode(&s));
        }
    }

    #[test]
    fn nesting() {
        assert_eq!(nesting_depth("plain\n\n> quote\n> > deeper\n"), (2, 4));
        assert_eq!(nesting_depth("- a\n  - b\n- - - c\n"), (3, 3));
        assert_eq!(nesting_depth("<div><div><p>x<br><img src=a/></div>\n<span/>\n"), (2, 1));
        assert_eq!(nesting_depth(&">".repeat(32_000)).0, 32_000);
        assert_eq!(nesting_depth(&"<div>".repeat(32_000)).0, 32_000);
        // Issue 25, finding 5: ordered-list markers nest too, alone and mixed with the others.
        assert_eq!(nesting_depth(&"1. ".repeat(32_000)).0, 32_000);
        assert_eq!(nesting_depth(&"1) ".repeat(32_000)).0, 32_000);
        assert_eq!(
            nesting_depth(
                "> 1. - > 123456789) x
"
            ),
            (5, 1)
        );
        assert_eq!(
            nesting_depth(
                "1.5 million
2024. A year
1234567890. no
-x
"
            ),
            (1, 2)
        );
        assert_eq!(nesting_depth("a < b and 1<2 </ x"), (0, 1));
        assert_eq!(nesting_depth("x\r\n<br/\r\n<div/\r\n"), (0, 1), "a line's \\r is not part of it");
    }

    #[test]
    fn lines_split_as_the_standard_library_does() {
        for text in ["", "\n", "a", "a\n", "a\n\nb", "a\r\nb\r\n", "\r\n\r", "é\nü\r\n\n", "a\rb\n"] {
            assert_eq!(lines(text).collect::<Vec<_>>(), text.lines().collect::<Vec<_>>(), "{text:?}");
            let inclusive: Vec<&str> = text.split_inclusive('\n').collect();
            assert_eq!(lines_inclusive(text).collect::<Vec<_>>(), inclusive, "{text:?}");
        }
    }

    #[test]
    fn cuts_at_word_boundaries() {
        assert_eq!(cut_at_word("one two three", 100), "one two three");
        assert_eq!(cut_at_word("one two three", 9), "one two…");
        assert_eq!(cut_at_word("one two, three", 8), "one two…");
        assert_eq!(cut_at_word("abcdefghij", 4), "abcd…");
        assert_eq!(cut_at_word("  spaced \n out  ", 100), "spaced out");
    }

    /// The five escapes of the Markdown renderers, as `markdown` decodes them.
    const FIVE: Entities = Entities {
        named: |name| {
            [("lt", '<'), ("gt", '>'), ("quot", '"'), ("#39", '\''), ("amp", '&')]
                .iter()
                .find(|(n, _)| *n == name)
                .map(|&(_, c)| c)
        },
        numeric: Numeric::Off,
        strict: false,
    };

    #[test]
    fn lenient_decoding_with_numbers_off_is_five_replaces() {
        let replaces = |s: &str| {
            s.replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&amp;", "&")
        };
        for s in [
            "plain",
            "a &amp; b &lt;c&gt; &quot;d&quot; &#39;e&#39;",
            "&amp;lt; &amp;amp; &#039; &#x27; &#60; &nbsp; &foo &amp",
            "&x&amp; &a--b; &;&#; &&lt;; &lt &#39",
            "&",
            "&&&amp;",
        ] {
            assert_eq!(decode_entities(s, &FIVE).unwrap(), replaces(s), "{s:?}");
        }
    }

    #[test]
    fn strict_decoding_refuses_what_it_cannot_decode() {
        let rules = Entities {
            named: |name| [("amp", '&'), ("nbsp", '\u{a0}')].iter().find(|(n, _)| *n == name).map(|&(_, c)| c),
            numeric: Numeric::Html,
            strict: true,
        };
        assert_eq!(decode_entities("x &amp; &#x27;&#X41;&#65;&nbsp;", &rules).unwrap(), "x & 'AA\u{a0}");
        for refused in ["&notin;", "&amp", "&#128;", "&#xD800;", "&#1114112;", "&#;", "&#31;", "a & b;"] {
            assert!(decode_entities(refused, &rules).is_none(), "{refused}");
        }
    }

    #[test]
    fn kramdown_numbers_and_syntax() {
        let rules =
            Entities { named: |name| (name == "amp").then_some('&'), numeric: Numeric::Kramdown, strict: false };
        assert_eq!(entity_at("&#151;x", &rules), Some((6, Some('\u{2014}'))));
        assert_eq!(entity_at("&#x2014;", &rules), Some((8, Some('\u{2014}'))));
        assert_eq!(entity_at("&#X41;", &rules), None);
        assert_eq!(entity_at("&#99999999999;", &rules), Some((14, None)));
        assert_eq!(entity_at("&bogus.x-y:z;", &rules), Some((13, None)));
        assert_eq!(entity_at("&amp;", &rules), Some((5, Some('&'))));
        assert_eq!(entity_at("&-x;", &rules), None);
        assert_eq!(entity_at("&a b;", &rules), None);
        assert_eq!(decode_entities("&bogus; &#0; &amp", &rules).unwrap(), "&bogus; \0 &amp");
    }
}

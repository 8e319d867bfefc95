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
    if s.chars().all(is_xml_char) { s.to_owned() } else { s.chars().filter(|&c| is_xml_char(c)).collect() }
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
    let mut out = String::with_capacity(s.len());
    let mut dash = false;
    for c in s.nfkd() {
        if unicode_normalization::char::is_combining_mark(c) {
            continue;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

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
    }

    #[test]
    fn cuts_at_word_boundaries() {
        assert_eq!(cut_at_word("one two three", 100), "one two three");
        assert_eq!(cut_at_word("one two three", 9), "one two…");
        assert_eq!(cut_at_word("one two, three", 8), "one two…");
        assert_eq!(cut_at_word("abcdefghij", 4), "abcd…");
        assert_eq!(cut_at_word("  spaced \n out  ", 100), "spaced out");
    }
}

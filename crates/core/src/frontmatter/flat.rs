//! A fast reader for the flat front matter most posts have (`key: value` lines, quoted
//! strings, `[a, b]` and `- a` lists), giving exactly what serde-saphyr gives and leaving
//! everything else to it.

use std::borrow::Cow;

use super::types::{Authors, Image, Many, RawFrontMatter, Text};
use crate::yaml::{Loc, Spanned, psych_bool};

/// `yaml` read into raw fields when it is within the flat subset, exactly as serde-saphyr
/// reads it; `None` when it is not, and then serde-saphyr must read it (or report it).
pub fn fast(yaml: &str) -> Option<RawFrontMatter> {
    if !clean(yaml) {
        return None;
    }
    let mut raw = RawFrontMatter::default();
    let mut lines = yaml.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).enumerate().peekable();
    while let Some((index, line)) = lines.next() {
        if blank_or_comment(line) {
            continue;
        }
        let (key, rest) = key(line)?;
        let text = rest.trim_start_matches(' ');
        let location = Loc { line: index as u32 + 1, column: (line.len() - text.len()) as u32 + 1 };
        let text = text.trim_end_matches(' ');
        let value = if text.is_empty() {
            // A block list may follow; its items need no positions.
            let mut items = Vec::new();
            let mut indent = None;
            while let Some(&(_, next)) = lines.peek() {
                if !blank_or_comment(next) {
                    let Some((spaces, item)) = list_item(next) else { break };
                    if *indent.get_or_insert(spaces) != spaces {
                        return None;
                    }
                    items.push(item_scalar(item, false)?);
                }
                lines.next();
            }
            if items.is_empty() { Value::Null } else { Value::List(items) }
        } else if text.starts_with('"') && !text[1..].contains(['"', '\\']) {
            Value::One(Scalar::Quoted(Cow::Owned(multi_line_quoted(&text[1..], &mut lines)?)))
        } else {
            value(text)?
        };
        set(&mut raw, key, value, location)?;
    }
    Some(raw)
}

/// A key's value as written.
enum Value<'a> {
    /// Nothing, `~` or `null`.
    Null,
    /// One scalar.
    One(Scalar<'a>),
    /// A flow or block list of scalars.
    List(Vec<Scalar<'a>>),
}

/// A scalar: plain text still to be typed as YAML types it, or a quoted string.
enum Scalar<'a> {
    Plain(&'a str),
    Quoted(Cow<'a, str>),
}

/// How serde-saphyr types a plain scalar, as far as this reader needs to know.
#[derive(Debug, PartialEq)]
enum Kind {
    Null,
    Bool(bool),
    /// Read as this very text: a string, or a decimal integer that prints as written.
    Text,
    /// A number or anything not plainly one of the above.
    Other,
}

/// Whether the text has only characters that YAML reads as themselves on one line: no tab,
/// no lone carriage return, no control or non-printable character, no BOM or Unicode line
/// separator.
fn clean(text: &str) -> bool {
    let b = text.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        let bad = match c {
            b'\n' | 0x20..=0x7e => false,
            b'\r' => b.get(i + 1) != Some(&b'\n'),
            0x00..=0x1f | 0x7f => true,
            // U+0080..U+009F (with NEL).
            0xc2 => matches!(b[i + 1], 0x80..=0x9f),
            // U+2028, U+2029.
            0xe2 => b[i + 1] == 0x80 && matches!(b[i + 2], 0xa8 | 0xa9),
            // U+FEFF, U+FFFE, U+FFFF.
            0xef => (b[i + 1] == 0xbb && b[i + 2] == 0xbf) || (b[i + 1] == 0xbf && matches!(b[i + 2], 0xbe | 0xbf)),
            _ => false,
        };
        if bad {
            return false;
        }
    }
    true
}

fn blank_or_comment(line: &str) -> bool {
    let line = line.trim_start_matches(' ');
    line.is_empty() || line.starts_with('#')
}

/// A line `key:` or `key: …` at column 0 with a simple key, and the text after the colon.
fn key(line: &str) -> Option<(&str, &str)> {
    let b = line.as_bytes();
    if !b.first()?.is_ascii_alphabetic() && b[0] != b'_' {
        return None;
    }
    let end = b.iter().position(|&c| !(c.is_ascii_alphanumeric() || c == b'_' || c == b'-'))?;
    if end > 100 || b[end] != b':' || !matches!(b.get(end + 1), None | Some(b' ')) {
        return None;
    }
    let key = &line[..end];
    // Keys YAML could read as something other than a string.
    if plain_kind(key) != Kind::Text {
        return None;
    }
    Some((key, &line[end + 1..]))
}

/// A block-list line `- item` (at any indentation): the indentation and the item's text.
fn list_item(line: &str) -> Option<(usize, &str)> {
    let rest = line.trim_start_matches(' ');
    let spaces = line.len() - rest.len();
    match rest.strip_prefix('-')? {
        "" => Some((spaces, "")),
        item if item.starts_with(' ') => Some((spaces, item.trim_matches(' '))),
        _ => None,
    }
}

/// A value on the key's line (trimmed, not empty).
fn value(text: &str) -> Option<Value<'_>> {
    match text.as_bytes()[0] {
        b'[' => flow_list(&text[1..]).map(Value::List),
        _ => match item_scalar(text, false)? {
            Scalar::Plain(s) if plain_kind(s) == Kind::Null => Some(Value::Null),
            scalar => Some(Value::One(scalar)),
        },
    }
}

/// A whole scalar `text` (trimmed) on one line, in a block (`flow` false) or inside `[…]`.
fn item_scalar(text: &str, flow: bool) -> Option<Scalar<'_>> {
    let first = *text.as_bytes().first()?;
    match first {
        b'"' => match double_quoted(text)? {
            (s, "") => Some(Scalar::Quoted(s)),
            _ => None,
        },
        b'\'' => match single_quoted(text)? {
            (s, "") => Some(Scalar::Quoted(s)),
            _ => None,
        },
        b'-' | b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'%'
        | b'@' | b'`' => None,
        _ if flow && text.contains(['[', ']', '{', '}', '#', ':', ',']) => None,
        _ if text.contains(": ") || text.ends_with(':') || text.contains(" #") => None,
        _ => Some(Scalar::Plain(text)),
    }
}

/// The items of a one-line flow list, `rest` being the text after its `[`.
fn flow_list(mut rest: &str) -> Option<Vec<Scalar<'_>>> {
    let mut items = Vec::new();
    rest = rest.trim_start_matches(' ');
    if let Some(after) = rest.strip_prefix(']') {
        return after.is_empty().then_some(items);
    }
    loop {
        let (item, after) = match rest.as_bytes().first()? {
            b'"' => {
                let (s, after) = double_quoted(rest)?;
                (Scalar::Quoted(s), after)
            }
            b'\'' => {
                let (s, after) = single_quoted(rest)?;
                (Scalar::Quoted(s), after)
            }
            _ => {
                let end = rest.find([',', ']'])?;
                (item_scalar(rest[..end].trim_end_matches(' '), true)?, &rest[end..])
            }
        };
        items.push(item);
        let after = after.trim_start_matches(' ');
        if let Some(after) = after.strip_prefix(']') {
            return after.is_empty().then_some(items);
        }
        // A comma must be followed by another item (no trailing comma).
        rest = after.strip_prefix(',')?.trim_start_matches(' ');
        if rest.is_empty() || rest.starts_with(']') {
            return None;
        }
    }
}

/// A double-quoted string at the start of `text`, ending on this line, and the text after
/// it. Only the escapes `\\ \" \/ \n \t \uXXXX` are read; any other gives `None`.
fn double_quoted(text: &str) -> Option<(Cow<'_, str>, &str)> {
    let body = &text[1..];
    let end = body.find(['"', '\\'])?;
    if body.as_bytes()[end] == b'"' {
        return Some((Cow::Borrowed(&body[..end]), &body[end + 1..]));
    }
    let mut out = String::with_capacity(body.len());
    out.push_str(&body[..end]);
    let mut rest = &body[end..];
    loop {
        let next = rest.find(['"', '\\'])?;
        out.push_str(&rest[..next]);
        rest = &rest[next..];
        if let Some(after) = rest.strip_prefix('"') {
            return Some((Cow::Owned(out), after));
        }
        let escape = rest.as_bytes().get(1)?;
        let (c, len) = match escape {
            b'\\' => ('\\', 2),
            b'"' => ('"', 2),
            b'/' => ('/', 2),
            b'n' => ('\n', 2),
            b't' => ('\t', 2),
            b'u' => {
                let hex = rest.get(2..6)?;
                if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                    return None;
                }
                (char::from_u32(u32::from_str_radix(hex, 16).ok()?)?, 6)
            }
            _ => return None,
        };
        out.push(c);
        rest = &rest[len..];
    }
}

/// A double-quoted string going on over the next lines, `first` being the text after its
/// quote, without escapes; YAML folds each line break into a space, or into as many
/// newlines as there are empty lines.
fn multi_line_quoted<'a>(first: &str, lines: &mut impl Iterator<Item = (usize, &'a str)>) -> Option<String> {
    let mut out = first.trim_end_matches(' ').to_owned();
    let mut breaks = 0;
    for (_, line) in lines {
        // A document marker at column 0 ends the document even inside quotes.
        if line.contains('\\') || line.starts_with("---") || line.starts_with("...") {
            return None;
        }
        let (text, after) = match line.find('"') {
            Some(end) => (line[..end].trim_start_matches(' '), Some(&line[end + 1..])),
            None => (line.trim_matches(' '), None),
        };
        if text.is_empty() && after.is_none() {
            breaks += 1;
            continue;
        }
        match breaks {
            0 => out.push(' '),
            n => out.extend(std::iter::repeat_n('\n', n)),
        }
        breaks = 0;
        out.push_str(text);
        if let Some(after) = after {
            return after.trim_matches(' ').is_empty().then_some(out);
        }
    }
    None
}

/// A single-quoted string at the start of `text`, ending on this line, and the text after it.
fn single_quoted(text: &str) -> Option<(Cow<'_, str>, &str)> {
    let body = &text[1..];
    let end = body.find('\'')?;
    if body.as_bytes().get(end + 1) != Some(&b'\'') {
        return Some((Cow::Borrowed(&body[..end]), &body[end + 1..]));
    }
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    loop {
        let quote = rest.find('\'')?;
        out.push_str(&rest[..quote]);
        if rest.as_bytes().get(quote + 1) == Some(&b'\'') {
            out.push('\'');
            rest = &rest[quote + 2..];
        } else {
            return Some((Cow::Owned(out), &rest[quote + 1..]));
        }
    }
}

/// How serde-saphyr types the plain scalar `s` when the target takes any type.
fn plain_kind(s: &str) -> Kind {
    if matches!(s, "~" | "null" | "Null" | "NULL") {
        return Kind::Null;
    }
    // YAML 1.2's booleans only: front matter is read with `strict_booleans`
    // (`yaml::front_matter_from_str`), so `y`, `yes`, `on` … are text.
    match s {
        "true" | "True" | "TRUE" => return Kind::Bool(true),
        "false" | "False" | "FALSE" => return Kind::Bool(false),
        _ => {}
    }
    let b = s.as_bytes();
    // Numbers (and `.inf`, `.nan`) start with a digit, a sign or a dot; `inf` and `nan`
    // without a dot stay strings.
    if !matches!(b[0], b'0'..=b'9' | b'+' | b'-' | b'.') {
        return Kind::Text;
    }
    // A decimal integer that fits a u64 prints as written.
    if (s == "0" || (b[0] != b'0' && b.len() <= 19)) && b.iter().all(u8::is_ascii_digit) {
        return Kind::Text;
    }
    // No integer or float has a character outside these, two dots, or a sign other than at
    // the start or after an exponent's `e`.
    let outside = b.iter().any(|&c| !(c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'+' | b'-')));
    let inner_sign = (1..b.len()).any(|i| matches!(b[i], b'+' | b'-') && !matches!(b[i - 1], b'e' | b'E'));
    let dots = b.iter().filter(|&&c| c == b'.').count() > 1;
    // Past a sign, a number that starts with a digit has only digits, `_`, `.`, `e` and signs
    // unless it has a radix prefix (`0x`, `0o`, `0b`).
    let unsigned = s.trim_start_matches(['+', '-']).as_bytes();
    let letters = unsigned.first().is_some_and(u8::is_ascii_digit)
        && !matches!(unsigned, [b'0', b'x' | b'X' | b'o' | b'O' | b'b' | b'B', ..])
        && unsigned.iter().any(|&c| !(c.is_ascii_digit() || matches!(c, b'_' | b'.' | b'e' | b'E' | b'+' | b'-')));
    if outside || inner_sign || dots || letters { Kind::Text } else { Kind::Other }
}

/// Whether serde-saphyr reads the plain scalar `s` without error when the value is ignored:
/// only non-finite floats (`.inf`, `1e999`) are errors.
fn harmless(s: &str) -> bool {
    if plain_kind(s) != Kind::Other {
        return true;
    }
    let unsigned = s.trim_start_matches(['+', '-']);
    !unsigned.starts_with('.') && !s.contains(['e', 'E']) && s.len() <= 300
}

/// The text a plain or quoted scalar gives where any scalar is read as text; `None` where
/// serde-saphyr would give something else (a boolean, a number that prints differently).
fn text_of(scalar: Scalar<'_>) -> Option<String> {
    match scalar {
        Scalar::Plain(s) if plain_kind(s) == Kind::Text => Some(s.to_owned()),
        Scalar::Plain(_) => None,
        Scalar::Quoted(s) => Some(s.into_owned()),
    }
}

/// A [`Text`] field: the scalar as written, whatever YAML would type it as.
fn text(value: Value<'_>) -> Option<Option<Text>> {
    match value {
        Value::Null => Some(None),
        Value::One(Scalar::Plain(s)) => Some(Some(Text(s.to_owned()))),
        Value::One(Scalar::Quoted(s)) => Some(Some(Text(s.into_owned()))),
        Value::List(_) => None,
    }
}

fn spanned(value: Value<'_>, location: Loc) -> Option<Option<Spanned<Text>>> {
    Some(text(value)?.map(|value| Spanned { value, location }))
}

fn many(value: Value<'_>) -> Option<Option<Many>> {
    match value {
        Value::Null => Some(None),
        Value::One(scalar) => Some(Some(Many { values: vec![text_of(scalar)?], is_list: false, skipped: 0 })),
        Value::List(items) => {
            let values = items.into_iter().map(text_of).collect::<Option<Vec<_>>>()?;
            Some(Some(Many::list(values)))
        }
    }
}

/// `draft:` and `render_with_liquid:` as `frontmatter::types::psych_flag` reads them.
fn flag(value: Value<'_>) -> Option<Option<bool>> {
    match value {
        Value::Null => Some(None),
        Value::One(Scalar::Plain(s)) => match plain_kind(s) {
            Kind::Bool(b) => Some(Some(b)),
            Kind::Text => Some(psych_bool(s)),
            _ => None,
        },
        Value::One(Scalar::Quoted(s)) => Some(psych_bool(&s)),
        Value::List(_) => None,
    }
}

/// `published:` as `frontmatter::types::published_flag` reads it.
fn published(value: Value<'_>) -> Option<Option<bool>> {
    match value {
        Value::Null => Some(Some(false)),
        Value::One(Scalar::Plain(s)) => match plain_kind(s) {
            Kind::Bool(b) => Some(Some(b)),
            Kind::Text => Some(Some(psych_bool(s).unwrap_or(true))),
            _ => None,
        },
        Value::One(Scalar::Quoted(s)) => Some(Some(psych_bool(&s).unwrap_or(true))),
        Value::List(_) => None,
    }
}

/// `image:` as `frontmatter::types::Image` reads it: a scalar typed as YAML types it.
fn image(value: Value<'_>) -> Option<Option<Image>> {
    let text = match value {
        Value::Null => None,
        Value::One(scalar) => Some(text_of(scalar)?),
        Value::List(_) => return None,
    };
    Some(text.map(|s| Image(Some(s.trim().to_owned()).filter(|s| !s.is_empty()))))
}

fn harmless_value(value: &Value<'_>) -> bool {
    let scalar = |s: &Scalar| match s {
        Scalar::Plain(s) => harmless(s),
        Scalar::Quoted(_) => true,
    };
    match value {
        Value::Null => true,
        Value::One(s) => scalar(s),
        Value::List(items) => items.iter().all(scalar),
    }
}

/// Stores `value` under `key` as `RawFrontMatter`'s deserializer would (the last of
/// duplicate keys wins); `None` when the value is not one this reader can type exactly.
fn set(raw: &mut RawFrontMatter, key: &str, value: Value<'_>, location: Loc) -> Option<()> {
    match key {
        "title" => raw.title = spanned(value, location)?,
        "date" => raw.date = spanned(value, location)?,
        "updated" => raw.updated = spanned(value, location)?,
        "last_modified_at" => raw.last_modified_at = spanned(value, location)?,
        "permalink" => raw.permalink = spanned(value, location)?,
        "id" => raw.id = spanned(value, location)?,
        "category" => raw.category = many(value)?,
        "categories" => raw.categories = many(value)?,
        "tags" => raw.tags = many(value)?,
        "tag" => raw.tag = many(value)?,
        "author" => raw.author = many(value)?.map(Authors::from),
        "authors" => raw.authors = many(value)?.map(Authors::from),
        "summary" => raw.summary = text(value)?,
        "excerpt" => raw.excerpt = text(value)?,
        "description" => raw.description = text(value)?,
        "lang" => raw.lang = text(value)?,
        "slug" => raw.slug = text(value)?,
        "guid" => raw.guid = text(value)?,
        "wordpress_url" => raw.wordpress_url = text(value)?,
        "excerpt_separator" => raw.excerpt_separator = text(value)?.map(|Text(s)| s),
        "image" => raw.image = image(value)?,
        "draft" => raw.draft = flag(value)?,
        "render_with_liquid" => raw.render_with_liquid = flag(value)?,
        "published" => raw.published = published(value)?,
        _ if harmless_value(&value) => {}
        _ => return None,
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use proptest::prelude::*;

    use super::*;
    use crate::frontmatter;

    fn slow(yaml: &str) -> Result<RawFrontMatter, String> {
        crate::yaml::front_matter_from_str(yaml, Path::new("t.md")).map_err(|d| d.to_string())
    }

    /// Checks that the fast path gives nothing or exactly what serde-saphyr gives (and
    /// nothing where serde-saphyr reports an error); true when the fast path read `yaml`.
    fn agrees(yaml: &str) -> bool {
        let Some(fast) = fast(yaml) else { return false };
        assert_eq!(Ok(&fast), slow(yaml).as_ref(), "fast path differs on {yaml:?}");
        true
    }

    /// Front matter as real posts write it; every one must take the fast path.
    const COMMON: &[&str] = &[
        "title: Notes on traits and permalinks\ndate: 2020-10-01 12:24:07 +0000\ncategory: \"performance\"\n\
         author: fbecker\ntags: [fuzzing-tips, static-sites-internals, http-patterns]\n\
         image: /images/2020/10/notes-on-traits-and-permalinks.jpg\n",
        "layout: post\ntitle: A peek inside Elixir's Parallel Compiler\nauthors:\n-  José Valim\ncategory: Internals\n\
         excerpt: Today, a parallel compiler just landed in Elixir main.\n",
        "title: \"Product management at 18F, part 2 - Acquisitions\"\ndate: 2018-12-11\nauthors:\n- hannah-kane\n\
         tags:\n- how we work\n- product\nexcerpt: \"In this post, we \\\"quote\\\" things.\"\n",
        "title: 'Jekyll 3.1.6 Released'\ndate: 2016-05-19 12:48:14 -0700\nauthor: parkr\nversion: 3.1.6\n\
         category: release\n",
        "title: \"Jekyll's Google Summer of Code Project\"\ndate: \"2016-06-03 13:21:02 -0700\"\nauthor: parkr\n\
         categories: [community]\n",
        "title: IRC meeting summary for 2015-10-22\npermalink: /en/meetings/2015/10/22/\nname: 2015-10-22-meeting\n\
         type: meetings\nlayout: page\nlang: en\nversion: 1\n",
        "title: CVE-2024-52914 - Significant DoS\nname: blog-disclose-orphan-dos\nid: en-blog-disclose-orphan-dos\n\n\
         ## If this is a new post, reset this counter to 1.\nversion: 1\nannouncement: 1\n",
        "title: Quiet dashboards\ncategory: Design\nauthor: greta\ntags: [dashboards, accessibility]\n\
         image: /images/blog/design/quiet-dashboard.png\nimage_featured: true\n",
        "title: Welcome\nimage:\nimage_featured: false\npermalink: /operations/2015/01/20/welcome.html\n",
        "title: x\r\ntags:\r\n  - a\r\n  - b c\r\npublished: false\r\n",
        "title: \"Interior&#39;s <em>and</em> exterior's -- a \\\"study\\\"\"\ntags:\n- how we work\nlang: ja\n",
        "title: A\nid: tag:example.com,2016:shared\ndate: 2016-07-19 (optional)\ndraft: true\n",
        "title: A\ndate: 2021-06-01T08:00:00+02:00\ncategories: [Engineering, Operations]\nsummary: 'it''s'\n",
        "title: 1984\ntags: [2019, \"b, c\", 'd']\npublished: \"false\"\nrender_with_liquid: no\n",
        "title: A\ntitle: B\nredirect_from:\n  - /old/\n  - /older/\n# the end\n",
        "published:\nexcerpt_separator: <!--more-->\nimage: ' '\nslug: my-slug\nguid: http://example.com/?p=123\n",
        "title: T\ndescription: Caf\u{e9} \u{2014} \u{65e5}\u{672c}\ntags: []\n",
    ];

    #[test]
    fn common_shapes_take_the_fast_path() {
        for yaml in COMMON {
            assert!(agrees(yaml), "not taken by the fast path: {yaml:?}");
        }
    }

    #[test]
    fn values_and_positions_are_serde_saphyrs() {
        let raw = fast("layout: post\ntitle:   'x'\ndate: \"2015-03-18\"\nid: a\n").unwrap();
        assert_eq!(raw.title.unwrap().location, Loc { line: 2, column: 10 });
        assert_eq!(raw.date.unwrap().location, Loc { line: 3, column: 7 });
        assert_eq!(raw.id.unwrap().location, Loc { line: 4, column: 5 });
        let raw = fast("title: a\ntitle: b\n").unwrap();
        assert_eq!(raw.title.unwrap().location, Loc { line: 2, column: 8 });
        assert_eq!(fast("published: ~\n").unwrap().published, Some(false));
        assert_eq!(fast("published: x\n").unwrap().published, Some(true));
        assert_eq!(fast("draft: Yes\n").unwrap().draft, Some(true));
    }

    /// Plain scalars of every YAML type, quoted strings, lists and things just outside.
    const VALUES: &[&str] = &[
        "",
        "~",
        "null",
        "NULL",
        "Null",
        "nul",
        "yes",
        "No",
        "Y",
        "n",
        "ON",
        "off",
        "True",
        "FALSE",
        "tRuE",
        "0",
        "7",
        "007",
        "00",
        "0_1",
        "1_000",
        "1__0",
        "_1",
        "12345678901234567890",
        "1234567890123456789",
        "18446744073709551616",
        "1.0",
        "1.",
        ".5",
        "1e3",
        "1E3",
        "1e999",
        "1e-5",
        "1e+5",
        "-1",
        "+1",
        "-0",
        "+.5",
        "-.inf",
        ".inf",
        ".NaN",
        "+.nan",
        "-.nan",
        "inf",
        "-inf",
        "+inf",
        "nan",
        "infinity",
        "0x10",
        "0X10",
        "0xG",
        "0o17",
        "0O17",
        "0b101",
        "0b2",
        "3.1.6",
        "2020-10-01",
        "2020-10-01 12:24:07 +0000",
        "2020-10-01T12:24:07Z",
        "2015-10-22-meeting",
        "10 weeks",
        "12:30",
        "1,000",
        "1e5 apples",
        "1-2",
        "1e-",
        "0.1.0-rc1",
        "v1.0",
        "hello world",
        "hello: world",
        "a:b",
        "a:",
        "a::",
        "a #b",
        "a#b",
        "a # b",
        "-a",
        "- a",
        "-",
        "--",
        "?a",
        "? a",
        ":a",
        "a, b",
        "a [b] {c}",
        "{a: b}",
        "{}",
        "[a, b]",
        "[a,b]",
        "[ a , b ]",
        "[]",
        "[ ]",
        "[a,]",
        "[a, , b]",
        "[,a]",
        "[a, [b]]",
        "[a, {b: c}]",
        "[\"a, b\", 'c''d']",
        "[ \"a\" , 'b' ]",
        "[\"a\"b]",
        "[~, a]",
        "[null]",
        "[1.0, 007]",
        "[yes]",
        "[1e999]",
        "[.inf]",
        "[a: b]",
        "[a:b]",
        "[a #b]",
        "[a#b]",
        "[a",
        "[a] x",
        "[a] # c",
        "[-a]",
        "[- a]",
        "[http://x]",
        "[a b, c d]",
        "[\"\"]",
        "[x\u{a0}]",
        "\"x\"",
        "\"\"",
        "''",
        "' '",
        "\"  x  \"",
        "\"a\\\"b\"",
        "\"a\\\\b\"",
        "\"a\\/b\"",
        "\"a\\nb\"",
        "\"a\\tb\"",
        "\"\\u00e9\"",
        "\"\\u00E9\"",
        "\"\\u0000\"",
        "\"\\ud800\"",
        "\"\\u12\"",
        "\"\\x41\"",
        "\"\\e\"",
        "\"\\ \"",
        "\"\\N\"",
        "\"a\\",
        "\"a\" # c",
        "\"a\"b",
        "\"a\"  ",
        "'a'b",
        "'it''s'",
        "''''",
        "'''a'",
        "'a'''",
        "'a' # c",
        "'a\\n'",
        "\"unclosed",
        "'unclosed",
        "\"a\"\"b\"",
        "&a x",
        "*a",
        "!!str 1",
        "!x y",
        "|",
        ">",
        "|-",
        "%x",
        "@x",
        "`x`",
        "x # c",
        "x  ",
        "\u{a0}x\u{a0}",
        "x\u{a0}",
        "tag:example.com,2016:shared",
        "http://x.y/z?a=b#c",
        "/images/a.png",
        "<!--more-->",
        "é",
        "日本語",
        "&amp;",
        "a\"b",
        "a'b",
        "a\\b",
        "a  b",
        "~x",
        "x~",
        "=",
        "<<",
        "---",
        "...",
        "- - a",
    ];

    /// Keys of every kind `RawFrontMatter` has, and unknown ones.
    const KEYS: &[&str] = &[
        "title",
        "date",
        "id",
        "category",
        "tags",
        "author",
        "summary",
        "excerpt_separator",
        "image",
        "draft",
        "published",
        "render_with_liquid",
        "layout",
        "version",
    ];

    /// The fields of [`RawFrontMatter`] as its derived `Deserialize` names them (serde passes them to
    /// `deserialize_struct`), so that a test can follow the struct as it changes.
    fn raw_front_matter_fields() -> &'static [&'static str] {
        struct Fields(Option<&'static [&'static str]>);
        impl<'de> serde::Deserializer<'de> for &mut Fields {
            type Error = serde::de::value::Error;
            fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
                Err(serde::de::Error::custom("fields only"))
            }
            fn deserialize_struct<V: serde::de::Visitor<'de>>(
                self,
                _: &'static str,
                fields: &'static [&'static str],
                _: V,
            ) -> Result<V::Value, Self::Error> {
                self.0 = Some(fields);
                Err(serde::de::Error::custom("fields only"))
            }
            serde::forward_to_deserialize_any! {
                bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
                unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
            }
        }
        let mut fields = Fields(None);
        let _ = <RawFrontMatter as serde::Deserialize>::deserialize(&mut fields);
        fields.0.expect("RawFrontMatter deserializes as a struct")
    }

    #[test]
    fn the_fast_reader_sets_every_field_of_raw_front_matter() {
        // A field added to RawFrontMatter but not to `set` would be silently dropped by the fast path.
        let fields = raw_front_matter_fields();
        assert!(fields.len() >= 24, "{fields:?}");
        for field in fields {
            let value = if matches!(*field, "draft" | "published" | "render_with_liquid") { "true" } else { "x" };
            let yaml = format!("{field}: {value}\n");
            let raw = fast(&yaml).unwrap_or_else(|| panic!("the fast reader does not read `{field}`"));
            assert_ne!(raw, RawFrontMatter::default(), "the fast reader drops `{field}`");
            assert!(agrees(&yaml), "{field}");
        }
    }

    #[test]
    fn every_value_for_every_key_agrees_or_falls_back() {
        let mut taken = 0;
        for key in KEYS {
            for value in VALUES {
                let line = if value.is_empty() { format!("{key}:\n") } else { format!("{key}: {value}\n") };
                for yaml in [line.clone(), format!("a: b\n{line}title: t\n"), format!("{key}:\n  - {value}\n")] {
                    taken += agrees(&yaml) as usize;
                }
            }
        }
        // Many of the values are outside the subset on purpose; the plain ones must be taken.
        assert!(taken * 5 > KEYS.len() * VALUES.len() * 3, "fast path took only {taken}");
    }

    /// Layouts of lines: lists, comments, blank lines, line ends, indentation.
    const LAYOUTS: &[&str] = &[
        "",
        "\n\n",
        "# only a comment\n",
        "  # indented comment\ntitle: x\n",
        "title: x",
        "title: x\r\n",
        "title: x\r",
        "title: a\rb\n",
        "title: x\n\r\n",
        "title:\tx\n",
        "title: x\t\n",
        "\ttitle: x\n",
        " title: x\n",
        "title : x\n",
        "title:x\n",
        "Title: x\n",
        "ti-tle_2: x\n",
        "2title: x\n",
        "-title: x\n",
        "_title: x\n",
        "\"title\": x\n",
        "'title': x\n",
        "y: x\n",
        "null: x\n",
        "on: x\n",
        "true: x\n",
        "inf: x\n",
        "e: x\n",
        "títle: x\n",
        "? title\n: x\n",
        "%YAML 1.2\n---\ntitle: x\n",
        "---\ntitle: x\n",
        "title: x\n---\n",
        "title: x\n...\n",
        "title: &a x\nslug: *a\n",
        "<<: {title: x}\n",
        "tags:\n- a\n- b\n",
        "tags:\n  - a\n  - b\n",
        "tags:\n    - a\n    - b\ntitle: t\n",
        "tags:\n- a\n  - b\n",
        "tags:\n  - a\n- b\n",
        "tags:\n  - a\n   - b\n",
        "tags:\n  - a\n    b\n",
        "tags:\n- a\n  b\n",
        "tags:\n  - a\n  b\n",
        "tags:\n\n- a\n\n- b\n\n",
        "tags:\n# c\n- a\n  # c\n- b\n",
        "tags:\n  - a\n# c\n  - b\n",
        "tags:\n  - a # c\n",
        "tags:\n  - a\ntitle: t\n  - b\n",
        "tags:\n-\n",
        "tags:\n- \n",
        "tags:\n-a\n",
        "tags:\n- [a]\n",
        "tags:\n- - a\n",
        "tags:\n- a: b\n",
        "tags:\n- \"a\"\n- 'b'\n",
        "tags:\n- \"a\n  b\"\n",
        "tags:\n  a: b\n",
        "tags: a\n- b\n",
        "tags: [a,\n  b]\n",
        "tags: [a, b]\n  - c\n",
        "title:\n  x\n",
        "title: a\n  b\n",
        "title: a\n\n  b\n",
        "title: a\nb\n",
        "title: \"a\n  b\"\n",
        "title: \"a\nb\"\n",
        "title: \"a  \n  b  \"\n",
        "title: \"a\n\n  b\"\n",
        "title: \"a\n  \n\n  b\"\n",
        "title: \"a \n \n b\"\n",
        "title: \"a\n  b\n\"\n",
        "title: \"a\n  \"\n",
        "title: \"a\n\n\"\n",
        "title: \"\n  a\"\n",
        "title: \"\n\n  a\"\n",
        "title: \"a\n  b\" # c\n",
        "title: \"a\n  b\"  \n",
        "title: \"a\n  b\"x\n",
        "title: \"a\n---\n  b\"\n",
        "title: \"a\n--- b\"\n",
        "title: \"a\n... b\"\n",
        "title: \"a\n  b: c\"\n",
        "title: \"a\nkey: b\"\n",
        "title: \"a\n# b\"\n",
        "title: \"a\n  # b\"\n",
        "title: \"a\n  - b\"\n",
        "title: \"a\n- b\"\n",
        "title: \"a\\\n  b\"\n",
        "title: \"a\n  b\\\"c\"\n",
        "title: \"a\n  b\ntitle: c\n",
        "title: \"a\n  b\"\ndate: x\n",
        "title: \"a\n  'b'\"\n",
        "title: \"a\n \u{e9}\"\n",
        "title: \"a\n\u{a0}b\"\n",
        "title: \"a\n \u{a0}\"\n",
        "title: \"a\r\n  b\"\r\n",
        "tags: [\"a\n  b\"]\n",
        "x: \"a\n  b\"\n",
        "title: 'a\n  b'\n",
        "title: |\n  a\n",
        "title: >\n  a\n",
        "excerpt: >\n  a\n  b\ntitle: t\n",
        "x:\n  a: b\n  c: [d]\ntitle: t\n",
        "x:\n  a: b\n   c: d\n",
        "x:\n  a: b\n c: d\n",
        "x:\n  - a: b\n",
        "x: {a: b}\n",
        "image: {path: x}\n",
        "image:\n  path: /a.png\n",
        "title: a\ntitle: [b]\n",
        "title: [b]\ntitle: a\n",
        "draft: 1\ndraft: yes\n",
        "version: 1e999\ntitle: t\n",
        "version: .inf\n",
        "version:\n- 1e999\n",
        "version: [1e999]\n",
        "title: a\u{85}b\n",
        "title: a\u{2028}b\n",
        "title: a\u{feff}b\n",
        "title: a\u{7f}b\n",
        "title: a\u{1}b\n",
        "title: a\u{fffe}b\n",
        "title: a\u{9f}b\n",
        "title: \u{a0}\n",
        "\u{feff}title: x\n",
    ];

    #[test]
    fn line_layouts_agree_or_fall_back() {
        for yaml in LAYOUTS {
            agrees(yaml);
        }
        for yaml in [
            "tags:\n- a\n- b\n",
            "tags:\n    - a\n    - b\ntitle: t\n",
            "tags:\n\n- a\n\n- b\n\n",
            "title: \"a\n  b\"\n",
            "excerpt: \"a \n  b\n\n  c \"\ndate: 2020-01-02\n",
        ] {
            assert!(agrees(yaml), "not taken by the fast path: {yaml:?}");
        }
    }

    #[test]
    fn null_list_items_fall_back_to_serde_saphyr_which_skips_them() {
        let yaml = "tags: [a, ~]\n";
        assert!(fast(yaml).is_none());
        assert_eq!(slow(yaml).unwrap().tags, Some(Many { values: vec!["a".into()], is_list: true, skipped: 1 }));
    }

    #[test]
    fn what_serde_saphyr_rejects_falls_back() {
        for yaml in [
            "title: a: b\n",
            "title: [unclosed\n",
            "title: \"a\"b\n",
            "version: 1e999\n",
            "version: .inf\n",
            "tags:\n  - a\n- b\n",
            "title: [a]\n",
        ] {
            assert!(slow(yaml).is_err(), "{yaml:?}");
            assert!(fast(yaml).is_none(), "{yaml:?}");
        }
    }

    /// Every front matter of the post files under `dir`: how many there are, and how many
    /// the fast path read (each checked against serde-saphyr).
    fn check_tree(dir: &Path) -> (usize, usize) {
        let (mut total, mut taken) = (0, 0);
        for (path, text) in crate::test_support::markdown_files(dir) {
            let path = path.as_path();
            let Ok(split) = frontmatter::split(&text, path) else { continue };
            if split.yaml.trim().is_empty() {
                continue;
            }
            total += 1;
            match slow(split.yaml) {
                Ok(slow) => {
                    if let Some(fast) = fast(split.yaml) {
                        assert_eq!(fast, slow, "fast path differs on {}", path.display());
                        taken += 1;
                    }
                }
                Err(e) => assert!(fast(split.yaml).is_none(), "fast path read {} that fails: {e}", path.display()),
            }
        }
        (total, taken)
    }

    #[test]
    fn post_files_agree() {
        let root = crate::test_support::repository();
        let (total, taken) = check_tree(&root.join("content"));
        println!("content: fast path took {taken} of {total}");
        assert!(total > 0 && taken == total, "the sample site's front matter is all flat");
        let (total, taken) = check_tree(&root.join("tests/data"));
        println!("tests/data: fast path took {taken} of {total}");
        for dir in crate::test_support::corpora().unwrap_or_default() {
            let (total, taken) = check_tree(&dir.join("_posts"));
            let name = dir.file_name().unwrap().to_string_lossy();
            println!("{name}: fast path took {taken} of {total} ({}%)", taken * 100 / total.max(1));
            assert!(taken * 2 > total, "{name}: the fast path should take most posts");
        }
    }

    /// Pieces that front matter is made of, and the characters that break it.
    fn piece() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "title",
            "tags",
            "published",
            "draft",
            "image",
            "x",
            ":",
            ": ",
            " ",
            "  ",
            "\n",
            "\r\n",
            "- ",
            "-",
            "[",
            "]",
            ", ",
            ",",
            "\"",
            "'",
            "\\",
            "\\\"",
            "#",
            " #",
            "~",
            "a",
            "b c",
            "1",
            "0",
            ".",
            "e",
            "9",
            "yes",
            "no",
            "null",
            "{",
            "}",
            "&",
            "*",
            "!",
            "|",
            ">",
            "é",
            "\u{a0}",
            "\t",
            "2020-10-01",
            "\"a\"",
            "'b'",
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]
        #[test]
        fn pieced_front_matter_agrees_or_falls_back(pieces in prop::collection::vec(piece(), 1..24)) {
            agrees(&pieces.concat());
        }

        #[test]
        fn key_value_lines_agree_or_fall_back(
            lines in prop::collection::vec((prop::sample::select(KEYS), prop::sample::select(VALUES)), 1..6)
        ) {
            let yaml: String = lines.iter().map(|(k, v)| format!("{k}: {v}\n")).collect();
            agrees(&yaml);
        }
    }
}

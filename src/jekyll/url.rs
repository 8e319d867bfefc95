//! Slugs, permalinks, feed entry ids and entry titles exactly as Jekyll 4.3.1 and jekyll-feed 0.17 make them.

// Ported from the versions that built the reference feeds (Debian 12): `jekyll/jekyll@v4.3.1` (`utils.rb`
// slugify, `url.rb`, `drops/url_drop.rb`, `document.rb` id), kramdown 2.4.0 (the SmartyPants parser behind
// `smartify`), Addressable 2.8.1 (`absolute_url` normalization) and ruby-i18n 1.12 (`I18n.transliterate`).

use std::borrow::Cow;

use chrono::{DateTime, Datelike, FixedOffset};
use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, percent_encode, utf8_percent_encode};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

// ---------------------------------------------------------------------------------------------------------------
// slugify
// ---------------------------------------------------------------------------------------------------------------

/// A `slugify` mode of Jekyll (`utils.rb`), chosen by the `slugify` filter argument or the URL placeholder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlugMode {
    /// Replaces only runs of ASCII whitespace.
    Raw,
    /// Replaces runs of anything but letters, marks and decimal digits.
    Default,
    /// Like `Default`, but also keeps `. _ ~ ! $ & ' ( ) + , ; = @`.
    Pretty,
    /// Keeps only `A-Z a-z 0-9`.
    Ascii,
    /// Transliterates Latin letters to ASCII (others become `?`), then works like `Default`.
    Latin,
    /// Only lowercases (unless `cased`); Jekyll does this for any unknown mode name.
    None,
}

impl SlugMode {
    /// Reads a mode name as written in config (`raw`, `default`, `pretty`, `ascii`, `latin`); anything else is `None`.
    pub fn from_name(name: &str) -> SlugMode {
        match name {
            "raw" => SlugMode::Raw,
            "default" => SlugMode::Default,
            "pretty" => SlugMode::Pretty,
            "ascii" => SlugMode::Ascii,
            "latin" => SlugMode::Latin,
            _ => SlugMode::None,
        }
    }
}

/// Jekyll's `Utils.slugify(s, mode:, cased:)`: separator runs become one `-`, one leading and one trailing `-` go.
pub fn slugify(s: &str, mode: SlugMode, cased: bool) -> String {
    let keep: fn(char) -> bool = match mode {
        SlugMode::None => return if cased { s.to_string() } else { lowercase(s) },
        SlugMode::Raw => |c| !is_ruby_space(c),
        SlugMode::Default | SlugMode::Latin => is_letter_mark_or_digit,
        SlugMode::Pretty => |c| is_letter_mark_or_digit(c) || "._~!$&'()+,;=@".contains(c),
        SlugMode::Ascii => |c| c.is_ascii_alphanumeric(),
    };
    let source = if mode == SlugMode::Latin { Cow::Owned(transliterate(s)) } else { Cow::Borrowed(s) };
    let mut slug = String::with_capacity(source.len());
    let mut in_separator = false;
    for c in source.chars() {
        if keep(c) {
            slug.push(c);
            in_separator = false;
        } else if !in_separator {
            slug.push('-');
            in_separator = true;
        }
    }
    let slug = slug.strip_prefix('-').unwrap_or(&slug);
    let slug = slug.strip_suffix('-').unwrap_or(slug);
    if cased { slug.to_string() } else { lowercase(slug) }
}

/// Ruby's `String#downcase`: full Unicode mapping, but per character (no final-sigma context).
fn lowercase(s: &str) -> String {
    s.chars().flat_map(char::to_lowercase).collect()
}

/// Ruby's `\s`: ASCII whitespace only, vertical tab included.
fn is_ruby_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0B' | '\x0C' | '\r')
}

/// The regex class `[\p{L}\p{M}\p{Nd}]` that Jekyll's default and pretty modes keep.
fn is_letter_mark_or_digit(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    is_combining_mark(c) || is_decimal_digit(c) || (c.is_alphabetic() && !c.is_numeric() && !is_enclosed_letter(c))
}

/// Symbols (`So`) that Unicode counts as alphabetic (circled and squared Latin letters): not `\p{L}`.
fn is_enclosed_letter(c: char) -> bool {
    matches!(c, '\u{24B6}'..='\u{24E9}' | '\u{1F130}'..='\u{1F149}' | '\u{1F150}'..='\u{1F169}')
        || matches!(c, '\u{1F170}'..='\u{1F189}')
}

/// The first code point (digit zero) of every run of ten `Nd` (decimal digit) characters, Unicode 14.
const DECIMAL_ZEROS: [u32; 66] = [
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66, 0xDE6, 0xE50, 0xED0,
    0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620,
    0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10, 0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0,
    0x112F0, 0x11450, 0x114D0, 0x11650, 0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60,
    0x16AC0, 0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
];

/// `\p{Nd}`: a decimal digit of any script (unlike `char::is_numeric`, which also accepts `²` and `½`).
fn is_decimal_digit(c: char) -> bool {
    let c = u32::from(c);
    DECIMAL_ZEROS.iter().any(|&zero| (zero..zero + 10).contains(&c))
}

/// `I18n.transliterate` with ruby-i18n 1.12's default approximations: non-ASCII outside them becomes `?`.
fn transliterate(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            push_approximation(&mut out, c);
        }
    }
    out
}

/// The i18n table covers U+00C0..=U+017E except `÷`: NFKD without marks, plus letters that do not decompose.
fn push_approximation(out: &mut String, c: char) {
    let special = match c {
        'Æ' => "AE",
        'Ð' | 'Đ' => "D",
        '×' => "x",
        'Ø' => "O",
        'Þ' => "Th",
        'ß' => "ss",
        'æ' => "ae",
        'ð' | 'đ' => "d",
        'ø' => "o",
        'þ' => "th",
        'Ħ' => "H",
        'ħ' => "h",
        'ı' => "i",
        'ĸ' => "k",
        'Ŀ' | 'Ł' => "L",
        'ŀ' | 'ł' => "l",
        'ŉ' => "'n",
        'Ŋ' => "NG",
        'ŋ' => "ng",
        'Œ' => "OE",
        'œ' => "oe",
        'Ŧ' => "T",
        'ŧ' => "t",
        '\u{C0}'..='\u{17E}' if c != '÷' => {
            out.extend(std::iter::once(c).nfkd().filter(|d| !is_combining_mark(*d)));
            return;
        }
        _ => "?",
    };
    out.push_str(special);
}

// ---------------------------------------------------------------------------------------------------------------
// Permalinks
// ---------------------------------------------------------------------------------------------------------------

/// What a post contributes to its permalink (Jekyll's `UrlDrop`).
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    /// The post date, already converted to the site time zone.
    pub date: DateTime<FixedOffset>,
    /// Front-matter `slug:` as written, else the file-name slug with trailing dots removed (case kept).
    pub slug: &'a str,
    /// The whole file name without its extension, e.g. `2016-02-03-The_Placeholder.Test`.
    pub file_stem: &'a str,
    /// The categories as written, in order: directories, then `categories`, then `category`.
    pub categories: &'a [String],
    /// The output extension, e.g. `.html` for Markdown or `.txt`.
    pub output_ext: &'a str,
    /// The collection label, `posts` for posts.
    pub collection: &'a str,
}

/// The template of a Jekyll permalink style name (`date`, `pretty`, `ordinal`, `weekdate`, `none`).
pub fn style_template(style: &str) -> Option<&'static str> {
    Some(match style {
        "date" => "/:categories/:year/:month/:day/:title:output_ext",
        "pretty" => "/:categories/:year/:month/:day/:title/",
        "ordinal" => "/:categories/:year/:y_day/:title:output_ext",
        "weekdate" => "/:categories/:year/W:week/:short_day/:title:output_ext",
        "none" => "/:categories/:title:output_ext",
        _ => return None,
    })
}

/// Expands a template or a style name (`date`, `pretty`, `ordinal`, `weekdate`, `none`); Err names an unknown placeholder.
pub fn expand(template: &str, fields: &Fields) -> Result<String, String> {
    // Jekyll looks style names up only in the site-wide `permalink`: a front-matter `permalink: pretty` or a
    // `collections.posts.permalink: pretty` is the literal URL `/pretty`. Use `expand_template` for those.
    expand_template(style_template(template).unwrap_or(template), fields)
}

/// Expands a permalink template, never a style name (for front-matter and collection permalinks); Err as `expand`.
pub fn expand_template(template: &str, fields: &Fields) -> Result<String, String> {
    // `URL#generate_url_from_drop`: a placeholder is `:` plus the longest run of `a-z _`; if that is no key but ends
    // in `_`, the name without that `_` is tried (`:year_:month`). Values are escaped, the template text is not.
    // Then `sanitize_url`.
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(colon) = rest.find(':') {
        out.push_str(&rest[..colon]);
        let after = &rest[colon + 1..];
        let len = after.bytes().take_while(|b| b.is_ascii_lowercase() || *b == b'_').count();
        if len == 0 {
            out.push(':');
            rest = after;
            continue;
        }
        let name = &after[..len];
        let (value, used) = match placeholder(name, fields) {
            Some(value) => (value, len),
            None => match name.strip_suffix('_').and_then(|short| placeholder(short, fields)) {
                Some(value) => (value, len - 1),
                None => return Err(format!("unknown permalink placeholder `:{name}` in `{template}`")),
            },
        };
        out.push_str(&escape_path(&value));
        rest = &after[used..];
    }
    out.push_str(rest);
    Ok(sanitize_url(&out))
}

/// The raw (unescaped) value of one placeholder, or `None` when Jekyll has no such key.
fn placeholder(name: &str, fields: &Fields) -> Option<String> {
    let date = |format: &str| Some(fields.date.format(format).to_string());
    // The numbers every permalink has, without `strftime`'s format parsing (a start-up
    // expands one permalink per post); chrono for years it pads or signs otherwise.
    let plain_year = (0..=9999).contains(&fields.date.year());
    match name {
        "year" if plain_year => Some(format!("{:04}", fields.date.year())),
        "month" => Some(format!("{:02}", fields.date.month())),
        "day" => Some(format!("{:02}", fields.date.day())),
        "i_month" => Some(fields.date.month().to_string()),
        "i_day" => Some(fields.date.day().to_string()),
        "year" => date("%Y"),
        "short_year" => date("%y"),
        "short_month" => date("%b"),
        "long_month" => date("%B"),
        "y_day" => date("%j"),
        "w_year" => date("%G"),
        "week" => date("%V"),
        "w_day" => date("%u"),
        "short_day" => date("%a"),
        "long_day" => date("%A"),
        "hour" => date("%H"),
        "minute" => date("%M"),
        "second" => date("%S"),
        "title" => Some(slugify(fields.slug, SlugMode::Pretty, true)),
        "slug" => Some(slugify(fields.slug, SlugMode::Default, false)),
        "name" => Some(slugify(fields.file_stem, SlugMode::Default, false)),
        "path" => Some(format!("/{}", fields.file_stem.trim_end_matches('.'))),
        "collection" => Some(fields.collection.to_string()),
        "output_ext" => Some(fields.output_ext.to_string()),
        "categories" => Some(join_unique(fields.categories.iter().map(|c| lowercase(c)))),
        "slugified_categories" => {
            Some(join_unique(fields.categories.iter().map(|c| slugify(c, SlugMode::Default, false))))
        }
        _ => None,
    }
}

/// Joins with `/`, keeping the first of exact duplicates (Ruby `Set#to_a.join("/")`).
fn join_unique(items: impl Iterator<Item = String>) -> String {
    // Posts have a few categories: a list is a faster set than a hash table.
    let mut kept: Vec<String> = Vec::new();
    for item in items {
        if !kept.contains(&item) {
            kept.push(item);
        }
    }
    kept.join("/")
}

/// What Jekyll's `URL.escape_path` (Addressable `encode`, then `#` → `%23`) percent-encodes: all but ALPHA, DIGIT
/// and `- . _ ~ ! $ & ' ( ) * + , ; = : @ / ?`.
const PATH_VALUE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// Escapes one placeholder value as Jekyll does; values of only `A-Z a-z 0-9 . / -` are returned as they are.
fn escape_path(value: &str) -> Cow<'_, str> {
    utf8_percent_encode(value, PATH_VALUE).into()
}

/// Jekyll's `URL#sanitize_url`: leading `/`, `..` → `/`, `./` removed, runs of `/` squeezed.
fn sanitize_url(url: &str) -> String {
    let url = format!("/{url}").replace("..", "/").replace("./", "");
    let mut out = String::with_capacity(url.len());
    for c in url.chars() {
        if !(c == '/' && out.ends_with('/')) {
            out.push(c);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------------------------
// jekyll-feed entry ids
// ---------------------------------------------------------------------------------------------------------------

/// jekyll-feed's entry id path, `File.join(File.dirname(url), slug)`: raw, no trailing slash, not unique.
pub fn feed_entry_id(url_path: &str, slug_or_basename: &str) -> String {
    // `Document#id` uses `data["slug"] || basename_without_ext`, and posts always have `data["slug"]`: front-matter
    // `slug:` as written when given, else the file name without date prefix and extension (trailing dots removed).
    // Front-matter `id:` is ignored. The caller makes it absolute: `url` + `baseurl` + `escape_id(id)`.
    ruby_file_join(&ruby_dirname(url_path), slug_or_basename)
}

/// Ruby's `File.dirname`: trailing slashes ignored, `/a/b/` → `/a`, `/a` → `/`, `a` → `.`.
fn ruby_dirname(path: &str) -> String {
    let rooted = path.starts_with('/');
    let body = path.trim_start_matches('/').trim_end_matches('/');
    match body.rfind('/') {
        Some(last) => {
            let head = body[..last].trim_end_matches('/');
            if rooted { format!("/{head}") } else { head.to_string() }
        }
        None if rooted => "/".to_string(),
        None => ".".to_string(),
    }
}

/// Ruby's `File.join(dir, name)` for two parts: exactly one `/` at the seam unless `dir` already ends in some.
fn ruby_file_join(dir: &str, name: &str) -> String {
    if name.starts_with('/') {
        format!("{}{name}", dir.trim_end_matches('/'))
    } else if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// Everything but RFC 3986 `pchar` (unreserved, sub-delims, `:` `@`): what Addressable encodes in a path segment.
const SEGMENT: &AsciiSet = &PATH_VALUE.add(b'/').add(b'?');

/// What Addressable encodes in a query or fragment: `pchar` plus `/` and `?` stay.
const QUERY_OR_FRAGMENT: &AsciiSet = PATH_VALUE;

/// Percent-encodes only what a URI cannot hold in a site-relative id, as Jekyll's `absolute_url` does.
pub fn escape_id(path: &str) -> String {
    // Addressable 2.8.1 `normalize`: each path segment is percent-decoded, NFKC-normalized and re-encoded, so a
    // space becomes `%20`, non-ASCII and `"<>\^`{|}` are encoded, `%20` stays and a lone `%` becomes `%25`. The
    // first `?` and `#` keep their URI meaning; an empty query or fragment is dropped.
    let (rest, fragment) = match path.split_once('#') {
        Some((rest, fragment)) => (rest, Some(fragment)),
        None => (path, None),
    };
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    let mut out = path.split('/').map(|segment| normalize_component(segment, SEGMENT)).collect::<Vec<_>>().join("/");
    for (separator, part) in [('?', query), ('#', fragment)] {
        let part = part.map(|part| normalize_component(part, QUERY_OR_FRAGMENT)).unwrap_or_default();
        if !part.is_empty() {
            out.push(separator);
            out.push_str(&part);
        }
    }
    out
}

/// Addressable's `normalize_component`: decode `%XX`, NFKC when the result is UTF-8, encode what `set` holds.
fn normalize_component(component: &str, set: &'static AsciiSet) -> String {
    let bytes: Vec<u8> = percent_decode_str(component).collect();
    match String::from_utf8(bytes) {
        Ok(text) => utf8_percent_encode(&text.nfkc().collect::<String>(), set).to_string(),
        Err(invalid) => percent_encode(invalid.as_bytes(), set).to_string(),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Entry titles
// ---------------------------------------------------------------------------------------------------------------

/// An entry title as jekyll-feed shows it (`smartify | strip_html | normalize_whitespace`), as plain text.
pub fn title_text(raw: &str) -> String {
    // `smartify` is kramdown's SmartyPants parser, ported rule by rule: curly quotes by context, `---` → —, `--` → –,
    // `...` → …, `<<`/`>>` → « », entities decoded (so `&#39;` stays a straight `'`), span HTML tags dropped.
    let source = raw.replace("\r\n", "\n").replace('\r', "\n");
    let mut chars: Vec<char> = source.strip_suffix('\n').unwrap_or(&source).chars().collect();
    chars.push('\n');
    let mut smarty = SmartyPants { s: &chars, pos: 0, out: String::with_capacity(raw.len()), depth: 0 };
    smarty.spans(None);
    normalize_whitespace(&smarty.out)
}

/// Liquid's `normalize_whitespace` (Ruby `\s+` → one space, then strip); a no-break space is not whitespace there.
fn normalize_whitespace(text: &str) -> String {
    text.split(is_ruby_space).filter(|word| !word.is_empty()).collect::<Vec<_>>().join(" ")
}

/// Kramdown's span parser restricted to Jekyll's SmartyPants set: smart quotes, entities, typographic symbols, HTML.
///
/// Works on the source plus a final `\n` (kramdown's `adapt_source`) and writes plain text to `out`.
struct SmartyPants<'a> {
    s: &'a [char],
    pos: usize,
    out: String,
    depth: usize,
}

/// Open span tags deeper than this are dropped without waiting for their end tag (kramdown has no limit).
const MAX_TAG_DEPTH: usize = 32;

impl SmartyPants<'_> {
    fn at(&self, i: usize) -> Option<char> {
        self.s.get(i).copied()
    }

    fn starts_with(&self, i: usize, literal: &str) -> bool {
        (i..).zip(literal.chars()).all(|(j, c)| self.at(j) == Some(c))
    }

    /// How many characters from `i` on satisfy `ok`.
    fn run(&self, i: usize, ok: impl Fn(char) -> bool) -> usize {
        (i..).take_while(|&j| self.at(j).is_some_and(&ok)).count()
    }

    /// `parse_spans`: scan to the next span start (or the closing `stop` tag), run the first parser that accepts it.
    /// Returns whether `stop` was found (and consumed).
    fn spans(&mut self, stop: Option<&str>) -> bool {
        let stop_at = |this: &Self, q: usize| stop.and_then(|name| this.closing_tag(q, Some(name)));
        while let Some(q) = (self.pos..self.s.len()).find(|&q| stop_at(self, q).is_some() || self.span_start(q)) {
            self.out.extend(&self.s[self.pos..q]);
            self.pos = q;
            if let Some(len) = stop_at(self, q) {
                self.pos += len;
                return true;
            }
            if !(self.smart_quote() || self.entity() || self.typographic() || self.html()) {
                self.out.push(self.s[q]);
                self.pos += 1;
            }
        }
        self.out.extend(&self.s[self.pos..]);
        self.pos = self.s.len();
        false
    }

    /// The union of the four parsers' span-start patterns at `q`.
    fn span_start(&self, q: usize) -> bool {
        let angles = |i: usize| self.starts_with(i, "<<") || self.starts_with(i, ">>");
        self.quote_start(q)
            || self.at(q) == Some('&')
            || self.starts_with(q, "--")
            || self.starts_with(q, "...")
            || angles(q)
            || (matches!(self.at(q), Some('\\' | ' ')) && angles(q + 1))
            || self.html_start(q)
    }

    /// `[^\\]?["']`: a quote, possibly preceded by one character that is not a backslash.
    fn quote_start(&self, q: usize) -> bool {
        is_quote(self.at(q)) || (self.at(q).is_some_and(|c| c != '\\') && is_quote(self.at(q + 1)))
    }

    /// `parse_smart_quotes`: the first of kramdown's `SQ_RULES` that matches here.
    fn smart_quote(&mut self) -> bool {
        if !self.quote_start(self.pos) {
            return false;
        }
        let (prefix, quotes, consumed) = self.quote_rule(self.pos);
        self.out.extend(&self.s[self.pos..self.pos + prefix]);
        self.out.push_str(quotes);
        self.pos += consumed;
        true
    }

    /// Returns (characters copied as text, the curly quotes, characters consumed) for the rule matching at `p`.
    fn quote_rule(&self, p: usize) -> (usize, &'static str, usize) {
        let open = |q: Option<char>| if q == Some('"') { "“" } else { "‘" };
        let close = |q: Option<char>| if q == Some('"') { "”" } else { "’" };
        let (c0, c1) = (self.at(p), self.at(p + 1));
        if is_quote(c0) {
            // ("|')(?=[_*]{1,2}\S): emphasis follows.
            if matches!(c1, Some('_' | '*')) && self.at(p + 2).is_some_and(|c| !is_ruby_space(c)) {
                return (0, open(c0), 1);
            }
            // ("|')(?=PUNCT(?!\.\.)\B): punctuation follows, and no word starts after it.
            if c1.is_some_and(|c| c.is_ascii_punctuation())
                && !self.starts_with(p + 2, "..")
                && is_word(c1) == is_word(self.at(p + 2))
            {
                return (0, close(c0), 1);
            }
        }
        // (\s?)"'(?=\w), (\s?)'"(?=\w) and the decade abbreviation (\s?)'(?=\d\ds).
        let k = p + usize::from(c0.is_some_and(is_ruby_space));
        let ascii_word = |i: usize| self.at(i).is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        let digit = |i: usize| self.at(i).is_some_and(|c| c.is_ascii_digit());
        if self.starts_with(k, "\"'") && ascii_word(k + 2) {
            return (k - p, "“‘", k + 2 - p);
        }
        if self.starts_with(k, "'\"") && ascii_word(k + 2) {
            return (k - p, "‘“", k + 2 - p);
        }
        if self.at(k) == Some('\'') && digit(k + 1) && digit(k + 2) && self.at(k + 3) == Some('s') {
            return (k - p, "’", k + 1 - p);
        }
        // (\s)('|")(?=\w): opening after whitespace.
        if c0.is_some_and(is_ruby_space) && is_quote(c1) && ascii_word(p + 2) {
            return (1, open(c1), 2);
        }
        // ([^\ \\\t\r\n\[{(-])('|"): closing after anything else.
        if c0.is_some_and(|c| !matches!(c, ' ' | '\\' | '\t' | '\r' | '\n' | '[' | '{' | '(' | '-')) && is_quote(c1) {
            return (1, close(c1), 2);
        }
        // ("|')(?=\s|s\b|$): closing before whitespace or a possessive s.
        if is_quote(c0) && (c1.is_none_or(is_ruby_space) || (c1 == Some('s') && !is_word(self.at(p + 2)))) {
            return (0, close(c0), 1);
        }
        // (.?)' then (.?)": anything left opens.
        match (c0, c1) {
            (Some(_), Some('\'')) => (1, "‘", 2),
            (Some('\''), _) => (0, "‘", 1),
            (Some(_), Some('"')) => (1, "“", 2),
            _ => (0, "“", 1),
        }
    }

    /// `parse_html_entity`: `&name;`, `&#DDD;`, `&#xHH;` become their character; unknown ones stay as text.
    fn entity(&mut self) -> bool {
        let p = self.pos;
        if self.at(p) != Some('&') {
            return false;
        }
        let Some((end, decoded)) = self.numeric_reference(p).or_else(|| self.named_reference(p)) else {
            return false;
        };
        match decoded {
            Some(c) => self.out.push(c),
            None => self.out.extend(&self.s[p..end]),
        }
        self.pos = end;
        true
    }

    /// `&#(\d+);` or `&#x([0-9a-fA-F]+);` at `p`: (end, character); C1 codes are read as Windows-1252.
    fn numeric_reference(&self, p: usize) -> Option<(usize, Option<char>)> {
        if self.at(p + 1) != Some('#') {
            return None;
        }
        let (from, radix) = if self.at(p + 2) == Some('x') { (p + 3, 16) } else { (p + 2, 10) };
        let len = self.run(from, |c| c.is_digit(radix));
        if len == 0 || self.at(from + len) != Some(';') {
            return None;
        }
        let digits: String = self.s[from..from + len].iter().collect();
        let code = u32::from_str_radix(&digits, radix).ok().map(windows_1252);
        Some((from + len + 1, code.and_then(char::from_u32)))
    }

    /// `&([\w:][\w.:-]*);` at `p`: (end, character, or `None` for a name kramdown does not know).
    fn named_reference(&self, p: usize) -> Option<(usize, Option<char>)> {
        let first = self.at(p + 1).is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
        let len = if first { 1 + self.run(p + 2, |c| c.is_ascii_alphanumeric() || "_.:-".contains(c)) } else { 0 };
        if len == 0 || self.at(p + 1 + len) != Some(';') {
            return None;
        }
        let name: String = self.s[p + 1..p + 1 + len].iter().collect();
        Some((p + len + 2, named_entity(&name)))
    }

    /// `parse_typographic_syms`: dashes, ellipsis and guillemets (`\<<` and `\>>` stay literal).
    fn typographic(&mut self) -> bool {
        const SYMBOLS: [(&str, &str); 9] = [
            ("---", "—"),
            ("--", "–"),
            ("...", "…"),
            ("\\<<", "<<"),
            ("\\>>", ">>"),
            ("<< ", "«\u{A0}"),
            (" >>", "\u{A0}»"),
            ("<<", "«"),
            (">>", "»"),
        ];
        let Some((from, to)) = SYMBOLS.iter().find(|(from, _)| self.starts_with(self.pos, from)) else {
            return false;
        };
        self.out.push_str(to);
        self.pos += from.chars().count();
        true
    }

    /// `<` plus a tag name, `/` or `!--`: kramdown's `HTML_SPAN_START`.
    fn html_start(&self, q: usize) -> bool {
        self.at(q) == Some('<')
            && (self.at(q + 1).is_some_and(|c| c.is_alphabetic() || c == '_' || c == '/')
                || self.starts_with(q + 1, "!--"))
    }

    /// `parse_span_html`; tags and comments vanish later in `strip_html`, so only their content is written.
    fn html(&mut self) -> bool {
        let p = self.pos;
        if !self.html_start(p) {
            return false;
        }
        if self.starts_with(p, "<!--") {
            if let Some(len) = (p + 4..self.s.len()).find(|&i| self.starts_with(i, "-->")).map(|i| i + 3 - p) {
                self.pos += len;
                return true;
            }
        } else if let Some(len) = self.closing_tag(p, None) {
            // A closing tag nothing opened is text (escaped by kramdown, so `strip_html` keeps it).
            self.out.extend(&self.s[p..p + len]);
            self.pos += len;
            return true;
        } else if let Some((name, len, self_closed)) = self.opening_tag(p) {
            let lower = name.to_ascii_lowercase();
            self.pos += len;
            if is_one_of(BLOCK_ELEMENTS, &lower) {
                self.out.extend(&self.s[p..p + len]);
            } else if !self_closed && !is_one_of(VOID_ELEMENTS, &lower) && self.depth < MAX_TAG_DEPTH {
                self.depth += 1;
                self.spans(Some(&name));
                self.depth -= 1;
            }
            return true;
        }
        self.out.push('<');
        self.pos += 1;
        true
    }

    /// The length of a tag name (`(?:NCName:)?NCName`, approximately) at `i`.
    fn tag_name(&self, i: usize) -> usize {
        if !self.at(i).is_some_and(|c| c.is_alphabetic() || c == '_') {
            return 0;
        }
        1 + self.run(i + 1, |c| c.is_alphanumeric() || "-._:".contains(c))
    }

    fn skip_space(&self, i: usize) -> usize {
        i + self.run(i, is_ruby_space)
    }

    /// `</name\s*>` at `i` (any name, or only `name`, compared ASCII-case-insensitively); returns its length.
    fn closing_tag(&self, i: usize, name: Option<&str>) -> Option<usize> {
        if !self.starts_with(i, "</") {
            return None;
        }
        let len = self.tag_name(i + 2);
        let found: String = self.s[i + 2..i + 2 + len].iter().collect();
        if len == 0 || name.is_some_and(|name| !found.eq_ignore_ascii_case(name)) {
            return None;
        }
        let end = self.skip_space(i + 2 + len);
        (self.at(end) == Some('>')).then_some(end + 1 - i)
    }

    /// kramdown's `HTML_TAG_RE` at `i`: returns (name, length, whether it ends in `/>`).
    fn opening_tag(&self, i: usize) -> Option<(String, usize, bool)> {
        let name_len = self.tag_name(i + 1);
        if name_len == 0 {
            return None;
        }
        let name: String = self.s[i + 1..i + 1 + name_len].iter().collect();
        let mut end = i + 1 + name_len;
        while let Some(next) = self.attribute(end) {
            end = next;
        }
        end = self.skip_space(end);
        let self_closed = self.at(end) == Some('/');
        end += usize::from(self_closed);
        (self.at(end) == Some('>')).then(|| (name, end + 1 - i, self_closed))
    }

    /// `\s+name(?:\s*=\s*(?:\p{Word}+|"…"|'…'))?` at `i`; returns where it ends.
    fn attribute(&self, i: usize) -> Option<usize> {
        let start = self.skip_space(i);
        let len = self.tag_name(start);
        if start == i || len == 0 {
            return None;
        }
        let after_name = start + len;
        let equals = self.skip_space(after_name);
        if self.at(equals) != Some('=') {
            return Some(after_name);
        }
        let value = self.skip_space(equals + 1);
        let end = match self.at(value) {
            Some(quote @ ('"' | '\'')) => (value + 1..self.s.len()).find(|&j| self.at(j) == Some(quote)).map(|j| j + 1),
            _ => {
                let len = self.run(value, |c| is_word(Some(c)));
                (len > 0).then_some(value + len)
            }
        };
        Some(end.unwrap_or(after_name))
    }
}

fn is_quote(c: Option<char>) -> bool {
    matches!(c, Some('"' | '\''))
}

/// A word character for Ruby's `\b`/`\B`, which are Unicode-aware (unlike Ruby's ASCII-only `\w`).
fn is_word(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || c == '_' || is_combining_mark(c))
}

/// kramdown's block tags (`HTML_BLOCK_ELEMENTS`): in a title they are kept as text instead of being parsed.
const BLOCK_ELEMENTS: &str = "address article aside applet body blockquote caption col colgroup dd div dl dt \
    fieldset figcaption footer form h1 h2 h3 h4 h5 h6 header hgroup hr html head iframe legend menu li main map nav \
    ol optgroup p pre section summary table tbody td th thead tfoot tr ul";

/// Elements without content (`HTML_ELEMENTS_WITHOUT_BODY`).
const VOID_ELEMENTS: &str = "area base br col command embed hr img input keygen link meta param source track wbr";

/// Whether `name` is one of the space-separated `names`.
fn is_one_of(names: &str, name: &str) -> bool {
    names.split_ascii_whitespace().any(|n| n == name)
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

/// kramdown's named entities (`Kramdown::Utils::Entities`), `name=code point`.
const NAMED_ENTITIES: &str = concat!(
    "Alpha=913 Beta=914 Gamma=915 Delta=916 Epsilon=917 Zeta=918 Eta=919 Theta=920 Iota=921 Kappa=922 Lambda=923 ",
    "Mu=924 Nu=925 Xi=926 Omicron=927 Pi=928 Rho=929 Sigma=931 Tau=932 Upsilon=933 Phi=934 Chi=935 Psi=936 ",
    "Omega=937 alpha=945 beta=946 gamma=947 delta=948 epsilon=949 zeta=950 eta=951 theta=952 iota=953 kappa=954 ",
    "lambda=955 mu=956 nu=957 xi=958 omicron=959 pi=960 rho=961 sigma=963 tau=964 upsilon=965 phi=966 chi=967 ",
    "psi=968 omega=969 sigmaf=962 thetasym=977 upsih=978 piv=982 zwnj=8204 zwj=8205 lrm=8206 rlm=8207 ",
    "hellip=8230 prime=8242 Prime=8243 oline=8254 frasl=8260 weierp=8472 image=8465 real=8476 alefsym=8501 ",
    "bull=8226 trade=8482 larr=8592 rarr=8594 uarr=8593 darr=8595 harr=8596 crarr=8629 uArr=8657 dArr=8659 ",
    "lArr=8656 rArr=8658 hArr=8660 forall=8704 part=8706 exist=8707 empty=8709 nabla=8711 isin=8712 ni=8715 ",
    "notin=8713 sum=8721 prod=8719 minus=8722 lowast=8727 radic=8730 prop=8733 infin=8734 ang=8736 and=8743 ",
    "or=8744 cap=8745 cup=8746 int=8747 there4=8756 sim=8764 asymp=8776 cong=8773 ne=8800 equiv=8801 le=8804 ",
    "ge=8805 sub=8834 sup=8835 sube=8838 supe=8839 nsub=8836 oplus=8853 otimes=8855 perp=8869 sdot=8901 ",
    "vellip=8942 rceil=8968 lceil=8969 lfloor=8970 rfloor=8971 rang=9001 lang=9002 loz=9674 spades=9824 ",
    "clubs=9827 hearts=9829 diams=9830 amp=38 quot=34 apos=39 copy=169 lt=60 gt=62 OElig=338 oelig=339 ",
    "Scaron=352 scaron=353 Yuml=376 circ=710 tilde=732 ndash=8211 mdash=8212 lsquo=8216 rsquo=8217 ldquo=8220 ",
    "rdquo=8221 dagger=8224 Dagger=8225 permil=8240 euro=8364 lsaquo=8249 rsaquo=8250 nbsp=160 iexcl=161 ",
    "pound=163 curren=164 yen=165 brvbar=166 sect=167 uml=168 laquo=171 raquo=187 reg=174 ordf=170 not=172 ",
    "shy=173 macr=175 deg=176 plusmn=177 acute=180 micro=181 para=182 middot=183 cedil=184 ordm=186 cent=162 ",
    "sup1=185 sup2=178 sup3=179 frac12=189 frac14=188 frac34=190 iquest=191 Agrave=192 Aacute=193 Acirc=194 ",
    "Atilde=195 Auml=196 Aring=197 AElig=198 Ccedil=199 Egrave=200 Eacute=201 Ecirc=202 Euml=203 Igrave=204 ",
    "Iacute=205 Icirc=206 Iuml=207 ETH=208 Ntilde=209 Ograve=210 Oacute=211 Ocirc=212 Otilde=213 Ouml=214 ",
    "times=215 Oslash=216 Ugrave=217 Uacute=218 Ucirc=219 Uuml=220 Yacute=221 THORN=222 szlig=223 agrave=224 ",
    "aacute=225 acirc=226 atilde=227 auml=228 aring=229 aelig=230 ccedil=231 egrave=232 eacute=233 ecirc=234 ",
    "euml=235 igrave=236 iacute=237 icirc=238 iuml=239 eth=240 ntilde=241 ograve=242 oacute=243 ocirc=244 ",
    "otilde=245 ouml=246 divide=247 oslash=248 ugrave=249 uacute=250 ucirc=251 uuml=252 yacute=253 thorn=254 ",
    "yuml=255 sbquo=8218 fnof=402 bdquo=8222 ensp=8194 emsp=8195 thinsp=8201",
);

/// The character of a named entity kramdown knows (case-sensitive).
fn named_entity(name: &str) -> Option<char> {
    NAMED_ENTITIES.split(' ').find_map(|pair| match pair.split_once('=') {
        Some((n, code)) if n == name => code.parse().ok().and_then(char::from_u32),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32, hh: u32, mm: u32, ss: u32) -> DateTime<FixedOffset> {
        FixedOffset::east_opt(0).unwrap().with_ymd_and_hms(y, m, d, hh, mm, ss).unwrap()
    }

    fn fields<'a>(date: DateTime<FixedOffset>, slug: &'a str, stem: &'a str, cats: &'a [String]) -> Fields<'a> {
        Fields { date, slug, file_stem: stem, categories: cats, output_ext: ".html", collection: "posts" }
    }

    #[test]
    fn date_numbers_match_strftime() {
        for year in [-1, 0, 7, 999, 2014, 9999, 10_000] {
            let date = at(year, 3, 4, 5, 6, 7);
            let f = fields(date, "s", "s", &[]);
            for (name, format) in [("year", "%Y"), ("month", "%m"), ("day", "%d"), ("i_month", "%-m"), ("i_day", "%-d")]
            {
                assert_eq!(placeholder(name, &f), Some(date.format(format).to_string()), "{name} of {date}");
            }
        }
    }

    fn cats(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn slugify_table_of_jekyll_md() {
        use SlugMode::*;
        // input, default, pretty, ascii, latin, raw
        let rows = [
            (
                "The _config.yml file",
                "the-config-yml-file",
                "the-_config.yml-file",
                "the-config-yml-file",
                "the-config-yml-file",
                "the-_config.yml-file",
            ),
            ("What's new?", "what-s-new", "what's-new", "what-s-new", "what-s-new", "what's-new?"),
            ("Ünïcödé Straße", "ünïcödé-straße", "ünïcödé-straße", "n-c-d-stra-e", "unicode-strasse", "ünïcödé-straße"),
            ("日本語のタイトル", "日本語のタイトル", "日本語のタイトル", "", "", "日本語のタイトル"),
            ("emoji 🎉 party", "emoji-party", "emoji-party", "emoji-party", "emoji-party", "emoji-🎉-party"),
            ("C++ & C#", "c-c", "c++-&-c", "c-c", "c-c", "c++-&-c#"),
        ];
        for (input, default, pretty, ascii, latin, raw) in rows {
            assert_eq!(slugify(input, Default, false), default, "default {input}");
            assert_eq!(slugify(input, Pretty, false), pretty, "pretty {input}");
            assert_eq!(slugify(input, Ascii, false), ascii, "ascii {input}");
            assert_eq!(slugify(input, Latin, false), latin, "latin {input}");
            assert_eq!(slugify(input, Raw, false), raw, "raw {input}");
        }
    }

    #[test]
    fn slugify_details() {
        use SlugMode::*;
        assert_eq!(slugify("x² y_z", Default, false), "x-y-z");
        assert_eq!(slugify("The_Placeholder.Test", Pretty, true), "The_Placeholder.Test");
        assert_eq!(slugify("--a--", Raw, false), "-a-");
        assert_eq!(slugify("  Hello  World ", None, false), "  hello  world ");
        assert_eq!(slugify("ABC", None, true), "ABC");
        assert_eq!(slugify("Ⅻ Ⓐ ٣", Default, false), "٣");
        assert_eq!(slugify("ΟΔΟΣ", Default, false), "οδοσ");
        assert_eq!(slugify("Łódź Œuvre ŉ ǎ", Latin, false), "lodz-oeuvre-n");
        assert_eq!(slugify("Æsir × þing", Latin, true), "AEsir-x-thing");
    }

    #[test]
    fn slug_mode_names() {
        assert_eq!(SlugMode::from_name("pretty"), SlugMode::Pretty);
        assert_eq!(SlugMode::from_name("latin"), SlugMode::Latin);
        assert_eq!(SlugMode::from_name("Pretty"), SlugMode::None);
        assert_eq!(SlugMode::from_name(""), SlugMode::None);
    }

    #[test]
    fn every_placeholder_of_the_jekyll_md_example() {
        let date = at(2016, 2, 3, 4, 5, 6);
        let f = fields(date, "The_Placeholder.Test", "2016-02-03-The_Placeholder.Test", &[]);
        let cases = [
            (":year", "/2016"),
            (":short_year", "/16"),
            (":month", "/02"),
            (":i_month", "/2"),
            (":short_month", "/Feb"),
            (":long_month", "/February"),
            (":day", "/03"),
            (":i_day", "/3"),
            (":y_day", "/034"),
            (":w_year", "/2016"),
            (":week", "/05"),
            (":w_day", "/3"),
            (":short_day", "/Wed"),
            (":long_day", "/Wednesday"),
            (":hour", "/04"),
            (":minute", "/05"),
            (":second", "/06"),
            (":title", "/The_Placeholder.Test"),
            (":slug", "/the-placeholder-test"),
            (":name", "/2016-02-03-the-placeholder-test"),
            (":path", "/2016-02-03-The_Placeholder.Test"),
            (":collection", "/posts"),
            (":output_ext", "/.html"),
            (":categories", "/"),
            (":slugified_categories", "/"),
            ("/:title:output_ext", "/The_Placeholder.Test.html"),
            ("/:year_:month/", "/2016_02/"),
        ];
        for (template, expected) in cases {
            assert_eq!(expand(template, &f).unwrap(), expected, "{template}");
        }
        assert_eq!(expand("date", &f).unwrap(), "/2016/02/03/The_Placeholder.Test.html");
        assert_eq!(expand("ordinal", &f).unwrap(), "/2016/034/The_Placeholder.Test.html");
        assert_eq!(expand("weekdate", &f).unwrap(), "/2016/W05/Wed/The_Placeholder.Test.html");
        assert_eq!(expand("none", &f).unwrap(), "/The_Placeholder.Test.html");
        assert_eq!(expand_template("pretty", &f).unwrap(), "/pretty");
    }

    #[test]
    fn iso_week_year_differs_at_year_end() {
        let f = fields(at(2016, 1, 1, 0, 0, 0), "x", "2016-01-01-x", &[]);
        assert_eq!(expand("/:w_year/:week/:w_day/:year", &f).unwrap(), "/2015/53/5/2016");
    }

    #[test]
    fn categories_are_lowercased_deduplicated_and_escaped_but_not_slugified() {
        let date = at(2016, 2, 3, 4, 5, 6);
        let main = cats(&["Main Cat"]);
        assert_eq!(expand("date", &fields(date, "x", "2016-02-03-x", &main)).unwrap(), "/main%20cat/2016/02/03/x.html");
        let two = cats(&["Foo", "Baz/Qux", "foo", "ÉTÉ"]);
        let f = fields(date, "x", "2016-02-03-x", &two);
        assert_eq!(expand("/:categories/:title/", &f).unwrap(), "/foo/baz/qux/%C3%A9t%C3%A9/x/");
        assert_eq!(expand("/:slugified_categories/", &f).unwrap(), "/foo/baz-qux/%C3%A9t%C3%A9/");
    }

    #[test]
    fn titles_keep_case_and_pretty_characters() {
        let heroku = fields(
            at(2020, 9, 24, 0, 0, 0),
            "paas-with-elixir-at-Heroku",
            "2020-09-24-paas-with-elixir-at-Heroku",
            &[],
        );
        assert_eq!(
            expand("/blog/:year/:month/:day/:title/", &heroku).unwrap(),
            "/blog/2020/09/24/paas-with-elixir-at-Heroku/"
        );
        let custom = fields(at(2016, 1, 13, 0, 0, 0), "My Custom Slug!", "2016-01-13-original", &[]);
        assert_eq!(expand("date", &custom).unwrap(), "/2016/01/13/My-Custom-Slug!.html");
        let stem = "2021-07-27-content_governance_what_it_is_and_how_to_get_started";
        let gov = fields(at(2021, 7, 27, 0, 0, 0), &stem[11..], stem, &[]);
        assert_eq!(
            expand("pretty", &gov).unwrap(),
            "/2021/07/27/content_governance_what_it_is_and_how_to_get_started/"
        );
        let stem = "2023-04-20-hi-from-the-18F-design-chapter";
        let design = fields(at(2023, 5, 2, 0, 0, 0), &stem[11..], stem, &[]);
        assert_eq!(expand("pretty", &design).unwrap(), "/2023/05/02/hi-from-the-18F-design-chapter/");
        let stem = "2017-09-28-three-ways-to manage-research-projects";
        let research = fields(at(2017, 9, 27, 0, 0, 0), &stem[11..], stem, &[]);
        assert_eq!(expand("pretty", &research).unwrap(), "/2017/09/27/three-ways-to-manage-research-projects/");
        assert_eq!(
            expand("/:slug/:name", &research).unwrap(),
            "/three-ways-to-manage-research-projects/2017-09-28-three-ways-to-manage-research-projects"
        );
    }

    #[test]
    fn escaping_and_sanitizing() {
        assert_eq!(escape_path("a-b/c.d"), "a-b/c.d");
        assert_eq!(escape_path("a b#c#d"), "a%20b%23c%23d");
        assert_eq!(escape_path("!$&'()*+,;=:@~_?"), "!$&'()*+,;=:@~_?");
        assert_eq!(escape_path("100% [x] \"<>\\^`{|}"), "100%25%20%5Bx%5D%20%22%3C%3E%5C%5E%60%7B%7C%7D");
        assert_eq!(sanitize_url("a/../b/./c//d"), "/a/b/c/d");
        let f = fields(at(2016, 1, 1, 0, 0, 0), "x", "2016-01-01-x", &[]);
        assert_eq!(expand_template("no-ext", &f).unwrap(), "/no-ext");
        let txt = Fields { output_ext: ".txt", ..f };
        assert_eq!(expand("date", &txt).unwrap(), "/2016/01/01/x.txt");
        assert_eq!(expand_template("/", &f).unwrap(), "/");
        assert_eq!(expand_template("/a b/:Title/:title", &f).unwrap(), "/a b/:Title/x");
    }

    #[test]
    fn unknown_placeholders_are_errors() {
        let f = fields(at(2016, 1, 1, 0, 0, 0), "x", "2016-01-01-x", &[]);
        assert!(expand("/:year/:titles/", &f).unwrap_err().contains(":titles"));
        assert!(expand("/:short/", &f).unwrap_err().contains(":short"));
        assert!(expand("/:_/", &f).is_err());
        assert!(expand("/:title_foo/", &f).is_err());
    }

    #[test]
    fn feed_entry_ids() {
        assert_eq!(
            feed_entry_id("/news/2013/05/05/jekyll-1-0-0-released/", "jekyll-1-0-0-released"),
            "/news/2013/05/05/jekyll-1-0-0-released"
        );
        assert_eq!(feed_entry_id("/", "index"), "/index");
        assert_eq!(feed_entry_id("/en/meetings/2016/12/01/", "meeting"), "/en/meetings/2016/12/meeting");
        assert_eq!(feed_entry_id("/2015/05/21/tockingtime/", "TockingTime"), "/2015/05/21/TockingTime");
        let maintainer = feed_entry_id("/en/blog/2016/04/14/maintainer/", "maintainer-appointed-marcofalke");
        assert_eq!(maintainer, "/en/blog/2016/04/14/maintainer-appointed-marcofalke");
        assert_eq!(feed_entry_id("/2016/01/13/x.html", "/y"), "/2016/01/13/y");
        let id = feed_entry_id(
            "/2017/09/27/three-ways-to-manage-research-projects/",
            "three-ways-to manage-research-projects",
        );
        assert_eq!(id, "/2017/09/27/three-ways-to manage-research-projects");
        assert_eq!(escape_id(&id), "/2017/09/27/three-ways-to%20manage-research-projects");
        assert_eq!(ruby_dirname("a"), ".");
        assert_eq!(ruby_dirname("/a//b//"), "/a");
    }

    #[test]
    fn escape_id_normalizes_like_addressable() {
        assert_eq!(escape_id("/main%20cat/a b/%7e/100%/é/ﬁ"), "/main%20cat/a%20b/~/100%25/%C3%A9/fi");
        assert_eq!(escape_id("/a/c#-tips"), "/a/c#-tips");
        assert_eq!(escape_id("/a/why?"), "/a/why");
        assert_eq!(escape_id("/a/\"<x>\""), "/a/%22%3Cx%3E%22");
    }

    #[test]
    fn titles_from_the_corpora() {
        assert_eq!(title_text("Jekyll Meet & Greet at GitHub HQ"), "Jekyll Meet & Greet at GitHub HQ");
        assert_eq!(title_text("Jekyll 3.0.0.beta1 Released"), "Jekyll 3.0.0.beta1 Released");
        assert_eq!(title_text("Sponsoring Jekyll's development"), "Sponsoring Jekyll’s development");
        assert_eq!(
            title_text("Jekyll 3.4.1, or \"Unintended Consequences\""),
            "Jekyll 3.4.1, or “Unintended Consequences”"
        );
        assert_eq!(title_text("Jekyll Turns 21! Err... I mean 2.1.0."), "Jekyll Turns 21! Err… I mean 2.1.0.");
        assert_eq!(
            title_text("What we can learn from the Interior&#39;s social feeds"),
            "What we can learn from the Interior's social feeds"
        );
        assert_eq!(title_text("Is your project using &ldquo;agilefall&rdquo;?"), "Is your project using “agilefall”?");
        assert_eq!(title_text("writing for action <em>and</em> flexibility"), "writing for action and flexibility");
        assert_eq!(
            title_text("18F's New Year's resolution: Be even more open"),
            "18F’s New Year’s resolution: Be even more open"
        );
    }

    #[test]
    fn smartypants_rules() {
        assert_eq!(title_text("A -- B --- C"), "A – B — C");
        assert_eq!(title_text("<<Hi>> and << x >>"), "«Hi» and «\u{A0}x\u{A0}»");
        assert_eq!(title_text("\\<<x\\>>"), "<<x>>");
        assert_eq!(title_text("'Tis the '80s, \"'quoted' words\""), "‘Tis the ’80s, “‘quoted’ words”");
        assert_eq!(title_text("(\"x\") [\"y\"] -'z'"), "(“x”) [“y”] -‘z’");
        assert_eq!(title_text("\"*emph*\" it's \"the\"."), "“*emph*” it’s “the”.");
        assert_eq!(title_text("a < b &amp; &lt;em&gt; &bogus; &#x2014; &#151;"), "a < b & <em> &bogus; — —");
        assert_eq!(title_text("  many \n\t spaces&nbsp;kept "), "many spaces\u{A0}kept");
        assert_eq!(title_text("x</em> <br/>y<!-- c -->"), "x</em> y");
    }
}

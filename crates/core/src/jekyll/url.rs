//! Slugs, permalinks, feed entry ids and entry titles exactly as Jekyll 4.3.1 and jekyll-feed 0.17 make them.

// Ported from the versions that built the reference feeds (Debian 12): `jekyll/jekyll@v4.3.1` (`utils.rb`
// slugify, `url.rb`, `drops/url_drop.rb`, `document.rb` id), Addressable 2.8.1 (`absolute_url` normalization) and
// ruby-i18n 1.12 (`I18n.transliterate`).

use std::borrow::Cow;

use chrono::{DateTime, Datelike, FixedOffset};
use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, percent_encode, utf8_percent_encode};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::smartypants::is_ruby_space;

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

/// Why a permalink template cannot be expanded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PermalinkError {
    /// A `:name` that is no key of Jekyll's `UrlDrop` (nor is it one with a trailing `_` removed).
    UnknownPlaceholder {
        /// The placeholder without its colon, e.g. `titles`.
        name: String,
        /// The whole template it is in.
        template: String,
    },
}

impl std::fmt::Display for PermalinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PermalinkError::UnknownPlaceholder { name, template } => {
                write!(f, "unknown permalink placeholder `:{name}` in `{template}`")
            }
        }
    }
}

impl std::error::Error for PermalinkError {}

/// Expands a template or a style name (`date`, `pretty`, `ordinal`, `weekdate`, `none`); Err names an unknown placeholder.
pub fn expand(template: &str, fields: &Fields) -> Result<String, PermalinkError> {
    // Jekyll looks style names up only in the site-wide `permalink`: a front-matter `permalink: pretty` or a
    // `collections.posts.permalink: pretty` is the literal URL `/pretty`. Use `expand_template` for those.
    expand_template(style_template(template).unwrap_or(template), fields)
}

/// Expands a permalink template, never a style name (for front-matter and collection permalinks); Err as `expand`.
pub fn expand_template(template: &str, fields: &Fields) -> Result<String, PermalinkError> {
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
                None => {
                    let (name, template) = (name.to_owned(), template.to_owned());
                    return Err(PermalinkError::UnknownPlaceholder { name, template });
                }
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
    // `smartify | strip_html` is kramdown's SmartyPants parser, ported in [`super::smartypants`].
    normalize_whitespace(&super::smartypants::plain_text(raw))
}

/// Liquid's `normalize_whitespace` (Ruby `\s+` → one space, then strip); a no-break space is not whitespace there.
fn normalize_whitespace(text: &str) -> String {
    text.split(is_ruby_space).filter(|word| !word.is_empty()).collect::<Vec<_>>().join(" ")
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
        assert_eq!(
            expand("/:year/:titles/", &f).unwrap_err().to_string(),
            "unknown permalink placeholder `:titles` in `/:year/:titles/`"
        );
        assert!(
            matches!(expand("/:short/", &f), Err(PermalinkError::UnknownPlaceholder { name, .. }) if name == "short")
        );
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
}

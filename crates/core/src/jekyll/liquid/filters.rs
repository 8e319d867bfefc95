//! Jekyll's own filters (`relative_url`, `slugify`, `date_to_string`, `where`, `group_by`, …).

use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

use liquid_core::model::ScalarCow;
use liquid_core::parser::{FilterArguments, FilterReflection, ParameterReflection, ParseFilter};
use liquid_core::{Error, Expression, Filter, Object, Runtime, Value, ValueCow, ValueView};
use regex::Regex;

use super::guard::snippet;
use super::lex::is_ruby_space;
use crate::jekyll::date::FilterDate;

#[derive(Clone, Copy, Debug)]
pub(super) enum JKind {
    RelativeUrl,
    AbsoluteUrl,
    StripIndex,
    Slugify,
    XmlEscape,
    CgiEscape,
    UriEscape,
    NormalizeWhitespace,
    NumberOfWords,
    ArrayToSentence,
    Jsonify,
    Identity,
    DateToString,
    DateToLongString,
    DateToXmlschema,
    DateToRfc822,
    Where,
    Find,
    GroupBy,
    Push,
    Pop,
    Shift,
    Unshift,
    ToInteger,
    Inspect,
    Sample,
}

pub(super) const JEKYLL_FILTERS: &[(&str, JKind)] = &[
    ("relative_url", JKind::RelativeUrl),
    ("absolute_url", JKind::AbsoluteUrl),
    ("strip_index", JKind::StripIndex),
    ("slugify", JKind::Slugify),
    ("xml_escape", JKind::XmlEscape),
    ("cgi_escape", JKind::CgiEscape),
    ("uri_escape", JKind::UriEscape),
    ("normalize_whitespace", JKind::NormalizeWhitespace),
    ("number_of_words", JKind::NumberOfWords),
    ("array_to_sentence_string", JKind::ArrayToSentence),
    ("jsonify", JKind::Jsonify),
    ("markdownify", JKind::Identity),
    ("smartify", JKind::Identity),
    ("sassify", JKind::Identity),
    ("scssify", JKind::Identity),
    ("date_to_string", JKind::DateToString),
    ("date_to_long_string", JKind::DateToLongString),
    ("date_to_xmlschema", JKind::DateToXmlschema),
    ("date_to_rfc822", JKind::DateToRfc822),
    ("where", JKind::Where),
    ("find", JKind::Find),
    ("group_by", JKind::GroupBy),
    ("push", JKind::Push),
    ("pop", JKind::Pop),
    ("shift", JKind::Shift),
    ("unshift", JKind::Unshift),
    ("to_integer", JKind::ToInteger),
    ("inspect", JKind::Inspect),
    ("sample", JKind::Sample),
];

/// Jekyll filters that tidings passes through with a problem.
pub(super) const UNSUPPORTED_FILTERS: &[&str] = &["where_exp", "find_exp", "group_by_exp"];

#[derive(Clone)]
pub(super) struct JekyllFilter {
    pub(super) name: String,
    pub(super) kind: JKind,
}

impl FilterReflection for JekyllFilter {
    fn name(&self) -> &str {
        &self.name
    }
    fn description(&self) -> &str {
        ""
    }
    fn positional_parameters(&self) -> &'static [ParameterReflection] {
        &[]
    }
    fn keyword_parameters(&self) -> &'static [ParameterReflection] {
        &[]
    }
}

impl ParseFilter for JekyllFilter {
    fn parse(&self, arguments: FilterArguments<'_>) -> liquid_core::Result<Box<dyn Filter>> {
        let args = arguments.positional.collect();
        arguments.keyword.for_each(drop);
        Ok(Box::new(JekyllFilterImpl { name: self.name.clone(), kind: self.kind, args }))
    }
    fn reflection(&self) -> &dyn FilterReflection {
        self
    }
}

#[derive(Debug)]
struct JekyllFilterImpl {
    pub(super) name: String,
    pub(super) kind: JKind,
    pub(super) args: Vec<Expression>,
}

impl fmt::Display for JekyllFilterImpl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name)?;
        for (i, a) in self.args.iter().enumerate() {
            write!(f, "{}{a}", if i == 0 { ": " } else { ", " })?;
        }
        Ok(())
    }
}

impl Filter for JekyllFilterImpl {
    fn evaluate(&self, input: &dyn ValueView, runtime: &dyn Runtime) -> liquid_core::Result<Value> {
        let args = self
            .args
            .iter()
            .map(|a| a.evaluate(runtime).map(ValueCow::into_owned))
            .collect::<liquid_core::Result<Vec<Value>>>()?;
        let arg = |i: usize| args.get(i).filter(|v| !v.is_nil());
        let arg_str = |i: usize| arg(i).map(|v| v.to_kstr().to_string());
        let text = || input.to_kstr().to_string();
        let string = |s: String| Ok(Value::scalar(s));
        match self.kind {
            JKind::Identity => Ok(input.to_value()),
            JKind::RelativeUrl | JKind::AbsoluteUrl if input.is_nil() => Ok(Value::Nil),
            JKind::RelativeUrl => string(relative_url(&url_input(input), &site_str(runtime, "baseurl"))),
            JKind::AbsoluteUrl => {
                let input = url_input(input);
                let site = site_str(runtime, "url");
                let relative = relative_url(&input, &site_str(runtime, "baseurl"));
                if site.is_empty() || is_absolute(&input) {
                    string(relative)
                } else {
                    string(encode_uri(&format!("{site}{relative}")))
                }
            }
            JKind::StripIndex => {
                let s = text();
                if input.is_nil() || s.is_empty() {
                    return Ok(Value::Nil);
                }
                let stripped = ["/index.html", "/index.htm"].iter().find_map(|i| s.strip_suffix(i));
                string(stripped.map_or(s.to_string(), |b| format!("{b}/")))
            }
            JKind::Slugify if input.is_nil() => Ok(Value::Nil),
            JKind::Slugify => string(slugify(&text(), arg_str(0).as_deref().unwrap_or("default"))),
            JKind::XmlEscape => {
                let s = text();
                let mut out = String::with_capacity(s.len());
                for c in s.chars() {
                    match c {
                        '&' => out.push_str("&amp;"),
                        '<' => out.push_str("&lt;"),
                        '>' => out.push_str("&gt;"),
                        '"' => out.push_str("&quot;"),
                        c => out.push(c),
                    }
                }
                string(out)
            }
            JKind::CgiEscape => {
                string(percent_encode(&text(), |b| b.is_ascii_alphanumeric() || b"_.-~".contains(&b), true))
            }
            JKind::UriEscape => string(encode_uri(&text())),
            JKind::NormalizeWhitespace => {
                string(text().split(is_ruby_space).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" "))
            }
            JKind::NumberOfWords => Ok(Value::scalar(number_of_words(&text(), arg_str(0).as_deref()) as i64)),
            JKind::ArrayToSentence => {
                let items: Vec<String> = match input.as_array() {
                    Some(a) => a.values().map(|v| v.to_kstr().to_string()).collect(),
                    None if input.is_nil() => Vec::new(),
                    None => vec![text()],
                };
                let connector = arg_str(0).unwrap_or_else(|| "and".into());
                string(match items.as_slice() {
                    [] => String::new(),
                    [one] => one.clone(),
                    [a, b] => format!("{a} {connector} {b}"),
                    [head @ .., last] => format!("{}, {connector} {last}", head.join(", ")),
                })
            }
            JKind::Jsonify => serde_json::to_string(&input.to_value())
                .map(Value::scalar)
                .map_err(|e| Error::with_msg(format!("jsonify: {e}"))),
            JKind::DateToString | JKind::DateToLongString | JKind::DateToXmlschema | JKind::DateToRfc822 => {
                let s = text();
                if s.is_empty() {
                    return Ok(input.to_value());
                }
                let d =
                    FilterDate::parse(&s).ok_or_else(|| Error::with_msg(format!("invalid date: {}", snippet(&s))))?;
                let ordinal = arg_str(0).as_deref() == Some("ordinal");
                let us = arg_str(1).as_deref() == Some("US");
                string(match self.kind {
                    JKind::DateToString => d.stringify(false, ordinal, us),
                    JKind::DateToLongString => d.stringify(true, ordinal, us),
                    JKind::DateToXmlschema => d.xmlschema(),
                    _ => d.rfc822(),
                })
            }
            JKind::Where => {
                let target = args.get(1).filter(|t| !t.is_nil());
                let (Some(prop), false) = (arg_str(0), target.is_some_and(|t| t.is_array() || t.is_object())) else {
                    return Ok(input.to_value());
                };
                let items: Vec<&dyn ValueView> = match (input.as_array(), input.as_object()) {
                    (Some(a), _) => a.values().collect(),
                    (_, Some(o)) => o.values().collect(),
                    _ => return Ok(input.to_value()),
                };
                let want = target.map(|t| t.to_kstr().to_string());
                let keep = |item: &&dyn ValueView| {
                    let p = property(*item, &prop);
                    match (&want, p.as_array()) {
                        (None, _) => p.is_nil(),
                        (Some(w), Some(a)) => a.values().any(|x| x.to_kstr().as_str() == w),
                        (Some(w), None) => p.to_kstr().as_str() == w,
                    }
                };
                Ok(Value::array(items.into_iter().filter(keep).map(|v| v.to_value())))
            }
            JKind::Find => {
                let (Some(a), Some(prop)) = (input.as_array(), arg_str(0)) else { return Ok(Value::Nil) };
                let want = arg(1).map(|v| v.to_kstr().to_string()).unwrap_or_default();
                Ok(a.values()
                    .find(|item| property(*item, &prop).to_kstr() == want.as_str())
                    .map_or(Value::Nil, |v| v.to_value()))
            }
            JKind::GroupBy => {
                let (Some(a), Some(prop)) = (input.as_array(), arg_str(0)) else { return Ok(input.to_value()) };
                let mut groups: Vec<(String, Vec<Value>)> = Vec::new();
                let mut by_key: HashMap<String, usize> = HashMap::new();
                for item in a.values() {
                    let key = property(item, &prop).to_kstr().to_string();
                    match by_key.get(&key) {
                        Some(&i) => groups[i].1.push(item.to_value()),
                        None => {
                            by_key.insert(key.clone(), groups.len());
                            groups.push((key, vec![item.to_value()]));
                        }
                    }
                }
                Ok(Value::array(groups.into_iter().map(|(name, items)| {
                    let mut group = Object::new();
                    group.insert("name".into(), Value::scalar(name));
                    group.insert("size".into(), Value::scalar(items.len() as i64));
                    group.insert("items".into(), Value::Array(items));
                    Value::Object(group)
                })))
            }
            JKind::Push | JKind::Unshift | JKind::Pop | JKind::Shift => {
                let Some(a) = input.as_array() else { return Ok(input.to_value()) };
                let mut items: Vec<Value> = a.values().map(|v| v.to_value()).collect();
                let count =
                    || arg(0).and_then(|v| v.as_scalar().and_then(|s| s.to_integer())).unwrap_or(1).max(0) as usize;
                match self.kind {
                    JKind::Push => items.push(arg(0).cloned().unwrap_or(Value::Nil)),
                    JKind::Unshift => items.insert(0, arg(0).cloned().unwrap_or(Value::Nil)),
                    JKind::Pop => items.truncate(items.len().saturating_sub(count())),
                    _ => {
                        items.drain(..count().min(items.len()));
                    }
                }
                Ok(Value::Array(items))
            }
            JKind::ToInteger => Ok(Value::scalar(to_integer(input))),
            JKind::Inspect => string(input.source().to_string()),
            JKind::Sample => {
                let Some(a) = input.as_array() else { return Ok(input.to_value()) };
                match arg(0).and_then(|v| v.as_scalar().and_then(|s| s.to_integer())) {
                    None | Some(1) => Ok(a.first().map_or(Value::Nil, |v| v.to_value())),
                    Some(n) => Ok(Value::array(a.values().take(n.max(0) as usize).map(|v| v.to_value()))),
                }
            }
        }
    }
}

/// `item.property` for Jekyll's `find`/`group_by`, with dotted properties.
fn property<'v>(item: &'v dyn ValueView, property: &str) -> ValueCow<'v> {
    let mut cur = ValueCow::Borrowed(item);
    for key in property.split('.') {
        let next = match &cur {
            ValueCow::Borrowed(v) => v.as_object().and_then(|o| o.get(key)).map(|v| v.to_value()),
            ValueCow::Owned(v) => v.as_object().and_then(|o| o.get(key)).map(|v| v.to_value()),
        };
        cur = ValueCow::Owned(next.unwrap_or(Value::Nil));
    }
    cur
}

pub(super) fn to_integer(input: &dyn ValueView) -> i64 {
    let Some(s) = input.as_scalar() else { return 0 };
    if let Some(b) = s.to_bool().filter(|_| matches!(input.type_name(), "boolean")) {
        return i64::from(b);
    }
    if let Some(f) = s.to_float().filter(|_| input.type_name() == "fractional number") {
        return f as i64;
    }
    let text = s.to_kstr();
    let t = text.trim_start();
    let (sign, digits) = match t.as_bytes().first() {
        Some(b'-') => (-1, &t[1..]),
        Some(b'+') => (1, &t[1..]),
        _ => (1, t),
    };
    let n = digits.bytes().take_while(u8::is_ascii_digit).count();
    sign * digits[..n].parse::<i64>().unwrap_or(0)
}

fn url_input(input: &dyn ValueView) -> String {
    match input.as_object().and_then(|o| o.get("url")) {
        Some(url) => url.to_kstr().to_string(),
        None => input.to_kstr().to_string(),
    }
}

fn site_str(runtime: &dyn Runtime, key: &str) -> String {
    runtime.try_get(&[ScalarCow::new("site"), ScalarCow::new(key)]).map(|v| v.to_kstr().to_string()).unwrap_or_default()
}

/// Jekyll's `relative_url`: baseurl (one trailing `/` chopped) + input, each with a leading `/`, URI-encoded.
pub(super) fn relative_url(input: &str, baseurl: &str) -> String {
    if is_absolute(input) {
        return input.to_owned();
    }
    let lead = |s: &str| if s.is_empty() || s.starts_with('/') { s.to_owned() } else { format!("/{s}") };
    encode_uri(&format!("{}{}", lead(baseurl.strip_suffix('/').unwrap_or(baseurl)), lead(input)))
}

/// True when `s` has a URI scheme (`https:`, `mailto:`).
fn is_absolute(s: &str) -> bool {
    let scheme = s.split(':').next().unwrap_or("");
    s.len() > scheme.len()
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b"+.-".contains(&b))
}

/// Percent-encodes what a URI may not contain as is (spaces, non-ASCII, `"<>\^`{|}`); keeps `%XX`.
fn encode_uri(s: &str) -> String {
    percent_encode(s, |b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?#[]".contains(&b), false)
}

fn percent_encode(s: &str, keep: impl Fn(u8) -> bool, form: bool) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in b.iter().enumerate() {
        let escape_ok = !form && c == b'%' && b.get(i + 1..i + 3).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit));
        if keep(c) || escape_ok {
            out.push(c as char);
        } else if form && c == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

static CJK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[\p{Han}\p{Katakana}\p{Hiragana}\p{Hangul}]").expect("valid regex"));
static NON_CJK_WORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[^\p{Han}\p{Katakana}\p{Hiragana}\p{Hangul}\s]+").expect("valid regex"));

/// Jekyll's `Utils.slugify` (JEKYLL.md §4), the one in [`crate::jekyll::url`]; an unknown mode only
/// lowercases, and the filter never keeps case.
pub(super) fn slugify(s: &str, mode: &str) -> String {
    crate::jekyll::url::slugify(s, crate::jekyll::url::SlugMode::from_name(mode), false)
}

pub(super) fn number_of_words(s: &str, mode: Option<&str>) -> usize {
    let cjk = || CJK.find_iter(s).count();
    match mode {
        Some("cjk") => cjk() + NON_CJK_WORD.find_iter(s).count(),
        Some("auto") => match cjk() {
            0 => s.split_whitespace().count(),
            n => n + NON_CJK_WORD.find_iter(s).count(),
        },
        _ => s.split_whitespace().count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jekyll::liquid::tests::{Site, run};
    use crate::jekyll::liquid::*;
    use serde_json::json;

    #[test]
    fn jekyll_filters() {
        let site =
            json!({"url": "https://example.com", "baseurl": "/my project/", "time": "2024-05-06 07:08:09 +0200"});
        let page = json!({"date": "2016-02-03 04:05:06 -0800", "list": ["a", "b", "c"], "obj": {"k": "v <x>"}});
        let out = render(
            "{{ \"/docs/a b/\" | relative_url }}|{{ \"docs\" | absolute_url }}|{{ \"http://x.y/z\" | relative_url }}|\
             {{ \"/a/index.html\" | strip_index }}|{{ \"The _config.yml file\" | slugify }}|\
             {{ \"The _config.yml file\" | slugify: \"pretty\" }}|{{ \"Ünïcödé Straße\" | slugify: \"latin\" }}|\
             {{ \"C++ & C#\" | slugify: \"ascii\" }}|{{ \"example :page\" | uri_escape }}|\
             {{ \"foo,bar;baz? q\" | cgi_escape }}|{{ \"  a \n b  \" | normalize_whitespace }}|\
             {{ \"one two  three\" | number_of_words }}|{{ page.list | array_to_sentence_string }}|\
             {{ page.obj | jsonify }}|{{ page.date | date_to_xmlschema }}|{{ page.date | date_to_rfc822 }}|\
             {{ page.date | date_to_long_string: \"ordinal\", \"US\" }}|{{ \"*x*\" | markdownify }}|\
             {{ page.list | push: \"d\" | join: \"\" }}|{{ page.list | shift | join: \"\" }}|{{ \"12abc\" | to_integer | plus: 1 }}|\
             {{ \"now\" | date: \"%Y\" }}",
            &site,
            &page,
            &Site::default(),
        );
        assert_eq!(
            out.text,
            "/my%20project/docs/a%20b/|https://example.com/my%20project/docs|http://x.y/z|/a/|the-config-yml-file|\
             the-_config.yml-file|unicode-strasse|c-c|example%20:page|foo%2Cbar%3Bbaz%3F+q|a b|3|a, b, and c|\
             {\"k\":\"v <x>\"}|2016-02-03T04:05:06-08:00|Wed, 03 Feb 2016 04:05:06 -0800|February 3rd, 2016|*x*|\
             abcd|bc|13|2024"
        );
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        let out = run("{{ \"now\" | date: \"%Y\" }}{{ page.list | where_exp: \"x\", \"x\" }}");
        assert_eq!(out.problems.len(), 2, "{:?}", out.problems);
    }

    #[test]
    fn slugify_modes_match_jekyll_md_table() {
        let cases = [
            ("What's new?", "default", "what-s-new"),
            ("What's new?", "pretty", "what's-new"),
            ("What's new?", "raw", "what's-new?"),
            ("Ünïcödé Straße", "default", "ünïcödé-straße"),
            ("Ünïcödé Straße", "ascii", "n-c-d-stra-e"),
            ("日本語のタイトル", "default", "日本語のタイトル"),
            ("日本語のタイトル", "latin", ""),
            ("emoji 🎉 party", "default", "emoji-party"),
            ("C++ & C#", "pretty", "c++-&-c"),
            ("x²", "default", "x"),
            ("Keep Case", "none", "keep case"),
        ];
        for (input, mode, want) in cases {
            assert_eq!(slugify(input, mode), want, "{input} / {mode}");
        }
    }

    #[test]
    fn latin_transliteration_covers_its_table() {
        let all: String = (0xC0..=0x17F).filter_map(char::from_u32).collect();
        let slug = slugify(&all, "latin");
        assert!(slug.is_ascii(), "{slug}");
        assert_eq!(slugify("Ærøskøbing Łódź Œuvre", "latin"), "aeroskobing-lodz-oeuvre");
    }

    #[test]
    fn group_by_keeps_first_seen_order() {
        let page = json!({"list": [{"t": "b", "n": 1}, {"t": "a", "n": 2}, {"t": "b", "n": 3}]});
        let out = render(
            "{% assign g = page.list | group_by: \"t\" %}{% for x in g %}{{ x.name }}{{ x.size }}{% endfor %}",
            &json!({}),
            &page,
            &Site::default(),
        );
        assert_eq!(out.text, "b2a1");
    }
}

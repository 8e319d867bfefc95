//! Liquid in Jekyll post bodies, rendered the way Jekyll 4.3 does before Markdown (JEKYLL.md §7).
//!
//! Jekyll runs Liquid over a post body only when it contains `{{` or `{%` ([`has_liquid`]). [`render`] does the
//! same with the `site` and `page` values the caller supplies and a [`Resolver`] for what lies outside the post
//! (`post_url`, `link`, `include`). It is pure (no file, clock or environment access; [`render_until`] reads the
//! monotonic clock for its deadline, which decides whether a render stops, never what it writes) and never fails:
//! whatever would abort a Jekyll build (an unknown tag or filter from a site plugin, a missing include, a `post_url`
//! or `link` to nothing, a syntax error) becomes a [`Problem`] with its line and column in the body, and that markup
//! is dropped.
//! The output never contains markup of its own making; `{{` or `{%` in it come from `{% raw %}` blocks or from values.
//!
//! # How
//! Expressions, the standard filters and tags (`if`, `unless`, `case`, `for`, `tablerow`, `assign`, `capture`,
//! `cycle`, `increment`, …) are cobalt-org's liquid-rust (`liquid-core`, `liquid-lib` 0.26). Its grammar is strict,
//! so a first pass of ours lexes the body the way Liquid 4 does (`{%…%}` to the first `%}`, `{{…}}`, `{%-`/`-%}`
//! whitespace control), handles `raw` and `comment` itself, resolves Jekyll's tags, checks each piece of markup on its
//! own, repairs unbalanced blocks, and gives liquid-rust a source made only of well-formed tags. Each top-level piece
//! is parsed and rendered on its own, so one bad piece never takes the rest of the post with it; a piece that still
//! fails to parse falls back to its text with every `{% … %}` and `{{ … }}` removed (raw blocks kept literally).
//! Unknown variables, unknown keys and out-of-range indexes render as empty, as in Jekyll.
//!
//! # Jekyll tags
//! - `{% post_url NAME %}` and `{% link PATH %}` print what [`Resolver::post_url`] / [`Resolver::link`] return. A
//!   `{{ }}` in the argument is rendered first, with `site` and `page` only (not variables assigned in the post).
//! - `{% include NAME k=v k2="v2" k3=var %}` renders [`Resolver::include`]'s text as Liquid with `include.k` set.
//!   Includes nest at most [`MAX_INCLUDE_DEPTH`] deep; a loop is a problem. The name may be quoted or bare.
//! - `{% highlight LANG [linenos] %}…{% endhighlight %}`: the body (Liquid-rendered, as in Jekyll) is trimmed of
//!   leading and trailing line breaks and HTML-escaped into `<figure class="highlight"><pre><code
//!   class="language-LANG" data-lang="LANG">…</code></pre></figure>`, without Rouge's token `<span>`s and ignoring
//!   `linenos` and other options. That HTML goes to [`Output::highlights`] and the text gets a paragraph of its own
//!   ([`placeholder`]), because raw HTML with blank lines would be cut apart by the Markdown that follows;
//!   [`restore_highlights`] puts it back into the HTML.
//! - Jekyll filters: `relative_url`, `absolute_url`, `strip_index`, `slugify` (all modes; `latin` knows Latin-1 and
//!   Latin Extended-A only), `xml_escape`, `cgi_escape`, `uri_escape`, `normalize_whitespace`, `number_of_words`,
//!   `array_to_sentence_string`, `jsonify`, `date_to_string`, `date_to_long_string`, `date_to_xmlschema`,
//!   `date_to_rfc822` (dates keep the offset they carry; none means UTC), `find`, `group_by`, `push`, `pop`,
//!   `shift`, `unshift`, `to_integer`, `inspect`, `sample` (the first items, not random). `markdownify`,
//!   `smartify`, `sassify` and `scssify` return their input unchanged (the body is Markdown-rendered afterwards
//!   anyway). `where_exp`, `find_exp` and `group_by_exp` are not supported: a problem, and the input passes through.
//!   Liquid's `date` filter takes `"now"` from `site.time`, never from the clock.
//!
//! # Limits
//! Everything a post can make Liquid produce (output, captured text, growth of filter results) counts against
//! `10 × body + 1 MiB` bytes, loops run at most [`MAX_ITERATIONS`] times in all, a `for` over a range larger than
//! that never starts, and blocks nest at most [`MAX_NESTING`] deep. Past a limit the rest of the Liquid markup renders
//! nothing and one problem says so ([`Output::stopped`]).
//!
//! Those count iterations and output, not work or memory, so three more limits catch hostile posts; past them the
//! post's body is not shown at all ([`Stop::fails_body`]):
//! - work: every filter evaluation is charged before it runs by its input's size (array items and 32-byte pieces of
//!   text; `sort` and `sort_natural` n log n) and after by its result's, and so is measuring what `assign` and
//!   `capture` keep, against [`MAX_WORK`]; evaluations are capped at [`MAX_FILTER_CALLS`]. liquid-lib's `uniq`
//!   (quadratic) is replaced by a linear one for strings and numbers, with the same result; on other arrays it is
//!   charged its quadratic work first. `split` is ours too, to check its result's memory before making it.
//! - memory: what `assign` and `capture` keep (a name set again frees what it held) plus each filter's result counts
//!   at its real size (text bytes plus [`VALUE_BYTES`] per value) against [`MAX_LIVE_BYTES`]. A copy made by
//!   `assign x = y` exists before it is counted, so the heap may briefly hold one more value than the limit.
//! - time: [`render_until`]'s deadline, read every 16 pieces, loop iterations and filters rendered, stops what
//!   the others do not see (`contains` over a large array in a loop).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Instant;

use liquid_core::model::{KString, KStringCow, KStringRef, ScalarCow};
use liquid_core::parser::{
    BlockReflection, FilterArguments, FilterChain, FilterReflection, ParameterReflection, ParseBlock, ParseFilter,
    ParseTag, TagBlock, TagReflection, TagTokenIter,
};
use liquid_core::runtime::{PartialStore, Registers, RuntimeBuilder, StackFrame, Variable};
use liquid_core::{Error, Expression, Filter, Language, Object, Renderable, Runtime, Value, ValueCow, ValueView};
use liquid_lib::stdlib;
use regex::Regex;

/// Includes nest at most this deep (Jekyll has no limit; a loop would never end there).
pub const MAX_INCLUDE_DEPTH: usize = 8;
/// Blocks (`if`, `for`, …, across includes) nest at most this deep; deeper ones are removed with a problem.
pub const MAX_NESTING: usize = 48;
/// Loop iterations allowed in one render, all loops together.
pub const MAX_ITERATIONS: usize = 100_000;
/// Work one render may do in filters and in measuring values, in units of one array item or 32 bytes of text
/// visited (a sort of n items costs n log n): a few seconds of a debug build, well under the render budget in a
/// release one.
pub const MAX_WORK: u64 = 40_000_000;
/// Filter evaluations allowed in one render.
pub const MAX_FILTER_CALLS: u64 = 500_000;
/// Memory the values a render holds may take at once (what `assign` and `capture` keep, and each filter's result),
/// estimated at its real cost: text bytes plus [`VALUE_BYTES`] per value, array item or object entry.
pub const MAX_LIVE_BYTES: usize = 64 << 20;
/// What a Liquid value costs besides its text: the `Value` itself and its slot in an array or object (~55 bytes
/// measured per item of a split string).
pub const VALUE_BYTES: usize = 56;
/// Include expansions allowed in one render.
const MAX_INCLUDES: usize = 1000;
/// Problems kept from the rendering stage (a bad loop body would otherwise report once per iteration).
const MAX_PROBLEMS: usize = 1000;

/// What Liquid tags need from outside a post.
pub trait Resolver {
    /// `{% post_url NAME %}`: the relative_url (baseurl + url) of the post whose `_posts`-relative path without
    /// extension is NAME (a subdirectory prefix is allowed, and Jekyll also matches by the file name alone).
    fn post_url(&self, name: &str) -> Option<String>;
    /// `{% link PATH %}`: the relative_url of the source file at PATH (e.g. `_posts/2017-01-18-x.markdown`).
    fn link(&self, path: &str) -> Option<String>;
    /// `{% include NAME %}`: the text of `_includes/NAME`, or why there is none to include.
    fn include(&self, name: &str) -> Result<String, String>;
}

/// Something Jekyll would have stopped the build for, or that tidings could not render like Jekyll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line in the body (of the `include` tag, for a problem inside an include).
    pub line: u32,
    /// 1-based column in characters.
    pub column: u32,
    /// What happened and what tidings did instead.
    pub message: String,
}

/// The result of [`render`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    /// The body with its Liquid rendered, ready for Markdown.
    pub text: String,
    /// Finished `highlight` HTML; `text` holds [`placeholder`]`(n)` for the `n`th.
    pub highlights: Vec<String>,
    /// Problems, in body order.
    pub problems: Vec<Problem>,
    /// The limit that stopped rendering, if one did, and its problem (also among `problems`).
    pub stopped: Option<(Stop, Problem)>,
    /// The most memory the render's values held at once, estimated as [`MAX_LIVE_BYTES`] counts it.
    pub peak_bytes: usize,
}

/// A limit that stopped a render: past it the rest of the Liquid markup rendered nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The output limit (`10 × body + 1 MiB` bytes).
    Output,
    /// [`MAX_ITERATIONS`], or a range larger than that.
    Iterations,
    /// [`MAX_WORK`] or [`MAX_FILTER_CALLS`].
    Work,
    /// [`MAX_LIVE_BYTES`].
    Memory,
    /// The deadline given to [`render_until`].
    Time,
}

impl Stop {
    /// True when what was rendered must not be shown: the limits that catch hostile posts (work, memory, time),
    /// unlike output and loop limits, which keep what was rendered before them.
    pub fn fails_body(self) -> bool {
        matches!(self, Stop::Work | Stop::Memory | Stop::Time)
    }
}

/// Cheap test: true when `body` contains `{{` or `{%` (Jekyll runs Liquid only then).
pub fn has_liquid(body: &str) -> bool {
    body.contains("{{") || body.contains("{%")
}

/// The paragraph that stands in `Output::text` for the `n`th highlight: `"\n\nTIDINGS-FRAGMENT-n\n\n"`.
pub fn placeholder(n: usize) -> String {
    format!("\n\n{}\n\n", crate::markdown::fragment_marker(n))
}

/// Renders Liquid in `body` like Jekyll 4.3 before Markdown. `site` = the _config.yml values (+ anything else),
/// `page` = the post's front matter (+ url, date etc. supplied by the caller).
pub fn render(body: &str, site: &serde_json::Value, page: &serde_json::Value, resolver: &dyn Resolver) -> Output {
    render_until(body, site, page, resolver, None)
}

/// [`render`], stopping shortly after `deadline` ([`Stop::Time`]). The deadline is the one clock reading here: it
/// decides only whether a render stops, never what it writes.
pub fn render_until(
    body: &str,
    site: &serde_json::Value,
    page: &serde_json::Value,
    resolver: &dyn Resolver,
    deadline: Option<Instant>,
) -> Output {
    if !has_liquid(body) {
        return Output { text: body.to_owned(), ..Output::default() };
    }
    let mut globals = Object::new();
    globals.insert("site".into(), liquid_core::to_value(site).unwrap_or(Value::Nil));
    globals.insert("page".into(), liquid_core::to_value(page).unwrap_or(Value::Nil));

    let mut pre = Pre {
        resolver,
        globals: &globals,
        lang: BASE.clone(),
        reported_filters: HashSet::new(),
        items: Vec::new(),
        problems: Vec::new(),
        include_stack: Vec::new(),
        includes: 0,
        include_budget: output_limit(body),
    };
    let prepared = pre.prepare(&Source::new(body, None, 0));
    let Pre { mut lang, items, problems: mut notes, .. } = pre;

    let shared = Arc::new(Shared { items, notes: Mutex::new(Vec::new()) });
    for kind in [Kind::Out, Kind::Lit, Kind::At, Kind::Include] {
        lang.tags.register(kind.name().to_owned(), Box::new(Placeholder { kind, shared: shared.clone() }));
    }
    lang.blocks.register("tidings_highlight".to_owned(), Box::new(HighlightBlock { shared: shared.clone() }));

    let runtime = RuntimeBuilder::new().set_globals(&globals).build();
    {
        let mut state = runtime.registers().get_mut::<State>();
        state.limit = output_limit(body);
        state.deadline = deadline;
    }
    let mut out: Vec<u8> = Vec::with_capacity(body.len() + body.len() / 4);
    for chunk in &prepared.chunks {
        match chunk {
            Chunk::Text(text) => out.extend_from_slice(text.as_bytes()),
            Chunk::Liquid { src, fallback, at, label } => match parse_guarded(src, &lang, label.as_deref()) {
                Ok(elements) => {
                    runtime.registers().get_mut::<State>().current = Some(at.clone());
                    for element in &elements {
                        let result = caught(|| element.render_to(&mut out, &runtime));
                        let message = match result {
                            Ok(Ok(())) => continue,
                            Ok(Err(e)) => format!("Liquid error: {}", brief(&e)),
                            Err(_) => "internal error in the Liquid renderer; this part was skipped".to_owned(),
                        };
                        let mut state = runtime.registers().get_mut::<State>();
                        // A panic may have left a `set_global` half counted.
                        state.setting = false;
                        if !state.aborted {
                            state.note(at.clone(), message);
                        }
                    }
                }
                Err(message) => {
                    notes.push((at.clone(), message));
                    out.extend_from_slice(fallback.as_bytes());
                }
            },
        }
    }

    let state = std::mem::take(&mut *runtime.registers().get_mut::<State>());
    notes.extend(state.problems);
    notes.extend(std::mem::take(&mut *shared.notes.lock().unwrap_or_else(|e| e.into_inner())));
    let problem =
        |(at, msg): (At, String)| Problem { line: at.line, column: at.column, message: format!("{}{msg}", at.prefix) };
    let stopped = state.stopped.map(|(stop, at, msg)| (stop, problem((at, msg))));
    let mut problems: Vec<Problem> = notes.into_iter().map(problem).collect();
    problems.sort_by(|a, b| (a.line, a.column, &a.message).cmp(&(b.line, b.column, &b.message)));
    problems.dedup();
    let text = String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    Output { text, highlights: state.highlights, problems, stopped, peak_bytes: state.peak }
}

// ---------------------------------------------------------------------------------------------------------------
// Positions

/// Where a piece of markup is, as reported: body line and column, and for markup inside an include a prefix that
/// names the include and the place in it.
#[derive(Debug)]
struct Where {
    line: u32,
    column: u32,
    prefix: String,
}

type At = Arc<Where>;

/// A text being prepared: the body, or an include's text seen through the `include` tag that brought it in.
struct Source<'s> {
    src: &'s str,
    line_starts: Vec<usize>,
    outer: Option<Where>,
    depth: usize,
    /// The last position asked for (offset, column): positions come in order, so counting goes on from there.
    last: std::cell::Cell<(usize, usize)>,
}

impl<'s> Source<'s> {
    fn new(src: &'s str, outer: Option<Where>, depth: usize) -> Self {
        let line_starts = std::iter::once(0).chain(src.match_indices('\n').map(|(i, _)| i + 1)).collect();
        Source { src, line_starts, outer, depth, last: std::cell::Cell::new((0, 1)) }
    }

    fn at(&self, offset: usize) -> At {
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let start = self.line_starts[line - 1];
        let (last, last_column) = self.last.get();
        let (from, base) = if last >= start && last <= offset { (last, last_column) } else { (start, 1) };
        let column = base + self.src.get(from..offset).map_or(0, |s| s.chars().count());
        self.last.set((offset, column));
        let (line, column) = (to_u32(line), to_u32(column));
        Arc::new(match &self.outer {
            None => Where { line, column, prefix: String::new() },
            Some(o) => {
                Where { line: o.line, column: o.column, prefix: format!("{}line {line}, column {column}: ", o.prefix) }
            }
        })
    }
}

/// What one render may produce: `10 × body + 1 MiB` bytes.
fn output_limit(body: &str) -> usize {
    body.len().saturating_mul(10).saturating_add(1 << 20)
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

// ---------------------------------------------------------------------------------------------------------------
// Lexing, the way Liquid 4 tokenizes (`{%.*?%}|{{.*?}}?`)

#[derive(Debug)]
enum Tok<'s> {
    /// Plain text, as a byte range (whitespace control may shrink it).
    Text(usize, usize),
    /// `{{ expr }}`.
    Out { at: usize, expr: &'s str, l: bool, r: bool },
    /// `{% name args %}`.
    Tag { at: usize, name: &'s str, args: &'s str, l: bool, r: bool },
    /// The content of `{% raw %}…{% endraw %}`.
    Raw { content: &'s str, l: bool, r: bool },
    /// A `{% comment %}…{% endcomment %}` block.
    Skip { l: bool, r: bool },
}

impl Tok<'_> {
    fn dashes(&self) -> (bool, bool) {
        match *self {
            Tok::Text(..) => (false, false),
            Tok::Out { l, r, .. } | Tok::Tag { l, r, .. } | Tok::Raw { l, r, .. } | Tok::Skip { l, r } => (l, r),
        }
    }
}

/// Byte-offset searches that remember a failure, so that many unclosed `{%` cost one scan, not one each.
struct Finder<'s> {
    src: &'s str,
    none_from: HashMap<&'static str, usize>,
}

impl<'s> Finder<'s> {
    fn find(&mut self, from: usize, pat: &'static str) -> Option<usize> {
        if self.none_from.get(pat).is_some_and(|&n| from >= n) {
            return None;
        }
        let found = self.src.get(from..).and_then(|s| s.find(pat)).map(|i| from + i);
        if found.is_none() {
            self.none_from.insert(pat, from);
        }
        found
    }

    /// The next `{% … %}` token from `from`, as blocks that skip their content see it: (start of its last `{%`,
    /// end after `%}`, inner markup after that last `{%`, left dash, right dash). Like Liquid 4's `raw`, a token
    /// `{%!x … {% endraw %}` ends the block: the last `{%` in a token names it.
    fn next_tag(&mut self, from: usize) -> Option<(usize, usize, &'s str, bool, bool)> {
        let start = self.find(from, "{%")?;
        let close = self.find(start + 2, "%}")?;
        let start = start + self.src[start..close].rfind("{%").unwrap_or(0);
        let (inner, l, r) = dashes(&self.src[start + 2..close]);
        Some((start, close + 2, inner, l, r))
    }
}

fn dashes(inner: &str) -> (&str, bool, bool) {
    let l = inner.starts_with('-');
    let r = inner.ends_with('-') && inner.len() > usize::from(l);
    let end = inner.len() - usize::from(r);
    (inner.get(usize::from(l)..end).unwrap_or(""), l, r)
}

/// `name` (`\w+`) and the trimmed rest.
fn split_tag(inner: &str) -> (&str, &str) {
    let inner = inner.trim();
    let n = inner.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
    (&inner[..n], inner[n..].trim())
}

fn next_open(b: &[u8], mut i: usize) -> Option<usize> {
    while i + 1 < b.len() {
        let k = i + b[i..].iter().position(|&c| c == b'{')?;
        if matches!(b.get(k + 1), Some(b'{' | b'%')) {
            return Some(k);
        }
        i = k + 1;
    }
    None
}

fn lex<'s>(src: &'s str, bad: &mut Vec<(usize, String)>) -> Vec<Tok<'s>> {
    let b = src.as_bytes();
    let mut f = Finder { src, none_from: HashMap::new() };
    let mut toks = Vec::new();
    let (mut i, mut text_from) = (0, 0);
    while let Some(j) = next_open(b, i) {
        if j > text_from {
            toks.push(Tok::Text(text_from, j));
        }
        i = j + 2;
        if b[j + 1] == b'%' {
            let Some(close) = f.find(j + 2, "%}") else {
                bad.push((j, "`{%` is never closed by `%}`; the `{%` was removed".to_owned()));
                text_from = i;
                continue;
            };
            let (inner, l, r) = dashes(&src[j + 2..close]);
            let (name, args) = split_tag(inner);
            i = close + 2;
            match name {
                "raw" => {
                    let content_from = i;
                    let mut p = i;
                    loop {
                        match f.next_tag(p) {
                            Some((s, e, inner, _, rr)) if split_tag(inner).0 == "endraw" => {
                                toks.push(Tok::Raw { content: &src[content_from..s], l, r: rr });
                                i = e;
                                break;
                            }
                            Some((_, e, ..)) => p = e,
                            None => {
                                bad.push((j, "`{% raw %}` is never closed by `{% endraw %}`; raw to the end".into()));
                                toks.push(Tok::Raw { content: &src[content_from..], l, r: false });
                                i = src.len();
                                break;
                            }
                        }
                    }
                }
                "comment" => {
                    let (mut depth, mut p) = (1, i);
                    let mut rr = false;
                    while depth > 0 {
                        let Some((_, e, inner, _, dash)) = f.next_tag(p) else {
                            bad.push((j, "`{% comment %}` is never closed; everything after it was dropped".into()));
                            p = src.len();
                            break;
                        };
                        p = e;
                        match split_tag(inner).0 {
                            "comment" => depth += 1,
                            "endcomment" => {
                                depth -= 1;
                                rr = dash;
                            }
                            "raw" => loop {
                                match f.next_tag(p) {
                                    Some((_, e, inner, ..)) => {
                                        p = e;
                                        if split_tag(inner).0 == "endraw" {
                                            break;
                                        }
                                    }
                                    None => {
                                        p = src.len();
                                        break;
                                    }
                                }
                            },
                            _ => {}
                        }
                    }
                    toks.push(Tok::Skip { l, r: rr });
                    i = p;
                }
                _ => toks.push(Tok::Tag { at: j, name, args, l, r }),
            }
        } else {
            match f.find(j + 2, "}") {
                Some(k) if b.get(k + 1) == Some(&b'}') => {
                    let (inner, l, r) = dashes(&src[j + 2..k]);
                    toks.push(Tok::Out { at: j, expr: inner.trim(), l, r });
                    i = k + 2;
                }
                Some(_) => bad.push((j, "`{{` is closed by a single `}`; the `{{` was removed".to_owned())),
                None => bad.push((j, "`{{` is never closed by `}}`; the `{{` was removed".to_owned())),
            }
        }
        text_from = i;
    }
    if text_from < src.len() {
        toks.push(Tok::Text(text_from, src.len()));
    }
    toks
}

fn is_ruby_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{b}' | '\u{c}' | '\0')
}

/// `{%-` strips the whitespace before the tag, `-%}` the whitespace after it (text nodes only, as Liquid 4).
fn apply_trim(src: &str, toks: &mut [Tok]) {
    for i in 0..toks.len() {
        let (l, r) = toks[i].dashes();
        if l && i > 0
            && let Tok::Text(s, e) = &mut toks[i - 1]
        {
            *e = *s + src[*s..*e].trim_end_matches(is_ruby_space).len();
        }
        if r && i + 1 < toks.len()
            && let Tok::Text(s, e) = &mut toks[i + 1]
        {
            *s = *e - src[*s..*e].trim_start_matches(is_ruby_space).len();
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Preparation: what liquid-rust will parse

/// A top-level piece of a prepared text.
#[derive(Debug)]
enum Chunk {
    /// Text (or raw content) printed as it is.
    Text(String),
    /// One piece of markup, or a whole block, as liquid-rust source; `fallback` is its text without markup;
    /// `label` is the markup as written, for a single piece that was not checked on its own beforehand.
    Liquid { src: String, fallback: String, at: At, label: Option<String> },
}

#[derive(Debug, Default)]
struct Prepared {
    chunks: Vec<Chunk>,
}

/// Side table of the `tidings_*` tags in prepared sources, indexed by their first argument.
#[derive(Debug)]
enum Item {
    Lit(String),
    At(At),
    Out { at: At, expr: String },
    Include { at: At, params: Option<Vec<(String, Param)>>, body: Prepared },
    Highlight { at: At, lang: String },
}

#[derive(Debug, Clone)]
enum Param {
    Str(String),
    Var(String),
    Nil,
}

/// A block opened and not yet closed.
struct Open {
    name: &'static str,
    at: At,
    dropped: bool,
    seen_else: bool,
}

/// The chunks of one text being built.
#[derive(Default)]
struct Emit {
    chunks: Vec<Chunk>,
    src: String,
    fallback: String,
    at: Option<At>,
    stack: Vec<Open>,
}

impl Emit {
    /// One piece of liquid-rust source: a chunk of its own at the top level (`label`: the markup as written, when
    /// it has not been checked), else part of the open block.
    fn put(&mut self, piece: String, at: &At, label: Option<String>) {
        if self.stack.is_empty() {
            self.chunks.push(Chunk::Liquid { src: piece, fallback: String::new(), at: at.clone(), label });
        } else {
            self.src.push_str(&piece);
        }
    }

    fn open(&mut self, piece: &str, open: Open) {
        if self.stack.is_empty() {
            self.at = Some(open.at.clone());
        }
        self.src.push_str(piece);
        self.stack.push(open);
    }

    fn finish_chunk(&mut self) {
        if let Some(at) = self.at.take() {
            let (src, fallback) = (std::mem::take(&mut self.src), std::mem::take(&mut self.fallback));
            if !src.is_empty() || !fallback.is_empty() {
                self.chunks.push(Chunk::Liquid { src, fallback, at, label: None });
            }
        }
    }
}

fn end_src(name: &str) -> String {
    if name == "highlight" { "{% endtidings_highlight %}".to_owned() } else { format!("{{% end{name} %}}") }
}

fn tag_src(name: &str, args: &str) -> String {
    if args.is_empty() { format!("{{% {name} %}}") } else { format!("{{% {name} {args} %}}") }
}

fn block_name(name: &str) -> Option<&'static str> {
    ["if", "unless", "case", "for", "tablerow", "capture", "ifchanged", "highlight"].into_iter().find(|&n| n == name)
}

/// The preparation pass over a body and the includes it pulls in.
struct Pre<'a> {
    resolver: &'a dyn Resolver,
    globals: &'a Object,
    lang: Language,
    reported_filters: HashSet<String>,
    items: Vec<Item>,
    problems: Vec<(At, String)>,
    include_stack: Vec<String>,
    includes: usize,
    /// Include text still allowed to be prepared (the output limit; an include in a loop is prepared once).
    include_budget: usize,
}

impl Pre<'_> {
    fn problem(&mut self, at: &At, message: impl Into<String>) {
        self.problems.push((at.clone(), message.into()));
    }

    fn item(&mut self, item: Item) -> usize {
        self.items.push(item);
        self.items.len() - 1
    }

    fn prepare(&mut self, s: &Source) -> Prepared {
        let mut bad = Vec::new();
        let mut toks = lex(s.src, &mut bad);
        for (offset, message) in bad {
            self.problem(&s.at(offset), message);
        }
        apply_trim(s.src, &mut toks);
        // How many `{% endX %}` are still ahead, so that an unknown `{% X %}` with one ahead is a block.
        let mut ends: HashMap<&str, usize> = HashMap::new();
        for t in &toks {
            if let Tok::Tag { name, .. } = t
                && let Some(x) = name.strip_prefix("end")
            {
                *ends.entry(x).or_default() += 1;
            }
        }
        let mut unknown_open: HashMap<&str, usize> = HashMap::new();
        let mut e = Emit::default();
        for t in &toks {
            match *t {
                Tok::Text(a, b) => self.text(&mut e, &s.src[a..b], true),
                Tok::Raw { content, .. } => self.text(&mut e, content, true),
                Tok::Skip { .. } => {}
                Tok::Out { at, expr, .. } => self.output(&mut e, s.at(at), expr),
                Tok::Tag { at, name, args, .. } => {
                    if let Some(c) = name.strip_prefix("end").and_then(|x| ends.get_mut(x)) {
                        *c -= 1;
                    }
                    let at = s.at(at);
                    self.tag(s, &mut e, &at, name, args, &ends, &mut unknown_open);
                }
            }
        }
        let whole = if s.outer.is_some() { "the include" } else { "the post" };
        while let Some(o) = e.stack.pop() {
            if !o.dropped {
                self.problem(&o.at, format!("`{{% {} %}}` is never closed; closed at the end of {whole}", o.name));
                e.src.push_str(&end_src(o.name));
            }
        }
        e.finish_chunk();
        Prepared { chunks: e.chunks }
    }

    /// Text, or a literal value: printed as is at the top level, through a `tidings_lit` tag inside blocks.
    fn text(&mut self, e: &mut Emit, text: &str, in_fallback: bool) {
        if text.is_empty() {
            return;
        }
        if e.stack.is_empty() {
            match e.chunks.last_mut() {
                Some(Chunk::Text(t)) => t.push_str(text),
                _ => e.chunks.push(Chunk::Text(text.to_owned())),
            }
        } else {
            let n = self.item(Item::Lit(text.to_owned()));
            e.src.push_str(&format!("{{% tidings_lit {n} %}}"));
            if in_fallback {
                e.fallback.push_str(text);
            }
        }
    }

    fn output(&mut self, e: &mut Emit, at: At, expr: &str) {
        if expr.is_empty() {
            return;
        }
        self.check_filters(&at, expr);
        let markup = format!("{{{{ {expr} }}}}");
        // At the top level the piece is parsed on its own anyway; inside a block, one bad piece would sink the block.
        if !e.stack.is_empty()
            && let Err(err) = parse_only(&markup, &self.lang)
        {
            self.invalid(&at, &markup, &err, "removed");
            return;
        }
        let n = self.item(Item::Out { at: at.clone(), expr: expr.to_owned() });
        e.put(format!("{{% tidings_out {n} {expr} %}}"), &at, Some(markup));
    }

    #[allow(clippy::too_many_arguments)]
    fn tag<'s>(
        &mut self,
        s: &Source,
        e: &mut Emit,
        at: &At,
        name: &'s str,
        args: &str,
        ends: &HashMap<&'s str, usize>,
        unknown_open: &mut HashMap<&'s str, usize>,
    ) {
        match name {
            "assign" | "cycle" | "increment" | "decrement" | "break" | "continue" => {
                self.check_filters(at, args);
                let src = tag_src(name, args);
                if !e.stack.is_empty()
                    && let Err(err) = parse_only(&src, &self.lang)
                {
                    self.invalid(at, &src, &err, "removed");
                    return;
                }
                let n = self.item(Item::At(at.clone()));
                e.put(format!("{{% tidings_at {n} %}}{src}"), at, Some(src));
            }
            "if" | "unless" | "case" | "for" | "tablerow" | "capture" | "ifchanged" | "highlight" => {
                self.open_block(s, e, at, block_name(name).unwrap_or("if"), args);
            }
            "elsif" | "else" | "when" => self.middle(e, at, name, args),
            "endif" | "endunless" | "endcase" | "endfor" | "endtablerow" | "endcapture" | "endifchanged"
            | "endhighlight" => self.close_block(e, at, &name[3..]),
            "endraw" | "endcomment" => {
                self.problem(at, format!("`{{% {name} %}}` without `{{% {} %}}`; removed", &name[3..]));
            }
            "post_url" | "link" => {
                let Some(arg) = self.expand(at, args) else { return };
                let found = if name == "post_url" { self.resolver.post_url(&arg) } else { self.resolver.link(&arg) };
                match found {
                    Some(url) => self.text(e, &url, false),
                    None => {
                        let what = if name == "post_url" { "no such post" } else { "no such file in the site" };
                        self.problem(at, format!("`{{% {name} {arg} %}}`: {what}; rendered as empty"));
                    }
                }
            }
            "include" => self.include(s, e, at, args),
            "include_relative" => {
                self.problem(at, "`{% include_relative %}` is not supported by tidings; removed");
            }
            "" => self.problem(at, "a `{% %}` tag without a name; removed"),
            _ => {
                if let Some(c) = name.strip_prefix("end").and_then(|x| unknown_open.get_mut(x)).filter(|c| **c > 0) {
                    *c -= 1;
                    return;
                }
                let ahead = ends.get(name).copied().unwrap_or(0);
                let open = unknown_open.entry(name).or_default();
                if !name.starts_with("end") && ahead > *open {
                    *open += 1;
                    self.problem(
                        at,
                        format!(
                            "unknown Liquid block `{name}`: tidings does not run the site's plugins; \
                             its tags were removed and its content kept"
                        ),
                    );
                } else {
                    self.problem(
                        at,
                        format!("unknown Liquid tag `{name}`: tidings does not run the site's plugins; it was removed"),
                    );
                }
            }
        }
    }

    fn invalid(&mut self, at: &At, src: &str, err: &Error, what: &str) {
        self.problem(at, format!("invalid Liquid `{}`: {}; {what}", snippet(src), brief(err)));
    }

    fn open_block(&mut self, s: &Source, e: &mut Emit, at: &At, name: &'static str, args: &str) {
        let mut open = Open { name, at: at.clone(), dropped: true, seen_else: false };
        if s.depth + e.stack.len() >= MAX_NESTING {
            self.problem(
                at,
                format!("blocks nested deeper than {MAX_NESTING}: `{{% {name} %}}` and its end tag were removed"),
            );
            e.open("", open);
            return;
        }
        let piece = if name == "highlight" {
            let lang = args.split_whitespace().next().unwrap_or("");
            let valid = !lang.is_empty()
                && lang.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'#' | b'_' | b'-'));
            let lang = if valid {
                lang.to_ascii_lowercase()
            } else {
                self.problem(
                    at,
                    format!(
                        "`{{% highlight {} %}}` needs a language (letters, digits, `.+#_-`); shown as plaintext",
                        snippet(args)
                    ),
                );
                "plaintext".to_owned()
            };
            let n = self.item(Item::Highlight { at: at.clone(), lang });
            format!("{{% tidings_highlight {n} %}}")
        } else {
            self.check_filters(at, args);
            // Liquid 4 takes `{% capture "name" %}` too.
            let src = tag_src(name, if name == "capture" { unquote(args) } else { args });
            if let Err(err) = parse_only(&format!("{src}{}", end_src(name)), &self.lang) {
                self.invalid(at, &src, &err, "its tags were removed and its content kept");
                e.open("", open);
                return;
            }
            let n = self.item(Item::At(at.clone()));
            let mut piece = format!("{{% tidings_at {n} %}}");
            if matches!(name, "for" | "tablerow") {
                if let Some(guard) = range_guard(args).filter(|g| parse_only(g, &self.lang).is_ok()) {
                    piece.push_str(&guard);
                }
                piece.push_str(&src);
                piece.push_str("{% tidings_tick %}");
            } else {
                piece.push_str(&src);
            }
            piece
        };
        open.dropped = false;
        e.open(&piece, open);
    }

    fn middle(&mut self, e: &mut Emit, at: &At, name: &str, args: &str) {
        let Some(top) = e.stack.last_mut() else {
            self.problem(at, format!("`{{% {name} %}}` outside any block; removed"));
            return;
        };
        if top.dropped {
            return;
        }
        let allowed = match name {
            "elsif" => top.name == "if",
            "else" => matches!(top.name, "if" | "unless" | "case" | "for"),
            _ => top.name == "case",
        };
        if !allowed || top.seen_else {
            let block = top.name;
            let message = if allowed {
                format!("`{{% {name} %}}` after the `{{% else %}}` of `{{% {block} %}}`; removed")
            } else {
                format!("`{{% {name} %}}` inside `{{% {block} %}}` is not supported; removed")
            };
            self.problem(at, message);
            return;
        }
        let src = if name == "else" {
            top.seen_else = true;
            "{% else %}".to_owned()
        } else {
            tag_src(name, args)
        };
        let check = match name {
            "elsif" => Some(format!("{{% if true %}}{src}{{% endif %}}")),
            "when" => Some(format!("{{% case 1 %}}{src}{{% endcase %}}")),
            _ => None,
        };
        if let Some(Err(err)) = check.map(|c| parse_only(&c, &self.lang)) {
            self.invalid(at, &src, &err, "removed");
            return;
        }
        e.src.push_str(&src);
    }

    fn close_block(&mut self, e: &mut Emit, at: &At, name: &str) {
        let Some(idx) = e.stack.iter().rposition(|o| o.name == name) else {
            self.problem(at, format!("`{{% end{name} %}}` without `{{% {name} %}}`; removed"));
            return;
        };
        while let Some(o) = e.stack.pop() {
            if !o.dropped {
                if e.stack.len() > idx {
                    let message =
                        format!("`{{% {} %}}` is not closed before `{{% end{name} %}}`; closed there", o.name);
                    self.problem(&o.at, message);
                }
                e.src.push_str(&end_src(o.name));
            }
            if e.stack.len() == idx {
                break;
            }
        }
        if e.stack.is_empty() {
            e.finish_chunk();
        }
    }

    fn include(&mut self, s: &Source, e: &mut Emit, at: &At, args: &str) {
        let (file, params) = split_include(args);
        let Some(file) = self.expand(at, unquote(file)) else { return };
        let valid = !file.is_empty()
            && file.bytes().all(|b| b.is_ascii_alphanumeric() || b"_/.-()+~#@".contains(&b) || b >= 0x80)
            && !file.contains("..")
            && !file.contains("//")
            && !file.contains("./")
            && !file.contains("/.");
        if !valid {
            self.problem(at, format!("`{{% include {} %}}`: invalid file name; removed", snippet(&file)));
            return;
        }
        if self.include_stack.contains(&file) {
            let chain = [self.include_stack.as_slice(), std::slice::from_ref(&file)].concat().join(" → ");
            self.problem(at, format!("include loop: {chain}; the inner `{{% include {file} %}}` was removed"));
            return;
        }
        if self.include_stack.len() >= MAX_INCLUDE_DEPTH || self.includes >= MAX_INCLUDES {
            self.problem(
                at,
                format!(
                    "`{{% include {file} %}}`: more than {MAX_INCLUDE_DEPTH} nested or {MAX_INCLUDES} in all; removed"
                ),
            );
            return;
        }
        self.includes += 1;
        let text = match self.resolver.include(&file) {
            Ok(text) => text,
            Err(why) => {
                self.problem(at, format!("`{{% include {file} %}}`: {why}; rendered as empty"));
                return;
            }
        };
        let Some(left) = self.include_budget.checked_sub(text.len()) else {
            self.problem(at, format!("`{{% include {file} %}}`: includes pass the output limit; removed"));
            return;
        };
        self.include_budget = left;
        let params = (!params.is_empty()).then(|| self.include_params(at, params));
        let outer = Where { line: at.line, column: at.column, prefix: format!("{}in include `{file}`, ", at.prefix) };
        self.include_stack.push(file);
        let body = self.prepare(&Source::new(&text, Some(outer), s.depth + e.stack.len() + 1));
        self.include_stack.pop();
        let n = self.item(Item::Include { at: at.clone(), params, body });
        e.put(format!("{{% tidings_include {n} %}}"), at, None);
    }

    /// Jekyll's `key="v" key='v' key=variable` include parameters.
    fn include_params(&mut self, at: &At, src: &str) -> Vec<(String, Param)> {
        let mut params = Vec::new();
        let b = src.as_bytes();
        let mut i = 0;
        let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c >= 0x80;
        loop {
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i >= b.len() {
                return params;
            }
            let key_from = i;
            while i < b.len() && word(b[i]) {
                i += 1;
            }
            let key = &src[key_from..i];
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if key.is_empty() || b.get(i) != Some(&b'=') {
                break;
            }
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            let value = match b.get(i) {
                Some(&q @ (b'"' | b'\'')) => {
                    let from = i + 1;
                    let mut k = from;
                    while k < b.len() && b[k] != q {
                        k += if b[k] == b'\\' { 2 } else { 1 };
                    }
                    if k >= b.len() {
                        break;
                    }
                    i = k + 1;
                    let escaped = if q == b'"' { "\\\"" } else { "\\'" };
                    Param::Str(src[from..k].replace(escaped, &(q as char).to_string()))
                }
                _ => {
                    let from = i;
                    while i < b.len() && (word(b[i]) || b[i] == b'.') {
                        i += 1;
                    }
                    let var = &src[from..i];
                    if var.is_empty() {
                        break;
                    }
                    if var.parse::<f64>().is_ok() || liquid_core::parser::parse_variable(var).is_ok() {
                        Param::Var(var.to_owned())
                    } else {
                        self.problem(at, format!("include parameter `{key}={var}` is not a variable; set to nil"));
                        Param::Nil
                    }
                }
            };
            if i < b.len() && !b[i].is_ascii_whitespace() {
                break;
            }
            params.push((key.to_owned(), value));
        }
        self.problem(at, format!("invalid include parameters `{}`: expected `key=\"value\"` pairs", snippet(src)));
        params
    }

    /// A tag argument with any `{{ }}` in it rendered against `site` and `page`.
    fn expand(&mut self, at: &At, text: &str) -> Option<String> {
        if !text.contains("{{") {
            return Some(text.to_owned());
        }
        let rendered = parse_only(text, &self.lang).and_then(|elements| {
            let runtime = RuntimeBuilder::new().set_globals(self.globals).build();
            runtime.registers().get_mut::<State>().limit = 1 << 20;
            let mut out = Vec::new();
            for element in &elements {
                element.render_to(&mut out, &Lenient(&runtime))?;
            }
            Ok(String::from_utf8_lossy(&out).trim().to_owned())
        });
        match rendered {
            Ok(s) => Some(s),
            Err(err) => {
                self.problem(
                    at,
                    format!("cannot render the tag argument `{}`: {}; removed", snippet(text), brief(&err)),
                );
                None
            }
        }
    }

    /// Reports (each time) filters that tidings passes through, and registers unknown ones as pass-through.
    fn check_filters(&mut self, at: &At, markup: &str) {
        for name in filter_names(markup) {
            if UNSUPPORTED_FILTERS.contains(&name) {
                self.problem(
                    at,
                    format!(
                        "Liquid filter `{name}` is not supported by tidings; its input was passed through unchanged"
                    ),
                );
            } else if self.reported_filters.contains(name) || self.lang.filters.get(name).is_none() {
                if self.reported_filters.insert(name.to_owned()) {
                    let filter = JekyllFilter { name: name.to_owned(), kind: JKind::Identity };
                    self.lang.filters.register(name.to_owned(), Box::new(Metered(Box::new(filter))));
                }
                self.problem(
                    at,
                    format!(
                        "unknown Liquid filter `{name}`: tidings does not run the site's plugins; \
                         its input was passed through unchanged"
                    ),
                );
            }
        }
    }
}

/// Names after each `|` outside quotes.
fn filter_names(markup: &str) -> Vec<&str> {
    let b = markup.as_bytes();
    let mut names = Vec::new();
    let mut quote = None;
    let mut i = 0;
    while i < b.len() {
        match (quote, b[i]) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, q @ (b'"' | b'\'')) => quote = Some(q),
            (None, b'|') => {
                let mut k = i + 1;
                while k < b.len() && b[k].is_ascii_whitespace() {
                    k += 1;
                }
                let from = k;
                while k < b.len() && (b[k].is_ascii_alphanumeric() || b[k] == b'_' || b[k] == b'-') {
                    k += 1;
                }
                if k > from {
                    names.push(&markup[from..k]);
                }
                i = k;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    names
}

/// `{% tidings_range A B %}` for `for x in (A..B)`, so that a huge range is refused before it is built.
fn range_guard(args: &str) -> Option<String> {
    let open = args.find('(')?;
    let dots = open + args[open..].find("..")?;
    let close = dots + args[dots..].find(')')?;
    let (a, b) = (args[open + 1..dots].trim(), args[dots + 2..close].trim());
    (!a.is_empty() && !b.is_empty()).then(|| format!("{{% tidings_range {a} {b} %}}"))
}

/// The include file (which may contain `{{ }}`) and the parameters after it.
fn split_include(args: &str) -> (&str, &str) {
    let b = args.as_bytes();
    let mut i = 0;
    let mut depth = 0;
    while i < b.len() {
        if b[i..].starts_with(b"{{") {
            depth += 1;
            i += 2;
        } else if b[i..].starts_with(b"}}") && depth > 0 {
            depth -= 1;
            i += 2;
        } else if depth == 0 && b[i].is_ascii_whitespace() {
            break;
        } else {
            i += 1;
        }
    }
    (&args[..i], args[i..].trim())
}

fn unquote(s: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = s.strip_prefix(q).and_then(|s| s.strip_suffix(q)) {
            return inner;
        }
    }
    s
}

/// At most 60 characters of `s` on one line, for messages.
fn snippet(s: &str) -> String {
    let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &one_line[..i]),
        None => one_line,
    }
}

/// A liquid error in one line: pest's "expected …" line when there is one, else the message and its context.
fn brief(err: &Error) -> String {
    let text = err.to_string();
    let text = text.strip_prefix("liquid: ").unwrap_or(&text);
    let expected = text.lines().map(str::trim).find_map(|l| l.strip_prefix("= "));
    let line = match expected {
        Some(l) => l.to_owned(),
        None => text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("from:") && *l != "with:")
            .collect::<Vec<_>>()
            .join(", "),
    };
    snippet_n(&line, 200)
}

fn snippet_n(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

thread_local! {
    /// Set while [`caught`] runs liquid-lib on this thread.
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs liquid-lib's `f`, catching a panic without the panic hook printing it: the caller
/// reports it as the post's problem, which is logged once per post, where the hook printed a
/// message and backtrace on every render. Panics elsewhere print as before.
fn caught<T>(f: impl FnOnce() -> T) -> std::thread::Result<T> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
    let before = QUIET.with(|quiet| quiet.replace(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|quiet| quiet.set(before));
    result
}

fn parse_only(src: &str, lang: &Language) -> liquid_core::Result<Vec<Box<dyn Renderable>>> {
    match caught(|| liquid_core::parser::parse(src, lang)) {
        Ok(r) => r,
        Err(_) => Err(Error::with_msg("internal error in the Liquid parser")),
    }
}

/// Parses a chunk; the error is a problem message (`label`: the markup as written, for a single piece).
fn parse_guarded(src: &str, lang: &Language, label: Option<&str>) -> Result<Vec<Box<dyn Renderable>>, String> {
    parse_only(src, lang).map_err(|e| match label {
        Some(markup) => format!("invalid Liquid `{}`: {}; removed", snippet(markup), brief(&e)),
        None => format!("Liquid syntax error: {}; the Liquid markup of this part was removed", brief(&e)),
    })
}

/// The renderables of a prepared include body; parts that fail to parse become their text.
fn build(prepared: &Prepared, lang: &Language, shared: &Shared) -> Vec<Box<dyn Renderable>> {
    let mut out: Vec<Box<dyn Renderable>> = Vec::new();
    for chunk in &prepared.chunks {
        match chunk {
            Chunk::Text(text) => out.push(Box::new(LitRender(text.clone()))),
            Chunk::Liquid { src, fallback, at, label } => match parse_guarded(src, lang, label.as_deref()) {
                Ok(elements) => {
                    out.push(Box::new(AtRender(at.clone())));
                    out.extend(elements);
                }
                Err(message) => {
                    shared.notes.lock().unwrap_or_else(|e| e.into_inner()).push((at.clone(), message));
                    out.push(Box::new(LitRender(fallback.clone())));
                }
            },
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering state and limits

/// Per-render state, kept in the runtime's registers.
#[derive(Default)]
struct State {
    problems: Vec<(At, String)>,
    highlights: Vec<String>,
    used: usize,
    limit: usize,
    iterations: usize,
    aborted: bool,
    /// The limit that stopped rendering, where, and its message.
    stopped: Option<(Stop, At, String)>,
    current: Option<At>,
    /// Work done (see [`MAX_WORK`]) and filters evaluated.
    work: u64,
    filter_calls: u64,
    /// Bytes held by variables set by `assign` and `capture` (by name), their sum, and the most held at once
    /// (with a filter's result on top).
    held: HashMap<KString, usize>,
    live: usize,
    peak: usize,
    /// When to stop, and calls since the clock was last read (every 16th reads it).
    deadline: Option<Instant>,
    since_clock: u32,
    /// A `set_global` is being counted (runtimes nest).
    setting: bool,
}

impl State {
    fn note(&mut self, at: At, message: String) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push((at, message));
        }
    }

    fn here(&self) -> At {
        self.current.clone().unwrap_or_else(|| Arc::new(Where { line: 1, column: 1, prefix: String::new() }))
    }

    /// The limit passed, if one did: the deadline (read every 64 calls) and work.
    fn over(&mut self) -> Option<(Stop, String)> {
        if self.work > MAX_WORK {
            return Some((
                Stop::Work,
                format!(
                    "Liquid did more than {MAX_WORK} units of work (filters over large arrays or strings, \
                     or loops over them): use fewer filters over large values"
                ),
            ));
        }
        if self.filter_calls > MAX_FILTER_CALLS {
            return Some((
                Stop::Work,
                format!("Liquid evaluated more than {MAX_FILTER_CALLS} filters: use fewer filters inside loops"),
            ));
        }
        self.since_clock += 1;
        if self.since_clock >= 16 {
            self.since_clock = 0;
            if self.deadline.is_some_and(|d| Instant::now() >= d) {
                return Some((
                    Stop::Time,
                    "Liquid rendering took longer than the render budget: simplify the post's Liquid, \
                     or raise `--render-budget-ms` if it is legitimately slow"
                        .to_owned(),
                ));
            }
        }
        None
    }
}

fn stopped() -> Error {
    Error::with_msg("Liquid rendering stopped at a limit")
}

fn aborted(rt: &dyn Runtime) -> bool {
    rt.registers().get_mut::<State>().aborted
}

/// Before rendering any piece: fails once rendering stopped, and stops it at the deadline or past the work limit.
fn enter(rt: &dyn Runtime) -> liquid_core::Result<()> {
    let over = {
        let mut state = rt.registers().get_mut::<State>();
        if state.aborted {
            return Err(stopped());
        }
        state.over()
    };
    match over {
        Some((stop, message)) => Err(abort(rt, stop, message)),
        None => Ok(()),
    }
}

/// Stops all further Liquid rendering, with one problem at the current position.
fn abort(rt: &dyn Runtime, stop: Stop, message: String) -> Error {
    let mut state = rt.registers().get_mut::<State>();
    if !state.aborted {
        state.aborted = true;
        let at = state.here();
        state.stopped = Some((stop, at.clone(), message.clone()));
        state.problems.push((at, message));
    }
    stopped()
}

/// Counts `bytes` of produced text against the output limit.
fn charge(rt: &dyn Runtime, bytes: usize) -> liquid_core::Result<()> {
    let over = {
        let mut state = rt.registers().get_mut::<State>();
        if state.aborted {
            return Err(stopped());
        }
        state.used = state.used.saturating_add(bytes);
        (state.used > state.limit).then_some(state.limit)
    };
    match over {
        Some(limit) => Err(abort(
            rt,
            Stop::Output,
            format!("Liquid output passed the limit of {limit} bytes; the rest was skipped"),
        )),
        None => Ok(()),
    }
}

/// Counts `units` of work (and a filter evaluation when `call`), and stops rendering past a limit.
fn charge_work(rt: &dyn Runtime, units: u64, call: bool) -> liquid_core::Result<()> {
    let over = {
        let mut state = rt.registers().get_mut::<State>();
        if state.aborted {
            return Err(stopped());
        }
        state.work = state.work.saturating_add(units);
        state.filter_calls += u64::from(call);
        state.over()
    };
    match over {
        Some((stop, message)) => Err(abort(rt, stop, message)),
        None => Ok(()),
    }
}

/// Checks that `bytes` more (a filter's result, about to be made or just made) fit beside what is held.
fn check_memory(rt: &dyn Runtime, bytes: usize) -> liquid_core::Result<()> {
    let over = {
        let mut state = rt.registers().get_mut::<State>();
        let total = state.live.saturating_add(bytes);
        if total > MAX_LIVE_BYTES {
            Some(total)
        } else {
            state.peak = state.peak.max(total);
            None
        }
    };
    match over {
        Some(total) => Err(abort(rt, Stop::Memory, memory_message(total))),
        None => Ok(()),
    }
}

fn memory_message(total: usize) -> String {
    format!(
        "Liquid values would take about {} MiB, over the limit of {} MiB: \
         do not split or copy large strings and arrays into many variables",
        total >> 20,
        MAX_LIVE_BYTES >> 20
    )
}

/// `assign` or `capture` set `name` to a value of `bytes`: counts it instead of the value it replaces. False when
/// that passes [`MAX_LIVE_BYTES`] (rendering is then stopped).
fn hold(rt: &dyn Runtime, name: &KString, bytes: usize) -> bool {
    let total = {
        let mut state = rt.registers().get_mut::<State>();
        let old = state.held.insert(name.clone(), bytes).unwrap_or(0);
        state.live = state.live.saturating_sub(old).saturating_add(bytes);
        if state.live <= MAX_LIVE_BYTES {
            state.peak = state.peak.max(state.live);
        }
        state.live
    };
    if total > MAX_LIVE_BYTES {
        abort(rt, Stop::Memory, memory_message(total));
        return false;
    }
    true
}

fn note(rt: &dyn Runtime, at: Option<&At>, message: String) {
    let mut state = rt.registers().get_mut::<State>();
    let at = at.cloned().unwrap_or_else(|| state.here());
    state.note(at, message);
}

fn io_error(e: std::io::Error) -> Error {
    Error::with_msg(e.to_string())
}

/// The size of a value: nodes (the value, array items, object entries) and text bytes (scalars as rendered, object
/// keys); "too big" past 64 levels of nesting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Size {
    nodes: usize,
    text: usize,
}

impl Size {
    const HUGE: Size = Size { nodes: usize::MAX / 4, text: 0 };

    fn of(v: &dyn ValueView) -> Size {
        let mut size = Size::default();
        size.add(v, 0);
        size
    }

    fn add(&mut self, v: &dyn ValueView, depth: usize) {
        if depth > 64 {
            *self = Size::HUGE;
            return;
        }
        self.nodes = self.nodes.saturating_add(1);
        if let Some(s) = v.as_scalar() {
            self.text = self.text.saturating_add(s.to_kstr().len());
        } else if let Some(a) = v.as_array() {
            for x in a.values() {
                self.add(x, depth + 1);
            }
        } else if let Some(o) = v.as_object() {
            for (k, x) in o.iter() {
                self.text = self.text.saturating_add(k.len());
                self.add(x, depth + 1);
            }
        }
    }

    /// The rough weight the output limit counts: text plus one per node.
    fn weight(self) -> usize {
        self.text.saturating_add(self.nodes)
    }

    /// The memory it takes, about.
    fn bytes(self) -> usize {
        self.nodes.saturating_mul(VALUE_BYTES).saturating_add(self.text)
    }

    /// The work of visiting it once.
    fn work(self) -> u64 {
        (self.nodes as u64).saturating_add(self.text as u64 / 32)
    }
}

/// A runtime that answers an unknown variable, key or index with nil instead of an error, as Jekyll does.
struct Lenient<'r>(&'r dyn Runtime);

impl Runtime for Lenient<'_> {
    fn partials(&self) -> &dyn PartialStore {
        self.0.partials()
    }
    fn name(&self) -> Option<KStringRef<'_>> {
        self.0.name()
    }
    fn roots(&self) -> BTreeSet<KStringCow<'_>> {
        self.0.roots()
    }
    fn try_get(&self, path: &[ScalarCow<'_>]) -> Option<ValueCow<'_>> {
        self.0.try_get(path)
    }
    fn get(&self, path: &[ScalarCow<'_>]) -> liquid_core::Result<ValueCow<'_>> {
        Ok(self.0.try_get(path).unwrap_or(ValueCow::Owned(Value::Nil)))
    }
    /// `assign` and `capture`: the value is counted against [`MAX_LIVE_BYTES`] (and not kept past it).
    fn set_global(&self, name: KString, val: Value) -> Option<Value> {
        // Nested runtimes (a loop's frame inside a guarded block) pass this up through another `Lenient`.
        if std::mem::replace(&mut self.0.registers().get_mut::<State>().setting, true) {
            return self.0.set_global(name, val);
        }
        let size = Size::of(&val);
        let val = match charge_work(self.0, size.work(), false) {
            Ok(()) if hold(self.0, &name, size.bytes()) => val,
            _ => {
                hold(self.0, &name, 0);
                Value::Nil
            }
        };
        let old = self.0.set_global(name, val);
        self.0.registers().get_mut::<State>().setting = false;
        old
    }
    fn set_index(&self, name: KString, val: Value) -> Option<Value> {
        self.0.set_index(name, val)
    }
    fn get_index<'a>(&'a self, name: &str) -> Option<ValueCow<'a>> {
        self.0.get_index(name)
    }
    fn registers(&self) -> &Registers {
        self.0.registers()
    }
}

/// A writer that counts what passes through it.
struct Counting<'w> {
    inner: &'w mut dyn Write,
    bytes: usize,
}

impl Write for Counting<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The language: liquid-rust's standard tags and filters, wrapped, plus Jekyll's filters and our guard tags

static BASE: LazyLock<Language> = LazyLock::new(|| {
    let mut lang = Language::empty();
    let tags: [Box<dyn ParseTag>; 6] = [
        Box::new(stdlib::AssignTag),
        Box::new(stdlib::BreakTag),
        Box::new(stdlib::ContinueTag),
        Box::new(stdlib::CycleTag),
        Box::new(stdlib::IncrementTag),
        Box::new(stdlib::DecrementTag),
    ];
    for tag in tags {
        lang.tags.register(tag.reflection().tag().to_owned(), Box::new(GuardedTag(tag)));
    }
    let blocks: [Box<dyn ParseBlock>; 7] = [
        Box::new(stdlib::IfBlock),
        Box::new(stdlib::UnlessBlock),
        Box::new(stdlib::IfChangedBlock),
        Box::new(stdlib::ForBlock),
        Box::new(stdlib::TableRowBlock),
        Box::new(stdlib::CaptureBlock),
        Box::new(stdlib::CaseBlock),
    ];
    for block in blocks {
        lang.blocks.register(block.reflection().start_tag().to_owned(), Box::new(GuardedBlock(block)));
    }
    lang.tags.register("tidings_tick".to_owned(), Box::new(LimitTag { range: false }));
    lang.tags.register("tidings_range".to_owned(), Box::new(LimitTag { range: true }));
    let filters: Vec<Box<dyn ParseFilter>> = vec![
        Box::new(stdlib::Abs),
        Box::new(stdlib::Append),
        Box::new(stdlib::AtLeast),
        Box::new(stdlib::AtMost),
        Box::new(stdlib::Capitalize),
        Box::new(stdlib::Ceil),
        Box::new(stdlib::Compact),
        Box::new(stdlib::Concat),
        Box::new(NowSafeDate(Box::new(stdlib::Date))),
        Box::new(stdlib::Default),
        Box::new(stdlib::DividedBy),
        Box::new(stdlib::Downcase),
        Box::new(stdlib::Escape),
        Box::new(stdlib::EscapeOnce),
        Box::new(stdlib::First),
        Box::new(stdlib::Floor),
        Box::new(stdlib::Join),
        Box::new(stdlib::Last),
        Box::new(stdlib::Lstrip),
        Box::new(stdlib::Map),
        Box::new(stdlib::Minus),
        Box::new(stdlib::Modulo),
        Box::new(stdlib::NewlineToBr),
        Box::new(stdlib::Plus),
        Box::new(stdlib::Prepend),
        Box::new(stdlib::Remove),
        Box::new(stdlib::RemoveFirst),
        Box::new(stdlib::Replace),
        Box::new(stdlib::ReplaceFirst),
        Box::new(stdlib::Reverse),
        Box::new(stdlib::Round),
        Box::new(stdlib::Rstrip),
        Box::new(stdlib::Size),
        Box::new(stdlib::Slice),
        Box::new(stdlib::Sort),
        Box::new(stdlib::SortNatural),
        Box::new(Split),
        Box::new(stdlib::Strip),
        Box::new(stdlib::StripHtml),
        Box::new(stdlib::StripNewlines),
        Box::new(stdlib::Times),
        Box::new(stdlib::Truncate),
        Box::new(stdlib::TruncateWords),
        Box::new(Uniq),
        Box::new(stdlib::Upcase),
        Box::new(stdlib::UrlDecode),
        Box::new(stdlib::UrlEncode),
    ];
    for filter in filters {
        lang.filters.register(filter.reflection().name().to_owned(), Box::new(Metered(filter)));
    }
    for &(name, kind) in JEKYLL_FILTERS {
        let filter = JekyllFilter { name: name.to_owned(), kind };
        lang.filters.register(name.to_owned(), Box::new(Metered(Box::new(filter))));
    }
    for &name in UNSUPPORTED_FILTERS {
        let filter = JekyllFilter { name: name.to_owned(), kind: JKind::Identity };
        lang.filters.register(name.to_owned(), Box::new(Metered(Box::new(filter))));
    }
    lang
});

/// A standard tag whose lookups are lenient, whose output is counted and whose errors become problems.
#[derive(Clone)]
struct GuardedTag(Box<dyn ParseTag>);

impl ParseTag for GuardedTag {
    fn parse(&self, arguments: TagTokenIter<'_>, options: &Language) -> liquid_core::Result<Box<dyn Renderable>> {
        Ok(Box::new(GuardedTagRender(self.0.parse(arguments, options)?)))
    }
    fn reflection(&self) -> &dyn TagReflection {
        self.0.reflection()
    }
}

#[derive(Debug)]
struct GuardedTagRender(Box<dyn Renderable>);

impl Renderable for GuardedTagRender {
    fn render_to(&self, writer: &mut dyn Write, runtime: &dyn Runtime) -> liquid_core::Result<()> {
        enter(runtime)?;
        let mut counting = Counting { inner: writer, bytes: 0 };
        let result = self.0.render_to(&mut counting, &Lenient(runtime));
        let bytes = counting.bytes;
        match result {
            Ok(()) => charge(runtime, bytes),
            Err(e) if aborted(runtime) => Err(e),
            Err(e) => {
                note(runtime, None, format!("Liquid error: {}", brief(&e)));
                Ok(())
            }
        }
    }
}

/// A standard block whose lookups are lenient and whose errors become problems.
#[derive(Clone)]
struct GuardedBlock(Box<dyn ParseBlock>);

impl ParseBlock for GuardedBlock {
    fn parse(
        &self,
        arguments: TagTokenIter<'_>,
        block: TagBlock<'_, '_>,
        options: &Language,
    ) -> liquid_core::Result<Box<dyn Renderable>> {
        Ok(Box::new(GuardedBlockRender(self.0.parse(arguments, block, options)?)))
    }
    fn reflection(&self) -> &dyn BlockReflection {
        self.0.reflection()
    }
}

#[derive(Debug)]
struct GuardedBlockRender(Box<dyn Renderable>);

impl Renderable for GuardedBlockRender {
    fn render_to(&self, writer: &mut dyn Write, runtime: &dyn Runtime) -> liquid_core::Result<()> {
        enter(runtime)?;
        match self.0.render_to(writer, &Lenient(runtime)) {
            Ok(()) if aborted(runtime) => Err(stopped()),
            Ok(()) => Ok(()),
            Err(e) if aborted(runtime) => Err(e),
            Err(e) => {
                note(runtime, None, format!("Liquid error: {}", brief(&e)));
                Ok(())
            }
        }
    }
}

/// `tidings_tick` (one loop iteration) and `tidings_range A B` (refuses a range too large to build).
#[derive(Clone)]
struct LimitTag {
    range: bool,
}

impl TagReflection for LimitTag {
    fn tag(&self) -> &str {
        if self.range { "tidings_range" } else { "tidings_tick" }
    }
    fn description(&self) -> &str {
        ""
    }
}

impl ParseTag for LimitTag {
    fn parse(&self, mut arguments: TagTokenIter<'_>, _: &Language) -> liquid_core::Result<Box<dyn Renderable>> {
        let bounds = if self.range {
            let a = arguments.expect_next("start expected")?.expect_value().into_result()?;
            let b = arguments.expect_next("end expected")?.expect_value().into_result()?;
            Some((a, b))
        } else {
            None
        };
        arguments.expect_nothing()?;
        Ok(Box::new(LimitRender { bounds }))
    }
    fn reflection(&self) -> &dyn TagReflection {
        self
    }
}

#[derive(Debug)]
struct LimitRender {
    bounds: Option<(Expression, Expression)>,
}

impl Renderable for LimitRender {
    fn render_to(&self, _: &mut dyn Write, runtime: &dyn Runtime) -> liquid_core::Result<()> {
        enter(runtime)?;
        let lenient = Lenient(runtime);
        let int = |e: &Expression| e.evaluate(&lenient).ok().and_then(|v| v.as_scalar().and_then(|s| s.to_integer()));
        match &self.bounds {
            Some((a, b)) => {
                if let (Some(a), Some(b)) = (int(a), int(b)) {
                    let size = i128::from(b) - i128::from(a) + 1;
                    if size > MAX_ITERATIONS as i128 {
                        let message = format!("a `for` over ({a}..{b}) exceeds {MAX_ITERATIONS} items; Liquid stopped");
                        return Err(abort(runtime, Stop::Iterations, message));
                    }
                }
                Ok(())
            }
            None => {
                let over = {
                    let mut state = runtime.registers().get_mut::<State>();
                    state.iterations += 1;
                    state.iterations > MAX_ITERATIONS
                };
                if over {
                    let message = format!("Liquid loops ran more than {MAX_ITERATIONS} times; the rest was skipped");
                    return Err(abort(runtime, Stop::Iterations, message));
                }
                Ok(())
            }
        }
    }
}

/// The `tidings_*` tags that stand for prepared items.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Out,
    Lit,
    At,
    Include,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Out => "tidings_out",
            Kind::Lit => "tidings_lit",
            Kind::At => "tidings_at",
            Kind::Include => "tidings_include",
        }
    }
}

/// What the placeholder tags share: the items, and problems found while parsing include bodies.
struct Shared {
    items: Vec<Item>,
    notes: Mutex<Vec<(At, String)>>,
}

#[derive(Clone)]
struct Placeholder {
    kind: Kind,
    shared: Arc<Shared>,
}

impl TagReflection for Placeholder {
    fn tag(&self) -> &str {
        self.kind.name()
    }
    fn description(&self) -> &str {
        ""
    }
}

fn index_arg(arguments: &mut TagTokenIter<'_>) -> liquid_core::Result<usize> {
    let value = arguments.expect_next("index expected")?.expect_literal().into_result()?;
    value
        .as_scalar()
        .and_then(|s| s.to_integer())
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| Error::with_msg("index expected"))
}

impl ParseTag for Placeholder {
    fn parse(&self, mut arguments: TagTokenIter<'_>, options: &Language) -> liquid_core::Result<Box<dyn Renderable>> {
        let n = index_arg(&mut arguments)?;
        let item = self.shared.items.get(n);
        let renderable: Box<dyn Renderable> = match (self.kind, item) {
            (Kind::Out, Some(Item::Out { at, expr })) => {
                let chain = arguments.expect_next("expression expected")?.expect_filter_chain(options).into_result()?;
                Box::new(OutRender { at: at.clone(), expr: expr.clone(), chain })
            }
            (Kind::Lit, Some(Item::Lit(text))) => Box::new(LitRender(text.clone())),
            (Kind::At, Some(Item::At(at))) => Box::new(AtRender(at.clone())),
            (Kind::Include, Some(Item::Include { at, params, body })) => {
                let params = params.as_ref().map(|ps| {
                    ps.iter()
                        .map(|(k, p)| {
                            let p = match p {
                                Param::Str(s) => IncludeParam::Str(s.clone()),
                                Param::Var(v) => match v.parse::<f64>() {
                                    Ok(_) => match v.parse::<i64>() {
                                        Ok(i) => IncludeParam::Value(Value::scalar(i)),
                                        Err(_) => IncludeParam::Value(Value::scalar(v.parse::<f64>().unwrap_or(0.0))),
                                    },
                                    Err(_) => liquid_core::parser::parse_variable(v)
                                        .map_or(IncludeParam::Value(Value::Nil), IncludeParam::Var),
                                },
                                Param::Nil => IncludeParam::Value(Value::Nil),
                            };
                            (k.clone(), p)
                        })
                        .collect()
                });
                Box::new(IncludeRender { at: at.clone(), params, body: build(body, options, &self.shared) })
            }
            _ => return Err(Error::with_msg(format!("internal: bad `{}` placeholder", self.kind.name()))),
        };
        arguments.expect_nothing()?;
        Ok(renderable)
    }
    fn reflection(&self) -> &dyn TagReflection {
        self
    }
}

/// `{{ expr }}`: lenient lookups, counted output, and an error becomes a problem and empty output.
#[derive(Debug)]
struct OutRender {
    at: At,
    expr: String,
    chain: FilterChain,
}

impl Renderable for OutRender {
    fn render_to(&self, writer: &mut dyn Write, runtime: &dyn Runtime) -> liquid_core::Result<()> {
        enter(runtime)?;
        runtime.registers().get_mut::<State>().current = Some(self.at.clone());
        match self.chain.evaluate(&Lenient(runtime)) {
            Ok(value) => {
                let text = value.render().to_string();
                charge(runtime, text.len())?;
                writer.write_all(text.as_bytes()).map_err(io_error)
            }
            Err(e) if aborted(runtime) => Err(e),
            Err(e) => {
                let message =
                    format!("Liquid error in `{{{{ {} }}}}`: {}; rendered as empty", snippet(&self.expr), brief(&e));
                note(runtime, Some(&self.at), message);
                Ok(())
            }
        }
    }
}

/// Fixed text (raw content, text inside blocks, resolved URLs), counted against the output limit.
#[derive(Debug)]
struct LitRender(String);

impl Renderable for LitRender {
    fn render_to(&self, writer: &mut dyn Write, runtime: &dyn Runtime) -> liquid_core::Result<()> {
        charge(runtime, self.0.len())?;
        writer.write_all(self.0.as_bytes()).map_err(io_error)
    }
}

/// Marks the position of the standard tag that follows, for the problems it may raise.
#[derive(Debug)]
struct AtRender(At);

impl Renderable for AtRender {
    fn render_to(&self, _: &mut dyn Write, runtime: &dyn Runtime) -> liquid_core::Result<()> {
        runtime.registers().get_mut::<State>().current = Some(self.0.clone());
        Ok(())
    }
}

#[derive(Debug)]
enum IncludeParam {
    Str(String),
    Var(Variable),
    Value(Value),
}

/// `{% include %}`: the prepared include body, with `include.*` set when the tag has parameters.
#[derive(Debug)]
struct IncludeRender {
    at: At,
    params: Option<Vec<(String, IncludeParam)>>,
    body: Vec<Box<dyn Renderable>>,
}

impl Renderable for IncludeRender {
    fn render_to(&self, writer: &mut dyn Write, runtime: &dyn Runtime) -> liquid_core::Result<()> {
        enter(runtime)?;
        runtime.registers().get_mut::<State>().current = Some(self.at.clone());
        let Some(params) = &self.params else {
            return self.body.iter().try_for_each(|r| r.render_to(writer, runtime));
        };
        let lenient = Lenient(runtime);
        let mut include = Object::new();
        for (key, param) in params {
            let value = match param {
                IncludeParam::Str(s) => Value::scalar(s.clone()),
                IncludeParam::Value(v) => v.clone(),
                IncludeParam::Var(var) => var
                    .evaluate(&lenient)
                    .and_then(|path| lenient.get(&path).map(ValueCow::into_owned))
                    .unwrap_or(Value::Nil),
            };
            include.insert(key.clone().into(), value);
        }
        let mut scope = Object::new();
        scope.insert("include".into(), Value::Object(include));
        let frame = StackFrame::new(runtime, scope);
        self.body.iter().try_for_each(|r| r.render_to(writer, &frame))
    }
}

/// `{% highlight LANG %}…{% endhighlight %}` → a highlight and its placeholder.
#[derive(Clone)]
struct HighlightBlock {
    shared: Arc<Shared>,
}

impl BlockReflection for HighlightBlock {
    fn start_tag(&self) -> &str {
        "tidings_highlight"
    }
    fn end_tag(&self) -> &str {
        "endtidings_highlight"
    }
    fn description(&self) -> &str {
        ""
    }
}

impl ParseBlock for HighlightBlock {
    fn parse(
        &self,
        mut arguments: TagTokenIter<'_>,
        mut block: TagBlock<'_, '_>,
        options: &Language,
    ) -> liquid_core::Result<Box<dyn Renderable>> {
        let n = index_arg(&mut arguments)?;
        arguments.expect_nothing()?;
        let Some(Item::Highlight { at, lang }) = self.shared.items.get(n) else {
            return Err(Error::with_msg("internal: bad highlight placeholder"));
        };
        let body = block.parse_all(options)?;
        block.assert_empty();
        Ok(Box::new(HighlightRender { at: at.clone(), lang: lang.clone(), body }))
    }
    fn reflection(&self) -> &dyn BlockReflection {
        self
    }
}

#[derive(Debug)]
struct HighlightRender {
    at: At,
    lang: String,
    body: Vec<Box<dyn Renderable>>,
}

impl Renderable for HighlightRender {
    fn render_to(&self, writer: &mut dyn Write, runtime: &dyn Runtime) -> liquid_core::Result<()> {
        enter(runtime)?;
        runtime.registers().get_mut::<State>().current = Some(self.at.clone());
        let mut code = Vec::new();
        for r in &self.body {
            r.render_to(&mut code, runtime)?;
        }
        let code = String::from_utf8_lossy(&code);
        let code = code.trim_start_matches(['\n', '\r']).trim_end_matches(['\n', '\r']);
        let html = format!(
            "<figure class=\"highlight\"><pre><code class=\"language-{}\" data-lang=\"{}\">{}</code></pre></figure>",
            self.lang.replace('+', "-"),
            self.lang,
            escape_code(code)
        );
        let n = {
            let mut state = runtime.registers().get_mut::<State>();
            state.highlights.push(html);
            state.highlights.len() - 1
        };
        let mark = placeholder(n);
        charge(runtime, mark.len())?;
        writer.write_all(mark.as_bytes()).map_err(io_error)
    }
}

/// Rouge's escaping of code: `&`, `<` and `>` only.
fn escape_code(code: &str) -> String {
    let mut out = String::with_capacity(code.len() + code.len() / 8);
    for c in code.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------------------------
// Filters

/// Charges a filter's work before it runs (its input's size; n log n for sorts) and its result's after, counts the
/// evaluation, checks the result against [`MAX_LIVE_BYTES`], and counts its growth against the output limit (so
/// `assign x = x | append: x` in a loop stops).
#[derive(Clone)]
struct Metered(Box<dyn ParseFilter>);

impl ParseFilter for Metered {
    fn parse(&self, arguments: FilterArguments<'_>) -> liquid_core::Result<Box<dyn Filter>> {
        let sorts = matches!(self.0.reflection().name(), "sort" | "sort_natural");
        Ok(Box::new(MeteredFilter { inner: self.0.parse(arguments)?, sorts }))
    }
    fn reflection(&self) -> &dyn FilterReflection {
        self.0.reflection()
    }
}

#[derive(Debug)]
struct MeteredFilter {
    inner: Box<dyn Filter>,
    sorts: bool,
}

impl fmt::Display for MeteredFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl Filter for MeteredFilter {
    fn evaluate(&self, input: &dyn ValueView, runtime: &dyn Runtime) -> liquid_core::Result<Value> {
        enter(runtime)?;
        let before = Size::of(input);
        let mut work = before.work().saturating_add(1);
        if self.sorts {
            work = work.saturating_mul(u64::from(usize::BITS - before.nodes.leading_zeros()).max(1));
        }
        charge_work(runtime, work, true)?;
        let out = self.inner.evaluate(input, runtime)?;
        let after = Size::of(&out);
        charge_work(runtime, after.work(), false)?;
        check_memory(runtime, after.bytes())?;
        let grown = after.weight().saturating_sub(before.weight());
        if grown > 0 {
            charge(runtime, grown)?;
        }
        Ok(out)
    }
}

/// Liquid's `split`, checking the memory its result takes before making it (a string of commas is ~56 times
/// bigger split).
#[derive(Clone)]
struct Split;

impl ParseFilter for Split {
    fn parse(&self, arguments: FilterArguments<'_>) -> liquid_core::Result<Box<dyn Filter>> {
        let FilterArguments { mut positional, keyword } = arguments;
        let pattern = positional.next();
        match pattern {
            Some(pattern) if positional.next().is_none() && keyword.count() == 0 => {
                Ok(Box::new(SplitFilter { pattern }))
            }
            _ => Err(Error::with_msg("`split` takes one argument, the separator")),
        }
    }
    fn reflection(&self) -> &dyn FilterReflection {
        &stdlib::Split
    }
}

#[derive(Debug)]
struct SplitFilter {
    pattern: Expression,
}

impl fmt::Display for SplitFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "split: {}", self.pattern)
    }
}

impl Filter for SplitFilter {
    fn evaluate(&self, input: &dyn ValueView, runtime: &dyn Runtime) -> liquid_core::Result<Value> {
        let pattern = self.pattern.evaluate(runtime)?.to_kstr().into_owned();
        let input = input.to_kstr();
        if input.is_empty() {
            return Ok(Value::Array(Vec::new()));
        }
        let pieces = input.split(pattern.as_str()).count();
        check_memory(runtime, pieces.saturating_add(1).saturating_mul(VALUE_BYTES).saturating_add(input.len()))?;
        Ok(Value::Array(input.split(pattern.as_str()).map(|s| Value::scalar(s.to_owned())).collect()))
    }
}

/// Liquid's `uniq` in linear time for arrays of strings and numbers (liquid-lib compares each item with every one
/// kept: quadratic, seconds for 20,000 items). Other arrays go to liquid-lib's, charged its quadratic work first.
#[derive(Clone)]
struct Uniq;

impl ParseFilter for Uniq {
    fn parse(&self, arguments: FilterArguments<'_>) -> liquid_core::Result<Box<dyn Filter>> {
        Ok(Box::new(UniqFilter(stdlib::Uniq.parse(arguments)?)))
    }
    fn reflection(&self) -> &dyn FilterReflection {
        &stdlib::Uniq
    }
}

#[derive(Debug)]
struct UniqFilter(Box<dyn Filter>);

impl fmt::Display for UniqFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Filter for UniqFilter {
    fn evaluate(&self, input: &dyn ValueView, runtime: &dyn Runtime) -> liquid_core::Result<Value> {
        let Some(array) = input.as_array() else { return self.0.evaluate(input, runtime) };
        if let Some(unique) = uniq_linear(array) {
            return Ok(unique);
        }
        let n = array.size().unsigned_abs();
        charge_work(runtime, n.saturating_mul(n) / 2, false)?;
        self.0.evaluate(input, runtime)
    }
}

/// How [`uniq_linear`] tells items apart: as liquid-core's equality does for strings and numbers (an integer equals
/// the float of the same value; a string never equals a number).
#[derive(Hash, PartialEq, Eq)]
enum UniqKey<'a> {
    Str(KStringCow<'a>),
    Int(i64),
    Float(u64),
}

/// The first occurrence of each item, in order, when every item is a string or a number (integers within ±2^53,
/// finite floats); `None` for any other array (booleans equal every truthy value there, which no hash can follow).
fn uniq_linear(array: &dyn liquid_core::model::ArrayView) -> Option<Value> {
    const EXACT: u64 = 1 << 53;
    let mut seen = HashSet::with_capacity(array.size().unsigned_abs() as usize);
    let mut kept = Vec::new();
    for item in array.values() {
        let scalar = item.as_scalar()?;
        let key = match item.type_name() {
            "string" => UniqKey::Str(item.to_kstr()),
            "whole number" => UniqKey::Int(scalar.to_integer().filter(|i| i.unsigned_abs() <= EXACT)?),
            "fractional number" => {
                let f = scalar.to_float().filter(|f| f.is_finite())?;
                if f.fract() == 0.0 && f.abs() <= EXACT as f64 {
                    UniqKey::Int(f as i64)
                } else {
                    UniqKey::Float(f.to_bits())
                }
            }
            _ => return None,
        };
        if seen.insert(key) {
            kept.push(item.to_value());
        }
    }
    Some(Value::array(kept))
}

/// Liquid's `date`, with `"now"`/`"today"` taken from `site.time` instead of the clock.
#[derive(Clone)]
struct NowSafeDate(Box<dyn ParseFilter>);

impl ParseFilter for NowSafeDate {
    fn parse(&self, arguments: FilterArguments<'_>) -> liquid_core::Result<Box<dyn Filter>> {
        Ok(Box::new(NowSafeDateFilter(self.0.parse(arguments)?)))
    }
    fn reflection(&self) -> &dyn FilterReflection {
        self.0.reflection()
    }
}

#[derive(Debug)]
struct NowSafeDateFilter(Box<dyn Filter>);

impl fmt::Display for NowSafeDateFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Filter for NowSafeDateFilter {
    fn evaluate(&self, input: &dyn ValueView, runtime: &dyn Runtime) -> liquid_core::Result<Value> {
        let text = input.to_kstr();
        if matches!(text.trim().to_ascii_lowercase().as_str(), "now" | "today") {
            let time = runtime.try_get(&[ScalarCow::new("site"), ScalarCow::new("time")]).filter(|v| !v.is_nil());
            return match time {
                Some(time) => self.0.evaluate(time.as_view(), runtime),
                None => Err(Error::with_msg("`date` of \"now\" needs `site.time` (tidings reads no clock)")),
            };
        }
        self.0.evaluate(input, runtime)
    }
}

#[derive(Clone, Copy, Debug)]
enum JKind {
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

const JEKYLL_FILTERS: &[(&str, JKind)] = &[
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
const UNSUPPORTED_FILTERS: &[&str] = &["where_exp", "find_exp", "group_by_exp"];

#[derive(Clone)]
struct JekyllFilter {
    name: String,
    kind: JKind,
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
    name: String,
    kind: JKind,
    args: Vec<Expression>,
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
                let d = parse_date(&s).ok_or_else(|| Error::with_msg(format!("invalid date: {}", snippet(&s))))?;
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

fn to_integer(input: &dyn ValueView) -> i64 {
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
fn relative_url(input: &str, baseurl: &str) -> String {
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

/// Jekyll's `Utils.slugify` (JEKYLL.md §4), the one in [`super::url`]; an unknown mode only
/// lowercases, and the filter never keeps case.
fn slugify(s: &str, mode: &str) -> String {
    super::url::slugify(s, super::url::SlugMode::from_name(mode), false)
}

fn number_of_words(s: &str, mode: Option<&str>) -> usize {
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

/// A date and time as written, with its UTC offset in minutes (none written means UTC).
struct DateTimeParts {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    offset: i32,
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/// `YYYY-MM-DD[( |T)HH:MM[:SS[.fff]]][ ](Z|UTC|±HH[:]MM)`, or liquid's own date-time text.
fn parse_date(s: &str) -> Option<DateTimeParts> {
    let s = s.trim();
    let b = s.as_bytes();
    let mut i = 0;
    let num = |i: &mut usize, min: usize, max: usize| -> Option<u32> {
        let n = b[*i..].iter().take(max).take_while(|c| c.is_ascii_digit()).count();
        if n < min {
            return None;
        }
        let v = s[*i..*i + n].parse().ok()?;
        *i += n;
        Some(v)
    };
    let eat = |i: &mut usize, c: u8| -> bool {
        let ok = b.get(*i) == Some(&c);
        *i += usize::from(ok);
        ok
    };
    let year = num(&mut i, 4, 4)?;
    eat(&mut i, b'-').then_some(())?;
    let month = num(&mut i, 1, 2)?;
    eat(&mut i, b'-').then_some(())?;
    let day = num(&mut i, 1, 2)?;
    let (mut hour, mut minute, mut second) = (0, 0, 0);
    let mut k = i;
    while b.get(k) == Some(&b' ') {
        k += 1;
    }
    if b.get(i) == Some(&b'T') || (k > i && b.get(k).is_some_and(u8::is_ascii_digit)) {
        i = if b.get(i) == Some(&b'T') { i + 1 } else { k };
        hour = num(&mut i, 1, 2)?;
        eat(&mut i, b':').then_some(())?;
        minute = num(&mut i, 2, 2)?;
        if eat(&mut i, b':') {
            second = num(&mut i, 2, 2)?;
            if eat(&mut i, b'.') {
                while b.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
            }
        }
    }
    while b.get(i) == Some(&b' ') {
        i += 1;
    }
    let rest = &s[i..];
    let offset = if rest.is_empty() || rest == "Z" || rest == "UTC" || rest == "GMT" {
        0
    } else {
        let sign = match rest.as_bytes()[0] {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let digits: String = rest[1..].chars().filter(|c| *c != ':').collect();
        if digits.len() != 4 || !digits.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let (h, m): (i32, i32) = (digits[..2].parse().ok()?, digits[2..].parse().ok()?);
        sign * (h * 60 + m)
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let valid = (1..=12).contains(&month)
        && day >= 1
        && day <= days[month as usize - 1]
        && hour < 24
        && minute < 60
        && second <= 60;
    valid.then_some(DateTimeParts { year: i64::from(year), month, day, hour, minute, second, offset })
}

impl DateTimeParts {
    fn weekday(&self) -> usize {
        let (y, m, d) = (self.year - i64::from(self.month <= 2), i64::from(self.month), i64::from(self.day));
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        (days + 4).rem_euclid(7) as usize
    }

    fn month_name(&self, long: bool) -> &'static str {
        let name = MONTHS[self.month as usize - 1];
        if long { name } else { &name[..3] }
    }

    fn stringify(&self, long: bool, ordinal: bool, us: bool) -> String {
        let (month, year, day) = (self.month_name(long), self.year, self.day);
        if !ordinal {
            return format!("{day:02} {month} {year}");
        }
        let suffix = match (day % 100, day % 10) {
            (11..=13, _) => "th",
            (_, 1) => "st",
            (_, 2) => "nd",
            (_, 3) => "rd",
            _ => "th",
        };
        if us { format!("{month} {day}{suffix}, {year}") } else { format!("{day}{suffix} {month} {year}") }
    }

    fn offset(&self, colon: bool) -> String {
        let sign = if self.offset < 0 { '-' } else { '+' };
        let m = self.offset.unsigned_abs();
        if colon { format!("{sign}{:02}:{:02}", m / 60, m % 60) } else { format!("{sign}{:02}{:02}", m / 60, m % 60) }
    }

    fn xmlschema(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}",
            self.year,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
            self.offset(true)
        )
    }

    fn rfc822(&self) -> String {
        format!(
            "{}, {:02} {} {} {:02}:{:02}:{:02} {}",
            DAYS[self.weekday()],
            self.day,
            self.month_name(false),
            self.year,
            self.hour,
            self.minute,
            self.second,
            self.offset(false)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Default)]
    struct Site {
        posts: HashMap<&'static str, &'static str>,
        links: HashMap<&'static str, &'static str>,
        includes: HashMap<&'static str, &'static str>,
    }

    impl Resolver for Site {
        fn post_url(&self, name: &str) -> Option<String> {
            self.posts.get(name).map(|s| s.to_string())
        }
        fn link(&self, path: &str) -> Option<String> {
            self.links.get(path).map(|s| s.to_string())
        }
        fn include(&self, name: &str) -> Result<String, String> {
            self.includes.get(name).map(|s| s.to_string()).ok_or_else(|| format!("the site has no `_includes/{name}`"))
        }
    }

    fn jekyll_site() -> serde_json::Value {
        json!({"url": "https://jekyllrb.com", "repository": "https://github.com/jekyll/jekyll", "baseurl": ""})
    }

    fn run(body: &str) -> Output {
        render(body, &jekyll_site(), &json!({}), &Site::default())
    }

    fn check(body: &str, expected: &str) {
        let out = run(body);
        assert_eq!(out.text, expected, "problems: {:?}", out.problems);
        assert!(out.problems.is_empty(), "{:?}", out.problems);
    }

    fn messages(out: &Output) -> Vec<String> {
        out.problems.iter().map(|p| format!("{}:{}: {}", p.line, p.column, p.message)).collect()
    }

    #[test]
    fn a_caught_panic_is_quiet_only_while_liquid_lib_runs() {
        // Issue 25, finding 16: each render printed a backtrace for the same post's panic.
        assert!(caught(|| QUIET.with(std::cell::Cell::get)).unwrap(), "the hook stays quiet inside");
        assert!(caught(|| panic!("inside liquid-lib")).is_err());
        assert!(!QUIET.with(std::cell::Cell::get), "other panics print as before");
    }

    #[test]
    fn body_without_liquid_is_returned_unchanged() {
        assert!(!has_liquid("a { b } %} }}"));
        assert!(has_liquid("x {{ y"));
        assert!(has_liquid("x {% y"));
        check("plain { text } here", "plain { text } here");
    }

    #[test]
    fn post_url_from_jekyll_turns_2_0_0() {
        let site = Site {
            posts: [("2013-05-06-jekyll-1-0-0-released", "/news/2013/05/05/jekyll-1-0-0-released/")].into(),
            ..Site::default()
        };
        let body = "[jekyll-1]: {% post_url 2013-05-06-jekyll-1-0-0-released %}\n[jekyll-2]: {% post_url nope %}\n";
        let out = render(body, &jekyll_site(), &json!({}), &site);
        assert_eq!(out.text, "[jekyll-1]: /news/2013/05/05/jekyll-1-0-0-released/\n[jekyll-2]: \n");
        assert_eq!(messages(&out), ["2:13: `{% post_url nope %}`: no such post; rendered as empty"]);
    }

    #[test]
    fn link_from_jekyll_3_4_3_and_over_two_lines() {
        let site = Site {
            links: [("_posts/2017-01-18-jekyll-3-4-0-released.markdown", "/news/2017/01/18/jekyll-3-4-0-released/")]
                .into(),
            ..Site::default()
        };
        let body = "In [v3.4.0]({% link _posts/2017-01-18-jekyll-3-4-0-released.markdown %}), we\n\
                    see [it]({% link\n  _posts/2017-01-18-jekyll-3-4-0-released.markdown\n%}).";
        let out = render(body, &jekyll_site(), &json!({}), &site);
        assert_eq!(
            out.text,
            "In [v3.4.0](/news/2017/01/18/jekyll-3-4-0-released/), we\n\
             see [it](/news/2017/01/18/jekyll-3-4-0-released/)."
        );
        assert!(out.problems.is_empty());
        let out = run("[changelog]({% link _docs/history.md %}#v3-9-3)");
        assert_eq!(out.text, "[changelog](#v3-9-3)");
        assert_eq!(
            messages(&out),
            ["1:13: `{% link _docs/history.md %}`: no such file in the site; rendered as empty"]
        );
    }

    #[test]
    fn highlight_from_jekyll_3_0_0_beta1() {
        let body =
            "To install just run:\n\n{% highlight shell %}\n$ gem install jekyll --pre\n{% endhighlight %}\n\nFuture";
        let out = run(body);
        assert_eq!(out.text, format!("To install just run:\n\n{}\n\nFuture", placeholder(0)));
        assert_eq!(
            out.highlights,
            ["<figure class=\"highlight\"><pre><code class=\"language-shell\" data-lang=\"shell\">\
              $ gem install jekyll --pre</code></pre></figure>"]
        );
        let html = "<p>To install just run:</p>\n<p>TIDINGS-FRAGMENT-0</p>\n<p>Future</p>\n";
        assert_eq!(
            crate::markdown::put_fragments(html, &out.highlights),
            format!("<p>To install just run:</p>\n{}\n<p>Future</p>\n", out.highlights[0])
        );
    }

    #[test]
    fn highlight_escapes_keeps_blank_lines_and_maps_lang() {
        let out = run("{% highlight C++ linenos %}\n\nint a<b && c;\n\n\nx\n{% endhighlight %}");
        assert_eq!(
            out.highlights,
            ["<figure class=\"highlight\"><pre><code class=\"language-c--\" data-lang=\"c++\">\
              int a&lt;b &amp;&amp; c;\n\n\nx</code></pre></figure>"]
        );
        assert_eq!(out.text, placeholder(0));
        let out = run("{% highlight %}x{% endhighlight %}");
        assert_eq!(out.highlights.len(), 1);
        assert!(out.highlights[0].contains("language-plaintext"));
        assert_eq!(out.problems.len(), 1);
    }

    #[test]
    fn restore_handles_many_and_unknown_placeholders() {
        let hs = vec!["<A>".to_owned(), "<B>".to_owned()];
        let html = "<p>TIDINGS-FRAGMENT-1</p><p>TIDINGS-FRAGMENT-0</p>x TIDINGS-FRAGMENT-7 TIDINGS-FRAGMENT-";
        assert_eq!(crate::markdown::put_fragments(html, &hs), "<B><A>x TIDINGS-FRAGMENT-7 TIDINGS-FRAGMENT-");
    }

    #[test]
    fn for_loop_reference_definitions_from_jekyll_1_0_1() {
        let body = "See the [History][] page.\n\n\
            {% assign issue_numbers = \"1037|1040|1048\" | split: \"|\" %}\n\
            {% for issue in issue_numbers %}\n\
            [#{{ issue }}]: {{ site.repository }}/issues/{{ issue }}\n\
            {% endfor %}\n\n[History]: /docs/history/#v1-0-1\n";
        check(
            body,
            "See the [History][] page.\n\n\n\n\
             [#1037]: https://github.com/jekyll/jekyll/issues/1037\n\n\
             [#1040]: https://github.com/jekyll/jekyll/issues/1040\n\n\
             [#1048]: https://github.com/jekyll/jekyll/issues/1048\n\n\n[History]: /docs/history/#v1-0-1\n",
        );
    }

    #[test]
    fn for_over_page_list_with_slugify_prepend_relative_url() {
        let page = json!({"filters_linked_to": ["where expression", "number of words"]});
        let body = "{% for filter in page.filters_linked_to %}\n{% assign filter_slug = filter | slugify %}\n\
                    [{{ filter_slug }}-filter]: {{ filter_slug | prepend: '/docs/liquid/filters/#' | relative_url }}\n\
                    {% endfor %}";
        let site = json!({"baseurl": "/base/"});
        let out = render(body, &site, &page, &Site::default());
        assert_eq!(
            out.text,
            "\n\n[where-expression-filter]: /base/docs/liquid/filters/#where-expression\n\n\n\
             [number-of-words-filter]: /base/docs/liquid/filters/#number-of-words\n"
        );
        assert!(out.problems.is_empty(), "{:?}", out.problems);
    }

    #[test]
    fn bitcoincore_meeting_assign_log_and_references_include() {
        let site = Site {
            includes: [("references.md", "[bitcoin]: https://github.com/bitcoin/bitcoin\n")].into(),
            ..Site::default()
        };
        let body = "{% include toc.html %}\r\n{% include references.md %}\r\n\r\nSee [bitcoin][].\r\n\r\n\
            {% assign log = \"http://www.erisian.com.au/meetbot/bitcoin-core-dev/2018/x.log.html\" %}\r\n\
            [mb log]: {{log}}\r\n[log 0.16.2]: {{log}}#l-77\r\n";
        let out = render(body, &json!({"url": "https://bitcoincore.org"}), &json!({"lang": "en"}), &site);
        assert_eq!(
            out.text,
            "\r\n[bitcoin]: https://github.com/bitcoin/bitcoin\n\r\n\r\nSee [bitcoin][].\r\n\r\n\r\n\
             [mb log]: http://www.erisian.com.au/meetbot/bitcoin-core-dev/2018/x.log.html\r\n\
             [log 0.16.2]: http://www.erisian.com.au/meetbot/bitcoin-core-dev/2018/x.log.html#l-77\r\n"
        );
        assert_eq!(
            messages(&out),
            ["1:1: `{% include toc.html %}`: the site has no `_includes/toc.html`; rendered as empty"]
        );
    }

    #[test]
    fn githubify_block_keeps_content_and_oembed_is_removed() {
        let body = "{% include download.html %}\n{% githubify https://github.com/bitcoin/bitcoin %}\n\
                    28.3 notes {{ page.lang }}\n=====\n{% endgithubify %}\n\
                    {% oembed https://twitter.com/seldo/status/571453200093437952 %}\nend";
        let out = render(body, &json!({}), &json!({"lang": "ja"}), &Site::default());
        assert_eq!(out.text, "\n\n28.3 notes ja\n=====\n\n\nend");
        assert_eq!(
            messages(&out),
            [
                "1:1: `{% include download.html %}`: the site has no `_includes/download.html`; rendered as empty",
                "2:1: unknown Liquid block `githubify`: tidings does not run the site's plugins; \
                 its tags were removed and its content kept",
                "6:1: unknown Liquid tag `oembed`: tidings does not run the site's plugins; it was removed",
            ]
        );
    }

    #[test]
    fn site_baseurl_from_18f_and_unknown_filters() {
        let site = json!({"baseurl": "/site", "url": "https://18f.gsa.gov"});
        let body = "![img]({{site.baseurl}}/assets/x.png) {{ site.baseurl }}/a\n\n\
                    {{ \"noah\" | team_link }} and {{ \"https://youtu.be/x\" | embed: \"Title\n  two lines\" }}";
        let out = render(body, &site, &json!({}), &Site::default());
        assert_eq!(out.text, "![img](/site/assets/x.png) /site/a\n\nnoah and https://youtu.be/x");
        assert_eq!(
            messages(&out),
            [
                "3:1: unknown Liquid filter `team_link`: tidings does not run the site's plugins; \
                 its input was passed through unchanged",
                "3:30: unknown Liquid filter `embed`: tidings does not run the site's plugins; \
                 its input was passed through unchanged",
            ]
        );
    }

    #[test]
    fn raw_blocks_stay_literal() {
        check(
            "a {% raw %}{{ site.baseurl }}{% endraw %} b {%raw%}{% highlight %}{%endraw%} c\n\
             {% raw %}{% raw %}{% endraw %}",
            "a {{ site.baseurl }} b {% highlight %} c\n{% raw %}",
        );
        check(
            "{% if true %}x{% raw %}{% for entry in site.pages %}{% endraw %}{% endif %}",
            "x{% for entry in site.pages %}",
        );
        // 18f 2017-09-26: a stray `{%` inside raw; Liquid 4 still ends the block at `{% endraw %}`.
        check(
            "{% raw %}\n  status: {staged {%!s(bool=false)}}\n{% endraw %}\nSo we",
            "\n  status: {staged {%!s(bool=false)}}\n\nSo we",
        );
    }

    #[test]
    fn comments_and_whitespace_control() {
        check("a {% comment %}{{ \"x\" | embed: \"y\" }}{% oembed z %}{% endcomment %}b", "a b");
        check("a  {%- assign x = 1 -%}  \n b{{- x -}} c", "ab1c");
        check("[{%- comment -%} x {%- endcomment -%}]", "[]");
    }

    #[test]
    fn variables_unknown_keys_and_indexes_are_empty() {
        let page = json!({"images": ["a.png", "b.png"], "image": "i.png", "tags": []});
        let out = render(
            "{{ page.images[0] }} {{page.image}} [{{ nope }}] [{{ page.nope.deeper }}] [{{ page.images[9] }}] \
             {% for t in page.images %}[{{ t.x }}]{% endfor %}{% if page.nope %}no{% else %}yes{% endif %}\
             {% unless page.tags.size > 0 %} none{% endunless %}",
            &json!({}),
            &page,
            &Site::default(),
        );
        assert_eq!(out.text, "a.png i.png [] [] [] [][]yes none");
        assert!(out.problems.is_empty(), "{:?}", out.problems);
    }

    #[test]
    fn capture_case_cycle_and_standard_filters() {
        check(
            "{% capture x %}Hi {{ \"there\" | upcase }}{% endcapture %}{{ x | size }} {{ x }}\
             {% case 2 %}{% when 1 %}one{% when 2 %}two{% else %}many{% endcase %}\
             {% for i in (1..3) %}{% cycle \"a\", \"b\" %}{% endfor %} {{ \"a,b\" | split: \",\" | join: \"+\" }}",
            "8 Hi THEREtwoaba a+b",
        );
    }

    #[test]
    fn for_over_site_data_with_where_and_sort() {
        let site = json!({"posts": [
            {"title": "B <&>", "lang": "en", "type": "advisory", "date": "2020-01-02", "url": "/b/"},
            {"title": "A", "lang": "en", "type": "advisory", "date": "2019-01-02", "url": "/a/"},
            {"title": "C", "lang": "ja", "type": "advisory", "date": "2021-01-02", "url": "/c/"},
        ]});
        let body = "{% assign advisories=site.posts | where:\"lang\", 'en' | where:\"type\", 'advisory' \
                    | sort: \"date\" | reverse %}{% for advisory in advisories %}{% assign post=advisory %}\
                    <a href=\"{{ post.url | relative_url }}\" title=\"{{ post.title | xml_escape }}\">\
                    {{ post.date | date_to_string }}</a>{% endfor %}";
        let out = render(body, &site, &json!({}), &Site::default());
        assert_eq!(
            out.text,
            "<a href=\"/b/\" title=\"B &lt;&amp;&gt;\">02 Jan 2020</a><a href=\"/a/\" title=\"A\">02 Jan 2019</a>"
        );
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        // Without `site.posts`, Jekyll's `where` passes nil through (liquid-rust's own `where` would fail).
        let out = render(body, &json!({}), &json!({}), &Site::default());
        assert_eq!(out.text, "");
        assert!(out.problems.is_empty(), "{:?}", out.problems);
    }

    #[test]
    fn include_parameters_nesting_and_loops() {
        let site = Site {
            includes: [
                ("link-to-issues.md", "{% for i in include.issues | split: \",\" %}[#{{ i }}]{% endfor %}"),
                ("a.html", "A({{ include.x }}{% include b.html y=include.x %})"),
                ("b.html", "B[{{ include.y }}]{% include a.html %}"),
                ("my-logo@2x.svg", "<svg/>"),
                ("quoted.html", "Q{{ include.t }}"),
            ]
            .into(),
            ..Site::default()
        };
        let out = render("{% include link-to-issues.md issues=\"13426,9662\" %}", &json!({}), &json!({}), &site);
        assert!(out.problems.iter().any(|p| p.message.contains("invalid Liquid")), "{:?}", out.problems);
        let out = render(
            "{% assign v = \"V\" %}{% include a.html x=v %}|{% include my-logo@2x.svg %}|\
             {% include \"quoted.html\" t='it''s' %}{% include quoted.html t=\"say \\\"hi\\\"\" %}",
            &json!({}),
            &json!({}),
            &site,
        );
        assert_eq!(out.text, "A(VB[V])|<svg/>|QQsay \"hi\"");
        assert_eq!(
            messages(&out),
            [
                "1:21: in include `a.html`, line 1, column 18: in include `b.html`, line 1, column 19: \
                 include loop: a.html → b.html → a.html; the inner `{% include a.html %}` was removed",
                "1:75: invalid include parameters `t='it''s'`: expected `key=\"value\"` pairs",
            ]
        );
    }

    #[test]
    fn problems_inside_includes_point_at_the_include_tag() {
        let site = Site { includes: [("x.html", "line one\n  {% nope %}")].into(), ..Site::default() };
        let out = render("intro\n\n   {% include x.html %}", &json!({}), &json!({}), &site);
        assert_eq!(out.text, "intro\n\n   line one\n  ");
        assert_eq!(
            messages(&out),
            ["3:4: in include `x.html`, line 2, column 3: unknown Liquid tag `nope`: \
                 tidings does not run the site's plugins; it was removed"]
        );
    }

    #[test]
    fn syntax_errors_are_local() {
        let out = run("a {{ x y }} b {% if %}c{% endif %} d {% assign = %} e {{ \"ok\" }}");
        assert_eq!(out.text, "a  b c d  e ok");
        assert_eq!(out.problems.len(), 3, "{:?}", out.problems);
        assert_eq!((out.problems[0].line, out.problems[0].column), (1, 3));
        assert!(out.problems.iter().all(|p| p.message.starts_with("invalid Liquid")), "{:?}", out.problems);
    }

    #[test]
    fn unbalanced_blocks_are_repaired() {
        let out =
            run("{% if true %}a{% for i in (1..2) %}{{ i }}{% endif %} b {% endfor %} {% else %} {% if false %}x");
        assert_eq!(out.text, "a12 b   ");
        assert_eq!(
            messages(&out),
            [
                "1:15: `{% for %}` is not closed before `{% endif %}`; closed there",
                "1:57: `{% endfor %}` without `{% for %}`; removed",
                "1:70: `{% else %}` outside any block; removed",
                "1:81: `{% if %}` is never closed; closed at the end of the post",
            ]
        );
        let out = run("{% unless false %}a{% elsif true %}b{% else %}c{% else %}d{% endunless %}");
        assert_eq!(out.text, "ab");
        assert_eq!(
            messages(&out),
            [
                "1:20: `{% elsif %}` inside `{% unless %}` is not supported; removed",
                "1:48: `{% else %}` after the `{% else %}` of `{% unless %}`; removed",
            ]
        );
    }

    #[test]
    fn unterminated_markup_is_removed() {
        let out = run("a {{ b\n c {% d\n e {{ f } g");
        assert_eq!(out.text, "a  b\n c  d\n e  f } g");
        assert_eq!(out.problems.len(), 3, "{:?}", out.problems);
        let out = run("x {% raw %} {{ y");
        assert_eq!(out.text, "x  {{ y");
        assert_eq!(out.problems.len(), 1);
    }

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
    fn runaway_liquid_is_stopped() {
        let out = run("{% for i in (1..1000000000) %}x{% endfor %}after");
        assert_eq!(out.text, "after");
        assert_eq!(out.problems.len(), 1, "{:?}", out.problems);
        let body =
            "{% assign x = \"ab\" %}{% for i in (1..60) %}{% assign x = x | append: x %}{% endfor %}{{ x | size }}";
        let out = run(body);
        assert_eq!(out.problems.len(), 1, "{:?}", out.problems);
        assert!(out.problems[0].message.contains("limit"), "{:?}", out.problems);
        let body = "{% for a in (1..1000) %}{% for b in (1..1000) %}{% endfor %}{% endfor %}done";
        let out = run(body);
        assert_eq!(out.text, "done");
        assert!(out.problems[0].message.contains("100000"), "{:?}", out.problems);
        let body = "{% capture x %}ab{% endcapture %}{% for i in (1..60) %}{% capture x %}{{x}}{{x}}{% endcapture %}{% endfor %}";
        assert_eq!(run(body).problems.len(), 1);
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let body = format!("{}x{}", "{% for i in (1..1) %}".repeat(200), "{% endfor %}".repeat(200));
        let out = std::thread::Builder::new().stack_size(1 << 20).spawn(move || run(&body)).expect("thread").join();
        let out = out.expect("1 MiB of stack is enough at the nesting limit");
        assert_eq!(out.text, "x");
        assert_eq!(out.problems.len(), 200 - MAX_NESTING, "{:?}", &out.problems[..1]);
    }

    #[test]
    fn liquid_errors_at_render_become_problems() {
        let out = run("a{{ 1 | divided_by: 0 }}b{% assign y = \"x\" | plus: \"z\" %}c{{ y }}");
        assert!(out.text.starts_with('a') && out.text.contains('b') && out.text.contains('c'), "{}", out.text);
        assert!(!out.problems.is_empty());
        assert_eq!((out.problems[0].line, out.problems[0].column), (1, 2));
    }

    #[test]
    fn many_unclosed_tags_are_linear() {
        let body = "{% x ".repeat(20_000) + &"{{ y ".repeat(20_000);
        let out = run(&body);
        assert!(!out.text.contains("{%") && !out.text.contains("{{"));
        assert_eq!(out.problems.len(), 40_000);
    }

    #[test]
    fn highlight_body_is_liquid_and_raw_inside_stays_literal() {
        let out = run("{% highlight liquid %}\n{% raw %}{{ site.url }}{% endraw %} {{ site.url }}\n{% endhighlight %}");
        assert_eq!(
            out.highlights,
            ["<figure class=\"highlight\"><pre><code class=\"language-liquid\" data-lang=\"liquid\">\
              {{ site.url }} https://jekyllrb.com</code></pre></figure>"]
        );
        let out = run("{% for i in (1..2) %}{% highlight text %}{{ i }}{% endhighlight %}{% endfor %}");
        assert_eq!(out.text, format!("{}{}", placeholder(0), placeholder(1)));
        assert!(out.highlights[1].contains(">2</code>"));
    }

    #[test]
    fn includes_in_loops_with_dynamic_names_and_quoted_capture() {
        let site = Site { includes: [("i.html", "[{{ include.v }}{{ include.none }}]")].into(), ..Site::default() };
        let page = json!({"list": [1, 2], "inc": "i.html"});
        let body = "{% for x in page.list %}{% include i.html v=x %}{% endfor %}{% include {{ page.inc }} v=\"s\" %}\
                    {% capture \"q\" %}c{% endcapture %}{{ q }}";
        let out = render(body, &json!({}), &page, &site);
        assert_eq!(out.text, "[1][2][s]c");
        assert!(out.problems.is_empty(), "{:?}", out.problems);
    }

    #[test]
    fn a_piece_that_fails_to_parse_falls_back_to_its_text() {
        let at = Arc::new(Where { line: 4, column: 2, prefix: String::new() });
        let bad = Chunk::Liquid { src: "{% nope %}".into(), fallback: "kept".into(), at, label: None };
        let shared = Shared { items: Vec::new(), notes: Mutex::new(Vec::new()) };
        let elements = build(&Prepared { chunks: vec![bad, Chunk::Text(" text".into())] }, &BASE, &shared);
        let runtime = RuntimeBuilder::new().build();
        runtime.registers().get_mut::<State>().limit = 100;
        let mut out = Vec::new();
        for e in &elements {
            e.render_to(&mut out, &runtime).unwrap();
        }
        assert_eq!(String::from_utf8(out).unwrap(), "kept text");
        let notes = shared.notes.lock().unwrap();
        assert_eq!(notes.len(), 1);
        assert!(notes[0].1.starts_with("Liquid syntax error"), "{}", notes[0].1);
        assert_eq!((notes[0].0.line, notes[0].0.column), (4, 2));
    }

    #[test]
    fn columns_count_characters_on_long_lines() {
        let body = format!("{}{{% a %}}é{{% b %}}\nxy{{% c %}}", "é".repeat(5000));
        let out = run(&body);
        let at: Vec<_> = out.problems.iter().map(|p| (p.line, p.column)).collect();
        assert_eq!(at, [(1, 5001), (1, 5009), (2, 3)]);
        assert!(out.problems.iter().all(|p| p.message.contains("unknown Liquid tag")));
    }

    #[test]
    fn latin_transliteration_covers_its_table() {
        let all: String = (0xC0..=0x17F).filter_map(char::from_u32).collect();
        let slug = slugify(&all, "latin");
        assert!(slug.is_ascii(), "{slug}");
        assert_eq!(slugify("Ærøskøbing Łódź Œuvre", "latin"), "aeroskobing-lodz-oeuvre");
    }

    #[test]
    fn deep_expressions_do_not_overflow_a_small_stack() {
        let body = format!(
            "x {{{{ {}a{} }}}} y {{% if {}1{} %}}z{{% endif %}}",
            "a[".repeat(50_000),
            "]".repeat(50_000),
            "a[".repeat(50_000),
            "]".repeat(50_000)
        );
        let out = std::thread::Builder::new()
            .stack_size(512 * 1024)
            .spawn(move || run(&body))
            .expect("thread")
            .join()
            .expect("no overflow");
        assert!(out.text.starts_with("x "), "{}", &out.text[..20]);
        assert!(!out.text.contains("{{") && !out.text.contains("{%"));
    }

    #[test]
    fn expand_renders_link_arguments() {
        let site = Site { links: [("_posts/x.md", "/x/")].into(), ..Site::default() };
        let out = render("{% link _posts/{{ page.f }} %}", &json!({}), &json!({"f": "x.md"}), &site);
        assert_eq!(out.text, "/x/");
        assert!(out.problems.is_empty(), "{:?}", out.problems);
    }

    /// Renders `body` on a thread of its own and waits for it at most 20 s: a render that would take minutes (the
    /// regression these tests guard against) fails the test instead of hanging it.
    fn run_bounded(body: String, deadline: Option<Instant>) -> Output {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(render_until(&body, &jekyll_site(), &json!({}), &Site::default(), deadline));
        });
        rx.recv_timeout(std::time::Duration::from_secs(20)).expect("the render returns within 20 s")
    }

    /// The body of a fixture post (after its front matter).
    fn fixture_body(text: &str) -> String {
        text.splitn(3, "---\n").nth(2).expect("front matter").to_owned()
    }

    const UNIQ_POST: &str = include_str!("../../tests/data/hostile/liquid/_posts/2024-01-01-uniq.md");

    #[test]
    fn quadratic_uniq_post_finishes_in_bounded_time() {
        // Issue 25, finding 3: liquid-lib's `uniq` took 8.7 s per call on these 20,000 items, 24 calls.
        let out = run_bounded(fixture_body(UNIQ_POST), None);
        assert_eq!(out.text.trim().lines().collect::<Vec<_>>(), ["20001"; 24]);
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        assert!(out.stopped.is_none());
    }

    #[test]
    fn sorting_large_arrays_in_a_loop_stops_at_the_work_limit() {
        let body = "{% capture s %}{% for i in (1..20000) %}{{ i }},{% endfor %}{% endcapture %}\
                    {% assign arr = s | split: \",\" %}{% for i in (1..50000) %}{{ arr | sort | size }}{% endfor %}";
        let out = run_bounded(body.to_owned(), None);
        let (stop, problem) = out.stopped.expect("stopped");
        assert_eq!(stop, Stop::Work);
        assert!(problem.message.contains("units of work"), "{problem:?}");
        assert_eq!((problem.line, problem.column), (1, 135), "{problem:?}");
        assert_eq!(out.problems, [problem]);
    }

    #[test]
    fn filter_evaluations_are_capped() {
        let body = "{% for i in (1..100000) %}{{ i | plus: 1 | minus: 1 | plus: 1 | minus: 1 | plus: 1 | minus: 1 }}\
                    {% endfor %}";
        let (stop, problem) = run_bounded(body.to_owned(), None).stopped.expect("stopped");
        assert_eq!(stop, Stop::Work);
        assert!(problem.message.contains(&format!("more than {MAX_FILTER_CALLS} filters")), "{problem:?}");
    }

    #[test]
    fn work_outside_filters_stops_at_the_deadline() {
        // `contains` over 20,000 items in a loop is no filter: only the deadline stops it.
        let body = "{% capture s %}{% for i in (1..20000) %}{{ i }},{% endfor %}{% endcapture %}\
                    {% assign arr = s | split: \",\" %}\
                    {% for i in (1..70000) %}{% if arr contains \"x\" %}x{% endif %}{% endfor %}after";
        let started = Instant::now();
        let out = run_bounded(body.to_owned(), Some(started + std::time::Duration::from_millis(200)));
        assert_eq!(out.stopped.expect("stopped").0, Stop::Time);
        // A deadline already passed stops a render at its first checks.
        let out = run_bounded("{% for i in (1..1000) %}{{ i }}{% endfor %}".to_owned(), Some(started));
        assert_eq!(out.stopped.map(|s| s.0), Some(Stop::Time));
    }

    #[test]
    fn commas_split_into_many_variables_are_refused_by_the_memory_cap() {
        // Issue 25, finding 4: 1 MB of commas split by 16 `assign`s took 949 MB.
        let splits: String = (0..16).map(|i| format!("{{% assign a{i} = s | split: \",\" %}}")).collect();
        let body = format!("{{% capture s %}}{}{{% endcapture %}}{splits}done", ",".repeat(1_000_000));
        let out = run_bounded(body, None);
        let (stop, problem) = out.stopped.expect("stopped");
        assert_eq!(stop, Stop::Memory, "{problem:?}");
        assert!(problem.message.contains("MiB"), "{problem:?}");
        assert!(out.peak_bytes <= MAX_LIVE_BYTES, "{}", out.peak_bytes);
        // The first split (1,000,001 items, ~57 MB) fits; the second is refused before it is made.
        assert!(out.peak_bytes > 56_000_000, "{}", out.peak_bytes);
    }

    #[test]
    fn copies_of_a_large_array_count_each() {
        let copies: String = (0..16).map(|i| format!("{{% assign c{i} = a %}}")).collect();
        let body = format!(
            "{{% capture s %}}{}{{% endcapture %}}{{% assign a = s | split: \",\" %}}{copies}done",
            ",".repeat(300_000)
        );
        let out = run_bounded(body, None);
        assert_eq!(out.stopped.map(|s| s.0), Some(Stop::Memory));
        assert!(out.peak_bytes <= MAX_LIVE_BYTES);
        // Assigning again replaces what a name held: the same work in a loop stays within the cap.
        let body = format!(
            "{{% capture s %}}{}{{% endcapture %}}\
             {{% for i in (1..16) %}}{{% assign a = s | split: \",\" %}}{{% endfor %}}done",
            ",".repeat(300_000)
        );
        let out = run_bounded(body, None);
        assert!(out.stopped.is_none(), "{:?}", out.stopped);
        assert!(out.text.ends_with("done"));
    }

    #[test]
    fn linear_uniq_matches_liquid_lib() {
        let cases = [
            json!(["b", "a", "b", "c", "a", ""]),
            json!([3, 1, 3, 2.0, 2, 1.5, 1.5, -0.0, 0, "1", 1]),
            json!([]),
            json!(["x"]),
            json!([true, 1, "a", false, null, false, "a"]),
            json!([[1], [1], {"k": 1}, {"k": 1}, "k"]),
        ];
        for case in cases {
            let input = liquid_core::to_value(&case).unwrap();
            let theirs = liquid_core::call_filter!(stdlib::Uniq, input.clone()).unwrap();
            let ours = liquid_core::call_filter!(Uniq, input.clone()).unwrap();
            assert_eq!(ours, theirs, "{case}");
        }
        let strings = liquid_core::to_value(&json!(["b", "a", "b"])).unwrap();
        assert!(uniq_linear(strings.as_array().unwrap()).is_some(), "strings take the linear path");
        let bools = liquid_core::to_value(&json!([true, 1])).unwrap();
        assert!(uniq_linear(bools.as_array().unwrap()).is_none(), "booleans take liquid-lib's");
        check("{{ \"b,a,b,c\" | split: \",\" | uniq | join: \"+\" }}", "b+a+c");
        // liquid-lib's quadratic `uniq` is charged first: 10,000 booleans and nulls cost 50,000,000 units.
        let list: Vec<serde_json::Value> =
            (0..10_000).map(|i| if i % 2 == 0 { json!(true) } else { json!(null) }).collect();
        let page = json!({ "list": list });
        let out = render("{{ page.list | uniq | size }}", &json!({}), &page, &Site::default());
        assert_eq!(out.stopped.map(|s| s.0), Some(Stop::Work));
        let page = json!({"list": [true, null, false, true]});
        assert_eq!(render("{{ page.list | uniq | size }}", &json!({}), &page, &Site::default()).text, "2");
    }

    #[test]
    fn split_matches_liquid_lib() {
        for (input, pattern) in [("a, b, c", ", "), ("", ","), ("abc", ""), (",a,,b,", ","), ("no", "x")] {
            let theirs = liquid_core::call_filter!(stdlib::Split, input, pattern).unwrap();
            let ours = liquid_core::call_filter!(Split, input, pattern).unwrap();
            assert_eq!(ours, theirs, "{input:?} / {pattern:?}");
        }
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

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
//!   [`crate::markdown::put_fragments`] puts it back into the HTML.
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
//!
//! # Modules
//! `lex` cuts the body into tokens; `prepare` turns them (and includes) into liquid-rust source, resolving
//! Jekyll's tags and reporting bad markup, with `position` for where each piece is; `language` is the set of
//! tags and filters that source is parsed with: liquid-lib's, `metered`, plus Jekyll's `filters`; `tags`
//! renders the prepared pieces; `limits` keeps the per-render state and stops a render at a limit; `guard`
//! calls liquid-rust without letting its panics or errors through.

mod filters;
mod guard;
mod language;
mod lex;
mod limits;
mod metered;
mod position;
mod prepare;
mod tags;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use liquid_core::runtime::RuntimeBuilder;
use liquid_core::{Object, Runtime, Value};

use guard::{brief, caught, parse_guarded};
use language::BASE;
use limits::{State, output_limit};
use position::{At, Source};
use prepare::{Chunk, Pre};
use tags::{HighlightBlock, Kind, Placeholder, Shared};

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
    fn include(&self, name: &str) -> Result<String, IncludeError>;
}

/// Why `{% include NAME %}` has nothing to include; `name` is NAME as the tag gives it, trimmed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IncludeError {
    /// The site has no such file (or NAME is not a plain path inside `_includes/`).
    Missing {
        /// The name asked for.
        name: String,
    },
    /// The file resolves outside the content folder (through a symbolic link).
    Outside {
        /// The name asked for.
        name: String,
    },
    /// The file is there but cannot be read (too large, not UTF-8, an I/O error).
    Unreadable {
        /// The name asked for.
        name: String,
        /// Why, as a sentence.
        reason: String,
    },
}

impl std::fmt::Display for IncludeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IncludeError::Missing { name } => write!(f, "the site has no `_includes/{name}`"),
            IncludeError::Outside { name } => write!(f, "`_includes/{name}` {}", crate::content::beneath::OUTSIDE),
            IncludeError::Unreadable { name, reason } => write!(f, "`_includes/{name}`: {reason}"),
        }
    }
}

impl std::error::Error for IncludeError {}

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

//! Preparation: the lexed body and its includes turned into well-formed liquid-rust source, with Jekyll's tags
//! resolved and bad markup reported.

use std::collections::{HashMap, HashSet};

use liquid_core::runtime::RuntimeBuilder;
use liquid_core::{Error, Language, Object, Runtime};

use super::filters::{JKind, JekyllFilter, UNSUPPORTED_FILTERS};
use super::guard::{brief, parse_only, snippet};
use super::lex::{Tok, apply_trim, lex};
use super::limits::{Lenient, State};
use super::metered::Metered;
use super::position::{At, Source, Where};
use super::{MAX_INCLUDE_DEPTH, MAX_INCLUDES, MAX_NESTING, Resolver};

/// A top-level piece of a prepared text.
#[derive(Debug)]
pub(super) enum Chunk {
    /// Text (or raw content) printed as it is.
    Text(String),
    /// One piece of markup, or a whole block, as liquid-rust source; `fallback` is its text without markup;
    /// `label` is the markup as written, for a single piece that was not checked on its own beforehand.
    Liquid { src: String, fallback: String, at: At, label: Option<String> },
}

#[derive(Debug, Default)]
pub(super) struct Prepared {
    pub(super) chunks: Vec<Chunk>,
}

/// Side table of the `tidings_*` tags in prepared sources, indexed by their first argument.
#[derive(Debug)]
pub(super) enum Item {
    Lit(String),
    At(At),
    Out { at: At, expr: String },
    Include { at: At, params: Option<Vec<(String, Param)>>, body: Prepared },
    Highlight { at: At, lang: String },
}

#[derive(Debug, Clone)]
pub(super) enum Param {
    Str(String),
    Var(String),
    Nil,
}

/// A block opened and not yet closed.
struct Open {
    pub(super) name: &'static str,
    pub(super) at: At,
    pub(super) dropped: bool,
    seen_else: bool,
}

/// The chunks of one text being built.
#[derive(Default)]
struct Emit {
    pub(super) chunks: Vec<Chunk>,
    pub(super) src: String,
    pub(super) fallback: String,
    pub(super) at: Option<At>,
    pub(super) stack: Vec<Open>,
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
pub(super) struct Pre<'a> {
    pub(super) resolver: &'a dyn Resolver,
    pub(super) globals: &'a Object,
    pub(super) lang: Language,
    pub(super) reported_filters: HashSet<String>,
    pub(super) items: Vec<Item>,
    pub(super) problems: Vec<(At, String)>,
    pub(super) include_stack: Vec<String>,
    pub(super) includes: usize,
    /// Include text still allowed to be prepared (the output limit; an include in a loop is prepared once).
    pub(super) include_budget: usize,
}

impl Pre<'_> {
    fn problem(&mut self, at: &At, message: impl Into<String>) {
        self.problems.push((at.clone(), message.into()));
    }

    fn item(&mut self, item: Item) -> usize {
        self.items.push(item);
        self.items.len() - 1
    }

    pub(super) fn prepare(&mut self, s: &Source) -> Prepared {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jekyll::liquid::tests::{Site, jekyll_site, messages, run};
    use crate::jekyll::liquid::*;
    use serde_json::json;

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
    fn expand_renders_link_arguments() {
        let site = Site { links: [("_posts/x.md", "/x/")].into(), ..Site::default() };
        let out = render("{% link _posts/{{ page.f }} %}", &json!({}), &json!({"f": "x.md"}), &site);
        assert_eq!(out.text, "/x/");
        assert!(out.problems.is_empty(), "{:?}", out.problems);
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
    fn syntax_errors_are_local() {
        let out = run("a {{ x y }} b {% if %}c{% endif %} d {% assign = %} e {{ \"ok\" }}");
        assert_eq!(out.text, "a  b c d  e ok");
        assert_eq!(out.problems.len(), 3, "{:?}", out.problems);
        assert_eq!((out.problems[0].line, out.problems[0].column), (1, 3));
        assert!(out.problems.iter().all(|p| p.message.starts_with("invalid Liquid")), "{:?}", out.problems);
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
    fn includes_in_loops_with_dynamic_names_and_quoted_capture() {
        let site = Site { includes: [("i.html", "[{{ include.v }}{{ include.none }}]")].into(), ..Site::default() };
        let page = json!({"list": [1, 2], "inc": "i.html"});
        let body = "{% for x in page.list %}{% include i.html v=x %}{% endfor %}{% include {{ page.inc }} v=\"s\" %}\
                    {% capture \"q\" %}c{% endcapture %}{{ q }}";
        let out = render(body, &json!({}), &page, &site);
        assert_eq!(out.text, "[1][2][s]c");
        assert!(out.problems.is_empty(), "{:?}", out.problems);
    }
}

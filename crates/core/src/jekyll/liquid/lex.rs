//! Lexing a body the way Liquid 4 tokenizes it (`{%.*?%}|{{.*?}}?`), with `raw`, `comment` and whitespace control.

use std::collections::HashMap;

#[derive(Debug)]
pub(super) enum Tok<'s> {
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
    pub(super) src: &'s str,
    none_from: HashMap<&'static str, usize>,
}

impl<'s> Finder<'s> {
    pub(super) fn find(&mut self, from: usize, pat: &'static str) -> Option<usize> {
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

pub(super) fn lex<'s>(src: &'s str, bad: &mut Vec<(usize, String)>) -> Vec<Tok<'s>> {
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

pub(super) fn is_ruby_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{b}' | '\u{c}' | '\0')
}

/// `{%-` strips the whitespace before the tag, `-%}` the whitespace after it (text nodes only, as Liquid 4).
pub(super) fn apply_trim(src: &str, toks: &mut [Tok]) {
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

#[cfg(test)]
mod tests {
    use crate::jekyll::liquid::tests::{check, run};

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
    fn unterminated_markup_is_removed() {
        let out = run("a {{ b\n c {% d\n e {{ f } g");
        assert_eq!(out.text, "a  b\n c  d\n e  f } g");
        assert_eq!(out.problems.len(), 3, "{:?}", out.problems);
        let out = run("x {% raw %} {{ y");
        assert_eq!(out.text, "x  {{ y");
        assert_eq!(out.problems.len(), 1);
    }

    #[test]
    fn many_unclosed_tags_are_linear() {
        let body = "{% x ".repeat(20_000) + &"{{ y ".repeat(20_000);
        let out = run(&body);
        assert!(!out.text.contains("{%") && !out.text.contains("{{"));
        assert_eq!(out.problems.len(), 40_000);
    }
}

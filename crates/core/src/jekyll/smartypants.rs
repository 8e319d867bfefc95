//! kramdown's SmartyPants span parser (kramdown 2.4.0, behind Jekyll's `smartify`), ported rule by rule for entry
//! titles: curly quotes by context, `---` → —, `--` → –, `...` → …, `<<`/`>>` → « », entities decoded (so `&#39;`
//! stays a straight `'`), span HTML tags dropped.

use unicode_normalization::char::is_combining_mark;

use crate::text::{Entities, Numeric, entity_at};

/// `smartify | strip_html` of `raw` as plain text (whitespace as it was, plus kramdown's final `\n`).
pub fn plain_text(raw: &str) -> String {
    let source = raw.replace("\r\n", "\n").replace('\r', "\n");
    let mut chars: Vec<char> = source.strip_suffix('\n').unwrap_or(&source).chars().collect();
    chars.push('\n');
    let mut smarty = SmartyPants { s: &chars, pos: 0, out: String::with_capacity(raw.len()), depth: 0 };
    smarty.spans(None);
    smarty.out
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
        // A reference is ASCII: the characters its syntax allows after `&`, and the `;` that ends it.
        let mut window: String = std::iter::once('&')
            .chain(self.s[p + 1..].iter().copied().take_while(|c| c.is_ascii_alphanumeric() || "_.:-#".contains(*c)))
            .collect();
        if self.at(p + window.len()) == Some(';') {
            window.push(';');
        }
        let Some((len, decoded)) = entity_at(&window, &KRAMDOWN_REFERENCES) else {
            return false;
        };
        let end = p + len;
        match decoded {
            Some(c) => self.out.push(c),
            None => self.out.extend(&self.s[p..end]),
        }
        self.pos = end;
        true
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

/// kramdown's reading of character references (`parse_html_entity`): its syntax, numbers and names; a reference
/// it does not know stays as written.
const KRAMDOWN_REFERENCES: Entities = Entities { named: named_entity, numeric: Numeric::Kramdown, strict: false };

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

/// Ruby's `\s`: ASCII whitespace only, vertical tab included.
pub(super) fn is_ruby_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0B' | '\x0C' | '\r')
}

#[cfg(test)]
mod tests {
    use crate::jekyll::url::title_text;

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

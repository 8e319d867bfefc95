//! The renderables of prepared markup: `{{ }}` output, literal text, positions, `include` and `highlight`.

use std::io::Write;
use std::sync::{Arc, Mutex};

use liquid_core::parser::{BlockReflection, FilterChain, ParseBlock, ParseTag, TagBlock, TagReflection, TagTokenIter};
use liquid_core::runtime::{StackFrame, Variable};
use liquid_core::{Error, Language, Object, Renderable, Runtime, Value, ValueCow, ValueView};

use super::guard::{brief, parse_guarded, snippet};
use super::limits::{Lenient, State, aborted, charge, enter, io_error, note};
use super::placeholder;
use super::position::At;
use super::prepare::{Chunk, Item, Param, Prepared};

/// The `tidings_*` tags that stand for prepared items.
#[derive(Clone, Copy, Debug)]
pub(super) enum Kind {
    Out,
    Lit,
    At,
    Include,
}

impl Kind {
    pub(super) fn name(self) -> &'static str {
        match self {
            Kind::Out => "tidings_out",
            Kind::Lit => "tidings_lit",
            Kind::At => "tidings_at",
            Kind::Include => "tidings_include",
        }
    }
}

/// What the placeholder tags share: the items, and problems found while parsing include bodies.
pub(super) struct Shared {
    pub(super) items: Vec<Item>,
    pub(super) notes: Mutex<Vec<(At, String)>>,
}

#[derive(Clone)]
pub(super) struct Placeholder {
    pub(super) kind: Kind,
    pub(super) shared: Arc<Shared>,
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
    pub(super) at: At,
    pub(super) expr: String,
    pub(super) chain: FilterChain,
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
struct LitRender(pub(super) String);

impl Renderable for LitRender {
    fn render_to(&self, writer: &mut dyn Write, runtime: &dyn Runtime) -> liquid_core::Result<()> {
        charge(runtime, self.0.len())?;
        writer.write_all(self.0.as_bytes()).map_err(io_error)
    }
}

/// Marks the position of the standard tag that follows, for the problems it may raise.
#[derive(Debug)]
struct AtRender(pub(super) At);

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
    pub(super) at: At,
    pub(super) params: Option<Vec<(String, IncludeParam)>>,
    pub(super) body: Vec<Box<dyn Renderable>>,
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
pub(super) struct HighlightBlock {
    pub(super) shared: Arc<Shared>,
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
    pub(super) at: At,
    pub(super) lang: String,
    pub(super) body: Vec<Box<dyn Renderable>>,
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

/// The renderables of a prepared include body; parts that fail to parse become their text.
pub(super) fn build(prepared: &Prepared, lang: &Language, shared: &Shared) -> Vec<Box<dyn Renderable>> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jekyll::liquid::language::BASE;
    use crate::jekyll::liquid::position::Where;
    use crate::jekyll::liquid::tests::run;
    use liquid_core::Runtime;
    use liquid_core::runtime::RuntimeBuilder;
    use std::sync::{Arc, Mutex};

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
}

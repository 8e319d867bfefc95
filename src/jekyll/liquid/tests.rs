//! Rendering tests: bodies in, text and problems out.

use super::filters::slugify;
use super::guard::{QUIET, caught};
use super::metered::{Split, Uniq, uniq_linear};
use super::position::Where;
use super::prepare::Prepared;
use super::tags::build;
use super::*;
use liquid_core::ValueView;
use liquid_lib::stdlib;
use serde_json::json;
use std::collections::HashMap;
use std::time::Instant;

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
        links: [("_posts/2017-01-18-jekyll-3-4-0-released.markdown", "/news/2017/01/18/jekyll-3-4-0-released/")].into(),
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
    assert_eq!(messages(&out), ["1:13: `{% link _docs/history.md %}`: no such file in the site; rendered as empty"]);
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
    let out = run("{% if true %}a{% for i in (1..2) %}{{ i }}{% endif %} b {% endfor %} {% else %} {% if false %}x");
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
    let site = json!({"url": "https://example.com", "baseurl": "/my project/", "time": "2024-05-06 07:08:09 +0200"});
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
    let body = "{% assign x = \"ab\" %}{% for i in (1..60) %}{% assign x = x | append: x %}{% endfor %}{{ x | size }}";
    let out = run(body);
    assert_eq!(out.problems.len(), 1, "{:?}", out.problems);
    assert!(out.problems[0].message.contains("limit"), "{:?}", out.problems);
    let body = "{% for a in (1..1000) %}{% for b in (1..1000) %}{% endfor %}{% endfor %}done";
    let out = run(body);
    assert_eq!(out.text, "done");
    assert!(out.problems[0].message.contains("100000"), "{:?}", out.problems);
    let body =
        "{% capture x %}ab{% endcapture %}{% for i in (1..60) %}{% capture x %}{{x}}{{x}}{% endcapture %}{% endfor %}";
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

const UNIQ_POST: &str = include_str!("../../../tests/data/hostile/liquid/_posts/2024-01-01-uniq.md");

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

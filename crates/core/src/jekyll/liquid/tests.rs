//! Rendering tests of whole bodies, and the helpers the other modules' tests share.

use super::*;
use serde_json::json;
use std::collections::HashMap;
use std::time::Instant;

/// A site for [`Resolver`]: its posts, linkable files and includes by name.
#[derive(Default)]
pub(super) struct Site {
    pub(super) posts: HashMap<&'static str, &'static str>,
    pub(super) links: HashMap<&'static str, &'static str>,
    pub(super) includes: HashMap<&'static str, &'static str>,
}

impl Resolver for Site {
    fn post_url(&self, name: &str) -> Option<String> {
        self.posts.get(name).map(|s| s.to_string())
    }
    fn link(&self, path: &str) -> Option<String> {
        self.links.get(path).map(|s| s.to_string())
    }
    fn include(&self, name: &str) -> Result<String, IncludeError> {
        self.includes.get(name).map(|s| s.to_string()).ok_or_else(|| IncludeError::Missing { name: name.to_owned() })
    }
}

/// jekyllrb.com's `site` values.
pub(super) fn jekyll_site() -> serde_json::Value {
    json!({"url": "https://jekyllrb.com", "repository": "https://github.com/jekyll/jekyll", "baseurl": ""})
}

/// Renders `body` for jekyllrb.com with an empty page and site.
pub(super) fn run(body: &str) -> Output {
    render(body, &jekyll_site(), &json!({}), &Site::default())
}

/// Asserts that `body` renders as `expected` without problems.
pub(super) fn check(body: &str, expected: &str) {
    let out = run(body);
    assert_eq!(out.text, expected, "problems: {:?}", out.problems);
    assert!(out.problems.is_empty(), "{:?}", out.problems);
}

/// The problems as `line:column: message`.
pub(super) fn messages(out: &Output) -> Vec<String> {
    out.problems.iter().map(|p| format!("{}:{}: {}", p.line, p.column, p.message)).collect()
}

#[test]
fn body_without_liquid_is_returned_unchanged() {
    assert!(!has_liquid("a { b } %} }}"));
    assert!(has_liquid("x {{ y"));
    assert!(has_liquid("x {% y"));
    check("plain { text } here", "plain { text } here");
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
fn liquid_errors_at_render_become_problems() {
    let out = run("a{{ 1 | divided_by: 0 }}b{% assign y = \"x\" | plus: \"z\" %}c{{ y }}");
    assert!(out.text.starts_with('a') && out.text.contains('b') && out.text.contains('c'), "{}", out.text);
    assert!(!out.problems.is_empty());
    assert_eq!((out.problems[0].line, out.problems[0].column), (1, 2));
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

/// Renders `body` on a thread of its own and waits for it at most 20 s: a render that would take minutes (the
/// regression these tests guard against) fails the test instead of hanging it.
pub(super) fn run_bounded(body: String, deadline: Option<Instant>) -> Output {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(render_until(&body, &jekyll_site(), &json!({}), &Site::default(), deadline));
    });
    rx.recv_timeout(std::time::Duration::from_secs(20)).expect("the render returns within 20 s")
}

/// The body of a fixture post (after its front matter).
pub(super) fn fixture_body(text: &str) -> String {
    text.splitn(3, "---\n").nth(2).expect("front matter").to_owned()
}

//! Expanding permalink patterns such as Jekyll's `/:categories/:year/:month/:day/:title.html`.

use chrono::{DateTime, Datelike, FixedOffset, Timelike};

/// What a pattern's placeholders are filled from.
pub struct Fields<'a> {
    /// The post's date in the site zone.
    pub date: DateTime<FixedOffset>,
    /// Category slugs, in order.
    pub categories: &'a [String],
    /// The slug from the file name (case kept), e.g. `this-is-operations`.
    pub title: &'a str,
}

/// The pattern behind a Jekyll style name, or the pattern itself.
fn pattern_for(style: &str) -> &str {
    match style {
        "date" => "/:categories/:year/:month/:day/:title:output_ext",
        "pretty" => "/:categories/:year/:month/:day/:title/",
        "ordinal" => "/:categories/:year/:y_day/:title:output_ext",
        "none" => "/:categories/:title:output_ext",
        other => other,
    }
}

/// Expands `pattern` (a template or a style name) into a URL path that starts with `/`.
/// Unknown placeholders are kept as written.
pub fn expand(pattern: &str, fields: &Fields) -> String {
    let pattern = pattern_for(pattern.trim());
    let mut out = String::with_capacity(pattern.len() + 32);
    let mut rest = pattern;
    while let Some(i) = rest.find(':') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let name_len = after.find(|c: char| !(c.is_ascii_lowercase() || c == '_')).unwrap_or(after.len());
        let name = &after[..name_len];
        match value(name, fields) {
            Some(v) => out.push_str(&v),
            None => {
                out.push(':');
                out.push_str(name);
            }
        }
        rest = &after[name_len..];
    }
    out.push_str(rest);
    tidy(&out)
}

fn value(name: &str, f: &Fields) -> Option<String> {
    let d = f.date;
    Some(match name {
        "year" => format!("{:04}", d.year()),
        "short_year" => format!("{:02}", d.year() % 100),
        "month" => format!("{:02}", d.month()),
        "i_month" => d.month().to_string(),
        "day" => format!("{:02}", d.day()),
        "i_day" => d.day().to_string(),
        "y_day" => format!("{:03}", d.ordinal()),
        "hour" => format!("{:02}", d.hour()),
        "minute" => format!("{:02}", d.minute()),
        "second" => format!("{:02}", d.second()),
        "title" => f.title.to_owned(),
        "slug" => crate::text::slugify(f.title),
        "categories" => f.categories.join("/"),
        "output_ext" => ".html".to_owned(),
        _ => return None,
    })
}

/// A leading `/`, no `//` runs, no `./` or `..` segments.
fn tidy(path: &str) -> String {
    let mut out = String::from("/");
    let trailing = path.ends_with('/');
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty() && *s != "." && *s != "..").collect();
    out.push_str(&segments.join("/"));
    if trailing && !segments.is_empty() {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pattern: &str, categories: &[&str], expected: &str) {
        let categories: Vec<String> = categories.iter().map(|s| s.to_string()).collect();
        let date = DateTime::parse_from_rfc3339("2016-02-03T04:05:06+00:00").unwrap();
        let fields = Fields { date, categories: &categories, title: "The_Placeholder" };
        assert_eq!(expand(pattern, &fields), expected);
    }

    #[test]
    fn jekyll_styles_and_placeholders() {
        check("date", &["ops"], "/ops/2016/02/03/The_Placeholder.html");
        check("date", &[], "/2016/02/03/The_Placeholder.html");
        check("pretty", &["a", "b"], "/a/b/2016/02/03/The_Placeholder/");
        check("/:categories/:year/:month/:day/:title.html", &[], "/2016/02/03/The_Placeholder.html");
        check("/blog/:i_month/:i_day/:slug/", &[], "/blog/2/3/the-placeholder/");
        check("/:year/:unknown/x", &[], "/2016/:unknown/x");
        check("none", &[], "/The_Placeholder.html");
    }
}

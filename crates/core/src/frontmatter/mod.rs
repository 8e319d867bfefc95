//! Splitting a post into front matter and body, and reading the front matter into its raw
//! fields: the fast reader ([`flat`]) for flat front matter, serde-saphyr for the rest. The
//! fields are in [`types`]. Pure: no file is read here.

mod flat;
pub mod types;

use std::path::Path;

pub use types::{AuthorRef, Authors, Image, Many, RawFrontMatter, Text};

use crate::diagnostic::Diagnostic;
use crate::yaml;

/// Largest front matter read, in bytes: a post whose closing `---` is missing should not make
/// the YAML parser read megabytes of Markdown.
pub const MAX_FRONT_MATTER_BYTES: usize = 64 * 1024;

/// A post's text cut in two.
#[derive(Debug, PartialEq, Eq)]
pub struct Split<'a> {
    /// The YAML between the `---` lines.
    pub yaml: &'a str,
    /// Everything after the closing line.
    pub body: &'a str,
}

/// Cuts `text` into front matter and body. The front matter must begin at the first line
/// with `---` and end at a line `---` or `...`.
pub fn split<'a>(text: &'a str, path: &Path) -> Result<Split<'a>, Diagnostic> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = crate::text::lines_inclusive(text);
    let first = lines.next().unwrap_or("");
    if first.trim_end() != "---" {
        return Err(Diagnostic::error(
            path,
            Some(1),
            Some(1),
            "no front matter: the file must begin with a line `---`, then YAML such as `title: …`, then `---`",
        ));
    }
    let yaml_start = first.len();
    let mut offset = yaml_start;
    for line in lines {
        let trimmed = line.trim_end();
        if trimmed == "---" || trimmed == "..." {
            return Ok(Split { yaml: &text[yaml_start..offset], body: &text[offset + line.len()..] });
        }
        offset += line.len();
    }
    Err(Diagnostic::error(
        path,
        Some(1),
        Some(1),
        "front matter is not closed: add a line `---` after the last front-matter key",
    ))
}

/// Rejects front matter too big to be meant as such.
pub fn check_size(split: &Split, path: &Path) -> Result<(), Diagnostic> {
    if split.yaml.len() > MAX_FRONT_MATTER_BYTES {
        return Err(Diagnostic::error(
            path,
            Some(1),
            Some(1),
            format!(
                "front matter is {} bytes, over the {}-byte limit: move long text into the body",
                split.yaml.len(),
                MAX_FRONT_MATTER_BYTES
            ),
        ));
    }
    Ok(())
}

/// Keys that are likely misspellings of known ones, with the key meant.
const LIKELY_TYPOS: &[(&str, &str)] = &[
    ("categroy", "category"),
    ("catagory", "category"),
    ("categorie", "category"),
    ("catagories", "categories"),
    ("categores", "categories"),
    ("tittle", "title"),
    ("titel", "title"),
    ("autor", "author"),
    ("auther", "author"),
    ("athor", "author"),
    ("tag_list", "tags"),
    ("permlink", "permalink"),
    ("perma_link", "permalink"),
    ("summery", "summary"),
    ("publised", "published"),
    ("dat", "date"),
    ("imgae", "image"),
];

/// Parses the front matter YAML (which starts on file line 2) into raw fields, plus a
/// warning for each key that looks like a misspelling of one tidings understands.
pub fn parse(yaml_text: &str, path: &Path) -> Result<(RawFrontMatter, Vec<Diagnostic>), Diagnostic> {
    if yaml_text.trim().is_empty() {
        return Ok((RawFrontMatter::default(), Vec::new()));
    }
    // Most front matter is flat `key: value` lines, read without the YAML parser.
    let raw = match flat::fast(yaml_text) {
        Some(raw) => raw,
        None => yaml::front_matter_from_str(yaml_text, path)?,
    };
    let mut warnings = Vec::new();
    for (number, line) in crate::text::lines(yaml_text).enumerate() {
        let Some((key, _)) = line.split_once(':') else { continue };
        if key.starts_with(char::is_whitespace) {
            continue;
        }
        let key = key.trim();
        if let Some((typo, meant)) = LIKELY_TYPOS.iter().find(|(typo, _)| *typo == key) {
            warnings.push(Diagnostic::warning(
                path,
                Some(number as u32 + 2),
                Some(1),
                format!("unknown key `{typo}`; did you mean `{meant}`?"),
            ));
        }
    }
    Ok((raw, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("a.md")
    }

    #[test]
    fn splits_front_matter_from_body() {
        assert_eq!(split("---\ntitle: x\n---\nbody\n", p()).unwrap(), Split { yaml: "title: x\n", body: "body\n" });
        assert_eq!(split("\u{feff}---\r\na: 1\r\n...\r\nb", p()).unwrap(), Split { yaml: "a: 1\r\n", body: "b" });
        assert_eq!(split("---\n---\n", p()).unwrap(), Split { yaml: "", body: "" });
    }

    #[test]
    fn missing_or_unclosed_front_matter_is_an_error() {
        assert_eq!(
            split("# Hello\n", p()).unwrap_err().to_string(),
            "a.md:1:1: no front matter: the file must begin with a line `---`, then YAML such as `title: …`, then `---`"
        );
        assert_eq!(
            split("---\ntitle: x\n", p()).unwrap_err().to_string(),
            "a.md:1:1: front matter is not closed: add a line `---` after the last front-matter key"
        );
    }

    #[test]
    fn reads_scalars_lists_and_space_separated_strings() {
        let (raw, _) =
            parse("title: 1984\ncategories: one two\ntags: [a, b c]\nimage:\npublished: no\nlayout: post\n", p())
                .unwrap();
        assert_eq!(raw.title.unwrap().value.0, "1984");
        assert_eq!(raw.categories.unwrap().split_words(), ["one", "two"]);
        assert_eq!(raw.tags.unwrap().split_words(), ["a", "b c"]);
        assert!(raw.image.and_then(|i| i.0).is_none());
        assert_eq!(raw.published, Some(false));
    }

    #[test]
    fn a_list_of_one_is_never_split() {
        // Issue 9, finding 4: `tags:\n- how we work` is one tag.
        let (raw, _) = parse("tags:\n- how we work\ncategories: [Main Cat]\n", p()).unwrap();
        assert_eq!(raw.tags.unwrap().split_words(), ["how we work"]);
        assert_eq!(raw.categories.unwrap().split_words(), ["Main Cat"]);
    }

    #[test]
    fn published_as_jekyll_reads_it() {
        let published = |yaml: &str| parse(yaml, p()).unwrap().0.published;
        assert_eq!(published("published:\n"), Some(false));
        assert_eq!(published("published: \"false\"\n"), Some(true));
        assert_eq!(published("published: true\n"), Some(true));
        assert_eq!(published("title: x\n"), None);
    }

    #[test]
    fn positions_are_file_lines() {
        let (raw, _) = parse("layout: post\ntitle: Hello\n", p()).unwrap();
        let title = raw.title.unwrap();
        assert_eq!((title.location.line + 1, title.location.column), (3, 8));
        let err = parse("title: [unclosed\n", p()).unwrap_err();
        assert_eq!(err.path, p());
        assert!(err.line.unwrap() >= 2, "{err}");
    }

    #[test]
    fn warns_about_likely_typos() {
        let (_, warnings) = parse("title: x\ncategroy: Ops\n", p()).unwrap();
        assert_eq!(warnings[0].to_string(), "a.md:3:1: unknown key `categroy`; did you mean `category`?");
    }
}

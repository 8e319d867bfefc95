//! One post's text to a [`Post`], in two steps: [`read_front`] reads and checks the front
//! matter (date, URL, id, terms) without touching the body, so every post's URL is known
//! before any body is rendered; [`render`] then runs Liquid (Jekyll sites) and Markdown.
//! Pure: `shown` is only used in diagnostics, and links and includes come from a [`Resolver`].

use std::path::{Component, Path};
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};
use url::Url;

use super::{Body, Pinned, Post, PostFile, Term, date, text_hash};
use crate::config::{Person, SiteConfig, base_path, bcp47};
use crate::diagnostic::Diagnostic;
use crate::frontmatter::{self, AuthorRef, Many, RawFrontMatter, Text};
use crate::jekyll;
use crate::jekyll::date::Quoting;
use crate::jekyll::liquid::Resolver;
use crate::markdown::{self, NoSeparator};
use crate::text::{slugify, squash_whitespace, xml_safe};
use crate::yaml::Loc;

/// The outcome of parsing one post's text.
#[derive(Debug)]
pub enum Parsed {
    /// A post to serve, with warnings about it.
    Post(Arc<Post>, Vec<Diagnostic>),
    /// A draft or `published: false`: deliberately left out.
    Unpublished,
}

/// A post's front matter read and checked, before its body is rendered.
#[derive(Debug)]
pub struct Front<'a> {
    file: PostFile,
    raw: RawFrontMatter,
    yaml: &'a str,
    body: &'a str,
    /// The file line the body starts on.
    body_line: u32,
    title: String,
    published: DateTime<FixedOffset>,
    updated: Option<DateTime<FixedOffset>>,
    categories: Vec<Term>,
    tags: Vec<Term>,
    authors: Vec<Person>,
    url: Url,
    /// The post's URL as Jekyll's `relative_url` prints it: the base URL's path, then the permalink.
    pub relative_url: String,
    id: String,
    image: Option<String>,
    lang: Option<String>,
    markdown: bool,
    warnings: Vec<Diagnostic>,
}

/// Builds a post from its text alone: the post keeps the text, so its body renders without
/// the file (links to other posts resolve to nothing).
pub fn parse_post(text: &str, file: &PostFile, shown: &Path, config: &SiteConfig) -> Result<Parsed, Diagnostic> {
    match read_front(text, file, shown, config)? {
        Some(front) => {
            let (post, warnings) = front.into_post(text_hash(text), Some(Pinned::Text(Arc::from(text))));
            Ok(Parsed::Post(Arc::new(post), warnings))
        }
        None => Ok(Parsed::Unpublished),
    }
}

/// Renders the body of a post from its text: front matter read again (for the summary, the
/// excerpt separator and Liquid's `page`), then Liquid and Markdown. `None` for a text that
/// is not a published post (any more). Liquid stops shortly after `deadline` (an error, as
/// its other limits on work and memory are).
pub fn render_text(
    text: &str,
    file: &PostFile,
    shown: &Path,
    config: &SiteConfig,
    resolver: &dyn Resolver,
    deadline: Option<std::time::Instant>,
) -> Result<Option<(Body, Vec<Diagnostic>)>, Diagnostic> {
    let Some(front) = read_front(text, file, shown, config)? else { return Ok(None) };
    // Here, not in `read_front`: loading reads front matter only, and a scan of every body
    // at start-up was a good part of its time (BENCHMARKS.md, "Size is free").
    check_nesting(text, front.body, shown)?;
    render(&front, shown, config, resolver, deadline).map(Some)
}

/// Reads and checks a post's front matter: everything but the body. `None` for a post that is
/// deliberately left out (a draft, `published: false`).
pub fn read_front<'a>(
    text: &'a str,
    file: &PostFile,
    shown: &Path,
    config: &SiteConfig,
) -> Result<Option<Front<'a>>, Diagnostic> {
    let jekyll = config.jekyll.as_deref();
    let name = file.relative.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let split = match frontmatter::split(text, shown) {
        Ok(split) => split,
        // A `_posts` file without front matter is still a post in Jekyll, titled from its name.
        Err(_) if jekyll.is_some() && !text.trim_start_matches('\u{feff}').starts_with("---") => {
            frontmatter::Split { yaml: "", body: text }
        }
        Err(d) => return Err(d),
    };
    frontmatter::check_size(&split, shown)?;
    let yaml_lines = crate::text::lines(split.yaml).count() as u32;
    let body_line = if split.yaml.is_empty() && !text.starts_with("---") { 1 } else { yaml_lines + 3 };
    let (mut raw, mut warnings) = frontmatter::parse(split.yaml, shown)?;
    if let Some(jekyll) = jekyll {
        for default in jekyll.defaults_for(&file.relative, file.draft).into_iter().rev() {
            raw = raw.or(&default.values);
        }
    }
    if raw.published == Some(false) || (raw.draft == Some(true) && !file.draft) {
        return Ok(None);
    }
    let at = |loc: &Loc, message: String| crate::yaml::diagnostic_at(shown, 1, loc, message);

    let (name_date, file_slug, ext) = file_name_parts(file, jekyll.is_some(), shown)?;
    // A front-matter `slug` is taken as written, as Jekyll does.
    let slug = raw.slug.as_ref().map(|Text(s)| s.clone()).filter(|s| !s.trim().is_empty()).unwrap_or(file_slug);

    // A Jekyll title is HTML, shown as jekyll-feed shows it; tidings' own titles are plain text.
    let title_text = |t: &str| match jekyll {
        Some(_) => jekyll::url::title_text(&xml_safe(t)),
        None => squash_whitespace(&xml_safe(t)),
    };
    let title = match &raw.title {
        Some(t) if !title_text(&t.value.0).is_empty() => title_text(&t.value.0),
        Some(t) if jekyll.is_none() => return Err(at(&t.location, "`title` is empty: give the post a title".into())),
        None if jekyll.is_none() => {
            return Err(Diagnostic::error(shown, Some(1), Some(1), "no title: add `title: …` to the front matter"));
        }
        // Jekyll titles a post without one from its slug: `no-fm` → `No Fm`.
        _ => title_from_slug(&slug),
    };
    let permalink = raw.permalink.as_ref().map(|p| p.value.0.trim().to_owned()).filter(|p| !p.is_empty());

    let published = published_at(&raw, split.yaml, name_date, permalink.as_deref(), config, shown)?;
    let zone = config.timezone;
    let updated = match raw.updated.as_ref().or(raw.last_modified_at.as_ref()) {
        Some(d) => Some(in_zone(
            date::parse(&d.value.0, zone)
                .ok_or_else(|| at(&d.location, format!("`updated`: {}, found {:?}", date::EXPECTED, d.value.0)))?,
            zone,
        )),
        None => None,
    };

    let category_names = category_names(&file.relative, &raw);
    let categories = dedup_terms(category_names.clone());
    let tags = dedup_terms(match raw.tag.clone().filter(|t| !t.values.is_empty()) {
        Some(tag) => tag.values,
        None => raw.tags.clone().map(Many::split_words).unwrap_or_default(),
    });
    skipped_items(&raw, split.yaml, shown, &mut warnings);
    let author_line = || key_line(split.yaml, &["authors", "author"]);
    let authors = authors(&raw, config, shown, author_line, &mut warnings);

    let markdown = match jekyll {
        Some(j) => j.is_markdown(&ext),
        None => true,
    };
    let output_ext = if markdown || ext.eq_ignore_ascii_case("html") { ".html".to_owned() } else { format!(".{ext}") };
    // Style names (`pretty`, `date` …) mean something only in the site-wide `permalink`.
    let (template, style_allowed) = match permalink.clone().or_else(|| jekyll.and_then(|j| j.posts_permalink.clone())) {
        Some(template) => (template, false),
        None => (config.permalink.clone(), true),
    };
    let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
    let fields = jekyll::url::Fields {
        date: published,
        slug: &slug,
        file_stem: stem,
        categories: &category_names,
        output_ext: &output_ext,
        collection: "posts",
    };
    let permalink_problem = |message: String| match &raw.permalink {
        Some(p) => at(&p.location, message),
        None => Diagnostic::error(shown, Some(1), Some(1), message),
    };
    let path = if style_allowed {
        jekyll::url::expand(&template, &fields)
    } else {
        jekyll::url::expand_template(&template, &fields)
    }
    .map_err(|why| permalink_problem(format!("`permalink`: {why}")))?;
    let url = Url::parse(&format!("{}{path}", config.base_url))
        .map_err(|_| permalink_problem(format!("`permalink`: {path:?} does not make a valid URL")))?;
    let relative_url = format!("{}{path}", base_path(&config.base_url));

    let default_id = match jekyll {
        // jekyll-feed's id: the URL's folder and the slug, so subscribers see no post twice.
        Some(_) => format!("{}{}", config.base_url, jekyll::url::escape_id(&jekyll::url::feed_entry_id(&path, &slug))),
        None => url.to_string(),
    };
    let id = stable_id(&raw, shown, split.yaml, &mut warnings).unwrap_or(default_id);

    let image = raw.image.as_ref().and_then(|i| i.0.as_deref()).and_then(|written| {
        let joined = match jekyll {
            // jekyll-feed's `absolute_url`: the site URL and base path before a root-relative path.
            Some(_) if !written.contains("://") => {
                Url::parse(&format!("{}/{}", config.base_url, written.trim_start_matches('/'))).ok()
            }
            _ => url.join(written).ok(),
        };
        let joined = joined.filter(|u| matches!(u.scheme(), "http" | "https"));
        if joined.is_none() {
            warnings.push(Diagnostic::warning(
                shown,
                key_line(split.yaml, &["image"]),
                Some(1),
                format!("`image`: {written:?} is not a path or an http(s) URL; the post is shown without it"),
            ));
        }
        joined.map(String::from)
    });
    let lang = raw.lang.as_ref().map(|Text(l)| bcp47(l)).filter(|l| *l != config.language);

    let body = if jekyll.is_some() { skip_blank_lines(split.body) } else { split.body };
    let body_line = body_line + split.body[..split.body.len() - body.len()].matches('\n').count() as u32;
    Ok(Some(Front {
        file: file.clone(),
        raw,
        yaml: split.yaml,
        body,
        body_line,
        title,
        published,
        updated,
        categories,
        tags,
        authors,
        url,
        relative_url,
        id,
        image,
        lang,
        markdown,
        warnings,
    }))
}

/// The date, slug and extension in a post's file name: Jekyll's `DATE-SLUG.EXT`, or tidings'
/// looser `YYYY-MM-DD-slug.md` (where the date may be missing).
fn file_name_parts(
    file: &PostFile,
    jekyll: bool,
    shown: &Path,
) -> Result<(Option<NaiveDate>, String, String), Diagnostic> {
    let name = file.relative.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    if jekyll {
        return match jekyll::date::post_file_name(&name) {
            Ok(Some(n)) => Ok((Some(n.date), n.slug.to_owned(), n.ext.to_owned())),
            Ok(None) => {
                let (stem, ext) = name.rsplit_once('.').unwrap_or((&name, ""));
                Ok((None, stem.to_owned(), ext.to_owned()))
            }
            Err(why) => Err(Diagnostic::error(shown, None, None, format!("file name: {why}"))),
        };
    }
    let stem = file.relative.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let ext = file.relative.extension().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(match date::from_file_stem(&stem) {
        Some((day, slug)) => (Some(day), slug.to_owned(), ext),
        None => (None, stem.clone(), ext),
    })
}

/// When a post was published, in the site's zone (where Jekyll shows dates and makes URLs):
/// its `date` (read as Jekyll reads it in a Jekyll site), else its file name's day, else a
/// `/YYYY/MM/DD/` run in its permalink.
fn published_at(
    raw: &RawFrontMatter,
    yaml: &str,
    name_date: Option<NaiveDate>,
    permalink: Option<&str>,
    config: &SiteConfig,
    shown: &Path,
) -> Result<DateTime<FixedOffset>, Diagnostic> {
    let zone = config.timezone;
    let at = |loc: &Loc, message: String| crate::yaml::diagnostic_at(shown, 1, loc, message);
    let published = match &raw.date {
        Some(d) if config.jekyll.is_some() => jekyll::date::parse(&d.value.0, quoting(yaml, &d.location), zone)
            .map_err(|why| at(&d.location, format!("`date`: {why}, found {:?}", d.value.0)))?,
        Some(d) => date::parse(&d.value.0, zone)
            .ok_or_else(|| at(&d.location, format!("`date`: {}, found {:?}", date::EXPECTED, d.value.0)))?,
        None => {
            let day = name_date.or_else(|| permalink.and_then(date::from_permalink)).ok_or_else(|| {
                Diagnostic::error(shown, Some(1), Some(1), "no date: add `date:` or name the file YYYY-MM-DD-slug.md")
            })?;
            date::start_of_day(day, zone).ok_or_else(|| {
                Diagnostic::error(shown, Some(1), Some(1), "no date: the date has no midnight in the site's time zone")
            })?
        }
    };
    Ok(in_zone(published, zone))
}

/// The same instant as seen in `zone`.
fn in_zone(d: DateTime<FixedOffset>, zone: chrono_tz::Tz) -> DateTime<FixedOffset> {
    zone.from_utc_datetime(&d.naive_utc()).fixed_offset()
}

impl Front<'_> {
    /// The post this front matter describes (its body is rendered later, from `pinned` when
    /// given, else from its file), with the warnings about it.
    pub fn into_post(self, hash: u128, pinned: Option<Pinned>) -> (Post, Vec<Diagnostic>) {
        // Exactly sized (a million posts' spare capacity is megabytes), and the id shares the
        // URL's allocation when they are equal.
        let url: Arc<str> = Arc::from(self.url.as_str());
        let id = if self.id == *url { url.clone() } else { Arc::from(self.id) };
        let mut title = self.title;
        title.shrink_to_fit();
        let image = self.image.map(|mut image| {
            image.shrink_to_fit();
            image
        });
        let post = Post {
            source: Arc::from(self.file.relative.as_path()),
            title,
            published: self.published,
            updated: self.updated,
            url,
            id,
            categories: shared(self.categories),
            tags: shared(self.tags),
            authors: shared(self.authors),
            image,
            lang: self.lang.map(String::into_boxed_str),
            hash,
            pinned,
        };
        (post, self.warnings)
    }
}

/// `values` behind `Arc`s, in a list of exactly their number: collecting in place would keep
/// the first list's buffer, sized for the values themselves rather than for pointers.
fn shared<T>(values: Vec<T>) -> Box<[Arc<T>]> {
    let mut out = Vec::with_capacity(values.len());
    out.extend(values.into_iter().map(Arc::new));
    out.into_boxed_slice()
}

/// Renders the body of a post whose front matter was read: Liquid first (Jekyll sites),
/// then Markdown, with the summary. The warnings are the body's own (Liquid's). Liquid
/// stopped by its work or memory limit, or by `deadline`, is an error at the place it
/// stopped ([`jekyll::liquid::Stop::fails_body`]).
pub fn render(
    front: &Front,
    shown: &Path,
    config: &SiteConfig,
    resolver: &dyn Resolver,
    deadline: Option<std::time::Instant>,
) -> Result<(Body, Vec<Diagnostic>), Diagnostic> {
    let mut warnings = Vec::new();
    let raw = &front.raw;
    let mut body = std::borrow::Cow::Borrowed(front.body);
    let mut fragments = Vec::new();
    if let Some(jekyll) = config.jekyll.as_deref()
        && raw.render_with_liquid != Some(false)
        && jekyll::liquid::has_liquid(front.body)
    {
        let page = page_values(front, raw, jekyll, config);
        let out = jekyll::liquid::render_until(front.body, &site_values(jekyll, config), &page, resolver, deadline);
        if let Some((stop, p)) = out.stopped
            && stop.fails_body()
        {
            return Err(Diagnostic::error(shown, Some(front.body_line + p.line - 1), Some(p.column), p.message));
        }
        for problem in out.problems {
            warnings.push(Diagnostic::warning(
                shown,
                Some(front.body_line + problem.line - 1),
                Some(problem.column),
                problem.message,
            ));
        }
        body = std::borrow::Cow::Owned(out.text);
        fragments = out.highlights;
    }
    let summary = [&raw.summary, &raw.excerpt, &raw.description]
        .into_iter()
        .flatten()
        .map(|Text(s)| s.trim())
        .find(|s| !s.is_empty());
    let separator = raw.excerpt_separator.as_deref().unwrap_or(&config.excerpt_separator);
    let source = markdown::Source {
        body: &body,
        markdown: front.markdown,
        summary,
        separator,
        no_separator: if config.jekyll.is_some() { NoSeparator::WholeBody } else { NoSeparator::FirstParagraph },
        fragments: &fragments,
        absolute: config.absolute_links,
    };
    let rendered = markdown::render_source(&source, &front.url);
    // Kept in the cache, weighed by capacity: without the spare room strings grow with.
    let exact = |mut text: String| {
        text.shrink_to_fit();
        text
    };
    let body = Body {
        summary_html: exact(rendered.summary_html),
        summary_text: exact(rendered.summary_text),
        content_html: exact(rendered.content_html),
    };
    Ok((body, warnings))
}

/// Liquid's `site`: `_config.yml`, with the values Jekyll always has.
fn site_values(jekyll: &jekyll::config::JekyllSite, config: &SiteConfig) -> serde_json::Value {
    let mut site = jekyll.site.clone();
    if let Some(map) = site.as_object_mut() {
        for (key, value) in [("baseurl", ""), ("url", ""), ("title", config.title.as_str())] {
            if map.get(key).is_none_or(|v| v.is_null()) {
                map.insert(key.to_owned(), value.into());
            }
        }
    }
    site
}

/// Liquid's `page`: the post's front matter over its defaults, and what Jekyll adds.
fn page_values(
    front: &Front,
    raw: &RawFrontMatter,
    jekyll: &jekyll::config::JekyllSite,
    config: &SiteConfig,
) -> serde_json::Value {
    let mut page = serde_json::Map::new();
    for default in jekyll.defaults_for(&front.file.relative, front.file.draft) {
        if let Some(values) = default.values_json.as_object() {
            page.extend(values.clone());
        }
    }
    // The front matter parsed before, so this cannot fail; an empty page if it ever does.
    let own: serde_json::Value =
        crate::yaml::front_matter_from_str(front.yaml, Path::new("")).unwrap_or(serde_json::Value::Null);
    if let Some(own) = own.as_object() {
        page.extend(own.clone());
    }
    let path = front.relative_url.strip_prefix(base_path(&config.base_url)).unwrap_or(&front.relative_url);
    page.insert("url".to_owned(), path.into());
    page.insert("title".to_owned(), front.title.clone().into());
    page.insert("date".to_owned(), front.published.format("%Y-%m-%d %H:%M:%S %z").to_string().into());
    page.insert("id".to_owned(), front.id.clone().into());
    page.insert("categories".to_owned(), front.categories.iter().map(|t| t.name.clone()).collect::<Vec<_>>().into());
    page.insert("tags".to_owned(), front.tags.iter().map(|t| t.name.clone()).collect::<Vec<_>>().into());
    if let Some(Text(slug)) = &raw.slug {
        page.insert("slug".to_owned(), slug.clone().into());
    }
    serde_json::Value::Object(page)
}

/// Deepest nesting of quotes, lists and HTML elements a post may have. Real posts stay far
/// below it; past it, parsing costs grow with the square of the depth.
pub const MAX_NESTING: usize = 100;

/// Refuses a body (a slice of `text`, the whole file) that nests deeper than [`MAX_NESTING`],
/// before any parser sees it: the post is served without its body, and the problem shown.
fn check_nesting(text: &str, body: &str, shown: &Path) -> Result<(), Diagnostic> {
    let (depth, line) = crate::text::nesting_depth(body);
    if depth <= MAX_NESTING {
        return Ok(());
    }
    let offset = (body.as_ptr() as usize).saturating_sub(text.as_ptr() as usize).min(text.len());
    let lines_before = text[..offset].matches('\n').count();
    Err(Diagnostic::error(
        shown,
        Some((lines_before + line) as u32),
        Some(1),
        format!(
            "quotes, lists and HTML elements nest {depth} deep here; tidings reads at most {MAX_NESTING} levels: \
             flatten them"
        ),
    ))
}

/// Whether the YAML scalar at `loc` was written in quotes (Jekyll reads an unquoted zoneless
/// timestamp as UTC, a quoted one as local time).
fn quoting(yaml: &str, loc: &Loc) -> Quoting {
    let first = yaml
        .lines()
        .nth(loc.line.saturating_sub(1) as usize)
        .and_then(|line| line.chars().nth(loc.column.saturating_sub(1) as usize));
    if matches!(first, Some('"' | '\'')) { Quoting::Quoted } else { Quoting::Plain }
}

/// The id a post asks for: front-matter `id` when it is a URI, else a WordPress `guid` or
/// jekyll-import's `wordpress_url`. Ids that are not URIs are reported and not used.
fn stable_id(raw: &RawFrontMatter, shown: &Path, yaml: &str, warnings: &mut Vec<Diagnostic>) -> Option<String> {
    let is_uri =
        |s: &str| Url::parse(s).is_ok_and(|u| !u.cannot_be_a_base() || u.scheme() == "urn" || u.scheme() == "tag");
    if let Some(id) = &raw.id {
        let value = id.value.0.trim();
        if is_uri(value) {
            return Some(value.to_owned());
        }
        if !value.is_empty() {
            warnings.push(crate::yaml::warning_at(
                shown,
                1,
                &id.location,
                format!(
                    "`id`: {value:?} is not a URI, so it cannot be a feed entry id; the post keeps its default id \
                     (write a URI such as `tag:example.com,2016:{value}` to choose one)"
                ),
            ));
        }
    }
    for (key, value) in [("guid", &raw.guid), ("wordpress_url", &raw.wordpress_url)] {
        let Some(Text(value)) = value else { continue };
        let value = value.trim();
        if is_uri(value) {
            return Some(value.to_owned());
        }
        warnings.push(Diagnostic::warning(
            shown,
            key_line(yaml, &[key]),
            Some(1),
            format!("`{key}`: {value:?} is not a URI; the post keeps its default id"),
        ));
    }
    None
}

/// `no-fm` → `No Fm`: Jekyll's title for a post that has none.
fn title_from_slug(slug: &str) -> String {
    slug.split('-')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map(|c| c.to_uppercase().chain(chars).collect::<String>()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `text` after its leading blank lines: Jekyll's closing `---` swallows them.
fn skip_blank_lines(text: &str) -> &str {
    let mut rest = text;
    while let Some(end) = rest.find('\n') {
        if !rest[..end].trim().is_empty() {
            break;
        }
        rest = &rest[end + 1..];
    }
    if rest.trim().is_empty() { "" } else { rest }
}

/// Jekyll's categories: folders above `_posts`, then `categories` (a string split on spaces),
/// then `category` (never split), exact duplicates removed.
fn category_names(relative: &Path, raw: &RawFrontMatter) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let parts: Vec<&str> = relative
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect();
    if let Some(posts_at) = parts.iter().position(|p| *p == "_posts") {
        names.extend(parts[..posts_at].iter().filter(|p| !p.starts_with('_')).map(|p| p.to_string()));
    }
    names.extend(raw.categories.clone().map(Many::split_words).unwrap_or_default());
    names.extend(raw.category.clone().map(|c| c.values).unwrap_or_default());
    let mut unique: Vec<String> = Vec::new();
    for name in names.into_iter().map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()) {
        if !unique.contains(&name) {
            unique.push(name);
        }
    }
    unique
}

/// Terms without duplicates by slug: `Operations` and `operations` are one category.
fn dedup_terms(names: Vec<String>) -> Vec<Term> {
    let mut out: Vec<Term> = Vec::new();
    for term in names.iter().filter_map(|n| Term::new(n)) {
        if !out.iter().any(|t| t.slug == term.slug) {
            out.push(term);
        }
    }
    out
}

/// Looks authors up in the table; unknown ones are shown as written, with a warning. An
/// author object (`{name: …, uri: …}`) is shown as it says, as jekyll-feed shows it.
fn authors(
    raw: &RawFrontMatter,
    config: &SiteConfig,
    shown: &Path,
    line: impl Fn() -> Option<u32>,
    warnings: &mut Vec<Diagnostic>,
) -> Vec<Person> {
    let mut refs: Vec<AuthorRef> =
        raw.authors.clone().or_else(|| raw.author.clone()).map(|a| a.refs).unwrap_or_default();
    refs.retain(|r| !matches!(r, AuthorRef::Key(k) if k.trim().is_empty()));
    if refs.is_empty() {
        refs.extend(config.default_author.clone().map(AuthorRef::Key));
    }
    let mut out: Vec<Person> = Vec::new();
    for author in refs {
        let person = match author {
            AuthorRef::Key(name) => {
                let name = name.trim();
                match config.authors.get(name) {
                    Some(person) => person.clone(),
                    None => {
                        if !config.authors.is_empty() {
                            warnings.push(Diagnostic::warning(
                                shown,
                                line(),
                                Some(1),
                                format!(
                                    "unknown author `{name}`: add it to {}; shown as written until then",
                                    if config.jekyll.is_some() { "_data/authors.yml" } else { "feeds/authors.yaml" }
                                ),
                            ));
                        }
                        Person { key: slugify(name), name: name.to_owned(), email: None, uri: None }
                    }
                }
            }
            AuthorRef::Object { name: Some(name), email, uri } => {
                let name = name.trim();
                let email = email.filter(|email| {
                    let ok = crate::config::is_email(email);
                    if !ok {
                        warnings.push(Diagnostic::warning(
                            shown,
                            line(),
                            Some(1),
                            format!(
                                "author `{name}`: `email: {email}` is not an e-mail address, so feeds leave it out"
                            ),
                        ));
                    }
                    ok
                });
                Person { key: slugify(name), name: name.to_owned(), email, uri }
            }
            AuthorRef::Object { name: None, .. } => {
                warnings.push(Diagnostic::warning(
                    shown,
                    line(),
                    Some(1),
                    "an author object without `name` is left out: give it `name: …`",
                ));
                continue;
            }
        };
        if !person.key.is_empty() && !out.iter().any(|p| p.key == person.key) {
            out.push(person);
        }
    }
    out
}

/// A warning for list items of `categories`/`tags` that were skipped (`-`, `~`, a map), as
/// Jekyll skips them.
fn skipped_items(raw: &RawFrontMatter, yaml: &str, shown: &Path, warnings: &mut Vec<Diagnostic>) {
    let lists = [("category", &raw.category), ("categories", &raw.categories), ("tags", &raw.tags), ("tag", &raw.tag)];
    for (key, many) in lists {
        if let Some(many) = many.as_ref().filter(|m| m.skipped > 0) {
            warnings.push(Diagnostic::warning(
                shown,
                key_line(yaml, &[key]),
                Some(1),
                format!(
                    "`{key}`: {} empty or nested item(s) skipped, as Jekyll skips them: remove them or give each a name",
                    many.skipped
                ),
            ));
        }
    }
}

/// The file line of a top-level front-matter `key`, for messages about values the YAML
/// parser did not place.
fn key_line(yaml: &str, keys: &[&str]) -> Option<u32> {
    crate::text::lines(yaml)
        .position(|line| keys.iter().any(|k| line.strip_prefix(k).is_some_and(|r| r.trim_start().starts_with(':'))))
        .map(|i| i as u32 + 2)
}

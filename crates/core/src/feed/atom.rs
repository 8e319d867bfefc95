//! Atom 1.0 writer (the `atom_syndication` crate).

use std::collections::HashMap;

use atom_syndication::{Category, Content, Entry, Feed, Link, Person, Text, WriteConfig};

use super::model::{FeedModel, PersonModel};
use super::{DECLARATION, extra_links};

fn person(p: &PersonModel) -> Person {
    Person { name: p.name.clone(), email: p.email.clone(), uri: p.uri.clone(), ..Default::default() }
}

fn link(href: &str, rel: &str, mime_type: &str) -> Link {
    Link { href: href.to_owned(), rel: rel.to_owned(), mime_type: Some(mime_type.to_owned()), ..Default::default() }
}

/// The text of an Atom 1.0 feed.
pub fn write(model: &FeedModel) -> Vec<u8> {
    let entries = model
        .items
        .iter()
        .map(|i| Entry {
            title: Text::plain(i.title.clone()),
            id: i.id.clone(),
            updated: i.updated,
            published: Some(i.published),
            authors: i.authors.iter().map(person).collect(),
            categories: i.categories.iter().map(|c| Category { term: c.clone(), ..Default::default() }).collect(),
            links: std::iter::once(link(&i.url, "alternate", "text/html"))
                .chain(i.image.as_ref().map(|image| Link {
                    href: image.clone(),
                    rel: "enclosure".to_owned(),
                    mime_type: i.image_type().map(str::to_owned),
                    ..Default::default()
                }))
                .collect(),
            // Blank ones are left out ("summary should not be blank"): the alternate link
            // stands for the entry then, as RFC 4287 allows.
            summary: (!i.summary_html.trim().is_empty())
                .then(|| Text { base: i.html_base.clone(), ..Text::html(i.summary_html.clone()) }),
            content: i.content_html.as_ref().filter(|html| !html.trim().is_empty()).map(|html| Content {
                value: Some(html.clone()),
                content_type: Some("html".to_owned()),
                base: i.html_base.clone(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .collect();
    let feed = Feed {
        title: Text::plain(model.title.clone()),
        id: model.pages.first.clone(),
        updated: model.updated,
        authors: vec![person(&model.author)],
        links: [link(&model.self_url, "self", "application/atom+xml"), link(&model.home_url, "alternate", "text/html")]
            .into_iter()
            .chain(extra_links(model).into_iter().map(|(rel, href)| match rel {
                "hub" => Link { href: href.to_owned(), rel: rel.to_owned(), ..Default::default() },
                _ => link(href, rel, "application/atom+xml"),
            }))
            .collect(),
        subtitle: Some(Text::plain(model.description.clone())),
        lang: Some(model.language.clone()),
        entries,
        ..Default::default()
    };
    let mut out = Vec::with_capacity(16 * 1024);
    out.extend_from_slice(DECLARATION.as_bytes());
    let config = WriteConfig { write_document_declaration: false, ..Default::default() };
    // Writing to a Vec cannot fail.
    feed.write_with_config(&mut out, config).expect("writing Atom to memory");
    finish_entries(out, model)
}

/// What the writer crate cannot say about entries, added to its output: `xml:lang` on each
/// entry whose language differs from the feed's, and distinct `updated` texts for entries
/// changed at the same instant. Entries are written in order as `<entry>`, and everything
/// inside them is escaped text, so the n-th `<entry>` tag is the n-th item's.
fn finish_entries(out: Vec<u8>, model: &FeedModel) -> Vec<u8> {
    // The writer produced UTF-8 from UTF-8 strings.
    let text = String::from_utf8(out).expect("Atom writer output is UTF-8");
    let mut pieces = text.split("<entry>");
    let mut result = pieces.next().unwrap_or_default().to_owned();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (n, piece) in pieces.enumerate() {
        match model.items.get(n).and_then(|i| i.lang.as_ref()) {
            Some(lang) => result.push_str(&format!("<entry xml:lang=\"{}\">", crate::text::escape_markup(lang))),
            None => result.push_str("<entry>"),
        }
        result.push_str(&distinct_updated(piece, &mut seen));
    }
    result.into_bytes()
}

/// One entry's text with its `<updated>` written so that no two entries' texts are equal.
/// Posts published at the same instant are common (two posts on one day, without times), and
/// the W3C validator warns when two entries' `updated` texts are equal; `10:00:00.0-07:00` is
/// the same instant as `10:00:00-07:00`, so the n-th repeat gets n zeros of fraction.
fn distinct_updated(entry: &str, seen: &mut HashMap<String, usize>) -> String {
    let (Some(start), Some(end)) = (entry.find("<updated>"), entry.find("</updated>")) else {
        return entry.to_owned();
    };
    let value = &entry[start + "<updated>".len()..end];
    let repeats = seen.entry(value.to_owned()).or_insert(0);
    *repeats += 1;
    if *repeats == 1 || value.len() < 20 || !value.is_char_boundary(19) {
        return entry.to_owned();
    }
    // `YYYY-MM-DDTHH:MM:SS` is 19 characters; a fraction, if any, follows.
    let (seconds, rest) = value.split_at(19);
    let zeros = "0".repeat(*repeats - 1);
    let rewritten = match rest.strip_prefix('.') {
        Some(fraction) => {
            let digits = fraction.find(|c: char| !c.is_ascii_digit()).unwrap_or(fraction.len());
            format!("{seconds}.{}{zeros}{}", &fraction[..digits], &fraction[digits..])
        }
        None => format!("{seconds}.{zeros}{rest}"),
    };
    format!("{}<updated>{rewritten}{}", &entry[..start], &entry[end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_updated_texts_differ_but_mean_the_same_instant() {
        let mut seen = HashMap::new();
        let entry = "<title>a</title><updated>2013-07-25T00:08:38-07:00</updated>";
        assert_eq!(distinct_updated(entry, &mut seen), entry);
        assert_eq!(
            distinct_updated(entry, &mut seen),
            "<title>a</title><updated>2013-07-25T00:08:38.0-07:00</updated>"
        );
        assert_eq!(
            distinct_updated(entry, &mut seen),
            "<title>a</title><updated>2013-07-25T00:08:38.00-07:00</updated>"
        );
        let fraction = "<updated>2020-07-07T00:00:00.5+00:00</updated>";
        distinct_updated(fraction, &mut seen);
        assert_eq!(distinct_updated(fraction, &mut seen), "<updated>2020-07-07T00:00:00.50+00:00</updated>");
        let instant = |t: &str| chrono::DateTime::parse_from_rfc3339(t).unwrap();
        assert_eq!(instant("2013-07-25T00:08:38.00-07:00"), instant("2013-07-25T00:08:38-07:00"));
    }
}

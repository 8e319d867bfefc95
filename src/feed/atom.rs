//! Atom 1.0 writer (the `atom_syndication` crate).

use atom_syndication::{Category, Content, Entry, Feed, Link, Person, Text, WriteConfig};

use super::model::{FeedModel, PersonModel};
use super::{extra_links, xml_prologue};

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
            summary: Some(Text::html(i.summary_html.clone())),
            content: i.content_html.as_ref().map(|html| Content {
                value: Some(html.clone()),
                content_type: Some("html".to_owned()),
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
    out.extend_from_slice(xml_prologue(&model.stylesheet_url).as_bytes());
    let config = WriteConfig { write_document_declaration: false, ..Default::default() };
    // Writing to a Vec cannot fail.
    feed.write_with_config(&mut out, config).expect("writing Atom to memory");
    out
}

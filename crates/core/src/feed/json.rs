//! JSON Feed 1.1 writer (<https://www.jsonfeed.org/version/1.1/>). The wire structs are the
//! only `Serialize` types in the crate.

use serde::Serialize;

use super::model::{FeedModel, PersonModel};

#[derive(Serialize)]
struct Feed<'a> {
    version: &'static str,
    title: &'a str,
    home_page_url: &'a str,
    feed_url: &'a str,
    description: &'a str,
    language: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_url: Option<&'a str>,
    authors: Vec<Author<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hubs: Vec<Hub<'a>>,
    items: Vec<Item<'a>>,
}

#[derive(Serialize)]
struct Author<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
}

#[derive(Serialize)]
struct Hub<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    url: &'a str,
}

#[derive(Serialize)]
struct Item<'a> {
    id: &'a str,
    url: &'a str,
    title: &'a str,
    summary: &'a str,
    content_html: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<&'a str>,
    date_published: String,
    date_modified: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<&'a str>,
    authors: Vec<Author<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<&'a str>,
}

fn author(p: &PersonModel) -> Author<'_> {
    Author { name: &p.name, url: p.uri.as_deref() }
}

/// The text of a JSON Feed 1.1 document.
pub fn write(model: &FeedModel) -> Vec<u8> {
    let feed = Feed {
        version: "https://jsonfeed.org/version/1.1",
        title: &model.title,
        home_page_url: &model.home_url,
        feed_url: &model.self_url,
        description: &model.description,
        language: &model.language,
        next_url: model.pages.next.as_deref(),
        authors: vec![author(&model.author)],
        hubs: model.hubs.iter().map(|url| Hub { kind: "WebSub", url }).collect(),
        items: model
            .items
            .iter()
            .map(|i| Item {
                id: &i.id,
                url: &i.url,
                title: &i.title,
                summary: &i.summary_text,
                content_html: i.content_html.as_deref().unwrap_or(&i.summary_html),
                image: i.image.as_deref(),
                language: i.lang.as_deref(),
                date_published: i.published.to_rfc3339(),
                date_modified: i.updated.to_rfc3339(),
                tags: i.categories.iter().map(String::as_str).collect(),
                authors: i.authors.iter().map(author).collect(),
            })
            .collect(),
    };
    // Serializing plain structs of strings cannot fail.
    let mut out = serde_json::to_vec_pretty(&feed).expect("JSON Feed serializes");
    out.push(b'\n');
    out
}

//! RSS 2.0 writer (the `rss` crate), with `atom:link`, `content:encoded` and `dc:creator`.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};
use rss::extension::atom::{AtomExtension, Link};
use rss::extension::dublincore::DublinCoreExtension;
use rss::extension::syndication::{self, SyndicationExtension, UpdatePeriod};
use rss::extension::{Extension, ExtensionMap};
use rss::{Category, Channel, Guid, Item};

use super::model::{FeedModel, ItemModel, PersonModel};
use super::{DECLARATION, extra_links};

/// The Media RSS namespace, for item images.
const MEDIA_NS: &str = "http://search.yahoo.com/mrss/";

/// `media:content` and `media:thumbnail` for an item's image.
fn media(item: &ItemModel) -> ExtensionMap {
    let Some(image) = &item.image else { return ExtensionMap::default() };
    let element = |name: &str, with_type: bool| {
        let mut attrs = BTreeMap::new();
        attrs.insert("url".to_owned(), image.clone());
        if with_type {
            attrs.insert("medium".to_owned(), "image".to_owned());
            if let Some(mime) = item.image_type() {
                attrs.insert("type".to_owned(), mime.to_owned());
            }
        }
        Extension { name: format!("media:{name}"), value: None, attrs, children: BTreeMap::new() }
    };
    let mut media = BTreeMap::new();
    media.insert("content".to_owned(), vec![element("content", true)]);
    media.insert("thumbnail".to_owned(), vec![element("thumbnail", false)]);
    let mut map = ExtensionMap::default();
    map.insert("media".to_owned(), media);
    map
}

/// The declaration the `rss` crate writes, replaced by ours.
const CRATE_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>";

/// RFC 822 date-time in UTC with a two-digit day and a four-digit year.
fn rfc822(date: DateTime<FixedOffset>) -> String {
    date.to_utc().format("%a, %d %b %Y %H:%M:%S +0000").to_string()
}

/// Copies `xml`, writing `&amp;` and `&lt;` outside CDATA sections as `&#x26;` and `&#x3C;`.
/// The XML means the same; RSS readers that treat plain-text elements as HTML no longer
/// unescape them twice (the feed validator warns about this).
fn numeric_references(xml: &[u8], out: &mut Vec<u8>) {
    const CDATA_START: &[u8] = b"<![CDATA[";
    const CDATA_END: &[u8] = b"]]>";
    let mut rest = xml;
    while !rest.is_empty() {
        if rest.starts_with(CDATA_START) {
            let end = find(rest, CDATA_END).map_or(rest.len(), |i| i + CDATA_END.len());
            out.extend_from_slice(&rest[..end]);
            rest = &rest[end..];
        } else if rest.starts_with(b"&amp;") {
            out.extend_from_slice(b"&#x26;");
            rest = &rest[5..];
        } else if rest.starts_with(b"&lt;") {
            out.extend_from_slice(b"&#x3C;");
            rest = &rest[4..];
        } else {
            let next = rest[1..].iter().position(|&b| b == b'<' || b == b'&').map_or(rest.len(), |i| i + 1);
            out.extend_from_slice(&rest[..next]);
            rest = &rest[next..];
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `email (Name)` for a single author with an e-mail address: what RSS `author` allows.
fn rss_author(authors: &[PersonModel]) -> Option<String> {
    match authors {
        [only] => only.email.as_ref().map(|e| format!("{e} ({})", only.name)),
        _ => None,
    }
}

/// The text of an RSS 2.0 feed.
pub fn write(model: &FeedModel) -> Vec<u8> {
    let items = model
        .items
        .iter()
        .map(|i| Item {
            title: Some(i.title.clone()),
            link: Some(i.url.clone()),
            description: Some(i.summary_html.clone()),
            // RSS `author` must be an e-mail address; `dc:creator` carries names otherwise.
            author: rss_author(&i.authors),
            categories: i.categories.iter().map(|c| Category { name: c.clone(), domain: None }).collect(),
            guid: Some(Guid { value: i.id.clone(), permalink: i.id_is_url }),
            pub_date: Some(rfc822(i.published)),
            content: i.content_html.clone(),
            extensions: media(i),
            dublin_core_ext: rss_author(&i.authors).is_none().then(|| DublinCoreExtension {
                creators: i.authors.iter().map(|a| a.name.clone()).collect(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .collect();
    let date = (!model.items.is_empty()).then(|| rfc822(model.updated));
    let mut links = vec![Link {
        href: model.self_url.clone(),
        rel: "self".to_owned(),
        mime_type: Some("application/rss+xml".to_owned()),
        ..Default::default()
    }];
    for (rel, href) in extra_links(model) {
        let mime_type = (rel != "hub").then(|| "application/rss+xml".to_owned());
        links.push(Link { href: href.to_owned(), rel: rel.to_owned(), mime_type, ..Default::default() });
    }
    let mut namespaces = BTreeMap::new();
    if model.items.iter().any(|i| i.image.is_some()) {
        namespaces.insert("media".to_owned(), MEDIA_NS.to_owned());
    }
    namespaces.insert("sy".to_owned(), syndication::NAMESPACE.to_owned());
    let (period, frequency) = update_schedule(model.max_age_secs);
    let channel = Channel {
        title: model.title.clone(),
        link: model.home_url.clone(),
        description: model.description.clone(),
        language: Some(model.language.clone()),
        pub_date: date.clone(),
        last_build_date: date,
        generator: Some("tidings".to_owned()),
        docs: Some("https://www.rssboard.org/rss-specification".to_owned()),
        atom_ext: Some(AtomExtension { links }),
        // How often to poll, from the freshness the server sends: minutes (RSS 2.0) and the
        // syndication module's period and times per period (what aggregators read).
        ttl: Some(model.max_age_secs.div_ceil(60).max(1).to_string()),
        syndication_ext: Some(SyndicationExtension { period, frequency, base: update_base(model) }),
        namespaces,
        items,
        ..Default::default()
    };
    // Writing to a Vec cannot fail.
    let written = channel.write_to(Vec::with_capacity(16 * 1024)).expect("writing RSS to memory");
    let body = written.strip_prefix(CRATE_DECLARATION.as_bytes()).unwrap_or(&written);
    let mut out = Vec::with_capacity(body.len() + DECLARATION.len());
    out.extend_from_slice(DECLARATION.as_bytes());
    numeric_references(body, &mut out);
    out
}

/// `sy:updateBase`, when the schedule counts from: the feed's newest change (the module's
/// default, 1970, is an "implausible date" to the W3C validator).
fn update_base(model: &FeedModel) -> String {
    if model.items.is_empty() { "2000-01-01T00:00:00+00:00".to_owned() } else { model.updated.to_rfc3339() }
}

/// The syndication module's schedule for a feed fresh for `max_age` seconds: the shortest
/// period at least that long, and how many times per period (at least once).
fn update_schedule(max_age: u64) -> (UpdatePeriod, u32) {
    let periods = [
        (UpdatePeriod::Hourly, 3_600),
        (UpdatePeriod::Daily, 86_400),
        (UpdatePeriod::Weekly, 604_800),
        (UpdatePeriod::Monthly, 2_592_000),
    ];
    let max_age = max_age.max(1);
    for (period, seconds) in periods {
        if max_age <= seconds {
            return (period, u32::try_from(seconds / max_age).unwrap_or(u32::MAX));
        }
    }
    (UpdatePeriod::Yearly, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_follows_max_age() {
        assert_eq!(update_schedule(300), (UpdatePeriod::Hourly, 12));
        assert_eq!(update_schedule(3_600), (UpdatePeriod::Hourly, 1));
        assert_eq!(update_schedule(7_200), (UpdatePeriod::Daily, 12));
        assert_eq!(update_schedule(0), (UpdatePeriod::Hourly, 3_600));
        assert_eq!(update_schedule(100_000_000), (UpdatePeriod::Yearly, 1));
    }

    #[test]
    fn entity_references_become_numeric_outside_cdata_only() {
        let mut out = Vec::new();
        numeric_references(b"<t>a &amp; &lt;b&gt;</t><d><![CDATA[x &amp; &lt;]]></d>&amp;", &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), "<t>a &#x26; &#x3C;b&gt;</t><d><![CDATA[x &amp; &lt;]]></d>&#x26;");
    }
}

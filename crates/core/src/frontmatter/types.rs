//! The raw front-matter fields as YAML says them, and how serde-saphyr reads each; the fast reader
//! ([`super::flat`]) builds the same values.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::yaml::{self, Spanned};

/// A YAML scalar read as text, whatever its type, as written (`title: 1984` is the title
/// "1984", `title: 1.0` "1.0", `title: y` "y", a 30-digit number all its digits).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // serde-saphyr gives a plain scalar's source text to a string target.
        deserializer.deserialize_str(TextVisitor).map(Text)
    }
}

/// A scalar read as text as YAML types it (`7.0` prints `7`): for values inside an untagged
/// enum, whose buffered values keep only their type, not their source text.
struct Inferred(String);

impl<'de> Deserialize<'de> for Inferred {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TextVisitor).map(Inferred)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a single value (text, a number or a date)")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
}

/// One value or a list of them, remembering which: only a single plain string is split on
/// whitespace (Jekyll's rule), never a list, even of one item.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Many {
    /// The values as written.
    pub values: Vec<String>,
    /// True when YAML gave a list.
    pub is_list: bool,
    /// List items skipped as Jekyll skips them: empty (`-`, `~`) or not a single value.
    pub skipped: usize,
}

impl Many {
    fn one(value: String) -> Many {
        Many { values: vec![value], is_list: false, skipped: 0 }
    }

    /// A list of `values`, none skipped.
    pub fn list(values: Vec<String>) -> Many {
        Many { values, is_list: true, skipped: 0 }
    }

    /// Every value, with a single string split on whitespace (Jekyll's rule for
    /// `categories` and `tags`).
    pub fn split_words(self) -> Vec<String> {
        if self.is_list {
            self.values
        } else {
            self.values.iter().flat_map(|v| v.split_whitespace()).map(str::to_owned).collect()
        }
    }
}

impl<'de> Deserialize<'de> for Many {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Item::deserialize(deserializer)? {
            Item::One(value) => Ok(Many::one(value)),
            Item::List { values, skipped } => Ok(Many { values, is_list: true, skipped }),
            Item::Nothing => Ok(Many::default()),
            Item::Map => Err(de::Error::invalid_type(de::Unexpected::Map, &"a value or a list of values")),
        }
    }
}

/// A term value as YAML gives it: one scalar, a list (nested lists flattened and nulls
/// dropped, as Jekyll's `[value].flatten.compact` does, with the items skipped counted), or
/// nothing.
enum Item {
    One(String),
    List { values: Vec<String>, skipped: usize },
    Nothing,
    Map,
}

impl<'de> Deserialize<'de> for Item {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ItemVisitor;
        impl<'de> Visitor<'de> for ItemVisitor {
            type Value = Item;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value or a list of values")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Item, E> {
                Ok(Item::One(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Item, E> {
                Ok(Item::One(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Item, E> {
                Ok(Item::One(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Item, E> {
                Ok(Item::One(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Item, E> {
                Ok(Item::One(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Item, E> {
                Ok(Item::Nothing)
            }
            fn visit_none<E: de::Error>(self) -> Result<Item, E> {
                Ok(Item::Nothing)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Item, D::Error> {
                Item::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Item, A::Error> {
                let (mut values, mut skipped) = (Vec::new(), 0);
                while let Some(item) = seq.next_element::<Item>()? {
                    match item {
                        Item::One(value) => values.push(value),
                        Item::List { values: inner, .. } if !inner.is_empty() => values.extend(inner),
                        Item::List { .. } | Item::Nothing | Item::Map => skipped += 1,
                    }
                }
                Ok(Item::List { values, skipped })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Item, A::Error> {
                while map.next_entry::<de::IgnoredAny, de::IgnoredAny>()?.is_some() {}
                Ok(Item::Map)
            }
        }
        deserializer.deserialize_any(ItemVisitor)
    }
}

/// One author as front matter names them: a key of the authors table (or a name as shown),
/// or an object of its own (`{name: …, email: …, uri: …}`, a form jekyll-feed documents).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthorRef {
    /// A key of the authors table, or a name.
    Key(String),
    /// An author object: its fields, each absent when not a single value.
    Object {
        /// `name`: what readers see.
        name: Option<String>,
        /// `email`.
        email: Option<String>,
        /// `uri`: a home page.
        uri: Option<String>,
    },
}

/// `author:` or `authors:`: one author, or a list of them, each a key or an object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Authors {
    /// The authors as written, empty items left out.
    pub refs: Vec<AuthorRef>,
}

impl From<Many> for Authors {
    fn from(many: Many) -> Authors {
        Authors { refs: many.values.into_iter().map(AuthorRef::Key).collect() }
    }
}

/// One author item: a scalar key, an object, or nothing.
struct AuthorItem(Vec<AuthorRef>);

impl<'de> Deserialize<'de> for AuthorItem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AuthorVisitor;
        impl<'de> Visitor<'de> for AuthorVisitor {
            type Value = Vec<AuthorRef>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an author's key or name, an object with `name`, `email` and `uri`, or a list of them")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(vec![AuthorRef::Key(v.to_owned())])
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(vec![AuthorRef::Key(v.to_string())])
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(vec![AuthorRef::Key(v.to_string())])
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(vec![AuthorRef::Key(v.to_string())])
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(vec![AuthorRef::Key(v.to_string())])
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut refs = Vec::new();
                while let Some(AuthorItem(item)) = seq.next_element::<AuthorItem>()? {
                    refs.extend(item);
                }
                Ok(refs)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let (mut name, mut email, mut uri) = (None, None, None);
                while let Some(key) = map.next_key::<String>()? {
                    let slot = match key.as_str() {
                        "name" => &mut name,
                        "email" => &mut email,
                        "uri" => &mut uri,
                        _ => {
                            map.next_value::<de::IgnoredAny>()?;
                            continue;
                        }
                    };
                    let value = match map.next_value::<Item>()? {
                        Item::One(value) => Some(value),
                        Item::List { values, .. } if values.len() == 1 => values.into_iter().next(),
                        _ => None,
                    };
                    *slot = value.filter(|s| !s.trim().is_empty());
                }
                Ok(vec![AuthorRef::Object { name, email, uri }])
            }
        }
        deserializer.deserialize_any(AuthorVisitor).map(AuthorItem)
    }
}

impl<'de> Deserialize<'de> for Authors {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        AuthorItem::deserialize(deserializer).map(|AuthorItem(refs)| Authors { refs })
    }
}

/// The front-matter keys tidings understands, as YAML gives them. Unknown keys are ignored.
#[derive(Deserialize, Default, Debug, Clone, PartialEq)]
#[serde(default)]
pub struct RawFrontMatter {
    /// Required: the post's title.
    pub title: Option<Spanned<Text>>,
    /// Publication date and time.
    pub date: Option<Spanned<Text>>,
    /// When the post last changed.
    pub updated: Option<Spanned<Text>>,
    /// Jekyll's name for `updated`.
    pub last_modified_at: Option<Spanned<Text>>,
    /// One category, never split on spaces.
    pub category: Option<Many>,
    /// A list, or a space-separated string.
    pub categories: Option<Many>,
    /// A list, or a space-separated string.
    pub tags: Option<Many>,
    /// A single tag; wins over `tags`, as in Jekyll.
    pub tag: Option<Many>,
    /// An authors-table key, a name, or an author object.
    pub author: Option<Authors>,
    /// Several authors.
    pub authors: Option<Authors>,
    /// The post's URL path, or a pattern.
    pub permalink: Option<Spanned<Text>>,
    /// The summary, in Markdown.
    pub summary: Option<Text>,
    /// Jekyll's name for `summary`.
    pub excerpt: Option<Text>,
    /// Another name for `summary`.
    pub description: Option<Text>,
    /// An image path or URL; empty means none.
    pub image: Option<Image>,
    /// `true` keeps the post out unless drafts are on.
    #[serde(deserialize_with = "psych_flag")]
    pub draft: Option<bool>,
    /// `false` (or `no`, `off`) keeps the post out; so does an empty `published:` (as in
    /// Jekyll), while any other text (even a quoted `"false"`) publishes it.
    #[serde(deserialize_with = "published_flag")]
    pub published: Option<bool>,
    /// The post's language.
    pub lang: Option<Text>,
    /// A stable id to use instead of the URL; only a URI is taken.
    pub id: Option<Spanned<Text>>,
    /// Replaces the file-name slug in the URL and the jekyll-feed id.
    pub slug: Option<Text>,
    /// A WordPress post's id as its feeds gave it (`http://example.com/?p=123`).
    pub guid: Option<Text>,
    /// jekyll-import's copy of a WordPress post's `guid`.
    pub wordpress_url: Option<Text>,
    /// Ends the excerpt in this post, beating the site's separator.
    pub excerpt_separator: Option<String>,
    /// `false` shows Liquid markup as written.
    #[serde(deserialize_with = "psych_flag")]
    pub render_with_liquid: Option<bool>,
}

/// `published:` as Jekyll reads it: a boolean as Psych types it, null as false, any other
/// value (even a quoted `"false"`) as true.
fn published_flag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    deserializer.deserialize_any(PsychFlag { null: Some(false), other: Some(true) })
}

/// A flag (`draft`, `render_with_liquid`) as Psych types it; null, other text or a number is
/// no flag at all (`draft: y` is not `true`, so not a draft, as jekyll-feed's
/// `post.draft != true` has it).
fn psych_flag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    deserializer.deserialize_any(PsychFlag { null: None, other: None })
}

/// A boolean as Psych types it (`true`, `yes`, `on` and their opposites, in any case), with
/// what null and any other value give.
#[derive(Clone, Copy)]
struct PsychFlag {
    null: Option<bool>,
    other: Option<bool>,
}

impl<'de> Visitor<'de> for PsychFlag {
    type Value = Option<bool>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("true or false")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Option<bool>, E> {
        Ok(Some(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Option<bool>, E> {
        Ok(self.null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Option<bool>, E> {
        Ok(self.null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<bool>, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<bool>, E> {
        Ok(yaml::psych_bool(v).or(self.other))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Option<bool>, E> {
        Ok(self.other)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Option<bool>, E> {
        Ok(self.other)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Option<bool>, E> {
        Ok(self.other)
    }
}

impl RawFrontMatter {
    /// This front matter with every key it does not set taken from `defaults`.
    pub fn or(self, defaults: &RawFrontMatter) -> RawFrontMatter {
        let d = defaults.clone();
        RawFrontMatter {
            title: self.title.or(d.title),
            date: self.date.or(d.date),
            updated: self.updated.or(d.updated),
            last_modified_at: self.last_modified_at.or(d.last_modified_at),
            category: self.category.or(d.category),
            categories: self.categories.or(d.categories),
            tags: self.tags.or(d.tags),
            tag: self.tag.or(d.tag),
            author: self.author.or(d.author),
            authors: self.authors.or(d.authors),
            permalink: self.permalink.or(d.permalink),
            summary: self.summary.or(d.summary),
            excerpt: self.excerpt.or(d.excerpt),
            description: self.description.or(d.description),
            image: self.image.or(d.image),
            draft: self.draft.or(d.draft),
            published: self.published.or(d.published),
            lang: self.lang.or(d.lang),
            id: self.id.or(d.id),
            slug: self.slug.or(d.slug),
            guid: self.guid.or(d.guid),
            wordpress_url: self.wordpress_url.or(d.wordpress_url),
            excerpt_separator: self.excerpt_separator.or(d.excerpt_separator),
            render_with_liquid: self.render_with_liquid.or(d.render_with_liquid),
        }
    }
}

/// `image:` as a path or URL, or Jekyll-SEO's `{path: …}` table.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Image(pub Option<String>);

impl<'de> Deserialize<'de> for Image {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Url(Inferred),
            Table { path: Option<String>, url: Option<String> },
        }
        Ok(Image(
            match Option::<Raw>::deserialize(deserializer)? {
                Some(Raw::Url(Inferred(s))) => Some(s),
                Some(Raw::Table { path, url }) => path.or(url),
                None => None,
            }
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty()),
        ))
    }
}

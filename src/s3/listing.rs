//! The XML S3 answers with: a ListObjectsV2 page (`ListBucketResult`) and an `Error`. Pure.

/// One object of a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    /// The full key.
    pub key: String,
    /// The `ETag`, quotes removed.
    pub etag: String,
}

/// One page of a listing.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Page {
    /// The objects on this page.
    pub objects: Vec<Listed>,
    /// The continuation token of the next page, when the listing is truncated.
    pub next: Option<String>,
}

/// Why an answer to ListObjectsV2 is not a listing tidings can use.
#[derive(Debug)]
pub enum ListingError {
    /// The body is not UTF-8.
    NotUtf8,
    /// The body is not XML.
    NotXml(roxmltree::Error),
    /// The root element is another (named here) than `ListBucketResult`.
    NotAListing(String),
    /// A `<Contents>` without a `<Key>`.
    NoKey,
    /// A URL-encoded key (as listed) that does not decode to UTF-8.
    KeyNotUtf8(String),
    /// `IsTruncated` without the token of the next page.
    NoContinuationToken,
}

impl std::fmt::Display for ListingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ListingError::NotUtf8 => f.write_str("the listing is not UTF-8"),
            ListingError::NotXml(e) => write!(f, "the listing is not XML: {e}"),
            ListingError::NotAListing(root) => write!(f, "expected a ListBucketResult, got <{root}>"),
            ListingError::NoKey => f.write_str("an object without a <Key>"),
            ListingError::KeyNotUtf8(key) => write!(f, "the listed key {key:?} does not decode to UTF-8"),
            ListingError::NoContinuationToken => f.write_str("a truncated listing without a NextContinuationToken"),
        }
    }
}

impl std::error::Error for ListingError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ListingError::NotXml(e) => Some(e),
            _ => None,
        }
    }
}

/// Reads a `ListBucketResult`. Keys sent with `EncodingType` `url` are decoded (`+` is a space).
pub fn parse(body: &[u8]) -> Result<Page, ListingError> {
    let text = std::str::from_utf8(body).map_err(|_| ListingError::NotUtf8)?;
    let document = roxmltree::Document::parse(text).map_err(ListingError::NotXml)?;
    let root = document.root_element();
    if root.tag_name().name() != "ListBucketResult" {
        return Err(ListingError::NotAListing(root.tag_name().name().to_owned()));
    }
    let child_text = |node: roxmltree::Node, name: &str| -> Option<String> {
        node.children().find(|c| c.tag_name().name() == name).map(|c| c.text().unwrap_or("").to_owned())
    };
    let url_encoded = child_text(root, "EncodingType").is_some_and(|t| t.eq_ignore_ascii_case("url"));
    let mut page = Page::default();
    for contents in root.children().filter(|c| c.tag_name().name() == "Contents") {
        let Some(key) = child_text(contents, "Key") else { return Err(ListingError::NoKey) };
        let key = if url_encoded { url_decode(&key)? } else { key };
        let etag = child_text(contents, "ETag").unwrap_or_default();
        page.objects.push(Listed { key, etag: etag.trim_matches('"').to_owned() });
    }
    if child_text(root, "IsTruncated").is_some_and(|t| t.trim() == "true") {
        match child_text(root, "NextContinuationToken") {
            Some(token) if !token.is_empty() => page.next = Some(token),
            _ => return Err(ListingError::NoContinuationToken),
        }
    }
    Ok(page)
}

/// S3's error code and message, when `body` is an `<Error>` document.
pub fn error(body: &[u8]) -> Option<(String, String)> {
    let document = roxmltree::Document::parse(std::str::from_utf8(body).ok()?).ok()?;
    let root = document.root_element();
    if root.tag_name().name() != "Error" {
        return None;
    }
    let field = |name: &str| {
        root.children().find(|c| c.tag_name().name() == name).and_then(|c| c.text()).unwrap_or("").trim().to_owned()
    };
    let code = field("Code");
    (!code.is_empty()).then(|| (code, field("Message")))
}

/// Undoes S3's `encoding-type=url`: `+` is a space, `%XX` a byte, and the result UTF-8.
fn url_decode(text: &str) -> Result<String, ListingError> {
    let plus = text.replace('+', " ");
    percent_encoding::percent_decode_str(&plus)
        .decode_utf8()
        .map(|decoded| decoded.into_owned())
        .map_err(|_| ListingError::KeyNotUtf8(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(key: &str, etag: &str) -> Listed {
        Listed { key: key.into(), etag: etag.into() }
    }

    #[test]
    fn a_truncated_url_encoded_page() {
        let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>feeds</Name><Prefix>site/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>
  <EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>
  <Contents><Key>site/feed.atom</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified>
    <ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>12</Size><StorageClass>STANDARD</StorageClass></Contents>
  <Contents><Key>site/tags/main+cat/caf%C3%A9%2B.rss</Key><ETag>"abc-2"</ETag><Size>3</Size></Contents>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
</ListBucketResult>"#;
        let page = parse(body.as_bytes()).unwrap();
        assert_eq!(
            page,
            Page {
                objects: vec![
                    listed("site/feed.atom", "9b2cf535f27731c974343645a3985328"),
                    listed("site/tags/main cat/café+.rss", "abc-2"),
                ],
                next: Some("1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=".into()),
            }
        );
    }

    #[test]
    fn a_last_page_with_raw_keys_and_an_empty_bucket() {
        let body = r#"<ListBucketResult><IsTruncated>false</IsTruncated>
            <Contents><Key>a+b.rss</Key><ETag>"x"</ETag></Contents></ListBucketResult>"#;
        assert_eq!(parse(body.as_bytes()).unwrap(), Page { objects: vec![listed("a+b.rss", "x")], next: None });
        let empty = r#"<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>"#;
        assert_eq!(parse(empty.as_bytes()).unwrap(), Page::default());
    }

    #[test]
    fn broken_listings_are_errors() {
        let truncated = parse(b"<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>").unwrap_err();
        assert_eq!(truncated.to_string(), "a truncated listing without a NextContinuationToken");
        let error = parse(b"<Error><Code>NoSuchBucket</Code></Error>").unwrap_err();
        assert_eq!(error.to_string(), "expected a ListBucketResult, got <Error>");
        assert!(matches!(parse(b"not xml"), Err(ListingError::NotXml(_))));
        let key = parse(
            b"<ListBucketResult><EncodingType>url</EncodingType><Contents><Key>%FF</Key></Contents></ListBucketResult>",
        );
        assert_eq!(key.unwrap_err().to_string(), "the listed key \"%FF\" does not decode to UTF-8");
    }

    #[test]
    fn error_documents() {
        let body = b"<?xml version=\"1.0\"?>\n<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>x</BucketName></Error>";
        assert_eq!(error(body), Some(("NoSuchBucket".into(), "The specified bucket does not exist".into())));
        assert_eq!(error(b""), None);
        assert_eq!(error(b"<html>busy</html>"), None);
    }
}

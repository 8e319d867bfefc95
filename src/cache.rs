//! Rendered feeds with their compressed twins and validators, keyed by index generation and
//! feed, so a render made from an old snapshot can never be served for a new one.
//! Concurrent misses for the same feed render (and compress) once; requests never compress.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use moka::future::Cache;

use crate::discovery;
use crate::feed::{self, FeedKey};
use crate::headlines;
use crate::index::Index;

/// Rendered feeds kept at most; each is a few tens of kilobytes (three representations).
pub const DEFAULT_CAPACITY: u64 = 10_000;
/// gzip level: 6 is about twice as fast as 9 on feeds (2.1 vs 4.1 ms for 88 KB) for a body
/// under 1% larger.
const GZIP_LEVEL: u32 = 6;
/// Brotli quality. Measured on a 72 KB feed (BENCHMARKS.md): quality 9 took ~17–24 ms, most of
/// it zeroing the ~11 MiB its encoder allocates per call; quality 5 (with a fitted window and a
/// size hint) takes 1.5 ms for a body 2% larger. Compression sits on the path from a saved post
/// to its new feed, so 5 it is.
const BROTLI_QUALITY: u32 = 5;

/// A content coding a representation is stored in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coding {
    /// Uncompressed.
    Identity,
    /// `Content-Encoding: gzip`.
    Gzip,
    /// `Content-Encoding: br`.
    Brotli,
}

impl Coding {
    /// Every coding, best compression first: the preference when a client accepts several equally.
    pub const PREFERENCE: [Coding; 3] = [Coding::Brotli, Coding::Gzip, Coding::Identity];

    /// The token used in `Accept-Encoding` and `Content-Encoding`.
    pub fn token(self) -> &'static str {
        match self {
            Coding::Identity => "identity",
            Coding::Gzip => "gzip",
            Coding::Brotli => "br",
        }
    }
}

/// One stored form of a document.
#[derive(Debug)]
pub struct Representation {
    /// The bytes as sent.
    pub body: Bytes,
    /// A strong entity tag of this representation, quotes included.
    pub etag: String,
}

/// A document's representations and everything needed to answer (conditional) requests for it.
#[derive(Debug)]
pub struct Rendered {
    /// Uncompressed.
    pub identity: Representation,
    /// gzip-compressed.
    pub gzip: Representation,
    /// Brotli-compressed.
    pub brotli: Representation,
    /// The newest item's last change, to the second.
    pub last_modified: Option<SystemTime>,
    /// The `Content-Type` header value.
    pub media_type: &'static str,
    /// How long rendering and compressing took.
    pub render_time: Duration,
}

impl Rendered {
    /// Compresses `bytes` once into every coding and computes the validators.
    pub fn new(bytes: Vec<u8>, updated: Option<SystemTime>, media_type: &'static str) -> Self {
        let started = std::time::Instant::now();
        let hash = content_hash(&bytes);
        let gzip = gzip(&bytes);
        let brotli = brotli(&bytes);
        Rendered {
            identity: Representation { body: Bytes::from(bytes), etag: format!("\"{hash}\"") },
            gzip: Representation { body: Bytes::from(gzip), etag: format!("\"{hash}-gzip\"") },
            brotli: Representation { body: Bytes::from(brotli), etag: format!("\"{hash}-br\"") },
            last_modified: updated,
            media_type,
            render_time: started.elapsed(),
        }
    }

    /// Wraps a rendered feed.
    pub fn from_feed(output: feed::Output, media_type: &'static str) -> Self {
        Rendered::new(output.bytes, output.updated.map(to_system_time), media_type)
    }

    /// The representation in `coding`.
    pub fn get(&self, coding: Coding) -> &Representation {
        match coding {
            Coding::Identity => &self.identity,
            Coding::Gzip => &self.gzip,
            Coding::Brotli => &self.brotli,
        }
    }

    /// Every representation's entity tag: a validator for any of them means the client
    /// has the current content.
    pub fn etags(&self) -> [&str; 3] {
        [&self.identity.etag, &self.gzip.etag, &self.brotli.etag]
    }
}

/// A hash of content bytes: the same bytes give the same value on every machine.
pub fn content_hash(bytes: &[u8]) -> String {
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(bytes))
}

/// gzip of `bytes`, with no file name or time in the header, so the output is deterministic.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder =
        flate2::write::GzEncoder::new(Vec::with_capacity(bytes.len() / 3), flate2::Compression::new(GZIP_LEVEL));
    // Writing to a Vec cannot fail.
    encoder.write_all(bytes).expect("gzip to memory");
    encoder.finish().expect("gzip to memory")
}

/// Brotli of `bytes`.
pub fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() / 3);
    let params = brotli::enc::BrotliEncoderParams {
        quality: BROTLI_QUALITY as i32,
        // A window just big enough for the body: bigger ones only cost setup time.
        lgwin: (usize::BITS - bytes.len().max(1).saturating_sub(1).leading_zeros()).clamp(16, 22) as i32,
        size_hint: bytes.len(),
        ..Default::default()
    };
    // Reading from a slice and writing to a Vec cannot fail.
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).expect("brotli to memory");
    out
}

/// Something the cache holds: a feed page or a discovery document.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Document {
    /// One page of one feed.
    Feed(FeedKey),
    /// The OPML list of feeds.
    Opml,
    /// The HTML index page.
    Home,
    /// The XSL stylesheet that shows feeds as a web page in browsers.
    Stylesheet,
    /// `/headlines.json` for one feed and limit.
    Headlines(headlines::Request),
    /// The `/embed/…` page for one feed, limit and image choice.
    Embed(headlines::Request),
    /// The `/embed.js` widget.
    EmbedScript,
}

/// The embeddable headlines widget.
const EMBED_JS: &[u8] = include_bytes!("../assets/embed.js");

/// The stylesheet behind the browser view of RSS and Atom feeds.
const FEED_XSL: &[u8] = include_bytes!("../assets/feed.xsl");

impl Document {
    /// Where the static export writes the document, relative to its output folder; `None`
    /// for documents that depend on query parameters (headlines), which need `serve`.
    pub fn export_path(&self) -> Option<String> {
        match self {
            Document::Feed(key) => Some(key.export_path()),
            Document::Opml => Some(discovery::OPML_PATH.trim_start_matches('/').to_owned()),
            Document::Home => Some("index.html".to_owned()),
            Document::Stylesheet => Some("feed.xsl".to_owned()),
            Document::Headlines(_) | Document::Embed(_) | Document::EmbedScript => None,
        }
    }

    /// Renders the document from `index`; `None` when the index has no such feed or page.
    pub fn render(&self, index: &Index) -> Option<Rendered> {
        let started = std::time::Instant::now();
        let updated = index.updated();
        let (bytes, updated, media_type) = match self {
            Document::Feed(key) => {
                let output = feed::render(index, key)?;
                (output.bytes, output.updated, key.format.media_type())
            }
            Document::Opml => (discovery::opml(index), updated, "text/x-opml; charset=utf-8"),
            Document::Home => (discovery::home_page(index), updated, "text/html; charset=utf-8"),
            Document::Stylesheet => (FEED_XSL.to_vec(), None, "text/xsl; charset=utf-8"),
            Document::Headlines(request) => {
                (headlines::json(index, request)?, updated, "application/json; charset=utf-8")
            }
            Document::Embed(request) => (headlines::embed_page(index, request)?, updated, "text/html; charset=utf-8"),
            Document::EmbedScript => (EMBED_JS.to_vec(), None, "text/javascript; charset=utf-8"),
        };
        let mut rendered = Rendered::new(bytes, updated.map(to_system_time), media_type);
        rendered.render_time = started.elapsed();
        Some(rendered)
    }
}

/// A date as the `SystemTime` HTTP dates are made from, to the second (never before 1970).
fn to_system_time(date: chrono::DateTime<chrono::FixedOffset>) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(date.timestamp().max(0) as u64)
}

/// The cache of rendered documents.
#[derive(Clone)]
pub struct FeedCache {
    inner: Cache<(u64, Document), Arc<Rendered>>,
}

/// Whether a lookup was served from the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// Already rendered.
    Hit,
    /// Rendered by this request (or one it waited for).
    Miss,
}

impl FeedCache {
    /// A cache holding up to `capacity` rendered documents.
    pub fn new(capacity: u64) -> Self {
        FeedCache { inner: Cache::builder().max_capacity(capacity).build() }
    }

    /// `document` as rendered from `index`, rendering it on a miss; `None` when the index has
    /// no such feed or page. Misses are never cached, so made-up URLs cannot crowd out real
    /// feeds.
    pub async fn get(&self, index: &Arc<Index>, document: &Document) -> Option<(Arc<Rendered>, Lookup)> {
        let entry = self
            .inner
            .entry((index.generation, document.clone()))
            .or_optionally_insert_with(async { document.render(index).map(Arc::new) })
            .await?;
        let lookup = if entry.is_fresh() { Lookup::Miss } else { Lookup::Hit };
        Some((entry.into_value(), lookup))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn representations_decode_to_the_same_bytes_and_have_distinct_tags() {
        let text = b"<feed>hello hello hello</feed>".repeat(50);
        let rendered = Rendered::new(text.clone(), None, "application/atom+xml");
        let mut unzipped = Vec::new();
        flate2::read::GzDecoder::new(&rendered.gzip.body[..]).read_to_end(&mut unzipped).unwrap();
        assert_eq!(unzipped, text);
        let mut unbrotli = Vec::new();
        brotli::BrotliDecompress(&mut &rendered.brotli.body[..], &mut unbrotli).unwrap();
        assert_eq!(unbrotli, text);
        let [a, b, c] = rendered.etags();
        assert!(a != b && b != c && a != c);
        assert_eq!(Rendered::new(text, None, "x").gzip.body, rendered.gzip.body, "compression is deterministic");
    }
}

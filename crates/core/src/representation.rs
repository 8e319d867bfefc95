//! A document's bytes as they are served: the identity bytes with their compressed twins
//! (gzip, Brotli: each made the first time a client asks for it), an entity tag per coding,
//! and the headers every response of it carries. Knows no document, no index and no cache.

use std::io::Write;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use bytes::Bytes;

use crate::store::Weighed;

/// gzip level: 6 is about twice as fast as 9 on feeds (2.1 vs 4.1 ms for 88 KB) for a body
/// under 1% larger.
const GZIP_LEVEL: u32 = 6;
/// Brotli quality. Measured on a 72 KB feed (BENCHMARKS.md): quality 9 took ~17–24 ms, most of
/// it zeroing the ~11 MiB its encoder allocates per call; quality 5 (with a fitted window and a
/// size hint) takes 1.5 ms for a body 2% larger. Compression sits on the path from a saved post
/// to its new feed, so 5 it is.
pub const BROTLI_QUALITY: u32 = 5;

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

/// One form of a document: its validator at once, its bytes once made. The identity form
/// is made with the document; a compressed one the first time a client asks for it.
#[derive(Debug)]
pub struct Representation {
    body: OnceLock<Bytes>,
    /// A strong entity tag of this representation, quotes included.
    pub etag: String,
    /// The same, as the `ETag` header sends it.
    pub etag_value: http::HeaderValue,
}

impl Representation {
    fn new(body: Option<Vec<u8>>, etag: String) -> Representation {
        // Hex digits and quotes: always a valid header value.
        let etag_value = http::HeaderValue::from_str(&etag).unwrap_or(http::HeaderValue::from_static("\"\""));
        let made = OnceLock::new();
        if let Some(body) = body {
            let _ = made.set(exact(body));
        }
        Representation { body: made, etag, etag_value }
    }

    /// The bytes as sent, when they have been made.
    pub fn ready(&self) -> Option<&Bytes> {
        self.body.get()
    }
}

/// A document's representations and everything needed to answer (conditional) requests for it.
#[derive(Debug)]
pub struct Rendered {
    /// Uncompressed.
    pub identity: Representation,
    /// gzip-compressed, made when first asked for.
    pub gzip: Representation,
    /// Brotli-compressed, made when first asked for.
    pub brotli: Representation,
    /// The newest item's last change, to the second.
    pub last_modified: Option<SystemTime>,
    /// The same, as the `Last-Modified` header sends it.
    pub last_modified_value: Option<http::HeaderValue>,
    /// The `Cache-Control` header value.
    pub cache_control: http::HeaderValue,
    /// The `Content-Type` header value.
    pub media_type: &'static str,
    /// How long rendering took (compressing comes later, when a client asks for it).
    pub render_time: Duration,
    /// False when some post's body was missing (not ready in time): served, never kept.
    pub complete: bool,
    /// The fingerprint the store keeps it under, if it is kept there.
    pub fingerprint: Option<u128>,
}

impl Weighed for Rendered {
    /// Bytes held on the heap: the representations made so far.
    fn heap_bytes(&self) -> usize {
        [&self.identity, &self.gzip, &self.brotli].iter().map(|r| r.ready().map_or(0, Bytes::len) + r.etag.len()).sum()
    }
}

impl Rendered {
    /// The document's bytes with the validators of every coding; the compressed twins are
    /// made by [`Rendered::body`] when first asked for.
    pub fn new(bytes: Vec<u8>, updated: Option<SystemTime>, media_type: &'static str) -> Self {
        let started = std::time::Instant::now();
        let hash = content_hash(&bytes);
        Rendered {
            gzip: Representation::new(None, format!("\"{hash}-gzip\"")),
            brotli: Representation::new(None, format!("\"{hash}-br\"")),
            identity: Representation::new(Some(bytes), format!("\"{hash}\"")),
            last_modified: updated,
            last_modified_value: updated.and_then(|at| http::HeaderValue::from_str(&httpdate::fmt_http_date(at)).ok()),
            cache_control: http::HeaderValue::from_static("public, max-age=300"),
            media_type,
            render_time: started.elapsed(),
            complete: true,
            fingerprint: None,
        }
    }

    /// The representation in `coding`.
    pub fn get(&self, coding: Coding) -> &Representation {
        match coding {
            Coding::Identity => &self.identity,
            Coding::Gzip => &self.gzip,
            Coding::Brotli => &self.brotli,
        }
    }

    /// The bytes in `coding`, compressing them now if no one asked for them before (once,
    /// however many ask at the same time). Compressing takes milliseconds: call it off the
    /// runtime's workers (see [`FeedCache::body`]).
    pub fn body(&self, coding: Coding) -> &Bytes {
        let identity = || self.identity.ready().expect("the identity body is made with the document");
        self.get(coding).body.get_or_init(|| match coding {
            Coding::Identity => identity().clone(),
            Coding::Gzip => exact(gzip(identity())),
            Coding::Brotli => exact(brotli(identity())),
        })
    }

    /// Every representation's entity tag: a validator for any of them means the client
    /// has the current content.
    pub fn etags(&self) -> [&str; 3] {
        [&self.identity.etag, &self.gzip.etag, &self.brotli.etag]
    }
}

/// `bytes` without the spare room a growing buffer keeps: `Bytes::from` holds on to the whole
/// allocation, which may be twice what is weighed (and sent).
fn exact(mut bytes: Vec<u8>) -> Bytes {
    bytes.shrink_to_fit();
    Bytes::from(bytes)
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
        lgwin: brotli_window(bytes.len()),
        size_hint: bytes.len(),
        ..Default::default()
    };
    // Reading from a slice and writing to a Vec cannot fail.
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).expect("brotli to memory");
    out
}

/// The Brotli window (log2 of its bytes) for a body of `len` bytes: just big enough for the
/// body, since bigger ones only cost setup time, but never the smallest, 16. With a 64 KiB
/// window the `brotli` crate takes another match finder: on the 10k-post corpus's feeds that
/// fit it, 18.1 ms and up to 33.2 MiB per compression against 1.3 ms and 2.3 MiB with the next
/// window, for about the same bytes out (BENCHMARKS.md, "Brotli's smallest window").
fn brotli_window(len: usize) -> i32 {
    (usize::BITS - len.max(1).saturating_sub(1).leading_zeros()).clamp(17, 22) as i32
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn brotli_windows_fit_the_body_but_are_never_the_smallest() {
        for (len, window) in [(0, 17), (1, 17), (20_000, 17), (65_536, 17), (131_072, 17), (131_073, 18), (1 << 30, 22)]
        {
            assert_eq!(brotli_window(len), window, "{len} bytes");
        }
        // A small body still round-trips with the larger window.
        let mut back = Vec::new();
        brotli::BrotliDecompress(&mut &brotli(b"<feed/>")[..], &mut back).unwrap();
        assert_eq!(back, b"<feed/>");
    }

    #[test]
    fn representations_decode_to_the_same_bytes_and_have_distinct_tags() {
        let text = b"<feed>hello hello hello</feed>".repeat(50);
        let rendered = Rendered::new(text.clone(), None, "application/atom+xml");
        assert!(rendered.gzip.ready().is_none() && rendered.brotli.ready().is_none(), "compressed when asked for");
        let identity_only = rendered.heap_bytes();
        let mut unzipped = Vec::new();
        flate2::read::GzDecoder::new(&rendered.body(Coding::Gzip)[..]).read_to_end(&mut unzipped).unwrap();
        assert_eq!(unzipped, text);
        let mut unbrotli = Vec::new();
        brotli::BrotliDecompress(&mut &rendered.body(Coding::Brotli)[..], &mut unbrotli).unwrap();
        assert_eq!(unbrotli, text);
        assert!(rendered.heap_bytes() > identity_only, "the twins are weighed once made");
        let [a, b, c] = rendered.etags();
        assert!(a != b && b != c && a != c);
        let again = Rendered::new(text, None, "x");
        assert_eq!(again.body(Coding::Gzip), rendered.body(Coding::Gzip), "compression is deterministic");
    }
}

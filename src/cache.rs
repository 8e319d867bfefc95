//! Rendered documents with their compressed twins and validators, kept in the shared
//! [`Store`] under a fingerprint of everything they show: a snapshot in which a feed's
//! posts, titles and settings are unchanged finds the bytes the last one made. Concurrent
//! misses for one document render once, on the [`offload`](crate::offload) pool, never on the
//! runtime's workers. A compressed form is made the first time a client asks for it, also on
//! that pool: a client that takes identity never waits for gzip or Brotli.

use std::cell::Cell;
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak};
use std::time::{Duration, SystemTime};

use bytes::Bytes;

use crate::discovery;
use crate::feed::{self, FeedKey, Fingerprint};
use crate::headlines;
use crate::index::Index;
use crate::store::{Key, Store, Weighed};

/// Documents whose fingerprint in the current snapshot is remembered, at most; past it the
/// memo starts again (it is only a memo: fingerprints are worked out again when asked for).
const REMEMBERED_KEYS: usize = 100_000;

/// The memo is not swept for documents the store let go of until it holds this many.
const FIRST_SWEEP: usize = 4096;
/// One hit in this many (per thread) is also looked up in the store, so that its eviction
/// order still sees which documents are read most, though hits are answered without it.
const TOUCH_EVERY: u32 = 16;
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
    fingerprint: Option<u128>,
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

    /// Wraps a rendered feed.
    pub fn from_feed(output: feed::Output, media_type: &'static str) -> Self {
        let complete = output.complete;
        Rendered { complete, ..Rendered::new(output.bytes, output.updated.map(to_system_time), media_type) }
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

/// Something the cache holds: a feed page or a discovery document.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Document {
    /// One page of one feed.
    Feed(FeedKey),
    /// The OPML list of feeds.
    Opml,
    /// The HTML index page.
    Home,
    /// The page a browser is shown for one page of one feed (see [`feed::html`]).
    View(FeedKey),
    /// `/headlines.json` for one feed and limit.
    Headlines(headlines::Request),
    /// The `/embed/…` page for one feed, limit and image choice.
    Embed(headlines::Request),
    /// The `/embed.js` widget.
    EmbedScript,
}

/// The embeddable headlines widget.
const EMBED_JS: &[u8] = include_bytes!("../assets/embed.js");

impl Document {
    /// Where the static export writes the document, relative to its output folder; `None`
    /// for documents that depend on query parameters (headlines), which need `serve`.
    pub fn export_path(&self) -> Option<String> {
        match self {
            Document::Feed(key) => Some(key.export_path()),
            Document::Opml => Some(discovery::OPML_PATH.trim_start_matches('/').to_owned()),
            Document::Home => Some("index.html".to_owned()),
            // Beside the feed's file (`feed.atom.html`); a web server shows it to browsers.
            Document::View(key) if key.page <= 1 => Some(format!("{}.html", key.export_path())),
            Document::View(_) => None,
            Document::Headlines(_) | Document::Embed(_) | Document::EmbedScript => None,
        }
    }

    /// Renders the document from `index`; `None` when the index has no such feed or page.
    pub fn render(&self, index: &Index) -> Option<Rendered> {
        let started = std::time::Instant::now();
        let updated = || index.updated();
        let mut complete = true;
        let (bytes, updated, media_type) = match self {
            Document::Feed(key) => {
                let output = feed::render(index, key)?;
                complete = output.complete;
                (output.bytes, output.updated, key.format.media_type())
            }
            Document::Opml => (discovery::opml(index), updated(), "text/x-opml; charset=utf-8"),
            Document::Home => (discovery::home_page(index), updated(), "text/html; charset=utf-8"),
            Document::View(key) => {
                let output = feed::render_view(index, key)?;
                complete = output.complete;
                (output.bytes, output.updated, "text/html; charset=utf-8")
            }
            Document::Headlines(request) => {
                let (bytes, all_there) = headlines::json(index, request)?;
                complete = all_there;
                (bytes, updated(), "application/json; charset=utf-8")
            }
            Document::Embed(request) => (headlines::embed_page(index, request)?, updated(), "text/html; charset=utf-8"),
            Document::EmbedScript => (EMBED_JS.to_vec(), None, "text/javascript; charset=utf-8"),
        };
        let mut rendered = Rendered::new(bytes, updated.map(to_system_time), media_type);
        rendered.render_time = started.elapsed();
        rendered.complete = complete;
        if let Ok(value) = http::HeaderValue::from_str(&index.config.cache_control()) {
            rendered.cache_control = value;
        }
        Some(rendered)
    }

    /// The document's cache key in `index`: a hash of everything it shows (see
    /// [`Fingerprint`]); `None` when the index has no such feed or page. The index page and
    /// the OPML list are keyed by snapshot: they are small and list every feed.
    pub fn fingerprint(&self, index: &Index) -> Option<u128> {
        match self {
            Document::Feed(key) => feed::fingerprint(index, key),
            Document::Headlines(request) => headlines::fingerprint(index, request, "json"),
            Document::Embed(request) => headlines::fingerprint(index, request, "embed"),
            Document::Opml => Some(Fingerprint::new(index, &("opml", index.generation)).finish()),
            Document::Home => Some(Fingerprint::new(index, &("home", index.generation)).finish()),
            Document::View(key) => {
                feed::fingerprint(index, key).map(|feed| Fingerprint::new(index, &("view", feed)).finish())
            }
            Document::EmbedScript => Some(Fingerprint::new(index, &"embed.js").finish()),
        }
    }
}

/// A date as the `SystemTime` HTTP dates are made from, to the second (never before 1970).
fn to_system_time(date: chrono::DateTime<chrono::FixedOffset>) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(date.timestamp().max(0) as u64)
}

/// The documents of the running service: finished bytes in the shared store, the current
/// snapshot's fingerprint of each document asked for, and the renders under way.
#[derive(Clone)]
pub struct FeedCache {
    store: Store,
    known: Arc<RwLock<Memo>>,
    flights: Arc<Mutex<HashMap<u128, Flight>>>,
}

/// What is known of the documents asked for: each one's fingerprint and where its bytes are.
#[derive(Default)]
struct Memo {
    documents: HashMap<Document, Known, foldhash::fast::RandomState>,
    /// How many documents the memo holds before it is next swept.
    sweep_at: usize,
}

impl Memo {
    /// Makes room for one more document. A document whose bytes the store has let go of is
    /// forgotten: its entry would otherwise keep the bytes' bookkeeping (the `Rendered`'s
    /// own allocation, about 500 bytes, which a weak pointer keeps) after the store's budget
    /// said they should go. A crawler asking for every page of every feed grew the memo by
    /// 55 MiB at 100k posts before this (BENCHMARKS.md, "Size is free"). Sweeping when the
    /// memo has doubled since the last sweep keeps it to at most twice the documents the
    /// store holds, at a cost amortized over the inserts.
    fn make_room(&mut self) {
        if self.documents.len() < self.sweep_at.clamp(FIRST_SWEEP, REMEMBERED_KEYS) {
            return;
        }
        let never_rendered = Weak::new();
        self.documents.retain(|_, k| k.rendered.strong_count() > 0 || k.rendered.ptr_eq(&never_rendered));
        // Still more than half full: start again rather than sweep again soon.
        if self.documents.len() > REMEMBERED_KEYS / 2 {
            self.documents.clear();
        }
        self.sweep_at = 2 * self.documents.len();
    }
}

/// What is known of a document in one snapshot: its fingerprint and, once rendered, its
/// bytes. Held weakly: the store owns them, and its budget alone says how long they stay.
struct Known {
    generation: u64,
    fingerprint: u128,
    rendered: Weak<Rendered>,
}

/// A render under way, which every request for the same document awaits.
type Flight = Arc<tokio::sync::OnceCell<Option<Arc<Rendered>>>>;

/// Whether a lookup was served from the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// Already rendered.
    Hit,
    /// Rendered by this request (or one it waited for).
    Miss,
}

impl FeedCache {
    /// Documents kept in `store`.
    pub fn new(store: Store) -> Self {
        FeedCache { store, known: Arc::default(), flights: Arc::default() }
    }

    /// The shared store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// `document`'s bytes when it was already rendered for `index`'s snapshot and is still
    /// kept: the poll's path, one map lookup under a read lock.
    pub fn hit(&self, index: &Index, document: &Document) -> Option<Arc<Rendered>> {
        let (rendered, fingerprint) = {
            let known = self.known.read().unwrap_or_else(|p| p.into_inner());
            let found = known.documents.get(document).filter(|k| k.generation == index.generation)?;
            (found.rendered.upgrade()?, found.fingerprint)
        };
        thread_local!(static HITS: Cell<u32> = const { Cell::new(0) });
        if HITS.with(|hits| hits.replace(hits.get().wrapping_add(1))).is_multiple_of(TOUCH_EVERY) {
            self.store.get::<Rendered>(Key::Document(fingerprint));
        }
        Some(rendered)
    }

    /// The fingerprint of `document` in `index`, worked out once per snapshot. A document
    /// whose fingerprint changed leaves the store: its old bytes can no longer be asked for.
    pub fn fingerprint(&self, index: &Index, document: &Document) -> Option<u128> {
        let remembered = {
            let known = self.known.read().unwrap_or_else(|p| p.into_inner());
            known.documents.get(document).map(|k| (k.generation, k.fingerprint))
        };
        if let Some((generation, fingerprint)) = remembered
            && generation == index.generation
        {
            return Some(fingerprint);
        }
        let fingerprint = document.fingerprint(index)?;
        if let Some((generation, old)) = remembered
            && old != fingerprint
            && generation < index.generation
        {
            self.store.forget(Key::Document(old));
        }
        let mut known = self.known.write().unwrap_or_else(|p| p.into_inner());
        match known.documents.get_mut(document) {
            // A request on an older snapshot must not undo what a newer one found.
            Some(k) if k.generation > index.generation => {}
            Some(k) => {
                if k.fingerprint != fingerprint {
                    k.rendered = Weak::new();
                }
                (k.generation, k.fingerprint) = (index.generation, fingerprint);
            }
            None => {
                known.make_room();
                let k = Known { generation: index.generation, fingerprint, rendered: Weak::new() };
                known.documents.insert(document.clone(), k);
            }
        }
        Some(fingerprint)
    }

    /// Notes where `document`'s bytes for `fingerprint` are, for [`FeedCache::hit`].
    fn remember(&self, document: &Document, fingerprint: u128, rendered: &Arc<Rendered>) {
        let mut known = self.known.write().unwrap_or_else(|p| p.into_inner());
        if let Some(k) = known.documents.get_mut(document).filter(|k| k.fingerprint == fingerprint) {
            k.rendered = Arc::downgrade(rendered);
        }
    }

    /// `document` as rendered from `index`, rendering it on a miss (once, however many ask,
    /// on the offload pool); `None` when the index has no such feed or page. Misses for
    /// unknown documents are never kept, so made-up URLs cannot crowd out real feeds, and
    /// neither are renders that lack a body that was not ready in time. Polls ask
    /// [`FeedCache::hit`] first, which needs no fingerprint.
    pub async fn get(&self, index: &Arc<Index>, document: &Document) -> Option<(Arc<Rendered>, Lookup)> {
        let fingerprint = self.fingerprint(index, document)?;
        if let Some(rendered) = self.store.get::<Rendered>(Key::Document(fingerprint)) {
            self.remember(document, fingerprint, &rendered);
            return Some((rendered, Lookup::Hit));
        }
        // Boxed: a miss is rare, and its future would make every hit's as large.
        let rendered = Box::pin(self.render_once(index, document, fingerprint)).await?;
        if rendered.complete {
            self.remember(document, fingerprint, &rendered);
        }
        Some((rendered, Lookup::Miss))
    }

    /// Renders `document` for `fingerprint` on the offload pool, once however many ask.
    async fn render_once(&self, index: &Arc<Index>, document: &Document, fingerprint: u128) -> Option<Arc<Rendered>> {
        let flight = self.flights.lock().unwrap_or_else(|p| p.into_inner()).entry(fingerprint).or_default().clone();
        let rendered = flight
            .get_or_init(|| {
                let (index, document, store) = (index.clone(), document.clone(), self.store.clone());
                async move {
                    let render = crate::offload::run(move || {
                        let rendered =
                            document.render(&index).map(|r| Arc::new(Rendered { fingerprint: Some(fingerprint), ..r }));
                        if let Some(rendered) = rendered.as_ref().filter(|r| r.complete) {
                            store.insert(Key::Document(fingerprint), rendered.clone());
                        }
                        rendered
                    });
                    render.await.unwrap_or_else(|| {
                        tracing::error!("rendering a document failed");
                        None
                    })
                }
            })
            .await
            .clone();
        let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
        if flights.get(&fingerprint).is_some_and(|f| Arc::ptr_eq(f, &flight)) {
            flights.remove(&fingerprint);
        }
        rendered
    }

    /// `rendered`'s bytes in `coding`, compressed on the offload pool if this is the first
    /// time a client asks for them; the store then weighs the document again, twin included.
    /// Falls back to identity (and says so) in the unlikely case that compressing failed.
    pub async fn body(&self, rendered: &Arc<Rendered>, coding: Coding) -> (Coding, Bytes) {
        if let Some(bytes) = rendered.get(coding).ready() {
            return (coding, bytes.clone());
        }
        let (made, store) = (rendered.clone(), self.store.clone());
        let compressed = crate::offload::run(move || {
            let bytes = made.body(coding).clone();
            if let Some(fingerprint) = made.fingerprint {
                store.reweigh(Key::Document(fingerprint), &made);
            }
            bytes
        });
        match compressed.await {
            Some(bytes) => (coding, bytes),
            None => {
                tracing::error!("compressing a document failed");
                (Coding::Identity, rendered.body(Coding::Identity).clone())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::{Format, Scope};
    use std::io::Read;

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

    fn empty_index(generation: u64) -> Arc<Index> {
        let bodies = crate::content::BodySource::detached(Arc::new(crate::config::SiteConfig::default()));
        Arc::new(Index::build(&[], bodies, chrono::Utc::now(), generation))
    }

    #[tokio::test]
    async fn a_hit_is_the_kept_bytes_of_this_snapshot() {
        let cache = FeedCache::new(Store::default());
        let (index, document) = (empty_index(1), Document::EmbedScript);
        assert!(cache.hit(&index, &document).is_none(), "nothing rendered yet");
        let (rendered, lookup) = cache.get(&index, &document).await.unwrap();
        assert_eq!(lookup, Lookup::Miss);
        let hit = cache.hit(&index, &document).expect("rendered and kept");
        assert!(Arc::ptr_eq(&hit, &rendered));
        // A new snapshot works out the fingerprint again, finds it unchanged and the bytes kept.
        let next = empty_index(2);
        assert!(cache.hit(&next, &document).is_none(), "not yet looked up in this snapshot");
        let (again, lookup) = cache.get(&next, &document).await.unwrap();
        assert!(lookup == Lookup::Hit && Arc::ptr_eq(&again, &rendered));
        assert!(cache.hit(&next, &document).is_some());
    }

    #[test]
    fn the_memo_never_keeps_bytes_alive_the_store_let_go_of() {
        let cache = FeedCache::new(Store::default());
        let (index, document) = (empty_index(1), Document::EmbedScript);
        let fingerprint = cache.fingerprint(&index, &document).unwrap();
        let rendered = Arc::new(document.render(&index).unwrap());
        cache.remember(&document, fingerprint, &rendered);
        assert!(cache.hit(&index, &document).is_some());
        drop(rendered);
        assert!(cache.hit(&index, &document).is_none(), "held weakly: the store's budget alone keeps bytes");
    }

    #[test]
    fn the_memo_forgets_documents_the_store_let_go_of_once_it_has_doubled() {
        let page = |page| Document::Feed(FeedKey { scope: Scope::Site, format: Format::Atom, page, alias: None });
        let known = |rendered| Known { generation: 1, fingerprint: 7, rendered };
        let index = empty_index(1);
        let kept = Arc::new(Document::EmbedScript.render(&index).unwrap());
        let mut memo = Memo::default();
        for n in 0..FIRST_SWEEP as u32 {
            // Thirds: bytes the store still holds, bytes it let go of, never rendered.
            let rendered = match n % 3 {
                0 => Arc::downgrade(&kept),
                1 => Arc::downgrade(&Arc::new(Document::EmbedScript.render(&index).unwrap())),
                _ => Weak::new(),
            };
            memo.make_room();
            memo.documents.insert(page(n), known(rendered));
        }
        assert_eq!(memo.documents.len(), FIRST_SWEEP, "not swept before it holds FIRST_SWEEP");
        memo.make_room();
        let let_go = (0..FIRST_SWEEP).filter(|n| n % 3 == 1).count();
        assert_eq!(memo.documents.len(), FIRST_SWEEP - let_go);
        assert!(memo.documents.values().all(|k| k.rendered.strong_count() > 0 || k.rendered.ptr_eq(&Weak::new())));
        assert_eq!(memo.sweep_at, 2 * memo.documents.len(), "next swept when it has doubled");
    }
}

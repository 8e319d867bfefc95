//! Rendered documents kept in the shared [`Store`] under a fingerprint of everything they
//! show: a snapshot in which a feed's posts, titles and settings are unchanged finds the bytes
//! the last one made. Concurrent misses for one document render once, on the
//! [`offload`](crate::offload) pool, never on the runtime's workers. A compressed form is made
//! the first time a client asks for it, also on that pool: a client that takes identity never
//! waits for gzip or Brotli.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock, Weak};

use bytes::Bytes;

use crate::document::Document;
use crate::index::Index;
use crate::representation::{Coding, Rendered};
use crate::store::{Key, Store};

/// Documents whose fingerprint in the current snapshot is remembered, at most; past it the
/// memo starts again (it is only a memo: fingerprints are worked out again when asked for).
const REMEMBERED_KEYS: usize = 100_000;

/// The memo is not swept for documents the store let go of until it holds this many.
const FIRST_SWEEP: usize = 4096;
/// One hit in this many (per thread) is also looked up in the store, so that its eviction
/// order still sees which documents are read most, though hits are answered without it.
const TOUCH_EVERY: u32 = 16;
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

/// A request's part in a [`Flight`]: when the request ends (done or dropped), the flight
/// leaves the table if it is finished or no other request awaits it, so no entry outlives the
/// requests that wanted it.
struct Leave<'a> {
    flights: &'a Mutex<HashMap<u128, Flight>>,
    fingerprint: u128,
    flight: Flight,
}

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
        let Some(listed) = flights.get(&self.fingerprint).filter(|f| Arc::ptr_eq(f, &self.flight)) else { return };
        // The table's reference and this request's: nobody else is waiting.
        let alone = Arc::strong_count(listed) <= 2;
        if self.flight.initialized() || alone {
            flights.remove(&self.fingerprint);
        }
    }
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
    /// Documents kept in `store`.
    pub fn new(store: Store) -> Self {
        FeedCache { store, known: Arc::default(), flights: Arc::default() }
    }

    /// The shared store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Documents being rendered now, each awaited by at least one request.
    pub fn renders_in_flight(&self) -> usize {
        self.flights.lock().unwrap_or_else(|p| p.into_inner()).len()
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
        // Leaves the table when the render is done or nobody awaits it any more, whether this
        // request finishes or is dropped halfway (a client that went away).
        let leave = Leave { flights: &self.flights, fingerprint, flight };
        leave
            .flight
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
            .clone()
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
    use crate::feed::{FeedKey, Format, Scope};

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

    #[tokio::test]
    async fn a_cancelled_request_leaves_no_render_under_way_behind() {
        let cache = FeedCache::new(Store::default());
        let (index, document) = (empty_index(1), Document::Home);
        let mut request = Box::pin(cache.get(&index, &document));
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(request.as_mut().poll(&mut context).is_pending(), "the render is under way on the pool");
        assert_eq!(cache.renders_in_flight(), 1);
        drop(request);
        assert_eq!(cache.renders_in_flight(), 0, "the client went away: its render is no longer awaited");
        // The next request renders (or finds) the document as usual.
        assert!(cache.get(&index, &document).await.is_some());
        assert_eq!(cache.renders_in_flight(), 0);
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

//! One byte budget for everything rendered and kept: post bodies and finished documents
//! share a single cache weighed in bytes, so that no crawl, however wide, holds more than
//! the budget. Keys say what a value was made from (a post's text hash, a document's
//! dependencies), never when, so an unchanged thing keeps its entry across reloads.

use std::sync::Arc;

use moka::sync::Cache;

use crate::cache::Rendered;
use crate::content::Body;

/// Default budget: 256 MiB.
pub const DEFAULT_BUDGET: u64 = 256 * 1024 * 1024;

/// What an entry was made from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    /// A post body: the hash of the text it was rendered from, and the render epoch (bumped
    /// when the configuration or an include changes).
    Body(u128, u64),
    /// A document: the fingerprint of everything it shows.
    Document(u128),
}

/// A kept value.
#[derive(Clone, Debug)]
pub enum Value {
    /// A post's rendered HTML.
    Body(Arc<Body>),
    /// A finished document with its compressed twins.
    Document(Arc<Rendered>),
}

impl Value {
    /// Bytes the value holds on the heap, plus a fixed charge for the entry itself.
    fn weight(&self) -> u32 {
        const ENTRY: usize = 128;
        let bytes = match self {
            Value::Body(body) => body.heap_bytes(),
            Value::Document(rendered) => rendered.heap_bytes(),
        };
        u32::try_from(bytes + ENTRY).unwrap_or(u32::MAX)
    }
}

/// The shared, weighed cache. Cloning shares it.
#[derive(Clone)]
pub struct Store {
    inner: Cache<Key, Value, foldhash::fast::RandomState>,
    budget: u64,
}

impl Store {
    /// A store that holds at most `budget` bytes.
    pub fn new(budget: u64) -> Store {
        let inner = Cache::builder()
            .max_capacity(budget)
            .weigher(|_: &Key, value: &Value| value.weight())
            .build_with_hasher(foldhash::fast::RandomState::default());
        Store { inner, budget }
    }

    /// The byte budget.
    pub fn budget(&self) -> u64 {
        self.budget
    }

    /// A kept body.
    pub fn body(&self, hash: u128, epoch: u64) -> Option<Arc<Body>> {
        match self.inner.get(&Key::Body(hash, epoch))? {
            Value::Body(body) => Some(body),
            Value::Document(_) => None,
        }
    }

    /// A kept document.
    pub fn document(&self, fingerprint: u128) -> Option<Arc<Rendered>> {
        match self.inner.get(&Key::Document(fingerprint))? {
            Value::Document(rendered) => Some(rendered),
            Value::Body(_) => None,
        }
    }

    /// Keeps a value, then evicts what the budget requires at once, so the weighed size
    /// never stays above the budget (inserts are rare: one per render).
    pub fn insert(&self, key: Key, value: Value) {
        self.inner.insert(key, value);
        self.inner.run_pending_tasks();
    }

    /// Weighs a kept document again after it grew (a compressed twin was made), evicting
    /// what the budget then requires; nothing happens if the store no longer keeps that very
    /// document (evicted, or forgotten as stale), so this never brings one back.
    pub fn reweigh(&self, fingerprint: u128, rendered: &Arc<Rendered>) {
        self.inner.entry(Key::Document(fingerprint)).and_compute_with(|kept| match kept {
            Some(entry) if matches!(entry.value(), Value::Document(r) if Arc::ptr_eq(r, rendered)) => {
                moka::ops::compute::Op::Put(entry.into_value())
            }
            _ => moka::ops::compute::Op::Nop,
        });
        self.inner.run_pending_tasks();
    }

    /// Forgets a document, e.g. one a newer version replaced.
    pub fn forget(&self, key: Key) {
        self.inner.invalidate(&key);
    }

    /// Forgets everything (after a configuration change every key is stale).
    pub fn clear(&self) {
        self.inner.invalidate_all();
        self.inner.run_pending_tasks();
    }

    /// Bytes held now, as weighed.
    pub fn weighed_bytes(&self) -> u64 {
        self.inner.weighted_size()
    }

    /// Entries held now.
    pub fn entries(&self) -> u64 {
        self.inner.entry_count()
    }
}

impl Default for Store {
    fn default() -> Self {
        Store::new(DEFAULT_BUDGET)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::Coding;

    fn document() -> Arc<Rendered> {
        Arc::new(Rendered::new(b"<feed>hello hello hello</feed>".repeat(200), None, "application/atom+xml"))
    }

    #[test]
    fn a_document_is_weighed_again_when_a_twin_is_made() {
        let store = Store::default();
        let rendered = document();
        store.insert(Key::Document(1), Value::Document(rendered.clone()));
        let before = store.weighed_bytes();
        rendered.body(Coding::Brotli);
        store.reweigh(1, &rendered);
        assert!(store.weighed_bytes() > before, "{} then {}", before, store.weighed_bytes());
    }

    #[test]
    fn reweighing_never_brings_a_document_back() {
        let store = Store::default();
        let rendered = document();
        store.insert(Key::Document(1), Value::Document(rendered.clone()));
        store.forget(Key::Document(1));
        store.reweigh(1, &rendered);
        assert!(store.document(1).is_none(), "forgotten stays forgotten");
        store.insert(Key::Document(1), Value::Document(document()));
        store.reweigh(1, &rendered);
        assert!(!Arc::ptr_eq(&store.document(1).unwrap(), &rendered), "a newer document is not replaced");
    }
}

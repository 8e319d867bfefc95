//! One byte budget for everything rendered and kept: post bodies and finished documents
//! share a single cache weighed in bytes, so that no crawl, however wide, holds more than
//! the budget. Keys say what a value was made from (a post's text hash, a document's
//! dependencies), never when, so an unchanged thing keeps its entry across reloads.

use std::any::Any;
use std::sync::Arc;

use moka::sync::Cache;

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

/// A value the store can keep: it says how many bytes it holds on the heap. The store knows
/// no value type; each caller asks for the type it put in.
pub trait Weighed: Any + Send + Sync {
    /// Bytes the value holds on the heap.
    fn heap_bytes(&self) -> usize;
}

/// A kept value, shared.
pub type Value = Arc<dyn Weighed>;

/// Bytes `value` holds on the heap, plus a fixed charge for the entry itself.
fn weight(value: &Value) -> u32 {
    const ENTRY: usize = 128;
    u32::try_from(value.heap_bytes() + ENTRY).unwrap_or(u32::MAX)
}

/// `value` as the type `T`, if it is one.
fn downcast<T: Weighed>(value: Value) -> Option<Arc<T>> {
    let any: Arc<dyn Any + Send + Sync> = value;
    any.downcast::<T>().ok()
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
            .weigher(|_: &Key, value: &Value| weight(value))
            .build_with_hasher(foldhash::fast::RandomState::default());
        Store { inner, budget }
    }

    /// The byte budget.
    pub fn budget(&self) -> u64 {
        self.budget
    }

    /// The value kept under `key`, if there is one of type `T`.
    pub fn get<T: Weighed>(&self, key: Key) -> Option<Arc<T>> {
        downcast(self.inner.get(&key)?)
    }

    /// Keeps a value, then evicts what the budget requires at once, so the weighed size
    /// never stays above the budget (inserts are rare: one per render).
    pub fn insert(&self, key: Key, value: Value) {
        self.inner.insert(key, value);
        self.inner.run_pending_tasks();
    }

    /// Weighs a kept value again after it grew (a document's compressed twin was made),
    /// evicting what the budget then requires; nothing happens if the store no longer keeps
    /// that very value (evicted, or forgotten as stale), so this never brings one back.
    pub fn reweigh<T: Weighed>(&self, key: Key, value: &Arc<T>) {
        self.inner.entry(key).and_compute_with(|kept| match kept {
            Some(entry) if std::ptr::addr_eq(Arc::as_ptr(entry.value()), Arc::as_ptr(value)) => {
                moka::ops::compute::Op::Put(entry.into_value())
            }
            _ => moka::ops::compute::Op::Nop,
        });
        self.inner.run_pending_tasks();
    }

    /// Forgets an entry, e.g. a document a newer version replaced.
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
    use std::sync::Mutex;

    use super::*;

    /// A value that can grow after it was kept, as a document does when a twin is made.
    struct Growing(Mutex<Vec<u8>>);

    impl Weighed for Growing {
        fn heap_bytes(&self) -> usize {
            self.0.lock().unwrap().len()
        }
    }

    fn value() -> Arc<Growing> {
        Arc::new(Growing(Mutex::new(vec![0; 6_000])))
    }

    #[test]
    fn a_value_is_weighed_again_when_it_grows() {
        let store = Store::default();
        let kept = value();
        store.insert(Key::Document(1), kept.clone());
        let before = store.weighed_bytes();
        kept.0.lock().unwrap().extend([1; 4_000]);
        store.reweigh(Key::Document(1), &kept);
        assert_eq!(store.weighed_bytes(), before + 4_000);
    }

    #[test]
    fn reweighing_never_brings_a_value_back() {
        let store = Store::default();
        let kept = value();
        store.insert(Key::Document(1), kept.clone());
        store.forget(Key::Document(1));
        store.reweigh(Key::Document(1), &kept);
        assert!(store.get::<Growing>(Key::Document(1)).is_none(), "forgotten stays forgotten");
        store.insert(Key::Document(1), value());
        store.reweigh(Key::Document(1), &kept);
        assert!(!Arc::ptr_eq(&store.get::<Growing>(Key::Document(1)).unwrap(), &kept), "a newer value is not replaced");
    }

    #[test]
    fn a_value_is_given_back_only_as_its_own_type() {
        struct Other;
        impl Weighed for Other {
            fn heap_bytes(&self) -> usize {
                0
            }
        }
        let store = Store::default();
        store.insert(Key::Body(1, 1), value());
        assert!(store.get::<Other>(Key::Body(1, 1)).is_none());
        assert!(store.get::<Growing>(Key::Body(1, 1)).is_some());
    }
}

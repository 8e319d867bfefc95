//! One piece of work per key at a time, and only the newest waiting: the hub delivers one
//! version of a feed to a subscription at a time, and a version that comes while one is under
//! way waits, replacing any older one still waiting (each delivery is the whole feed, so the
//! newest is the only one worth sending). Subscriptions with slow callbacks thus hold at most
//! one delivery and one waiting version, however often the feed changes.

use std::collections::HashMap;
use std::sync::Mutex;

/// Keys with work under way, and the newest value waiting for each.
#[derive(Debug)]
pub struct Latest<T> {
    under_way: Mutex<HashMap<String, Option<T>>>,
}

impl<T> Default for Latest<T> {
    fn default() -> Latest<T> {
        Latest { under_way: Mutex::default() }
    }
}

impl<T> Latest<T> {
    /// Starts work on `key` with `value`: `Some(value)` when nothing was under way for `key`
    /// (the caller does it, then asks [`Latest::next`]), `None` when something is (`value`
    /// waits, replacing any older waiting value).
    pub fn start(&self, key: &str, value: T) -> Option<T> {
        let mut under_way = self.under_way.lock().unwrap_or_else(|p| p.into_inner());
        match under_way.get_mut(key) {
            Some(waiting) => {
                *waiting = Some(value);
                None
            }
            None => {
                under_way.insert(key.to_owned(), None);
                Some(value)
            }
        }
    }

    /// The work on `key` is done: the value that came meanwhile, to do next (the key stays
    /// under way), or `None` (the key is free).
    pub fn next(&self, key: &str) -> Option<T> {
        let mut under_way = self.under_way.lock().unwrap_or_else(|p| p.into_inner());
        let next = under_way.get_mut(key).and_then(Option::take);
        if next.is_none() {
            under_way.remove(key);
        }
        next
    }

    /// Keys with work under way.
    pub fn len(&self) -> usize {
        self.under_way.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether no key has work under way.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_under_way_per_key_and_the_newest_waits() {
        let latest = Latest::default();
        assert_eq!(latest.start("a", 1), Some(1));
        assert_eq!(latest.start("b", 10), Some(10));
        assert_eq!(latest.start("a", 2), None);
        assert_eq!(latest.start("a", 3), None);
        assert_eq!(latest.len(), 2);
        assert_eq!(latest.next("a"), Some(3), "the newest, not 2");
        assert_eq!(latest.start("a", 4), None, "still under way");
        assert_eq!(latest.next("a"), Some(4));
        assert_eq!(latest.next("a"), None);
        assert_eq!(latest.start("a", 5), Some(5), "free again");
        assert_eq!(latest.next("b"), None);
        assert_eq!(latest.next("a"), None);
        assert!(latest.is_empty());
    }
}

//! Background work by key, bounded and coalesced: at most a fixed number of workers at once,
//! one piece of work per key at a time, and for each key only the newest value waiting (a
//! newer value replaces an older one that has not started). WebSub pings use it: a feed that
//! changes ten times while its hubs are being told waits as one ping, about its newest bytes,
//! and however many feeds change, only so many pings run at once.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard};

/// Keys waiting with their newest value, in the order they first came, and the keys being
/// worked on.
#[derive(Debug)]
pub struct Coalescing<T> {
    state: Mutex<State<T>>,
    workers: usize,
}

#[derive(Debug)]
struct State<T> {
    waiting: HashMap<String, T>,
    order: VecDeque<String>,
    busy: HashSet<String>,
    running: usize,
}

impl<T> Coalescing<T> {
    /// Work for at most `workers` workers at once (at least one).
    pub fn new(workers: usize) -> Coalescing<T> {
        let state = State { waiting: HashMap::new(), order: VecDeque::new(), busy: HashSet::new(), running: 0 };
        Coalescing { state: Mutex::new(state), workers: workers.max(1) }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `value` for `key`, replacing a value still waiting for it. True when the caller
    /// is to start a worker (a new key, and fewer than the most were running): it calls
    /// [`Coalescing::next`] until that gives `None`. A key already waiting needs no worker of
    /// its own: workers stop only when every waiting key has one.
    pub fn push(&self, key: String, value: T) -> bool {
        let mut state = self.lock();
        if state.waiting.insert(key.clone(), value).is_some() {
            return false;
        }
        state.order.push_back(key);
        if state.running < self.workers {
            state.running += 1;
            return true;
        }
        false
    }

    /// For a worker that finished `done` (or is starting: `None`): the next key no worker has,
    /// with its newest value, now the worker's; `None` when there is none, and the worker
    /// stops. A key being worked on waits for the worker that has it.
    pub fn next(&self, done: Option<&str>) -> Option<(String, T)> {
        let mut state = self.lock();
        if let Some(done) = done {
            state.busy.remove(done);
        }
        let free = state.order.iter().position(|key| !state.busy.contains(key));
        let Some(key) = free.and_then(|at| state.order.remove(at)) else {
            state.running -= 1;
            return None;
        };
        let value = state.waiting.remove(&key).expect("every key in order is waiting");
        state.busy.insert(key.clone());
        Some((key, value))
    }

    /// Whether a newer value waits for `key`: the one being worked on is out of date.
    pub fn superseded(&self, key: &str) -> bool {
        self.lock().waiting.contains_key(key)
    }

    /// Keys waiting, and workers running.
    pub fn load(&self) -> (usize, usize) {
        let state = self.lock();
        (state.waiting.len(), state.running)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_value_of_a_key_waits_once() {
        let work = Coalescing::new(4);
        assert!(work.push("feed".into(), 1), "a worker starts");
        for n in 2..=100 {
            assert!(!work.push("feed".into(), n), "one key needs one worker");
        }
        let (mut seen, mut done) = (Vec::new(), None::<String>);
        while let Some((key, value)) = work.next(done.as_deref()) {
            seen.push(value);
            done = Some(key);
        }
        assert_eq!(seen, [100], "only the newest");
    }

    #[test]
    fn at_most_so_many_workers_and_none_shares_a_key() {
        let work = Coalescing::new(3);
        let started = (0..50).filter(|n| work.push(format!("feed-{n}"), *n)).count();
        assert_eq!(started, 3);
        assert_eq!(work.load(), (50, 3));
        let (a, b) = (work.next(None).unwrap(), work.next(None).unwrap());
        assert_eq!((a.1, b.1), (0, 1), "in the order they came");
        // A newer value for a key being worked on waits for that key's worker.
        assert!(!work.push("feed-0".into(), 1000));
        assert!(work.superseded("feed-0") && !work.superseded("feed-1"));
        let mut third = work.next(None);
        let mut values = Vec::new();
        while let Some((key, value)) = third {
            values.push(value);
            third = work.next(Some(&key));
        }
        assert!(!values.contains(&1000), "feed-0 is busy: not taken by another worker");
        assert_eq!(values.len(), 48);
        assert_eq!(work.next(Some(&a.0)), Some(("feed-0".into(), 1000)), "its worker takes it next");
        assert_eq!(work.next(Some("feed-0")), None);
        assert_eq!(work.next(Some(&b.0)), None);
        assert_eq!(work.load(), (0, 0));
        assert!(work.push("later".into(), 1), "a worker starts again");
    }
}

//! Who holds the connection slots: a cap on open connections, and one per client address
//! (an IPv6 client is its /64); when either is reached, the connection that has been idle
//! longest (of that address, or of all) is asked to close and the newcomer takes its place.
//! Only when none is idle is the newcomer refused.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;
use tokio::time::Instant;

/// What the slots need to know about a connection's activity.
pub trait Idle: Send + Sync {
    /// Since when the connection has had no request in flight; `None` while one is.
    fn idle_since(&self) -> Option<Instant>;
}

/// The open connections, by client address.
pub struct Slots {
    max_total: usize,
    max_per_address: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    next_id: u64,
    open: HashMap<u64, Entry>,
    /// Open connections per address, not counting those asked to close.
    per_address: HashMap<IpAddr, usize>,
    /// Connections asked to close that have not yet.
    evicting: usize,
}

struct Entry {
    address: IpAddr,
    activity: Arc<dyn Idle>,
    evict: Arc<Notify>,
    evicted: bool,
}

/// One connection's slot, given back when dropped.
pub struct Slot {
    slots: Arc<Slots>,
    id: u64,
    /// Notified when the connection is to close to make room for another.
    pub evict: Arc<Notify>,
    /// Whether another connection was asked to close to make room for this one.
    pub made_room: bool,
}

/// Why a connection got no slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Full {
    /// Its address has its share open, and none of them is idle.
    Address,
    /// Every slot is taken, and no connection is idle.
    All,
}

/// The address a peer is counted under: an IPv4 address itself, an IPv6 one by its /64 (a
/// host usually has a whole /64).
pub fn address_key(peer: IpAddr) -> IpAddr {
    match peer.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

impl Slots {
    /// Room for `max_total` connections, `max_per_address` of them from one address.
    pub fn new(max_total: usize, max_per_address: usize) -> Arc<Slots> {
        Arc::new(Slots {
            max_total: max_total.max(1),
            max_per_address: max_per_address.max(1),
            state: Mutex::new(State::default()),
        })
    }

    /// A slot for a connection from `peer`, asking the longest-idle connection to close when
    /// the address's share or the total is reached.
    pub fn admit(self: &Arc<Slots>, peer: IpAddr, activity: Arc<dyn Idle>) -> Result<Slot, Full> {
        let address = address_key(peer);
        let mut state = self.lock();
        let same = state.per_address.get(&address).copied().unwrap_or(0);
        if state.open.len() >= 2 * self.max_total {
            // Connections asked to close hold their sockets until they do: never more than
            // twice the cap in all.
            return Err(Full::All);
        }
        let made_room = if same >= self.max_per_address {
            if !state.evict_oldest_idle(|e| e.address == address) {
                return Err(Full::Address);
            }
            true
        } else if state.open.len() - state.evicting >= self.max_total {
            if !state.evict_oldest_idle(|_| true) {
                return Err(Full::All);
            }
            true
        } else {
            false
        };
        let id = state.next_id;
        state.next_id += 1;
        let evict = Arc::new(Notify::new());
        state.open.insert(id, Entry { address, activity, evict: evict.clone(), evicted: false });
        *state.per_address.entry(address).or_default() += 1;
        Ok(Slot { slots: self.clone(), id, evict, made_room })
    }

    /// Connections open (those asked to close included).
    pub fn open(&self) -> usize {
        self.lock().open.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl State {
    /// Asks the connection idle longest among those `which` picks to close; whether there
    /// was one.
    fn evict_oldest_idle(&mut self, which: impl Fn(&Entry) -> bool) -> bool {
        let oldest = self
            .open
            .iter()
            .filter(|(_, e)| !e.evicted && which(e))
            .filter_map(|(id, e)| e.activity.idle_since().map(|since| (since, *id)))
            .min();
        let Some((_, id)) = oldest else { return false };
        let Some(entry) = self.open.get_mut(&id) else { return false };
        entry.evicted = true;
        entry.evict.notify_one();
        let address = entry.address;
        self.evicting += 1;
        self.forget_address(address);
        true
    }

    fn forget_address(&mut self, address: IpAddr) {
        if let Some(n) = self.per_address.get_mut(&address) {
            *n -= 1;
            if *n == 0 {
                self.per_address.remove(&address);
            }
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut state = self.slots.lock();
        if let Some(entry) = state.open.remove(&self.id) {
            if entry.evicted {
                state.evicting -= 1;
            } else {
                state.forget_address(entry.address);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    /// A connection idle since a given instant, or busy.
    struct Fake {
        since: Instant,
        busy: AtomicBool,
    }

    impl Idle for Fake {
        fn idle_since(&self) -> Option<Instant> {
            (!self.busy.load(Ordering::SeqCst)).then_some(self.since)
        }
    }

    fn conn(since: Instant, busy: bool) -> Arc<Fake> {
        Arc::new(Fake { since, busy: busy.into() })
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn one_address_gets_its_share_and_evicts_its_own_idle_connections() {
        let slots = Slots::new(10, 2);
        let t = Instant::now();
        let (a, b) = (conn(t, false), conn(t + Duration::from_secs(1), false));
        let first = slots.admit(ip("192.0.2.1"), a).unwrap();
        let _second = slots.admit(ip("192.0.2.1"), b).unwrap();
        // A third from the same address replaces the one idle longest.
        let third = slots.admit(ip("192.0.2.1"), conn(t, true)).unwrap();
        assert!(third.made_room && notified(&first.evict));
        // Another address is not affected.
        let _other = slots.admit(ip("192.0.2.2"), conn(t, true)).unwrap();
        assert_eq!(slots.open(), 4);
        drop(first);
        assert_eq!(slots.open(), 3);
        // The second is the address's idle one now: it goes next.
        let _fourth = slots.admit(ip("192.0.2.1"), conn(t, true)).unwrap();
        // Both of the address's open ones are busy: refused.
        assert_eq!(slots.admit(ip("192.0.2.1"), conn(t, true)).err(), Some(Full::Address));
    }

    #[test]
    fn when_full_the_longest_idle_connection_makes_room_and_busy_ones_are_kept() {
        let slots = Slots::new(3, 3);
        let t = Instant::now();
        let busy = slots.admit(ip("192.0.2.1"), conn(t, true)).unwrap();
        let old = slots.admit(ip("192.0.2.2"), conn(t, false)).unwrap();
        let recent = slots.admit(ip("192.0.2.3"), conn(t + Duration::from_secs(5), false)).unwrap();
        let _new = slots.admit(ip("192.0.2.4"), conn(t, true)).unwrap();
        assert!(notified(&old.evict), "the connection idle longest is asked to close");
        assert!(!notified(&busy.evict) && !notified(&recent.evict));
        let _newer = slots.admit(ip("192.0.2.5"), conn(t, true)).unwrap();
        assert!(notified(&recent.evict));
        // Everything left is busy.
        assert_eq!(slots.admit(ip("192.0.2.6"), conn(t, true)).err(), Some(Full::All));
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        assert_eq!(address_key(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(address_key(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
        assert_eq!(address_key(ip("192.0.2.1")), ip("192.0.2.1"));
    }

    /// Whether `notify` holds a permit (it was notified and nobody took it yet).
    fn notified(notify: &Notify) -> bool {
        let notified = notify.notified();
        let mut notified = std::pin::pin!(notified);
        let waker = std::task::Waker::noop();
        let ready = notified.as_mut().poll(&mut std::task::Context::from_waker(waker)).is_ready();
        if ready {
            // Put the permit back for later checks.
            notify.notify_one();
        }
        ready
    }
}

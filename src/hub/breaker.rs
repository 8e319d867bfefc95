//! Which callbacks are failing: a callback whose delivery failed is "open" for a cool-down
//! (one minute, doubling with each further failure up to an hour) and its deliveries go to
//! the hub's slow lane instead of the hot path, until one succeeds. Kept in memory, per
//! process: a restart gives every callback a fresh chance.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The first cool-down.
pub const FIRST_COOL_DOWN: Duration = Duration::from_secs(60);
/// The longest cool-down.
pub const MAX_COOL_DOWN: Duration = Duration::from_secs(3600);

/// Failing callbacks and until when they are kept off the hot path.
#[derive(Debug, Default)]
pub struct Breaker {
    failing: Mutex<HashMap<String, Trip>>,
}

#[derive(Debug, Clone, Copy)]
struct Trip {
    failures: u32,
    until: Instant,
}

impl Breaker {
    /// Whether deliveries to `callback` stay off the hot path at `now`.
    pub fn is_open(&self, callback: &str, now: Instant) -> bool {
        self.lock().get(callback).is_some_and(|trip| trip.until > now)
    }

    /// A delivery to `callback` failed at `now`: open its breaker, longer each time.
    pub fn failed(&self, callback: &str, now: Instant) {
        let mut failing = self.lock();
        let trip = failing.entry(callback.to_owned()).or_insert(Trip { failures: 0, until: now });
        trip.failures = trip.failures.saturating_add(1);
        let cool_down = FIRST_COOL_DOWN.saturating_mul(1 << (trip.failures - 1).min(6)).min(MAX_COOL_DOWN);
        trip.until = now + cool_down;
    }

    /// A delivery to `callback` succeeded: it is healthy again.
    pub fn succeeded(&self, callback: &str) {
        self.lock().remove(callback);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Trip>> {
        self.failing.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_opens_for_a_growing_cool_down_and_a_success_closes() {
        let breaker = Breaker::default();
        let (cb, now) = ("https://slow.example/cb", Instant::now());
        assert!(!breaker.is_open(cb, now));
        breaker.failed(cb, now);
        assert!(breaker.is_open(cb, now + Duration::from_secs(59)));
        assert!(!breaker.is_open(cb, now + Duration::from_secs(61)));
        assert!(!breaker.is_open("https://other.example/cb", now));
        breaker.failed(cb, now);
        assert!(breaker.is_open(cb, now + Duration::from_secs(119)));
        for _ in 0..20 {
            breaker.failed(cb, now);
        }
        assert!(breaker.is_open(cb, now + MAX_COOL_DOWN - Duration::from_secs(1)));
        assert!(!breaker.is_open(cb, now + MAX_COOL_DOWN));
        breaker.succeeded(cb);
        assert!(!breaker.is_open(cb, now));
    }
}

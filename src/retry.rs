//! How hard to try an outgoing request (WebSub pings, the hub's deliveries, S3 requests):
//! attempts, a time limit per attempt, and the wait between attempts: exponential back-off
//! with full jitter (a random wait between zero and a ceiling that doubles after each
//! failure, up to [`MAX_BACKOFF`]), so that clients that failed together do not all come back
//! together.

use std::time::Duration;

/// The longest wait between two attempts, however many came before.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// How hard to try one outgoing request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts, the first included.
    pub attempts: u32,
    /// The ceiling of the wait before the second attempt; doubled before each further one (up
    /// to [`MAX_BACKOFF`]). The wait itself is random below it ([`RetryPolicy::backoff`]).
    pub first_backoff: Duration,
    /// Longest wait for one attempt.
    pub timeout: Duration,
}

impl RetryPolicy {
    /// WebSub pings: a hub answers at once, or is down for a while.
    pub const WEBSUB: RetryPolicy =
        RetryPolicy { attempts: 4, first_backoff: Duration::from_secs(1), timeout: Duration::from_secs(10) };
    /// S3 requests: an attempt may carry a large body.
    pub const S3: RetryPolicy =
        RetryPolicy { attempts: 4, first_backoff: Duration::from_millis(500), timeout: Duration::from_secs(30) };

    /// The most [`RetryPolicy::backoff`] waits after failed attempt `attempt` (1 for the
    /// first): `first_backoff` doubled `attempt - 1` times, at most [`MAX_BACKOFF`].
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        self.first_backoff.saturating_mul(1 << doublings).min(MAX_BACKOFF)
    }

    /// How long to wait after failed attempt `attempt` (1 for the first) before the next:
    /// uniformly random between zero and [`RetryPolicy::ceiling`] ("full jitter").
    pub fn backoff(&self, attempt: u32) -> Duration {
        jitter(self.ceiling(attempt), random_u64())
    }
}

/// A wait between zero and `ceiling` picked by `random` (uniform over `u64`), to the
/// nanosecond.
fn jitter(ceiling: Duration, random: u64) -> Duration {
    let nanos = ceiling.as_nanos().min(u128::from(u64::MAX)) as u64;
    // The high bits of `random × (nanos + 1)`: uniform in 0..=nanos, without a modulo's bias.
    let picked = ((u128::from(random) * (u128::from(nanos) + 1)) >> 64) as u64;
    Duration::from_nanos(picked)
}

/// A random number for jitter: the system's generator, or, if it fails, std's randomly keyed
/// hasher (a wait need not be secret, only spread).
fn random_u64() -> u64 {
    getrandom::u64().unwrap_or_else(|_| {
        use std::hash::{BuildHasher, Hasher};
        std::collections::hash_map::RandomState::new().build_hasher().finish()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RetryPolicy =
        RetryPolicy { attempts: 10, first_backoff: Duration::from_millis(100), timeout: Duration::from_secs(1) };

    #[test]
    fn the_ceiling_doubles_and_is_capped() {
        let ceilings: Vec<u64> = (1..=5).map(|a| POLICY.ceiling(a).as_millis() as u64).collect();
        assert_eq!(ceilings, [100, 200, 400, 800, 1600]);
        assert_eq!(POLICY.ceiling(0), Duration::from_millis(100));
        assert_eq!(POLICY.ceiling(11), MAX_BACKOFF);
        assert_eq!(POLICY.ceiling(u32::MAX), MAX_BACKOFF, "no overflow");
        let huge = RetryPolicy { first_backoff: Duration::MAX, ..POLICY };
        assert_eq!(huge.ceiling(3), MAX_BACKOFF);
    }

    #[test]
    fn waits_are_within_the_ceiling_and_random() {
        for attempt in 1..=12 {
            let waits: Vec<Duration> = (0..200).map(|_| POLICY.backoff(attempt)).collect();
            assert!(waits.iter().all(|w| *w <= POLICY.ceiling(attempt)), "attempt {attempt}: {waits:?}");
            let distinct: std::collections::BTreeSet<_> = waits.iter().collect();
            assert!(distinct.len() > 150, "attempt {attempt}: {} distinct waits of 200", distinct.len());
            // Full jitter: the waits spread over the whole range, not only near the ceiling.
            let ceiling = POLICY.ceiling(attempt);
            assert!(waits.iter().any(|w| *w < ceiling / 4) && waits.iter().any(|w| *w > ceiling * 3 / 4));
        }
    }

    #[test]
    fn jitter_spans_zero_to_the_ceiling() {
        let ceiling = Duration::from_millis(800);
        assert_eq!(jitter(ceiling, 0), Duration::ZERO);
        assert_eq!(jitter(ceiling, u64::MAX), ceiling);
        assert_eq!(jitter(ceiling, u64::MAX / 2), ceiling / 2);
        assert_eq!(jitter(Duration::ZERO, u64::MAX), Duration::ZERO);
    }
}

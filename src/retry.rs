//! How hard to try an outgoing request (WebSub pings, S3 uploads): attempts, backoff and a
//! time limit per attempt.

use std::time::Duration;

/// How hard to try one outgoing request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts, the first included.
    pub attempts: u32,
    /// Wait before the second attempt; doubled before each further one.
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
}

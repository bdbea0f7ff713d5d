//! When to try a delivery again: exponential from `base_ms`, capped at `max_ms`, with
//! "equal jitter" (half the ceiling plus a uniform draw over the other half) so retries of
//! many deliveries spread out yet still grow; never sooner than the receiver's
//! `Retry-After`. After `max_attempts` the delivery is given up.

use serde::{Deserialize, Serialize};

/// A receiver's `Retry-After` is honoured up to this long; beyond it is taken as this.
pub const RETRY_AFTER_MAX_MS: u64 = 3_600_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryPolicy {
    pub base_ms: u64,
    pub max_ms: u64,
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            base_ms: 1_000,
            max_ms: 300_000,
            max_attempts: 12,
        }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt number `attempt` (1 for the first), given a uniform
    /// `draw` in [0, 1) and the receiver's `Retry-After`, if it sent one.
    pub fn delay_ms(&self, attempt: u32, retry_after_ms: Option<u64>, draw: f64) -> u64 {
        let doublings = attempt.saturating_sub(1).min(32);
        let ceiling_ms = self
            .base_ms
            .max(1)
            .saturating_mul(1u64 << doublings)
            .min(self.max_ms.max(1));
        let half_ms = ceiling_ms / 2;
        let jitter_ms = (half_ms as f64 * draw.clamp(0.0, 1.0)) as u64;
        let backoff_ms = ceiling_ms - half_ms + jitter_ms;
        backoff_ms.max(retry_after_ms.unwrap_or(0).min(RETRY_AFTER_MAX_MS))
    }

    pub fn gives_up_after(&self, attempts: u32) -> bool {
        attempts >= self.max_attempts.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_within_half_to_whole_ceiling_up_to_the_cap() {
        let policy = RetryPolicy {
            base_ms: 1_000,
            max_ms: 5_000,
            max_attempts: 4,
        };
        let ceilings = [1_000, 2_000, 4_000, 5_000, 5_000];
        for (index, ceiling) in ceilings.into_iter().enumerate() {
            let attempt = index as u32 + 1;
            assert_eq!(policy.delay_ms(attempt, None, 0.0), ceiling - ceiling / 2);
            assert_eq!(policy.delay_ms(attempt, None, 0.999_999), ceiling - 1);
        }
        assert!(!policy.gives_up_after(3));
        assert!(policy.gives_up_after(4));
    }

    #[test]
    fn a_receivers_retry_after_is_honoured_and_capped() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.delay_ms(1, Some(7_000), 0.5), 7_000);
        assert_eq!(policy.delay_ms(1, Some(10), 0.0), 500);
        assert_eq!(policy.delay_ms(1, Some(u64::MAX), 0.0), RETRY_AFTER_MAX_MS);
    }
}

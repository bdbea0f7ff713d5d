//! Reconnect delays: exponential from `min` to `max`, with "full jitter" (a uniform draw up
//! to the current ceiling) so many clients reconnecting at once do not arrive together.

use rand::Rng;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Backoff {
    min_ms: u64,
    max_ms: u64,
    ceiling_ms: u64,
}

impl Backoff {
    pub fn new(min_ms: u64, max_ms: u64) -> Backoff {
        let min_ms = min_ms.max(1);
        Backoff {
            min_ms,
            max_ms: max_ms.max(min_ms),
            ceiling_ms: min_ms,
        }
    }

    /// The next wait: at least `min`, at most the ceiling, which then doubles up to `max`.
    pub fn next_delay(&mut self) -> Duration {
        let wait_ms = rand::rng().random_range(self.min_ms..=self.ceiling_ms);
        self.ceiling_ms = self.ceiling_ms.saturating_mul(2).min(self.max_ms);
        Duration::from_millis(wait_ms)
    }

    pub fn reset(&mut self) {
        self.ceiling_ms = self.min_ms;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_stay_within_a_doubling_ceiling_and_reset_to_the_minimum() {
        let mut backoff = Backoff::new(100, 1_000);
        let ceilings = [100, 200, 400, 800, 1_000, 1_000];
        for ceiling in ceilings {
            let wait = backoff.next_delay().as_millis() as u64;
            assert!(
                (100..=ceiling).contains(&wait),
                "{wait} within 100..={ceiling}"
            );
        }
        backoff.reset();
        assert_eq!(backoff.next_delay(), Duration::from_millis(100));
    }
}

//! A circuit breaker per destination. Closed: send. After `failures_to_open` consecutive
//! failures it opens: nothing is sent for `cool_down_ms`. Then it is half-open: one probe
//! goes out; its success closes the breaker, its failure opens it for another cool-down.
//! A receiver that throttles (429) is alive, so throttling is not a failure here.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakerSettings {
    pub failures_to_open: u32,
    pub cool_down_ms: u64,
}

impl Default for BreakerSettings {
    fn default() -> BreakerSettings {
        BreakerSettings {
            failures_to_open: 5,
            cool_down_ms: 30_000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Breaker {
    consecutive_failures: u32,
    open_until_ms: Option<i64>,
    probe_in_flight: bool,
}

impl Breaker {
    pub fn state(&self, now_ms: i64) -> BreakerState {
        match self.open_until_ms {
            None => BreakerState::Closed,
            Some(until_ms) if now_ms < until_ms => BreakerState::Open,
            Some(_) => BreakerState::HalfOpen,
        }
    }

    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }

    /// Whether a delivery may start now: always when closed, never when open, and only the
    /// one probe when half-open.
    pub fn may_send(&self, now_ms: i64) -> bool {
        match self.state(now_ms) {
            BreakerState::Closed => true,
            BreakerState::Open => false,
            BreakerState::HalfOpen => !self.probe_in_flight,
        }
    }

    /// A delivery starts; when half-open it is the probe.
    pub fn on_send(&mut self, now_ms: i64) {
        if self.state(now_ms) == BreakerState::HalfOpen {
            self.probe_in_flight = true;
        }
    }

    pub fn on_success(&mut self) {
        *self = Breaker::default();
    }

    pub fn on_failure(&mut self, now_ms: i64, settings: BreakerSettings) {
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        let probe_failed = self.probe_in_flight;
        self.probe_in_flight = false;
        if probe_failed || self.consecutive_failures >= settings.failures_to_open.max(1) {
            let cool_down_ms = i64::try_from(settings.cool_down_ms).unwrap_or(i64::MAX);
            self.open_until_ms = Some(now_ms.saturating_add(cool_down_ms));
        }
    }

    /// A throttled answer: neither a success nor a failure, but it ends a probe.
    pub fn on_throttled(&mut self) {
        self.probe_in_flight = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SETTINGS: BreakerSettings = BreakerSettings {
        failures_to_open: 3,
        cool_down_ms: 1_000,
    };

    #[test]
    fn opens_after_consecutive_failures_and_a_success_in_between_resets_the_count() {
        let mut breaker = Breaker::default();
        breaker.on_failure(0, SETTINGS);
        breaker.on_failure(0, SETTINGS);
        breaker.on_success();
        breaker.on_failure(0, SETTINGS);
        breaker.on_failure(0, SETTINGS);
        assert_eq!(breaker.state(0), BreakerState::Closed);
        breaker.on_failure(10, SETTINGS);
        assert_eq!(breaker.state(10), BreakerState::Open);
        assert!(!breaker.may_send(1_009));
    }

    #[test]
    fn half_open_lets_one_probe_out_whose_result_closes_or_reopens() {
        let mut breaker = Breaker::default();
        for _ in 0..3 {
            breaker.on_failure(0, SETTINGS);
        }
        assert_eq!(breaker.state(1_000), BreakerState::HalfOpen);
        assert!(breaker.may_send(1_000));
        breaker.on_send(1_000);
        assert!(!breaker.may_send(1_000), "one probe at a time");
        breaker.on_failure(1_500, SETTINGS);
        assert_eq!(breaker.state(1_500), BreakerState::Open);
        assert_eq!(breaker.state(2_500), BreakerState::HalfOpen);
        breaker.on_send(2_500);
        breaker.on_success();
        assert_eq!(breaker.state(2_500), BreakerState::Closed);
        assert_eq!(breaker.consecutive_failures(), 0);
    }

    #[test]
    fn a_throttled_probe_frees_the_probe_slot_without_closing() {
        let mut breaker = Breaker::default();
        for _ in 0..3 {
            breaker.on_failure(0, SETTINGS);
        }
        breaker.on_send(1_000);
        breaker.on_throttled();
        assert_eq!(breaker.state(1_000), BreakerState::HalfOpen);
        assert!(breaker.may_send(1_000));
    }
}

//! Rate limits with governor: one keyed limiter per class of route, keyed by principal
//! (an API key, or a user's sessions) or, for requests without valid credentials, by client
//! address. Keys idle long enough to be back at a full quota carry no information, so the
//! periodic prune drops them and memory stays bounded whatever keys an attacker sprays.

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use serde::{Deserialize, Serialize};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateClass {
    /// Every route not named below.
    Default,
    /// `POST /api/scan`.
    Scan,
    /// Candle ingest over HTTP and WebSocket.
    Ingest,
    /// Logins, and requests with wrong credentials, per client address.
    Login,
}

const CLASSES: [RateClass; 4] = [
    RateClass::Default,
    RateClass::Scan,
    RateClass::Ingest,
    RateClass::Login,
];

/// Requests per minute and burst for each class; see `config/default.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSettings {
    pub default_per_minute: u32,
    pub default_burst: u32,
    pub scan_per_minute: u32,
    pub ingest_per_minute: u32,
    pub ingest_burst: u32,
    pub login_per_minute: u32,
    pub prune_interval_s: u64,
}

impl RateLimitSettings {
    /// (per minute, burst) of `class`; a zero is refused when the settings load.
    fn quota(&self, class: RateClass) -> (u32, u32) {
        match class {
            RateClass::Default => (self.default_per_minute, self.default_burst),
            RateClass::Scan => (self.scan_per_minute, self.scan_per_minute),
            RateClass::Ingest => (self.ingest_per_minute, self.ingest_burst),
            RateClass::Login => (self.login_per_minute, self.login_per_minute),
        }
    }

    /// The name of the first setting that is zero, if any.
    pub fn zero_setting(&self) -> Option<&'static str> {
        [
            ("rate_limits.default_per_minute", self.default_per_minute),
            ("rate_limits.default_burst", self.default_burst),
            ("rate_limits.scan_per_minute", self.scan_per_minute),
            ("rate_limits.ingest_per_minute", self.ingest_per_minute),
            ("rate_limits.ingest_burst", self.ingest_burst),
            ("rate_limits.login_per_minute", self.login_per_minute),
        ]
        .into_iter()
        .find(|(_, value)| *value == 0)
        .map(|(name, _)| name)
    }
}

type Limiter<C> = RateLimiter<
    Arc<str>,
    DefaultKeyedStateStore<Arc<str>>,
    C,
    NoOpMiddleware<<C as Clock>::Instant>,
>;

pub struct RateLimits<C: Clock = DefaultClock> {
    clock: C,
    /// In `CLASSES` order.
    limiters: Vec<Limiter<C>>,
}

impl RateLimits<DefaultClock> {
    pub fn new(settings: &RateLimitSettings) -> RateLimits<DefaultClock> {
        RateLimits::with_clock(settings, DefaultClock::default())
    }
}

impl<C: Clock + Clone> RateLimits<C> {
    pub fn with_clock(settings: &RateLimitSettings, clock: C) -> RateLimits<C> {
        let limiters = CLASSES
            .iter()
            .map(|class| {
                let (per_minute, burst) = settings.quota(*class);
                let quota = Quota::per_minute(non_zero(per_minute)).allow_burst(non_zero(burst));
                RateLimiter::dashmap_with_clock(quota, clock.clone())
            })
            .collect();
        RateLimits { clock, limiters }
    }

    fn limiter(&self, class: RateClass) -> &Limiter<C> {
        // One limiter per class, built in `CLASSES` order, which is declaration order.
        &self.limiters[class as usize]
    }

    /// Counts one request of `class` for `key`; refused with how long to wait.
    pub fn check(&self, class: RateClass, key: &Arc<str>) -> Result<(), Duration> {
        self.limiter(class)
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Drops every key that is back at a full quota; returns how many keys remain.
    pub fn prune(&self) -> usize {
        self.limiters
            .iter()
            .map(|limiter| {
                limiter.retain_recent();
                limiter.shrink_to_fit();
                limiter.len()
            })
            .sum()
    }

    pub fn tracked_keys(&self) -> usize {
        self.limiters.iter().map(Limiter::len).sum()
    }
}

fn non_zero(value: u32) -> NonZeroU32 {
    NonZeroU32::new(value).unwrap_or(NonZeroU32::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;

    fn settings() -> RateLimitSettings {
        RateLimitSettings {
            default_per_minute: 600,
            default_burst: 100,
            scan_per_minute: 1,
            ingest_per_minute: 1200,
            ingest_burst: 200,
            login_per_minute: 10,
            prune_interval_s: 60,
        }
    }

    #[test]
    fn a_class_refuses_past_its_quota_with_the_wait_and_keys_are_separate() {
        let clock = FakeRelativeClock::default();
        let limits = RateLimits::with_clock(&settings(), clock.clone());
        assert_eq!(limits.check(RateClass::Scan, &Arc::from("key:a")), Ok(()));
        let wait = limits
            .check(RateClass::Scan, &Arc::from("key:a"))
            .expect_err("second scan");
        assert_eq!(wait, Duration::from_secs(60));
        assert_eq!(limits.check(RateClass::Scan, &Arc::from("key:b")), Ok(()));
        assert_eq!(
            limits.check(RateClass::Default, &Arc::from("key:a")),
            Ok(())
        );
        clock.advance(Duration::from_secs(60));
        assert_eq!(limits.check(RateClass::Scan, &Arc::from("key:a")), Ok(()));
        for _ in 0..10 {
            assert_eq!(
                limits.check(RateClass::Login, &Arc::from("ip:10.0.0.1")),
                Ok(())
            );
        }
        let wait = limits
            .check(RateClass::Login, &Arc::from("ip:10.0.0.1"))
            .expect_err("11th");
        assert_eq!(wait, Duration::from_secs(6));
    }

    #[test]
    fn one_hundred_thousand_sprayed_keys_are_pruned_once_idle() {
        let clock = FakeRelativeClock::default();
        let limits = RateLimits::with_clock(&settings(), clock.clone());
        for n in 0..100_000u32 {
            let address = format!("ip:10.{}.{}.{}", n >> 16, (n >> 8) & 255, n & 255);
            assert_eq!(limits.check(RateClass::Login, &Arc::from(address)), Ok(()));
        }
        assert_eq!(limits.tracked_keys(), 100_000);
        // Still inside the window, each key holds state that matters: nothing is dropped.
        clock.advance(Duration::from_secs(3));
        assert_eq!(limits.prune(), 100_000);
        // One login spent per key refills after 6 s (10 per minute); governor drops a key one
        // more emission interval later, when its state is certainly that of a fresh key.
        clock.advance(Duration::from_secs(9));
        assert_eq!(limits.prune(), 0);
        assert_eq!(
            limits.check(RateClass::Login, &Arc::from("ip:10.0.0.0")),
            Ok(())
        );
    }
}

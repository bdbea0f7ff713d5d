//! Counters the metrics endpoint reads without asking the actor.

use crate::domain::notify::{Breaker, BreakerState};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

#[derive(Debug, Default)]
pub struct NotifierStats {
    pub accepted: AtomicU64,
    pub sent: AtomicU64,
    pub failed_attempts: AtomicU64,
    pub retried: AtomicU64,
    pub given_up: AtomicU64,
    pub deduped: AtomicU64,
    pub dropped: AtomicU64,
    pub filtered: AtomicU64,
    /// Signal events the notifier's subscription lost by falling behind the engine, and trade
    /// changes the alert tap could not take.
    pub missed_events: AtomicU64,
    /// Outbox writes that failed (a delivery not accepted, or its progress not recorded).
    pub store_failures: AtomicU64,
    /// Alerts that fired (each makes one delivery per channel it goes to).
    pub alerts_fired: AtomicU64,
    /// Each channel's breaker as of its last answer.
    breakers: Mutex<BTreeMap<u64, Breaker>>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct NotifierStatsView {
    pub accepted: u64,
    pub sent: u64,
    pub failed_attempts: u64,
    pub retried: u64,
    pub given_up: u64,
    pub deduped: u64,
    pub dropped: u64,
    pub filtered: u64,
    pub missed_events: u64,
    pub store_failures: u64,
    pub alerts_fired: u64,
}

impl NotifierStats {
    pub fn count(counter: &AtomicU64, by: u64) {
        counter.fetch_add(by, Ordering::Relaxed);
    }

    pub fn publish_breaker(&self, channel_id: u64, breaker: Option<&Breaker>) {
        let mut breakers = self.breakers.lock().unwrap_or_else(PoisonError::into_inner);
        match breaker {
            Some(breaker) => breakers.insert(channel_id, breaker.clone()),
            None => breakers.remove(&channel_id),
        };
    }

    /// Every channel's breaker state at `now_ms`.
    pub fn breaker_states(&self, now_ms: i64) -> Vec<(u64, BreakerState)> {
        let breakers = self.breakers.lock().unwrap_or_else(PoisonError::into_inner);
        breakers
            .iter()
            .map(|(channel_id, breaker)| (*channel_id, breaker.state(now_ms)))
            .collect()
    }

    pub fn view(&self) -> NotifierStatsView {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        NotifierStatsView {
            accepted: read(&self.accepted),
            sent: read(&self.sent),
            failed_attempts: read(&self.failed_attempts),
            retried: read(&self.retried),
            given_up: read(&self.given_up),
            deduped: read(&self.deduped),
            dropped: read(&self.dropped),
            filtered: read(&self.filtered),
            missed_events: read(&self.missed_events),
            store_failures: read(&self.store_failures),
            alerts_fired: read(&self.alerts_fired),
        }
    }
}

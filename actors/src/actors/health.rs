//! Per-actor health, kept in atomics so it can be read while the actor is busy.

use crate::domain::market::{IngestTally, Symbol, Timeframe};
use serde::Serialize;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

const NEVER: i64 = i64::MIN;

/// Live counters of one symbol actor, shared between the actor and its readers.
#[derive(Debug)]
pub struct ActorHealth {
    symbol: Symbol,
    base_timeframe: Timeframe,
    shard: usize,
    mailbox_capacity: usize,
    mailbox_len: AtomicUsize,
    processed: AtomicU64,
    restarts: AtomicU64,
    appended: AtomicU64,
    replaced: AtomicU64,
    duplicates: AtomicU64,
    rejected_out_of_order: AtomicU64,
    patterns_formed: AtomicU64,
    signals_emitted: AtomicU64,
    /// Bumped on every change of the actor's state; persistence snapshots when it moved.
    state_version: AtomicU64,
    last_candle_open_time_ms: AtomicI64,
    first_candle_open_time_ms: AtomicI64,
    last_heartbeat_ms: AtomicI64,
    /// Wall-clock time of the last ingest that appended or replaced a candle.
    last_ingest_at_ms: AtomicI64,
    lag_ms: AtomicU64,
    /// Closed base candles waiting for the portfolio exit feed.
    exit_backlog_len: AtomicUsize,
    /// Exit candles dropped because the backlog was full (each also logged).
    exit_candles_dropped: AtomicU64,
    /// Open time of the last candle the exit feed acknowledged handing on.
    exit_handed_on_open_time_ms: AtomicI64,
}

/// A consistent-enough copy of [`ActorHealth`] for `/api/actors`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActorHealthView {
    pub symbol: Symbol,
    pub base_timeframe: Timeframe,
    pub shard: usize,
    pub mailbox_len: usize,
    pub mailbox_capacity: usize,
    pub processed: u64,
    pub restarts: u64,
    pub candles: IngestTally,
    pub patterns_formed: u64,
    pub signals_emitted: u64,
    pub last_candle_open_time_ms: Option<i64>,
    /// Open time of the oldest base candle held: with the last, the history span.
    pub first_candle_open_time_ms: Option<i64>,
    pub last_heartbeat_ms: Option<i64>,
    pub last_ingest_at_ms: Option<i64>,
    /// Time the last message waited in the mailbox before it was handled.
    pub lag_ms: u64,
    /// Closed base candles the portfolio exit feed has not handed on yet.
    pub exit_backlog_candles: usize,
    pub exit_candles_dropped: u64,
    /// Open time of the last candle the exit feed handed on to the portfolios.
    pub exit_last_handed_open_time_ms: Option<i64>,
}

impl ActorHealth {
    pub fn new(
        symbol: Symbol,
        base_timeframe: Timeframe,
        shard: usize,
        mailbox_capacity: usize,
    ) -> Self {
        ActorHealth {
            symbol,
            base_timeframe,
            shard,
            mailbox_capacity,
            mailbox_len: AtomicUsize::new(0),
            processed: AtomicU64::new(0),
            restarts: AtomicU64::new(0),
            appended: AtomicU64::new(0),
            replaced: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            rejected_out_of_order: AtomicU64::new(0),
            patterns_formed: AtomicU64::new(0),
            signals_emitted: AtomicU64::new(0),
            state_version: AtomicU64::new(0),
            last_candle_open_time_ms: AtomicI64::new(NEVER),
            first_candle_open_time_ms: AtomicI64::new(NEVER),
            last_heartbeat_ms: AtomicI64::new(NEVER),
            last_ingest_at_ms: AtomicI64::new(NEVER),
            lag_ms: AtomicU64::new(0),
            exit_backlog_len: AtomicUsize::new(0),
            exit_candles_dropped: AtomicU64::new(0),
            exit_handed_on_open_time_ms: AtomicI64::new(NEVER),
        }
    }

    /// Claims a mailbox slot; false when `mailbox_capacity` messages already wait. This count,
    /// not actix's per-sender parking, is what bounds the mailbox.
    pub fn try_reserve_slot(&self) -> bool {
        let previous = self.mailbox_len.fetch_add(1, Ordering::AcqRel);
        if previous >= self.mailbox_capacity {
            self.mailbox_len.fetch_sub(1, Ordering::AcqRel);
            return false;
        }
        true
    }

    /// Gives a slot back: when its message starts being handled, or was never delivered.
    pub fn release_slot(&self) {
        let previous = self.mailbox_len.fetch_sub(1, Ordering::AcqRel);
        debug_assert!(
            previous > 0,
            "Invariant: a slot is released only once it was reserved"
        );
    }

    pub fn record_handled(&self, waited: Duration) {
        self.processed.fetch_add(1, Ordering::Relaxed);
        let waited_ms = u64::try_from(waited.as_millis()).unwrap_or(u64::MAX);
        self.lag_ms.store(waited_ms, Ordering::Relaxed);
    }

    pub fn record_ingest(&self, tally: &IngestTally, last_open_time_ms: Option<i64>, now_ms: i64) {
        if tally.appended + tally.replaced > 0 {
            self.last_ingest_at_ms.store(now_ms, Ordering::Relaxed);
        }
        self.appended.fetch_add(tally.appended, Ordering::Relaxed);
        self.replaced.fetch_add(tally.replaced, Ordering::Relaxed);
        self.duplicates
            .fetch_add(tally.duplicates, Ordering::Relaxed);
        self.rejected_out_of_order
            .fetch_add(tally.rejected_out_of_order, Ordering::Relaxed);
        if let Some(open_time_ms) = last_open_time_ms {
            self.last_candle_open_time_ms
                .store(open_time_ms, Ordering::Relaxed);
        }
    }

    pub fn record_analysis(&self, patterns_formed: usize, signals_emitted: usize) {
        self.patterns_formed
            .fetch_add(patterns_formed as u64, Ordering::Relaxed);
        self.signals_emitted
            .fetch_add(signals_emitted as u64, Ordering::Relaxed);
    }

    pub fn record_state_change(&self) {
        self.state_version.fetch_add(1, Ordering::Release);
    }

    pub fn state_version(&self) -> u64 {
        self.state_version.load(Ordering::Acquire)
    }

    /// The oldest base candle held now (it moves as the ring drops or a prepend adds).
    pub fn record_first_candle(&self, first_open_time_ms: Option<i64>) {
        self.first_candle_open_time_ms
            .store(first_open_time_ms.unwrap_or(NEVER), Ordering::Relaxed);
    }

    /// After a restore: the newest candle the snapshot holds.
    pub fn record_restored(&self, last_open_time_ms: Option<i64>) {
        if let Some(open_time_ms) = last_open_time_ms {
            self.last_candle_open_time_ms
                .store(open_time_ms, Ordering::Relaxed);
        }
    }

    /// The exit backlog's length now, and the open time the feed last acknowledged.
    pub fn record_exit_backlog(&self, len: usize, handed_on_open_time_ms: Option<i64>) {
        self.exit_backlog_len.store(len, Ordering::Relaxed);
        if let Some(open_time_ms) = handed_on_open_time_ms {
            self.exit_handed_on_open_time_ms
                .fetch_max(open_time_ms, Ordering::Relaxed);
        }
    }

    pub fn record_exit_candle_dropped(&self) -> u64 {
        self.exit_candles_dropped.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn record_restart(&self) -> u64 {
        self.restarts.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn record_heartbeat(&self, now_ms: i64) {
        self.last_heartbeat_ms.store(now_ms, Ordering::Relaxed);
    }

    pub fn symbol(&self) -> &Symbol {
        &self.symbol
    }

    pub fn base_timeframe(&self) -> Timeframe {
        self.base_timeframe
    }

    pub fn mailbox_capacity(&self) -> usize {
        self.mailbox_capacity
    }

    pub fn view(&self) -> ActorHealthView {
        let optional = |value: i64| (value != NEVER).then_some(value);
        ActorHealthView {
            symbol: self.symbol.clone(),
            base_timeframe: self.base_timeframe,
            shard: self.shard,
            mailbox_len: self.mailbox_len.load(Ordering::Acquire),
            mailbox_capacity: self.mailbox_capacity,
            processed: self.processed.load(Ordering::Relaxed),
            restarts: self.restarts.load(Ordering::Relaxed),
            candles: IngestTally {
                appended: self.appended.load(Ordering::Relaxed),
                replaced: self.replaced.load(Ordering::Relaxed),
                duplicates: self.duplicates.load(Ordering::Relaxed),
                rejected_out_of_order: self.rejected_out_of_order.load(Ordering::Relaxed),
            },
            patterns_formed: self.patterns_formed.load(Ordering::Relaxed),
            signals_emitted: self.signals_emitted.load(Ordering::Relaxed),
            last_candle_open_time_ms: optional(
                self.last_candle_open_time_ms.load(Ordering::Relaxed),
            ),
            first_candle_open_time_ms: optional(
                self.first_candle_open_time_ms.load(Ordering::Relaxed),
            ),
            last_heartbeat_ms: optional(self.last_heartbeat_ms.load(Ordering::Relaxed)),
            last_ingest_at_ms: optional(self.last_ingest_at_ms.load(Ordering::Relaxed)),
            lag_ms: self.lag_ms.load(Ordering::Relaxed),
            exit_backlog_candles: self.exit_backlog_len.load(Ordering::Relaxed),
            exit_candles_dropped: self.exit_candles_dropped.load(Ordering::Relaxed),
            exit_last_handed_open_time_ms: optional(
                self.exit_handed_on_open_time_ms.load(Ordering::Relaxed),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_bounded_by_capacity() {
        let health = ActorHealth::new(Symbol::parse("BTCUSDT").unwrap(), Timeframe::M1, 0, 2);
        assert!(health.try_reserve_slot());
        assert!(health.try_reserve_slot());
        assert!(!health.try_reserve_slot(), "third message must be refused");
        assert_eq!(health.view().mailbox_len, 2);
        health.release_slot();
        assert!(health.try_reserve_slot());
    }
}

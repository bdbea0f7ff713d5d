//! The exit backlog: the closed base candles of one symbol that the portfolio exit feed has
//! not yet acknowledged, oldest first.
//!
//! Rule: the symbol actor appends every base candle it closes; the feed reads from the front
//! and, on its next read, acknowledges what it handed on (every candle opening at or before
//! the open time it names is dropped). A read whose answer is lost (a timeout) therefore loses
//! nothing: the next read returns the same candles again. The backlog is bounded: past
//! `capacity` the oldest candle is dropped and reported to the caller, which logs and counts
//! it, so a drop is never silent.

use crate::actors::exit_wakeups::ExitWakeups;
use crate::domain::market::Candle;
use std::collections::VecDeque;
use std::sync::Arc;

/// What a symbol actor needs to feed the exits: its backlog and the feed's wake-up set.
pub struct ExitOutlet {
    pub backlog: ExitBacklog,
    pub wakeups: Arc<ExitWakeups>,
}

/// Room kept when the backlog drains: a few minutes of live closes never reallocate.
const SPARE_KEPT: usize = 64;

#[derive(Debug, Clone)]
pub struct ExitBacklog {
    candles: VecDeque<Candle>,
    capacity: usize,
}

impl ExitBacklog {
    /// A backlog of at most `capacity` candles (at least one).
    pub fn new(capacity: usize) -> ExitBacklog {
        ExitBacklog {
            candles: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    /// Appends `candle`; answers the oldest candle if the cap made room by dropping it.
    pub fn push(&mut self, candle: Candle) -> Option<Candle> {
        let dropped = if self.candles.len() >= self.capacity {
            self.candles.pop_front()
        } else {
            None
        };
        self.candles.push_back(candle);
        dropped
    }

    /// Drops every candle opening at or before `handed_on_open_time_ms` (acknowledged), then
    /// answers copies of up to `max` candles from the front, in order.
    pub fn take(&mut self, handed_on_open_time_ms: Option<i64>, max: usize) -> Vec<Candle> {
        if let Some(handed_on) = handed_on_open_time_ms {
            while self
                .candles
                .front()
                .is_some_and(|candle| candle.open_time_ms <= handed_on)
            {
                self.candles.pop_front();
            }
            self.release_spare();
        }
        self.candles.iter().take(max).copied().collect()
    }

    /// Gives back the room a burst (one 10,000-candle batch) made the queue grow to, once it
    /// has drained: a symbol's memory must not depend on how its candles arrived.
    fn release_spare(&mut self) {
        let kept = self.candles.len().saturating_mul(2).max(SPARE_KEPT);
        if self.candles.capacity() > kept.saturating_mul(2) {
            self.candles.shrink_to(kept);
        }
    }

    pub fn len(&self) -> usize {
        self.candles.len()
    }

    pub fn is_empty(&self) -> bool {
        self.candles.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::market::{Price, Volume};
    use rust_decimal::Decimal;

    fn candle(open_time_ms: i64) -> Candle {
        let price = Price::from_decimal(Decimal::from(100)).unwrap();
        Candle {
            open_time_ms,
            open: price,
            high: price,
            low: price,
            close: price,
            volume: Volume::ZERO,
        }
    }

    fn open_times(candles: &[Candle]) -> Vec<i64> {
        candles.iter().map(|candle| candle.open_time_ms).collect()
    }

    #[test]
    fn candles_come_out_in_order_and_stay_until_acknowledged() {
        let mut backlog = ExitBacklog::new(10);
        for minute in 1..=5 {
            assert_eq!(backlog.push(candle(minute * 60_000)), None);
        }
        assert_eq!(open_times(&backlog.take(None, 2)), [60_000, 120_000]);
        assert_eq!(
            open_times(&backlog.take(None, 2)),
            [60_000, 120_000],
            "a read that was not acknowledged answers the same candles again"
        );
        assert_eq!(
            open_times(&backlog.take(Some(120_000), 10)),
            [180_000, 240_000, 300_000]
        );
        assert_eq!(backlog.len(), 3);
        assert!(backlog.take(Some(300_000), 10).is_empty());
        assert!(backlog.is_empty());
    }

    #[test]
    fn a_drained_burst_gives_its_room_back() {
        let mut backlog = ExitBacklog::new(200_000);
        for minute in 1..=10_000 {
            backlog.push(candle(minute * 60_000));
        }
        assert!(backlog.candles.capacity() >= 10_000);
        backlog.take(Some(9_990 * 60_000), 100);
        assert_eq!(backlog.len(), 10);
        assert!(
            backlog.candles.capacity() <= 4 * SPARE_KEPT,
            "{}",
            backlog.candles.capacity()
        );
    }

    #[test]
    fn past_the_cap_the_oldest_candle_is_dropped_and_reported() {
        let mut backlog = ExitBacklog::new(3);
        for minute in 1..=3 {
            assert_eq!(backlog.push(candle(minute * 60_000)), None);
        }
        let dropped = backlog.push(candle(240_000));
        assert_eq!(dropped.map(|candle| candle.open_time_ms), Some(60_000));
        assert_eq!(backlog.len(), 3);
        assert_eq!(
            open_times(&backlog.take(None, 10)),
            [120_000, 180_000, 240_000]
        );
    }

    #[test]
    fn a_zero_cap_still_keeps_one_candle() {
        let mut backlog = ExitBacklog::new(0);
        assert_eq!(backlog.push(candle(60_000)), None);
        assert_eq!(backlog.len(), 1);
    }
}

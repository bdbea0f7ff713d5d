//! The exit backlog: the closed base candles of one symbol that the portfolio exit feed has
//! not yet acknowledged, oldest first.
//!
//! Rule: the symbol actor appends every base candle it closes; the feed reads from the front
//! and, on its next read, acknowledges what it handed on (every candle opening at or before
//! the open time it names is dropped). A read whose answer is lost (a timeout) therefore loses
//! nothing: the next read returns the same candles again. The backlog is bounded: past
//! `capacity` the oldest candle is dropped and reported to the caller, which logs and counts
//! it, so a drop is never silent.
//!
//! The signals a candle's close emitted ride with it (live strategies decide on them, see
//! `domain/backtest/signal_trader.rs`): each is kept under the open time of that candle and
//! handed on, acknowledged and dropped with it. So do the patterns it formed (the notifier's
//! pattern alerts read them).

use crate::actors::exit_wakeups::ExitWakeups;
use crate::domain::backtest::SignalAtClose;
use crate::domain::market::Candle;
use crate::domain::notify::PatternAtClose;
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
    signals: Riders<SignalAtClose>,
    patterns: Riders<PatternAtClose>,
    capacity: usize,
}

/// What one read of the backlog hands on: candles, oldest first, and the signals and
/// patterns their closes emitted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExitBatch {
    pub candles: Vec<Candle>,
    pub signals: Vec<SignalAtClose>,
    pub patterns: Vec<PatternAtClose>,
}

/// Something that rides with the candle whose close produced it.
trait RidesWithCandle: Clone {
    fn candle_open_time_ms(&self) -> i64;
}

impl RidesWithCandle for SignalAtClose {
    fn candle_open_time_ms(&self) -> i64 {
        self.candle_open_time_ms
    }
}

impl RidesWithCandle for PatternAtClose {
    fn candle_open_time_ms(&self) -> i64 {
        self.candle_open_time_ms
    }
}

/// Riders of the backlog's candles, oldest first, as their candles.
#[derive(Debug, Clone)]
struct Riders<T>(VecDeque<T>);

impl<T: RidesWithCandle> Riders<T> {
    fn drop_through(&mut self, open_time_ms: i64) {
        while self
            .0
            .front()
            .is_some_and(|rider| rider.candle_open_time_ms() <= open_time_ms)
        {
            self.0.pop_front();
        }
    }

    fn copy_through(&self, open_time_ms: i64) -> Vec<T> {
        self.0
            .iter()
            .take_while(|rider| rider.candle_open_time_ms() <= open_time_ms)
            .cloned()
            .collect()
    }

    fn release_spare(&mut self) {
        if self.0.is_empty() {
            self.0.shrink_to(SPARE_KEPT);
        }
    }
}

impl ExitBacklog {
    /// A backlog of at most `capacity` candles (at least one).
    pub fn new(capacity: usize) -> ExitBacklog {
        ExitBacklog {
            candles: VecDeque::new(),
            signals: Riders(VecDeque::new()),
            patterns: Riders(VecDeque::new()),
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
        if let Some(dropped) = &dropped {
            self.signals.drop_through(dropped.open_time_ms);
            self.patterns.drop_through(dropped.open_time_ms);
        }
        self.candles.push_back(candle);
        dropped
    }

    /// Keeps `signal`, emitted at the close of the candle opening at its `candle_open_time_ms`
    /// (pushed before or after that candle).
    pub fn push_signal(&mut self, signal: SignalAtClose) {
        self.signals.0.push_back(signal);
    }

    /// Keeps `pattern`, formed at the close of the candle it names (as [`Self::push_signal`]).
    pub fn push_pattern(&mut self, pattern: PatternAtClose) {
        self.patterns.0.push_back(pattern);
    }

    /// Drops every candle opening at or before `handed_on_open_time_ms` (acknowledged), then
    /// answers copies of up to `max` candles from the front, in order.
    pub fn take(&mut self, handed_on_open_time_ms: Option<i64>, max: usize) -> ExitBatch {
        if let Some(handed_on) = handed_on_open_time_ms {
            while self
                .candles
                .front()
                .is_some_and(|candle| candle.open_time_ms <= handed_on)
            {
                self.candles.pop_front();
            }
            self.signals.drop_through(handed_on);
            self.patterns.drop_through(handed_on);
            self.release_spare();
        }
        let candles: Vec<Candle> = self.candles.iter().take(max).copied().collect();
        let through_ms = candles
            .last()
            .map_or(i64::MIN, |candle| candle.open_time_ms);
        ExitBatch {
            candles,
            signals: self.signals.copy_through(through_ms),
            patterns: self.patterns.copy_through(through_ms),
        }
    }

    /// Gives back the room a burst (one 10,000-candle batch) made the queue grow to, once it
    /// has drained: a symbol's memory must not depend on how its candles arrived.
    fn release_spare(&mut self) {
        let kept = self.candles.len().saturating_mul(2).max(SPARE_KEPT);
        if self.candles.capacity() > kept.saturating_mul(2) {
            self.candles.shrink_to(kept);
        }
        self.signals.release_spare();
        self.patterns.release_spare();
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

    fn open_times(batch: &ExitBatch) -> Vec<i64> {
        batch
            .candles
            .iter()
            .map(|candle| candle.open_time_ms)
            .collect()
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
        assert!(backlog.take(Some(300_000), 10).candles.is_empty());
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

    fn signal_at(candle_open_time_ms: i64) -> SignalAtClose {
        use crate::domain::analysis::{Direction, Signal, SignalStatus};
        let signal = Signal {
            symbol: crate::domain::market::Symbol::parse("BTCUSDT").unwrap(),
            direction: Direction::Bullish,
            status: SignalStatus::Live,
            created_at_ms: candle_open_time_ms + 60_000,
            updated_at_ms: candle_open_time_ms + 60_000,
            ended_at_ms: None,
            confluence: 2,
            timeframes_with_data: 3,
            aligned_timeframes: Vec::new(),
            confidence: 0.5,
            reasons: Vec::new(),
            entry_timeframe: crate::domain::market::Timeframe::M1,
            levels: None,
            patterns: Vec::new(),
        };
        SignalAtClose {
            candle_open_time_ms,
            signal: Arc::new(signal),
            values: None,
        }
    }

    fn signal_times(batch: &ExitBatch) -> Vec<i64> {
        batch
            .signals
            .iter()
            .map(|s| s.candle_open_time_ms)
            .collect()
    }

    fn pattern_at(candle_open_time_ms: i64) -> PatternAtClose {
        let pattern = crate::domain::notify::sample_signal::sample_signal(candle_open_time_ms)
            .patterns[0]
            .clone();
        PatternAtClose {
            candle_open_time_ms,
            pattern,
        }
    }

    fn pattern_times(batch: &ExitBatch) -> Vec<i64> {
        batch
            .patterns
            .iter()
            .map(|rider| rider.candle_open_time_ms)
            .collect()
    }

    #[test]
    fn signals_ride_with_their_candle_until_it_is_acknowledged_or_dropped() {
        let mut backlog = ExitBacklog::new(3);
        for minute in 1..=3 {
            backlog.push(candle(minute * 60_000));
            backlog.push_signal(signal_at(minute * 60_000));
            backlog.push_pattern(pattern_at(minute * 60_000));
        }
        let first = backlog.take(None, 2);
        assert_eq!(
            signal_times(&first),
            [60_000, 120_000],
            "only the candles handed on"
        );
        assert_eq!(pattern_times(&first), [60_000, 120_000]);
        let rest = backlog.take(Some(120_000), 10);
        assert_eq!(signal_times(&rest), [180_000]);
        assert_eq!(pattern_times(&rest), [180_000]);
        backlog.push(candle(240_000));
        backlog.push(candle(300_000));
        backlog.push(candle(360_000));
        assert_eq!(backlog.len(), 3);
        let after_drops = backlog.take(None, 10);
        assert!(
            signal_times(&after_drops).is_empty() && pattern_times(&after_drops).is_empty(),
            "a candle dropped at the cap takes its signals and patterns along"
        );
    }

    #[test]
    fn a_zero_cap_still_keeps_one_candle() {
        let mut backlog = ExitBacklog::new(0);
        assert_eq!(backlog.push(candle(60_000)), None);
        assert_eq!(backlog.len(), 1);
    }
}

//! Aggregation of one symbol's base candles into every higher timeframe.
//!
//! Policy (each rule has a test below):
//! - **Open candle.** The newest base candle stays open: an exchange may still revise it. It
//!   closes when a base candle with a later open time arrives.
//! - **Duplicates.** Re-sending a candle identical to one held is a no-op. A changed candle with
//!   the open time of the open candle replaces it, and the forming higher buckets follow.
//! - **Out of order.** Any other candle older than the open one (a changed closed candle, or a
//!   late one behind newer data) is rejected and counted; nothing is rewritten.
//! - **Gaps.** No candle is fabricated. A higher bucket is built from the base candles that
//!   exist inside it; a bucket with none does not exist.
//! - **Closing.** When a base candle closes it is folded into each higher timeframe's partial
//!   bucket; when the next base candle falls in a later bucket, that bucket closes too. Every
//!   closed candle of every timeframe is reported as a [`ClosedCandle`].

mod prepend;

pub use prepend::PrependTally;

use super::candle::Candle;
use super::ring::CandleRing;
use super::timeframe::Timeframe;
use serde::{Deserialize, Serialize};

/// What happened to one candle offered to the aggregator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestOutcome {
    Appended,
    Replaced,
    Duplicate,
    RejectedOutOfOrder,
}

/// Running counts of [`IngestOutcome`]s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestTally {
    pub appended: u64,
    pub replaced: u64,
    pub duplicates: u64,
    pub rejected_out_of_order: u64,
}

impl IngestTally {
    pub fn record(&mut self, outcome: IngestOutcome) {
        let counter = match outcome {
            IngestOutcome::Appended => &mut self.appended,
            IngestOutcome::Replaced => &mut self.replaced,
            IngestOutcome::Duplicate => &mut self.duplicates,
            IngestOutcome::RejectedOutOfOrder => &mut self.rejected_out_of_order,
        };
        *counter += 1;
    }

    pub fn add(&mut self, other: &IngestTally) {
        self.appended += other.appended;
        self.replaced += other.replaced;
        self.duplicates += other.duplicates;
        self.rejected_out_of_order += other.rejected_out_of_order;
    }
}

/// A candle of `timeframe` that has just completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClosedCandle {
    pub timeframe: Timeframe,
    pub candle: Candle,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct HigherSeries {
    timeframe: Timeframe,
    closed: CandleRing,
    /// The closed base candles of the bucket being formed, folded together.
    partial: Option<Candle>,
}

/// One symbol's candles on its base timeframe and every timeframe above it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeframeAggregator {
    base: Timeframe,
    base_closed: CandleRing,
    open_base: Option<Candle>,
    higher: Vec<HigherSeries>,
    tally: IngestTally,
}

impl TimeframeAggregator {
    /// `capacity` bounds each timeframe's ring of closed candles.
    pub fn new(base: Timeframe, capacity: usize) -> TimeframeAggregator {
        let higher = base
            .higher()
            .map(|timeframe| HigherSeries {
                timeframe,
                closed: CandleRing::with_capacity(capacity),
                partial: None,
            })
            .collect();
        TimeframeAggregator {
            base,
            base_closed: CandleRing::with_capacity(capacity),
            open_base: None,
            higher,
            tally: IngestTally::default(),
        }
    }

    pub fn base(&self) -> Timeframe {
        self.base
    }

    /// The base timeframe and every timeframe it aggregates to.
    pub fn timeframes(&self) -> impl Iterator<Item = Timeframe> + '_ {
        std::iter::once(self.base).chain(self.higher.iter().map(|series| series.timeframe))
    }

    pub fn tally(&self) -> IngestTally {
        self.tally
    }

    /// Open time of the newest base candle, open or closed.
    pub fn last_open_time_ms(&self) -> Option<i64> {
        self.open_base.map(|candle| candle.open_time_ms)
    }

    /// Offers one checked base candle; bucket completions are pushed to `closed`.
    pub fn on_candle(&mut self, candle: Candle, closed: &mut Vec<ClosedCandle>) -> IngestOutcome {
        debug_assert!(
            self.base.is_aligned(candle.open_time_ms),
            "Invariant: checked candle"
        );
        let outcome = match self.open_base {
            None => self.accept_first_or_stale(candle),
            Some(open) if candle.open_time_ms == open.open_time_ms => {
                if candle == open {
                    IngestOutcome::Duplicate
                } else {
                    self.open_base = Some(candle);
                    IngestOutcome::Replaced
                }
            }
            Some(open) if candle.open_time_ms > open.open_time_ms => {
                self.close_base(open, candle.open_time_ms, closed);
                self.open_base = Some(candle);
                IngestOutcome::Appended
            }
            Some(_) => self.classify_stale(&candle),
        };
        self.tally.record(outcome);
        outcome
    }

    fn accept_first_or_stale(&mut self, candle: Candle) -> IngestOutcome {
        debug_assert!(
            self.base_closed.is_empty(),
            "Invariant: closed candles imply an open one"
        );
        self.open_base = Some(candle);
        IngestOutcome::Appended
    }

    fn classify_stale(&self, candle: &Candle) -> IngestOutcome {
        match self.base_closed.find(candle.open_time_ms) {
            Some(held) if held == candle => IngestOutcome::Duplicate,
            _ => IngestOutcome::RejectedOutOfOrder,
        }
    }

    /// Closes the open base candle because a candle opening at `next_open_time_ms` arrived.
    fn close_base(&mut self, open: Candle, next_open_time_ms: i64, closed: &mut Vec<ClosedCandle>) {
        self.base_closed.push(open);
        closed.push(ClosedCandle {
            timeframe: self.base,
            candle: open,
        });
        for series in &mut self.higher {
            let folded = fold_into_bucket(series.timeframe, series.partial, &open);
            let next_bucket_ms = series.timeframe.bucket_start_ms(next_open_time_ms);
            if next_bucket_ms == folded.open_time_ms {
                series.partial = Some(folded);
            } else {
                series.closed.push(folded);
                series.partial = None;
                closed.push(ClosedCandle {
                    timeframe: series.timeframe,
                    candle: folded,
                });
            }
        }
    }

    /// Ends a finite input (a file, a backtest): the open base candle closes as if a later one
    /// had arrived. Higher buckets are not closed: the data may stop in the middle of one.
    /// Consumes the aggregator, since nothing may follow.
    pub fn finish(mut self, closed: &mut Vec<ClosedCandle>) {
        if let Some(open) = self.open_base.take() {
            self.close_base(open, open.open_time_ms, closed);
        }
    }

    /// Closed candles of `timeframe`, if this symbol has that timeframe.
    pub fn closed(&self, timeframe: Timeframe) -> Option<&CandleRing> {
        if timeframe == self.base {
            return Some(&self.base_closed);
        }
        self.series(timeframe).map(|series| &series.closed)
    }

    /// The candle of `timeframe` still forming (it includes the open base candle).
    pub fn forming(&self, timeframe: Timeframe) -> Option<Candle> {
        let open = self.open_base?;
        if timeframe == self.base {
            return Some(open);
        }
        let series = self.series(timeframe)?;
        Some(fold_into_bucket(timeframe, series.partial, &open))
    }

    fn series(&self, timeframe: Timeframe) -> Option<&HigherSeries> {
        self.higher
            .iter()
            .find(|series| series.timeframe == timeframe)
    }
}

fn fold_into_bucket(timeframe: Timeframe, partial: Option<Candle>, candle: &Candle) -> Candle {
    match partial {
        Some(partial) => {
            debug_assert_eq!(
                partial.open_time_ms,
                timeframe.bucket_start_ms(candle.open_time_ms),
                "Invariant: a partial bucket only takes candles of its own bucket"
            );
            partial.merge(candle)
        }
        None => Candle {
            open_time_ms: timeframe.bucket_start_ms(candle.open_time_ms),
            ..*candle
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::market::{Price, Volume};

    const MINUTE_MS: i64 = 60_000;

    fn candle(minute: i64, open: i64, high: i64, low: i64, close: i64, volume: i128) -> Candle {
        Candle {
            open_time_ms: minute * MINUTE_MS,
            open: Price::from_raw(open),
            high: Price::from_raw(high),
            low: Price::from_raw(low),
            close: Price::from_raw(close),
            volume: Volume::from_raw(volume),
        }
    }

    fn flat(minute: i64, price: i64) -> Candle {
        candle(minute, price, price, price, price, 1)
    }

    fn feed(aggregator: &mut TimeframeAggregator, candles: &[Candle]) -> Vec<ClosedCandle> {
        let mut closed = Vec::new();
        for candle in candles {
            aggregator.on_candle(*candle, &mut closed);
        }
        closed
    }

    fn closed_times(aggregator: &TimeframeAggregator, timeframe: Timeframe) -> Vec<i64> {
        let ring = aggregator.closed(timeframe).unwrap();
        ring.tail(usize::MAX)
            .map(|candle| candle.open_time_ms / MINUTE_MS)
            .collect()
    }

    #[test]
    fn five_one_minute_candles_make_one_five_minute_candle() {
        let mut aggregator = TimeframeAggregator::new(Timeframe::M1, 100);
        let candles = [
            candle(0, 10, 12, 9, 11, 1),
            candle(1, 11, 15, 10, 14, 2),
            candle(2, 14, 14, 8, 9, 3),
            candle(3, 9, 10, 9, 10, 4),
            candle(4, 10, 11, 10, 11, 5),
        ];
        feed(&mut aggregator, &candles);
        assert!(
            aggregator.closed(Timeframe::M5).unwrap().is_empty(),
            "still forming"
        );
        assert_eq!(
            aggregator.forming(Timeframe::M5),
            Some(candle(0, 10, 15, 8, 11, 15))
        );
        let closed = feed(&mut aggregator, &[flat(5, 11)]);
        assert!(closed.contains(&ClosedCandle {
            timeframe: Timeframe::M5,
            candle: candle(0, 10, 15, 8, 11, 15)
        }));
        assert_eq!(closed_times(&aggregator, Timeframe::M5), [0]);
    }

    #[test]
    fn gaps_fabricate_nothing_and_buckets_use_what_exists() {
        let mut aggregator = TimeframeAggregator::new(Timeframe::M1, 100);
        // minutes 1-3 missing; minutes 5-14 missing (a whole 5m bucket and more).
        feed(
            &mut aggregator,
            &[candle(0, 10, 11, 9, 10, 1), candle(4, 10, 20, 10, 19, 2)],
        );
        feed(&mut aggregator, &[flat(15, 7), flat(16, 8)]);
        assert_eq!(closed_times(&aggregator, Timeframe::M1), [0, 4, 15]);
        assert_eq!(closed_times(&aggregator, Timeframe::M5), [0]);
        let five = aggregator
            .closed(Timeframe::M5)
            .unwrap()
            .last()
            .copied()
            .unwrap();
        assert_eq!(five, candle(0, 10, 20, 9, 19, 3));
        assert_eq!(
            aggregator.forming(Timeframe::M5).unwrap().open_time_ms,
            15 * MINUTE_MS
        );
        assert_eq!(closed_times(&aggregator, Timeframe::M15), [0]);
    }

    #[test]
    fn identical_resend_is_a_no_op() {
        let mut aggregator = TimeframeAggregator::new(Timeframe::M1, 100);
        feed(&mut aggregator, &[flat(0, 10), flat(1, 11), flat(2, 12)]);
        let before = aggregator.clone();
        let mut closed = Vec::new();
        assert_eq!(
            aggregator.on_candle(flat(2, 12), &mut closed),
            IngestOutcome::Duplicate
        );
        assert_eq!(
            aggregator.on_candle(flat(0, 10), &mut closed),
            IngestOutcome::Duplicate
        );
        assert!(closed.is_empty());
        assert_eq!(aggregator.tally().duplicates, 2);
        assert_eq!(
            aggregator.closed(Timeframe::M1),
            before.closed(Timeframe::M1)
        );
        assert_eq!(
            aggregator.forming(Timeframe::D1),
            before.forming(Timeframe::D1)
        );
    }

    #[test]
    fn a_changed_open_candle_replaces_the_old_one_in_every_timeframe() {
        let mut aggregator = TimeframeAggregator::new(Timeframe::M1, 100);
        feed(
            &mut aggregator,
            &[candle(0, 10, 10, 10, 10, 1), candle(1, 10, 12, 10, 12, 1)],
        );
        let mut closed = Vec::new();
        let revised = candle(1, 10, 30, 5, 25, 9);
        assert_eq!(
            aggregator.on_candle(revised, &mut closed),
            IngestOutcome::Replaced
        );
        assert_eq!(aggregator.forming(Timeframe::M1), Some(revised));
        assert_eq!(
            aggregator.forming(Timeframe::H1),
            Some(candle(0, 10, 30, 5, 25, 10))
        );
        feed(&mut aggregator, &[flat(5, 25)]);
        let five = aggregator.closed(Timeframe::M5).unwrap().last().copied();
        assert_eq!(
            five,
            Some(candle(0, 10, 30, 5, 25, 10)),
            "the replaced values closed"
        );
    }

    #[test]
    fn older_changed_or_late_candles_are_rejected_and_counted() {
        let mut aggregator = TimeframeAggregator::new(Timeframe::M1, 100);
        feed(&mut aggregator, &[flat(0, 10), flat(1, 11), flat(5, 12)]);
        let before = aggregator.clone();
        let mut closed = Vec::new();
        // changed closed candle, and a late candle inside the gap behind the open one
        for late in [flat(1, 99), flat(3, 11)] {
            assert_eq!(
                aggregator.on_candle(late, &mut closed),
                IngestOutcome::RejectedOutOfOrder
            );
        }
        assert!(closed.is_empty());
        assert_eq!(aggregator.tally().rejected_out_of_order, 2);
        assert_eq!(
            aggregator.closed(Timeframe::M1),
            before.closed(Timeframe::M1)
        );
        assert_eq!(
            aggregator.forming(Timeframe::M5),
            before.forming(Timeframe::M5)
        );
    }

    #[test]
    fn every_completed_bucket_of_every_timeframe_emits_a_closed_event() {
        let mut aggregator = TimeframeAggregator::new(Timeframe::M1, 10_000);
        let day_minutes = 1440;
        let candles: Vec<Candle> = (0..=day_minutes).map(|minute| flat(minute, 10)).collect();
        let closed = feed(&mut aggregator, &candles);
        let count =
            |timeframe: Timeframe| closed.iter().filter(|c| c.timeframe == timeframe).count();
        for timeframe in Timeframe::ALL {
            let expected = (day_minutes * MINUTE_MS / timeframe.duration_ms()) as usize;
            assert_eq!(count(timeframe), expected, "{timeframe}");
        }
        let day = aggregator
            .closed(Timeframe::D1)
            .unwrap()
            .last()
            .copied()
            .unwrap();
        assert_eq!(day.volume, Volume::from_raw(1440));
    }

    #[test]
    fn five_minute_input_aggregates_to_fifteen_minutes_through_one_day_only() {
        let aggregator = TimeframeAggregator::new(Timeframe::M5, 10);
        let timeframes: Vec<_> = aggregator.timeframes().map(Timeframe::as_str).collect();
        assert_eq!(timeframes, ["5m", "15m", "30m", "1h", "2h", "4h", "1d"]);
        assert!(aggregator.closed(Timeframe::M1).is_none());
        assert!(aggregator.forming(Timeframe::M1).is_none());
    }

    #[test]
    fn ring_buffers_stay_bounded() {
        let mut aggregator = TimeframeAggregator::new(Timeframe::M1, 50);
        let candles: Vec<Candle> = (0..5_000).map(|minute| flat(minute, 10)).collect();
        feed(&mut aggregator, &candles);
        for timeframe in Timeframe::ALL {
            assert!(
                aggregator.closed(timeframe).unwrap().len() <= 50,
                "{timeframe}"
            );
        }
        assert_eq!(aggregator.closed(Timeframe::M1).unwrap().len(), 50);
    }

    #[test]
    fn finishing_closes_the_open_base_candle_but_no_partial_bucket() {
        let mut aggregator = TimeframeAggregator::new(Timeframe::M1, 100);
        feed(&mut aggregator, &[flat(0, 10), flat(1, 11), flat(2, 12)]);
        let mut closed = Vec::new();
        aggregator.finish(&mut closed);
        assert_eq!(
            closed,
            [ClosedCandle {
                timeframe: Timeframe::M1,
                candle: flat(2, 12)
            }],
            "minute 2 closes; the 5m bucket 0-4 is incomplete and stays open"
        );
    }
}

#[cfg(test)]
pub(crate) mod prepend_tests;

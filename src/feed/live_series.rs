//! One followed symbol's stream, decided candle by candle. Pure: the feed task does the I/O.
//!
//! Rules (each has a test below):
//! - **Closed is final.** A kline the exchange marks closed, or one a later kline has
//!   superseded (an exchange with no closed flag), is a closed candle. `last_closed_ms` is the
//!   newest closed open time the engine has.
//! - **Duplicates and stragglers are dropped.** A kline opening at or before `last_closed_ms`
//!   changes nothing and is counted as a duplicate.
//! - **Gaps are repaired before moving on.** A kline opening more than one interval after
//!   `last_closed_ms` means minutes went missing (a dropped frame, a disconnect): the missing
//!   window is fetched over REST first, then the kline is applied. A minute the exchange has
//!   no candle for stays missing: nothing is fabricated.
//! - **The forming candle is shown, not trusted.** A kline not yet closed is sent on as the
//!   symbol's open candle (the engine replaces it until it closes); it never moves
//!   `last_closed_ms`.

use super::format::StreamKline;
use cryptolens_actors::domain::market::{Candle, Timeframe};

/// What to do with one stream kline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KlineStep {
    /// Already have it (or something newer): nothing to do.
    Duplicate,
    /// Fetch closed candles opening in `[from_ms, to_ms]` over REST, apply them, then offer
    /// the kline again.
    Repair { from_ms: i64, to_ms: i64 },
    /// Send these candles to the engine, oldest first.
    Apply(Vec<Candle>),
}

/// The stream state of one symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveSeries {
    timeframe: Timeframe,
    last_closed_ms: Option<i64>,
    /// The newest kline not yet closed (exchanges with no closed flag close it by the next).
    forming: Option<Candle>,
    /// The exchange marks closed klines; then a superseded forming kline is not final.
    closed_by_flag: bool,
}

impl LiveSeries {
    pub fn new(
        timeframe: Timeframe,
        last_closed_ms: Option<i64>,
        closed_by_flag: bool,
    ) -> LiveSeries {
        LiveSeries {
            timeframe,
            last_closed_ms,
            forming: None,
            closed_by_flag,
        }
    }

    pub fn last_closed_ms(&self) -> Option<i64> {
        self.last_closed_ms
    }

    /// The first open time a catch-up over REST should fetch from.
    pub fn resume_from_ms(&self) -> Option<i64> {
        self.last_closed_ms
            .map(|last| last + self.timeframe.duration_ms())
    }

    /// Decides what `kline` means. `Repair` is answered by [`LiveSeries::repaired`] and the
    /// kline offered again.
    pub fn on_kline(&mut self, kline: StreamKline) -> KlineStep {
        let open_ms = kline.candle.open_time_ms;
        if self.last_closed_ms.is_some_and(|last| open_ms <= last) {
            return KlineStep::Duplicate;
        }
        if let Some(forming) = self
            .forming
            .filter(|forming| forming.open_time_ms < open_ms)
        {
            // A later interval began. Without a closed flag the one forming has ended with
            // its last values; with one, its closed kline went missing and the gap check
            // below fetches the final values.
            self.forming = None;
            if !self.closed_by_flag {
                self.last_closed_ms = self.last_closed_ms.max(Some(forming.open_time_ms));
            }
        }
        if let Some(last) = self.last_closed_ms {
            let expected_ms = last + self.timeframe.duration_ms();
            if open_ms > expected_ms {
                return KlineStep::Repair {
                    from_ms: expected_ms,
                    to_ms: open_ms - self.timeframe.duration_ms(),
                };
            }
        }
        if kline.closed {
            self.last_closed_ms = Some(open_ms);
            self.forming = None;
        } else {
            self.forming = Some(kline.candle);
        }
        KlineStep::Apply(vec![kline.candle])
    }

    /// The candles a repair or a catch-up fetched were applied: they are closed. A repair's
    /// window (`settled_to_ms`) is settled even where the exchange had no candle, a real gap,
    /// since a later kline was already seen; a catch-up (None) settles only up to the newest
    /// candle the exchange gave, so a kline REST did not have yet still arrives by the stream.
    pub fn repaired(&mut self, candles: &[Candle], settled_to_ms: Option<i64>) {
        let newest = candles.last().map(|candle| candle.open_time_ms);
        let Some(settled) = newest.max(settled_to_ms) else {
            return;
        };
        self.last_closed_ms = self.last_closed_ms.max(Some(settled));
        if self
            .forming
            .is_some_and(|forming| forming.open_time_ms <= settled)
        {
            self.forming = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cryptolens_actors::domain::market::CandleDraft;
    use rust_decimal::Decimal;

    const MINUTE_MS: i64 = 60_000;

    fn candle(minute: i64, close: i64) -> Candle {
        let price = Decimal::from(close);
        let draft = CandleDraft {
            open_time_ms: minute * MINUTE_MS,
            open: price,
            high: price,
            low: price,
            close: price,
            volume: Decimal::ONE,
        };
        Candle::new_checked(Timeframe::M1, &draft).unwrap()
    }

    fn closed(minute: i64) -> StreamKline {
        StreamKline {
            candle: candle(minute, 100 + minute),
            closed: true,
        }
    }

    fn forming(minute: i64, close: i64) -> StreamKline {
        StreamKline {
            candle: candle(minute, close),
            closed: false,
        }
    }

    #[test]
    fn the_next_closed_kline_is_applied_and_moves_the_cursor() {
        let mut series = LiveSeries::new(Timeframe::M1, Some(9 * MINUTE_MS), true);
        assert_eq!(
            series.on_kline(closed(10)),
            KlineStep::Apply(vec![closed(10).candle])
        );
        assert_eq!(series.last_closed_ms(), Some(10 * MINUTE_MS));
    }

    #[test]
    fn duplicates_and_older_klines_are_dropped() {
        let mut series = LiveSeries::new(Timeframe::M1, Some(10 * MINUTE_MS), true);
        assert_eq!(series.on_kline(closed(10)), KlineStep::Duplicate);
        assert_eq!(series.on_kline(closed(7)), KlineStep::Duplicate);
        assert_eq!(series.on_kline(forming(3, 1)), KlineStep::Duplicate);
        assert_eq!(series.last_closed_ms(), Some(10 * MINUTE_MS));
    }

    #[test]
    fn a_gap_asks_for_the_missing_window_then_applies() {
        let mut series = LiveSeries::new(Timeframe::M1, Some(10 * MINUTE_MS), true);
        let step = series.on_kline(closed(14));
        assert_eq!(
            step,
            KlineStep::Repair {
                from_ms: 11 * MINUTE_MS,
                to_ms: 13 * MINUTE_MS
            }
        );
        series.repaired(
            &[closed(11).candle, closed(13).candle],
            Some(13 * MINUTE_MS),
        );
        assert_eq!(series.last_closed_ms(), Some(13 * MINUTE_MS));
        assert_eq!(
            series.on_kline(closed(14)),
            KlineStep::Apply(vec![closed(14).candle])
        );
    }

    #[test]
    fn forming_klines_are_applied_without_moving_the_cursor() {
        let mut series = LiveSeries::new(Timeframe::M1, Some(10 * MINUTE_MS), true);
        assert_eq!(
            series.on_kline(forming(11, 5)),
            KlineStep::Apply(vec![candle(11, 5)])
        );
        assert_eq!(
            series.on_kline(forming(11, 6)),
            KlineStep::Apply(vec![candle(11, 6)])
        );
        assert_eq!(series.last_closed_ms(), Some(10 * MINUTE_MS));
        series.on_kline(closed(11));
        assert_eq!(series.last_closed_ms(), Some(11 * MINUTE_MS));
    }

    #[test]
    fn without_a_closed_flag_the_next_interval_closes_the_forming_one() {
        let mut series = LiveSeries::new(Timeframe::M1, Some(10 * MINUTE_MS), false);
        series.on_kline(forming(11, 5));
        series.on_kline(forming(11, 7));
        assert_eq!(
            series.on_kline(forming(12, 8)),
            KlineStep::Apply(vec![candle(12, 8)])
        );
        assert_eq!(series.last_closed_ms(), Some(11 * MINUTE_MS));
    }

    #[test]
    fn a_missed_closed_kline_is_repaired_when_the_next_minute_forms() {
        let mut series = LiveSeries::new(Timeframe::M1, Some(10 * MINUTE_MS), true);
        series.on_kline(forming(11, 5));
        // Minute 11's closed kline and minute 12 never came; minute 13 is forming.
        assert_eq!(
            series.on_kline(forming(13, 9)),
            KlineStep::Repair {
                from_ms: 11 * MINUTE_MS,
                to_ms: 12 * MINUTE_MS
            }
        );
    }

    #[test]
    fn a_repair_settles_its_window_even_where_the_exchange_had_nothing() {
        let mut series = LiveSeries::new(Timeframe::M1, Some(10 * MINUTE_MS), true);
        series.repaired(&[], Some(20 * MINUTE_MS));
        assert_eq!(series.resume_from_ms(), Some(21 * MINUTE_MS));
    }

    #[test]
    fn a_catch_up_settles_only_what_the_exchange_gave() {
        let mut series = LiveSeries::new(Timeframe::M1, Some(10 * MINUTE_MS), true);
        series.repaired(&[], None);
        assert_eq!(series.resume_from_ms(), Some(11 * MINUTE_MS));
        series.repaired(&[closed(11).candle, closed(12).candle], None);
        assert_eq!(series.resume_from_ms(), Some(13 * MINUTE_MS));
        assert_eq!(
            series.on_kline(closed(13)),
            KlineStep::Apply(vec![closed(13).candle])
        );
    }

    #[test]
    fn a_new_symbol_applies_its_first_kline() {
        let mut series = LiveSeries::new(Timeframe::M1, None, true);
        assert_eq!(
            series.on_kline(closed(5)),
            KlineStep::Apply(vec![closed(5).candle])
        );
        assert_eq!(series.resume_from_ms(), Some(6 * MINUTE_MS));
    }
}

//! Which history to fetch so a symbol is warm from its first minute. Pure.
//!
//! Rule: the base timeframe (1m) is fetched from the start of the UTC day that holds its
//! oldest wanted candle (`history_candles` minutes back), so every higher bucket from there
//! on is built from complete base data. Each higher timeframe gets `history_candles` of its
//! own candles for the buckets before that start, fetched at its own interval (not 200 days
//! of 1m). A timeframe the exchange does not serve (Kraken has no 2h) is fetched at the
//! largest served timeframe that divides it and folded into its buckets.

use cryptolens_actors::domain::market::{Candle, Timeframe};

/// One REST range to fetch: closed candles of `fetch` opening in `[from_ms, to_ms]`, to be
/// folded into `timeframe` when the two differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryRange {
    pub timeframe: Timeframe,
    pub fetch: Timeframe,
    pub from_ms: i64,
    pub to_ms: i64,
}

impl HistoryRange {
    /// The open time of the last `fetch` candle the range needs: the last one of its final
    /// bucket (`to_ms` is that bucket's open time; folding 1h into 2h needs the hour after
    /// it too, or the final bucket is incomplete and dropped).
    pub fn fetch_to_ms(&self) -> i64 {
        self.to_ms + self.timeframe.duration_ms() - self.fetch.duration_ms()
    }
}

/// Every range to fetch, the base first.
pub fn plan_history(
    now_ms: i64,
    history_candles: usize,
    served: &[Timeframe],
) -> Vec<HistoryRange> {
    let base = Timeframe::M1;
    let wanted = i64::try_from(history_candles).unwrap_or(i64::MAX);
    let oldest_ms = now_ms.saturating_sub(wanted.saturating_mul(base.duration_ms()));
    let base_from_ms = Timeframe::D1.bucket_start_ms(oldest_ms);
    let mut ranges = vec![HistoryRange {
        timeframe: base,
        fetch: base,
        from_ms: base_from_ms,
        to_ms: base.bucket_start_ms(now_ms),
    }];
    for timeframe in base.higher() {
        let Some(fetch) = plan_fetch(timeframe, served) else {
            continue;
        };
        let span_ms = wanted.saturating_mul(timeframe.duration_ms());
        ranges.push(HistoryRange {
            timeframe,
            fetch,
            from_ms: base_from_ms.saturating_sub(span_ms),
            to_ms: base_from_ms - timeframe.duration_ms(),
        });
    }
    ranges
}

/// The plan moved to where the base history the exchange served begins, when that is later
/// than planned: Kraken answers only its newest 720 entries, so its 1m history may start
/// hours after the planned day boundary, and the higher timeframes, planned to end at that
/// boundary, would leave a hole of buckets up to the first 1m candle.
///
/// The base then starts at the anchor: the first bucket start at or after `served_from_ms` of
/// the largest timeframe with one at or before `served_to_ms`, so every bucket of that
/// timeframe and the smaller ones from there on is built from complete base data (a larger
/// timeframe's bucket holding the anchor is built from its part: no earlier base data exists).
/// Each higher range ends at its last bucket wholly before the anchor, with the same number of
/// candles as planned. Answers the anchor and the higher ranges; `ranges` as planned (base
/// first) when the base starts where planned.
pub fn reanchor(
    ranges: &[HistoryRange],
    served_from_ms: i64,
    served_to_ms: i64,
) -> (i64, Vec<HistoryRange>) {
    let Some((base, higher)) = ranges.split_first() else {
        return (served_from_ms, Vec::new());
    };
    if served_from_ms <= base.from_ms {
        return (base.from_ms, higher.to_vec());
    }
    let anchor_ms = Timeframe::ALL
        .into_iter()
        .rev()
        .map(|timeframe| {
            let start_ms = timeframe.bucket_start_ms(served_from_ms);
            if start_ms < served_from_ms {
                start_ms + timeframe.duration_ms()
            } else {
                start_ms
            }
        })
        .find(|anchor_ms| *anchor_ms <= served_to_ms)
        .unwrap_or(served_from_ms);
    let moved = higher
        .iter()
        .map(|range| {
            let step_ms = range.timeframe.duration_ms();
            let to_ms = range.timeframe.bucket_start_ms(anchor_ms) - step_ms;
            HistoryRange {
                from_ms: to_ms - (range.to_ms - range.from_ms),
                to_ms,
                ..*range
            }
        })
        .collect();
    (anchor_ms, moved)
}

/// `timeframe` itself if served, else the largest served timeframe dividing it.
pub fn plan_fetch(timeframe: Timeframe, served: &[Timeframe]) -> Option<Timeframe> {
    if served.contains(&timeframe) {
        return Some(timeframe);
    }
    served
        .iter()
        .copied()
        .filter(|candidate| {
            candidate.duration_ms() < timeframe.duration_ms()
                && timeframe.duration_ms() % candidate.duration_ms() == 0
        })
        .max_by_key(|candidate| candidate.duration_ms())
}

/// Folds ascending candles of a smaller timeframe into `timeframe`'s buckets; a bucket is
/// kept only when every one of its smaller candles is present, so no candle is fabricated
/// or left partial.
pub fn fold_into(timeframe: Timeframe, from: Timeframe, candles: &[Candle]) -> Vec<Candle> {
    if from == timeframe {
        return candles.to_vec();
    }
    let per_bucket = (timeframe.duration_ms() / from.duration_ms()) as usize;
    let mut folded = Vec::with_capacity(candles.len() / per_bucket.max(1) + 1);
    let mut bucket: Option<(Candle, usize)> = None;
    let mut complete = |bucket: Option<(Candle, usize)>| {
        if let Some((candle, count)) = bucket.filter(|(_, count)| *count == per_bucket) {
            debug_assert_eq!(count, per_bucket);
            folded.push(candle);
        }
    };
    for candle in candles {
        let start_ms = timeframe.bucket_start_ms(candle.open_time_ms);
        match &mut bucket {
            Some((open, count)) if open.open_time_ms == start_ms => {
                *open = open.merge(candle);
                *count += 1;
            }
            _ => {
                complete(bucket.take());
                bucket = Some((
                    Candle {
                        open_time_ms: start_ms,
                        ..*candle
                    },
                    1,
                ));
            }
        }
    }
    complete(bucket);
    folded
}

#[cfg(test)]
mod tests {
    use super::*;
    use cryptolens_actors::domain::market::CandleDraft;
    use rust_decimal::Decimal;

    const DAY_MS: i64 = 86_400_000;

    fn candle(timeframe: Timeframe, open_time_ms: i64, close: i64) -> Candle {
        let draft = CandleDraft {
            open_time_ms,
            open: Decimal::from(close),
            high: Decimal::from(close + 1),
            low: Decimal::from(close - 1),
            close: Decimal::from(close),
            volume: Decimal::ONE,
        };
        Candle::new_checked(timeframe, &draft).unwrap()
    }

    #[test]
    fn the_base_starts_at_a_day_boundary_and_higher_timeframes_cover_before_it() {
        let now_ms = 20_000 * DAY_MS + 5 * 3_600_000 + 30_000;
        let ranges = plan_history(now_ms, 1000, &Timeframe::ALL);
        let base = ranges[0];
        assert_eq!(base.timeframe, Timeframe::M1);
        assert_eq!(
            base.from_ms,
            19_999 * DAY_MS,
            "1000 minutes back is yesterday"
        );
        assert_eq!(base.to_ms, Timeframe::M1.bucket_start_ms(now_ms));
        assert_eq!(ranges.len(), 8);
        for range in &ranges[1..] {
            assert_eq!(range.fetch, range.timeframe);
            assert_eq!(range.to_ms + range.timeframe.duration_ms(), base.from_ms);
            assert_eq!(
                (range.to_ms - range.from_ms) / range.timeframe.duration_ms() + 1,
                1000
            );
        }
    }

    #[test]
    fn an_unserved_timeframe_is_fetched_at_its_largest_served_divisor() {
        let served = [
            Timeframe::M1,
            Timeframe::M5,
            Timeframe::M15,
            Timeframe::M30,
            Timeframe::H1,
            Timeframe::H4,
            Timeframe::D1,
        ];
        let ranges = plan_history(100 * DAY_MS, 10, &served);
        let two_hours = ranges
            .iter()
            .find(|r| r.timeframe == Timeframe::H2)
            .unwrap();
        assert_eq!(two_hours.fetch, Timeframe::H1);
        let hour_ms = Timeframe::H1.duration_ms();
        assert_eq!(
            two_hours.fetch_to_ms(),
            two_hours.to_ms + hour_ms,
            "the final 2h bucket needs both its hours"
        );
        let day = ranges
            .iter()
            .find(|r| r.timeframe == Timeframe::D1)
            .unwrap();
        assert_eq!(day.fetch_to_ms(), day.to_ms, "fetched as itself");
    }

    #[test]
    fn a_base_served_later_than_planned_moves_every_higher_range_up_to_it() {
        let hour_ms = 3_600_000;
        let now_ms = 20_000 * DAY_MS + 10 * hour_ms + 7 * 60_000;
        let ranges = plan_history(now_ms, 800, &Timeframe::ALL);
        // Kraken served only the newest 720 minutes: from 22:07 yesterday.
        let served_from_ms = now_ms - 720 * 60_000;
        let (anchor_ms, higher) = reanchor(&ranges, served_from_ms, now_ms - 60_000);
        assert_eq!(
            anchor_ms,
            20_000 * DAY_MS,
            "midnight is within what was served"
        );
        for (moved, planned) in higher.iter().zip(&ranges[1..]) {
            let step_ms = moved.timeframe.duration_ms();
            assert_eq!(moved.to_ms + step_ms, anchor_ms, "{:?}", moved.timeframe);
            assert_eq!(moved.to_ms - moved.from_ms, planned.to_ms - planned.from_ms);
        }

        // Only 3 hours served, from 06:07: the anchor is the next 4h boundary, 08:00.
        let served_from_ms = now_ms - 4 * hour_ms;
        let (anchor_ms, higher) = reanchor(&ranges, served_from_ms, now_ms - 60_000);
        assert_eq!(anchor_ms, 20_000 * DAY_MS + 8 * hour_ms);
        let day = higher
            .iter()
            .find(|r| r.timeframe == Timeframe::D1)
            .unwrap();
        assert_eq!(
            day.to_ms,
            19_999 * DAY_MS,
            "the day holding the anchor is partial"
        );
        let four_hours = higher
            .iter()
            .find(|r| r.timeframe == Timeframe::H4)
            .unwrap();
        assert_eq!(four_hours.to_ms, 20_000 * DAY_MS + 4 * hour_ms);
    }

    #[test]
    fn a_base_served_from_where_planned_keeps_the_plan() {
        let ranges = plan_history(20_000 * DAY_MS + 3_600_000, 120, &Timeframe::ALL);
        let (anchor_ms, higher) = reanchor(&ranges, ranges[0].from_ms, ranges[0].to_ms);
        assert_eq!(anchor_ms, ranges[0].from_ms);
        assert_eq!(higher, ranges[1..]);
    }

    #[test]
    fn folding_keeps_only_complete_buckets() {
        let hour_ms = 3_600_000;
        let hours: Vec<Candle> = [0, 1, 2, 3, 5]
            .iter()
            .map(|h| candle(Timeframe::H1, h * hour_ms, 100 + h))
            .collect();
        let folded = fold_into(Timeframe::H2, Timeframe::H1, &hours);
        assert_eq!(
            folded.len(),
            2,
            "hour 4 is missing, so bucket 4-6 is dropped"
        );
        assert_eq!(folded[1].open_time_ms, 2 * hour_ms);
        assert_eq!(folded[1].open, hours[2].open);
        assert_eq!(folded[1].close, hours[3].close);
        assert_eq!(folded[1].volume.to_decimal(), Decimal::from(2));
    }
}

//! The prepend rules (see `prepend.rs`), one test each, plus a property: an older part
//! prepended after the newer part was ingested gives the rings ingesting everything gives.

use super::*;
use crate::domain::market::{Price, Volume};
use crate::domain::DomainError;
use proptest::prelude::*;

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 1_440 * MINUTE_MS;

/// `count` candles of `timeframe` from `start_ms`, a deterministic walk.
pub(crate) fn walk(timeframe: Timeframe, start_ms: i64, count: usize, seed: u64) -> Vec<Candle> {
    let mut state = seed | 1;
    let mut close: i64 = 1_000_000;
    (0..count as i64)
        .map(|index| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let open = close;
            close = (open + (state % 2_001) as i64 - 1_000).max(1_000);
            let wick = ((state >> 16) % 500) as i64;
            Candle {
                open_time_ms: start_ms + index * timeframe.duration_ms(),
                open: Price::from_raw(open),
                high: Price::from_raw(open.max(close) + wick),
                low: Price::from_raw(open.min(close) - wick / 2),
                close: Price::from_raw(close),
                volume: Volume::from_raw(((state >> 24) % 10_000) as i128 + 1),
            }
        })
        .collect()
}

fn ingested(base: Timeframe, capacity: usize, candles: &[Candle]) -> TimeframeAggregator {
    let mut aggregator = TimeframeAggregator::new(base, capacity);
    let mut closed = Vec::new();
    for candle in candles {
        aggregator.on_candle(*candle, &mut closed);
    }
    aggregator
}

fn ring(aggregator: &TimeframeAggregator, timeframe: Timeframe) -> Vec<Candle> {
    aggregator
        .closed(timeframe)
        .unwrap()
        .iter()
        .copied()
        .collect()
}

fn assert_same_rings(left: &TimeframeAggregator, right: &TimeframeAggregator) {
    for timeframe in left.timeframes() {
        assert_eq!(
            ring(left, timeframe),
            ring(right, timeframe),
            "{timeframe:?}"
        );
        assert_eq!(
            left.forming(timeframe),
            right.forming(timeframe),
            "{timeframe:?}"
        );
    }
}

#[test]
fn older_base_candles_prepended_equal_ingesting_everything_in_order() {
    let series = walk(Timeframe::M1, 10 * DAY_MS, 3 * 1_440 + 77, 7);
    let split = 1_440; // a day boundary: every bucket lies on one side
    let mut aggregator = ingested(Timeframe::M1, 10_000, &series[split..]);
    let tally = aggregator.prepend(Timeframe::M1, &series[..split]).unwrap();
    assert_eq!(tally.prepended, split as u64);
    assert_eq!(tally.folded, 288 + 96 + 48 + 24 + 12 + 6 + 1);
    assert_same_rings(&aggregator, &ingested(Timeframe::M1, 10_000, &series));
}

#[test]
fn a_held_candle_wins_over_an_offered_one_and_both_kinds_are_counted() {
    let series = walk(Timeframe::M1, 0, 100, 3);
    let mut aggregator = ingested(Timeframe::M1, 1_000, &series[50..]);
    let before = aggregator.clone();
    let mut offered = series[50..60].to_vec();
    offered[3].close = Price::from_raw(offered[3].close.raw() + 1); // a conflicting copy
    offered[3].high = offered[3].high.max(offered[3].close);
    let tally = aggregator.prepend(Timeframe::M1, &offered).unwrap();
    assert_eq!(
        (tally.duplicates, tally.conflicts, tally.prepended),
        (9, 1, 0)
    );
    assert_eq!(aggregator, before, "nothing written");
}

#[test]
fn candles_at_or_after_the_forming_one_are_left_to_ingest() {
    let series = walk(Timeframe::M1, 0, 30, 5);
    let mut aggregator = ingested(Timeframe::M1, 1_000, &series[..20]);
    let newer = walk(Timeframe::M1, 19 * MINUTE_MS, 5, 9);
    let tally = aggregator.prepend(Timeframe::M1, &newer).unwrap();
    assert_eq!(tally.not_older, 5);
    assert_eq!(aggregator.forming(Timeframe::M1), Some(series[19]));
    // The 1h bucket being formed is not older either.
    let hour = walk(Timeframe::H1, 0, 1, 2);
    assert_eq!(
        aggregator.prepend(Timeframe::H1, &hour).unwrap().not_older,
        1
    );
}

#[test]
fn higher_timeframe_seeds_go_before_the_first_base_candle_unchanged() {
    let day_start_ms = 40 * DAY_MS;
    let minutes = walk(Timeframe::M1, day_start_ms, 300, 11);
    let mut aggregator = ingested(Timeframe::M1, 1_000, &minutes);
    let days = walk(Timeframe::D1, day_start_ms - 30 * DAY_MS, 30, 12);
    let hours = walk(Timeframe::H1, day_start_ms - 200 * 60 * MINUTE_MS, 200, 13);
    let held_hours = ring(&aggregator, Timeframe::H1);
    assert_eq!(
        aggregator.prepend(Timeframe::D1, &days).unwrap().prepended,
        30
    );
    assert_eq!(
        aggregator.prepend(Timeframe::H1, &hours).unwrap().prepended,
        200
    );
    assert_eq!(
        ring(&aggregator, Timeframe::D1),
        days,
        "no day double counted"
    );
    let mut expected_hours = hours.clone();
    expected_hours.extend(held_hours);
    assert_eq!(ring(&aggregator, Timeframe::H1), expected_hours);
}

#[test]
fn a_bucket_history_began_in_the_middle_of_keeps_its_held_value() {
    // Ingest starts at 00:07, so the held 00:05 five-minute bucket has 00:07..00:09 only.
    // Prepending 00:00..00:06 builds the 00:00 bucket but must not rebuild the held one.
    let series = walk(Timeframe::M1, 0, 40, 21);
    let mut aggregator = ingested(Timeframe::M1, 1_000, &series[7..]);
    let held_five = ring(&aggregator, Timeframe::M5)[0];
    assert_eq!(held_five.open_time_ms, 5 * MINUTE_MS);
    let tally = aggregator.prepend(Timeframe::M1, &series[..7]).unwrap();
    assert_eq!(tally.prepended, 7);
    let fives = ring(&aggregator, Timeframe::M5);
    assert_eq!(
        fives[0],
        series[..5]
            .iter()
            .skip(1)
            .fold(series[0], |a, c| a.merge(c))
    );
    assert_eq!(fives[1], held_five, "held wins");
    assert_eq!(tally.folded, 1, "only the wholly prepended bucket is built");
}

#[test]
fn older_candles_fill_holes_between_held_ones() {
    let series = walk(Timeframe::M1, 0, 30, 31);
    let with_hole: Vec<Candle> = series
        .iter()
        .filter(|c| !(10..15).contains(&(c.open_time_ms / MINUTE_MS)))
        .copied()
        .collect();
    let mut aggregator = ingested(Timeframe::M1, 1_000, &with_hole);
    let tally = aggregator.prepend(Timeframe::M1, &series[10..15]).unwrap();
    assert_eq!(tally.prepended, 5);
    assert_eq!(ring(&aggregator, Timeframe::M1), series[..29].to_vec());
    // The 10..15 bucket was not held (a gap makes no bucket) and is built now.
    assert!(aggregator
        .closed(Timeframe::M5)
        .unwrap()
        .find(10 * MINUTE_MS)
        .is_some());
}

#[test]
fn past_capacity_the_oldest_are_dropped_and_counted() {
    let series = walk(Timeframe::M1, 0, 100, 41);
    let mut aggregator = ingested(Timeframe::M1, 30, &series[60..]);
    let tally = aggregator.prepend(Timeframe::M1, &series[..60]).unwrap();
    assert_eq!(tally.prepended, 60);
    assert_eq!(ring(&aggregator, Timeframe::M1), series[69..99].to_vec());
    assert!(tally.dropped_for_capacity >= 60);
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let series = walk(Timeframe::M5, 0, 50, 51);
    let mut aggregator = ingested(Timeframe::M5, 1_000, &series[20..]);
    let before = aggregator.clone();
    let mut descending = series[..5].to_vec();
    descending.swap(1, 2);
    let refusals = [
        aggregator.prepend(Timeframe::M5, &descending),
        aggregator.prepend(Timeframe::M1, &walk(Timeframe::M1, 0, 3, 1)),
        aggregator.prepend(Timeframe::H1, &walk(Timeframe::M1, MINUTE_MS, 1, 1)),
    ];
    for refusal in refusals {
        assert!(
            matches!(refusal, Err(DomainError::InvalidHistory { .. })),
            "{refusal:?}"
        );
    }
    assert_eq!(aggregator, before);
    let mut empty = TimeframeAggregator::new(Timeframe::M1, 10);
    let seeds = walk(Timeframe::D1, 0, 2, 1);
    assert!(
        empty.prepend(Timeframe::D1, &seeds).is_err(),
        "base data first"
    );
}

#[test]
fn on_a_symbol_holding_nothing_base_history_is_ingested() {
    let series = walk(Timeframe::M1, 0, 90, 61);
    let mut aggregator = TimeframeAggregator::new(Timeframe::M1, 1_000);
    assert_eq!(
        aggregator
            .prepend(Timeframe::M1, &series)
            .unwrap()
            .prepended,
        90
    );
    assert_same_rings(&aggregator, &ingested(Timeframe::M1, 1_000, &series));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn a_split_anywhere_gives_the_same_rings_outside_the_split_buckets(
        seed in any::<u64>(),
        count in 2usize..3_000,
        split_at in 0.0f64..1.0,
    ) {
        let series = walk(Timeframe::M1, 5 * DAY_MS, count, seed);
        let split = ((count - 1) as f64 * split_at) as usize + 1;
        let mut aggregator = ingested(Timeframe::M1, 10_000, &series[split..]);
        aggregator.prepend(Timeframe::M1, &series[..split]).unwrap();
        let whole = ingested(Timeframe::M1, 10_000, &series);
        let split_ms = series[split].open_time_ms;
        for timeframe in whole.timeframes() {
            // Only the bucket the split falls in may differ (held wins there).
            let outside = |c: &Candle| timeframe.bucket_start_ms(split_ms) != c.open_time_ms;
            let got: Vec<Candle> = ring(&aggregator, timeframe).into_iter().filter(outside).collect();
            let want: Vec<Candle> = ring(&whole, timeframe).into_iter().filter(outside).collect();
            prop_assert_eq!(got, want, "{:?}", timeframe);
        }
    }
}

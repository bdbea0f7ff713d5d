//! Older history put before what a symbol holds: the exchange feed's warm start (each higher
//! timeframe's own candles for the buckets before the first base candle) and backfill.
//!
//! Rule (each has a test below):
//! - **Only older data.** A candle at or after its timeframe's forming candle (the open base
//!   candle, or the higher bucket it is forming) belongs to ingest: counted as `not_older`,
//!   never written.
//! - **Held wins.** A candle at an open time already held is a duplicate when equal, else a
//!   conflict; either way the held candle stays. The rest merge in open-time order, into holes
//!   between held candles too.
//! - **Base folds up.** Prepended base candles are folded into each higher timeframe, but only
//!   for buckets wholly inside the prepended span and not held already: a bucket is never built
//!   from part of its data, and a bucket history began in the middle of keeps its held value
//!   (its earlier base data was never seen; folding again could double count).
//! - **Bounded.** Each ring keeps its newest `capacity`; older candles that do not fit are
//!   dropped and counted in `dropped_for_capacity`.
//! - **All or nothing.** The input is checked first (a timeframe of this symbol, aligned,
//!   strictly ascending open times, higher timeframes only once base data exists); a refusal
//!   changes nothing.

use super::{HigherSeries, TimeframeAggregator};
use crate::domain::market::{Candle, CandleRing, Timeframe};
use crate::domain::DomainError;
use serde::{Deserialize, Serialize};

/// What one prepend did, summed over timeframes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrependTally {
    /// Candles written as given.
    pub prepended: u64,
    /// Higher-timeframe candles built from prepended base candles.
    pub folded: u64,
    pub duplicates: u64,
    pub conflicts: u64,
    pub not_older: u64,
    pub dropped_for_capacity: u64,
}

impl PrependTally {
    pub fn add(&mut self, other: &PrependTally) {
        self.prepended += other.prepended;
        self.folded += other.folded;
        self.duplicates += other.duplicates;
        self.conflicts += other.conflicts;
        self.not_older += other.not_older;
        self.dropped_for_capacity += other.dropped_for_capacity;
    }

    /// Whether anything was written (so analysis must be rebuilt).
    pub fn changed(&self) -> bool {
        self.prepended + self.folded > 0
    }
}

impl TimeframeAggregator {
    /// Puts `candles` of `timeframe` (checked, strictly ascending) before what is held, by the
    /// rules above. On a symbol holding nothing yet, base candles are simply ingested.
    pub fn prepend(
        &mut self,
        timeframe: Timeframe,
        candles: &[Candle],
    ) -> Result<PrependTally, DomainError> {
        self.check_prepend(timeframe, candles)?;
        let mut tally = PrependTally::default();
        let Some(open) = self.open_base else {
            let mut closed = Vec::new();
            for candle in candles {
                self.on_candle(*candle, &mut closed);
            }
            tally.prepended = candles.len() as u64;
            return Ok(tally);
        };
        let forming_ms = timeframe.bucket_start_ms(open.open_time_ms);
        if timeframe != self.base {
            let Some(series) = self.higher.iter_mut().find(|s| s.timeframe == timeframe) else {
                return Ok(tally);
            };
            merge_older(&mut series.closed, candles, forming_ms, &mut tally);
            return Ok(tally);
        }
        let merged = merge_older(&mut self.base_closed, candles, forming_ms, &mut tally);
        if let Some((first_ms, last_ms)) = merged.span {
            let span = (first_ms, last_ms + self.base.duration_ms());
            for series in &mut self.higher {
                fold_span(series, &merged.candles, span, open.open_time_ms, &mut tally);
            }
        }
        Ok(tally)
    }

    fn check_prepend(&self, timeframe: Timeframe, candles: &[Candle]) -> Result<(), DomainError> {
        let refuse = |message: String| DomainError::InvalidHistory {
            timeframe: timeframe.as_str(),
            message,
        };
        if !self.timeframes().any(|held| held == timeframe) {
            let base = self.base.as_str();
            return Err(refuse(format!(
                "not a timeframe of this symbol (base {base})"
            )));
        }
        if timeframe != self.base && self.open_base.is_none() {
            return Err(refuse(
                "higher timeframes follow the base timeframe's data".into(),
            ));
        }
        if let Some(candle) = candles
            .iter()
            .find(|c| !timeframe.is_aligned(c.open_time_ms))
        {
            let at = candle.open_time_ms;
            return Err(refuse(format!(
                "open time {at} is not aligned to {timeframe:?}"
            )));
        }
        if let Some(pair) = candles
            .windows(2)
            .find(|pair| pair[0].open_time_ms >= pair[1].open_time_ms)
        {
            let (first, second) = (pair[0].open_time_ms, pair[1].open_time_ms);
            return Err(refuse(format!(
                "open times must be strictly ascending: {second} follows {first}"
            )));
        }
        Ok(())
    }
}

/// The merged base candles (before the capacity cut) and the open times of the first and
/// last candle written, if any.
struct Merged {
    candles: Vec<Candle>,
    span: Option<(i64, i64)>,
}

/// Merges the candles older than `forming_ms` into `ring`, held winning.
fn merge_older(
    ring: &mut CandleRing,
    candles: &[Candle],
    forming_ms: i64,
    tally: &mut PrependTally,
) -> Merged {
    let mut merged = Vec::with_capacity(ring.len() + candles.len());
    let mut held = ring.iter().copied().peekable();
    let mut span: Option<(i64, i64)> = None;
    for candle in candles {
        if candle.open_time_ms >= forming_ms {
            tally.not_older += 1;
            continue;
        }
        while let Some(earlier) = held.next_if(|h| h.open_time_ms < candle.open_time_ms) {
            merged.push(earlier);
        }
        match held.peek() {
            Some(same) if same.open_time_ms == candle.open_time_ms => {
                let counter = if same == candle {
                    &mut tally.duplicates
                } else {
                    &mut tally.conflicts
                };
                *counter += 1;
            }
            _ => {
                merged.push(*candle);
                tally.prepended += 1;
                let first = span.map_or(candle.open_time_ms, |(first, _)| first);
                span = Some((first, candle.open_time_ms));
            }
        }
    }
    merged.extend(held);
    let kept = merged.clone();
    tally.dropped_for_capacity += ring.replace_sorted(merged);
    Merged {
        candles: kept,
        span,
    }
}

/// Folds the base candles of every bucket of `series` wholly inside `span` (the first
/// prepended candle's open time to the last one's close) that it does not hold, and merges
/// those buckets in.
fn fold_span(
    series: &mut HigherSeries,
    base: &[Candle],
    span: (i64, i64),
    open_base_ms: i64,
    tally: &mut PrependTally,
) {
    let timeframe = series.timeframe;
    let (first_ms, last_end_ms) = span;
    let forming_ms = timeframe.bucket_start_ms(open_base_ms);
    let complete = |bucket_ms: i64| {
        bucket_ms >= first_ms
            && bucket_ms + timeframe.duration_ms() <= last_end_ms
            && bucket_ms < forming_ms
            && series.closed.find(bucket_ms).is_none()
    };
    let mut buckets: Vec<Candle> = Vec::new();
    for candle in base.iter().filter(|c| c.open_time_ms >= first_ms) {
        let bucket_ms = timeframe.bucket_start_ms(candle.open_time_ms);
        if !complete(bucket_ms) {
            continue;
        }
        match buckets.last_mut() {
            Some(bucket) if bucket.open_time_ms == bucket_ms => *bucket = bucket.merge(candle),
            _ => buckets.push(Candle {
                open_time_ms: bucket_ms,
                ..*candle
            }),
        }
    }
    let mut folded = PrependTally::default();
    merge_older(&mut series.closed, &buckets, forming_ms, &mut folded);
    tally.folded += folded.prepended;
    tally.dropped_for_capacity += folded.dropped_for_capacity;
}

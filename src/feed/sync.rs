//! Moving exchange candles into the engine: start-up history (warm), catch-up after a
//! disconnect or restart, gap repair and backfill. Each applies candles through the same
//! engine calls as every other source (`Engine::ingest`, `Engine::prepend`).

use super::error::FeedError;
use super::format::Instrument;
use super::history_plan::{fold_into, plan_history, reanchor, HistoryRange};
use super::rest::RestClient;
use super::status::{FeedStatus, Progress};
use cryptolens_actors::actors::{Engine, EngineError};
use cryptolens_actors::domain::market::{Candle, Symbol, Timeframe};
use std::time::Duration;

/// Candles per engine ingest (the engine's own batch limit).
const INGEST_CHUNK_CANDLES: usize = 10_000;
/// Attempts of one ingest when the symbol's mailbox is full or slow.
const INGEST_ATTEMPTS_MAX: u32 = 50;
/// Longest missed window fetched in one catch-up; older is left to `backfill`.
const CATCH_UP_MINUTES_MAX: i64 = 30 * 24 * 60;

/// What the feed needs to move one symbol's candles.
pub struct SymbolSync<'a> {
    pub engine: &'a Engine,
    pub rest: &'a RestClient,
    pub status: &'a FeedStatus,
    pub symbol: &'a Symbol,
    pub instrument: &'a Instrument,
}

impl SymbolSync<'_> {
    /// Sends candles to the engine in order, waiting out a full or slow mailbox.
    pub async fn ingest(&self, candles: &[Candle]) -> Result<(), FeedError> {
        for chunk in candles.chunks(INGEST_CHUNK_CANDLES) {
            let mut attempt = 0;
            loop {
                match self
                    .engine
                    .ingest(self.symbol, Timeframe::M1, chunk.to_vec())
                    .await
                {
                    Ok(_) => break,
                    Err(
                        EngineError::MailboxFull { .. }
                        | EngineError::Timeout { .. }
                        | EngineError::Restoring,
                    ) if attempt < INGEST_ATTEMPTS_MAX => {
                        attempt += 1;
                        tokio::time::sleep(Duration::from_millis(20 * u64::from(attempt))).await;
                    }
                    Err(error) => return Err(error.into()),
                }
            }
        }
        Ok(())
    }

    /// The open time of the newest 1m candle the engine holds (it may still be revised).
    pub async fn newest_held_ms(&self) -> Result<Option<i64>, FeedError> {
        match self
            .engine
            .read_candles(self.symbol, Timeframe::M1, 1)
            .await
        {
            Ok(snapshot) => Ok(snapshot
                .forming
                .or_else(|| snapshot.closed.last().copied())
                .map(|candle| candle.open_time_ms)),
            Err(EngineError::UnknownSymbol(_)) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// Start-up history for a symbol the engine does not hold: 1m from a day boundary (or
    /// the bucket boundary `reanchor` moves it to), then each higher timeframe's own candles
    /// before it, prepended in one rebuild.
    /// Answers the open time of the newest candle stored.
    pub async fn warm(
        &self,
        history_candles: usize,
        now_ms: i64,
    ) -> Result<Option<i64>, FeedError> {
        let ranges = plan_history(now_ms, history_candles, self.rest.format().timeframes());
        let total: i64 = ranges
            .iter()
            .map(|range| (range.to_ms - range.from_ms) / range.timeframe.duration_ms() + 1)
            .sum();
        let mut progress = Progress {
            done: 0,
            total: u64::try_from(total).unwrap_or(0),
        };
        self.report(|feed| feed.progress = Some(progress));
        let Some(&base) = ranges.first() else {
            return Ok(None);
        };
        let fetched = self.fetch_range(&base, now_ms, &mut progress).await?;
        // Where the exchange served less base history than planned (Kraken's newest 720),
        // the base starts at a bucket boundary and the higher timeframes end right before it.
        let (anchor_ms, higher) = match (fetched.first(), fetched.last()) {
            (Some(first), Some(last)) => reanchor(&ranges, first.open_time_ms, last.open_time_ms),
            _ => (base.from_ms, ranges.iter().skip(1).copied().collect()),
        };
        let candles: Vec<Candle> = fetched
            .into_iter()
            .filter(|candle| candle.open_time_ms >= anchor_ms)
            .collect();
        self.ingest(&candles).await?;
        let newest = candles.last().map(|candle| candle.open_time_ms);
        let mut series = Vec::with_capacity(higher.len());
        for range in higher {
            let candles = self.fetch_range(&range, now_ms, &mut progress).await?;
            if !candles.is_empty() {
                series.push((range.timeframe, candles));
            }
        }
        if !series.is_empty() {
            self.engine
                .prepend(self.symbol, Timeframe::M1, series)
                .await?;
        }
        Ok(newest)
    }

    /// The closed candles of one planned range, folded into its timeframe; reports progress.
    async fn fetch_range(
        &self,
        range: &HistoryRange,
        now_ms: i64,
        progress: &mut Progress,
    ) -> Result<Vec<Candle>, FeedError> {
        let fetched = self
            .rest
            .klines(
                self.instrument,
                range.fetch,
                range.from_ms,
                range.fetch_to_ms(),
                now_ms,
            )
            .await?;
        progress.done +=
            (range.to_ms - range.from_ms) as u64 / range.timeframe.duration_ms() as u64 + 1;
        let done = *progress;
        self.report(|feed| feed.progress = Some(done));
        Ok(fold_into(range.timeframe, range.fetch, &fetched))
    }

    /// Fetches and applies the closed 1m candles from `from_ms` to the last closed minute;
    /// answers them.
    pub async fn catch_up(
        &self,
        from_ms: i64,
        to_ms: i64,
        now_ms: i64,
    ) -> Result<Vec<Candle>, FeedError> {
        let floor_ms = now_ms - CATCH_UP_MINUTES_MAX * Timeframe::M1.duration_ms();
        let candles = self
            .rest
            .klines(
                self.instrument,
                Timeframe::M1,
                from_ms.max(floor_ms),
                to_ms,
                now_ms,
            )
            .await?;
        self.ingest(&candles).await?;
        Ok(candles)
    }

    /// Older history since `since_ms`: each timeframe's own candles before the oldest one
    /// held, at most a ring's worth, prepended in one rebuild. Answers the candles stored.
    pub async fn backfill(
        &self,
        since_ms: i64,
        ring_capacity: usize,
        now_ms: i64,
    ) -> Result<u64, FeedError> {
        let mut plan = Vec::new();
        for timeframe in Timeframe::ALL {
            let oldest = match self
                .engine
                .read_candles(self.symbol, timeframe, ring_capacity)
                .await
            {
                Ok(snapshot) => snapshot
                    .closed
                    .first()
                    .or(snapshot.forming.as_ref())
                    .map(|c| c.open_time_ms),
                Err(EngineError::UnknownSymbol(_)) => None,
                // A symbol based above 1m has no such timeframe: nothing to fetch for it.
                Err(EngineError::TimeframeUnavailable { .. }) => continue,
                Err(error) => return Err(error.into()),
            };
            let to_ms = oldest.map_or(timeframe.bucket_start_ms(now_ms), |oldest| {
                oldest - timeframe.duration_ms()
            });
            let span_ms = timeframe.duration_ms() * ring_capacity as i64;
            let from_ms = timeframe
                .bucket_start_ms(since_ms)
                .max(to_ms - span_ms + timeframe.duration_ms());
            if from_ms <= to_ms {
                plan.push((timeframe, from_ms, to_ms));
            }
        }
        let total: i64 = plan
            .iter()
            .map(|(tf, from, to)| (to - from) / tf.duration_ms() + 1)
            .sum();
        let mut progress = Progress {
            done: 0,
            total: u64::try_from(total).unwrap_or(0),
        };
        self.report(|feed| feed.backfill = Some(progress));
        let mut series = Vec::with_capacity(plan.len());
        let served = self.rest.format().timeframes();
        for (timeframe, from_ms, to_ms) in plan {
            let fetch = super::history_plan::plan_fetch(timeframe, served);
            let Some(fetch) = fetch else { continue };
            // A folded timeframe's final bucket needs all its smaller candles, not its first.
            let fetch_to_ms = to_ms + timeframe.duration_ms() - fetch.duration_ms();
            let fetched = self
                .rest
                .klines(self.instrument, fetch, from_ms, fetch_to_ms, now_ms)
                .await?;
            let candles = fold_into(timeframe, fetch, &fetched);
            progress.done += ((to_ms - from_ms) / timeframe.duration_ms() + 1) as u64;
            self.report(|feed| feed.backfill = Some(progress));
            if !candles.is_empty() {
                series.push((timeframe, candles));
            }
        }
        if series.is_empty() {
            return Ok(0);
        }
        let report = self
            .engine
            .prepend(self.symbol, Timeframe::M1, series)
            .await?;
        Ok(report.tally.prepended + report.tally.folded)
    }

    fn report(&self, change: impl FnOnce(&mut super::status::SymbolFeed)) {
        self.status.update(self.symbol, change);
    }
}

//! What every mock exchange serves: an in-memory 1m series per symbol, published up to a
//! "published up to" cursor the test moves (a virtual clock behind the wall clock), and the
//! stream faults a test scripts. Each mock renders what this decides in its exchange's format.
//!
//! At cursor `t` a 1m candle opening at `o` is unpublished (`o > t`), forming
//! (`o <= t < o + 1m`) or closed. Moving the cursor yields a [`KlineChange`] for every candle
//! whose publication changed, in open-time order across symbols (a candle's forming change
//! before its closed one; only the closed one when one move skips its forming minute). REST
//! serves published candles, the forming one included unless `rest_serves_forming(false)`
//! (with its final values: the mocks have no partial minute), aggregated to the asked interval.
#![allow(dead_code)] // shared by the mocks; each uses a part.

use cryptolens_actors::domain::market::{Candle, Timeframe};
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

pub const MINUTE_MS: i64 = 60_000;
/// Quote assets recognised at the end of a symbol, longest first (`BTCUSDT` = BTC + USDT).
const QUOTE_ASSETS: [&str; 7] = ["USDT", "USDC", "FDUSD", "BTC", "ETH", "EUR", "USD"];

/// A scripted misbehaviour. Stream faults act on the next kline frame sent (any symbol).
/// Every mock models `DropConnections` and `SkipKline`; the others are Binance's (see each
/// mock's `fault`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Close every open stream connection now, without a close frame.
    DropConnections,
    /// Drop the streams, then answer 503 to every request and upgrade for this long.
    Outage(Duration),
    /// Leave the next kline frame out of the stream.
    SkipKline,
    /// Send the next kline frame twice.
    DuplicateKline,
    /// Hold the next kline frame back and send it after the one that follows it.
    ReorderKlines,
    /// Send a frame that is not JSON just before the next kline frame.
    MalformedFrame,
    /// Answer the next `requests` REST requests 429 with `Retry-After: retry_after_s`.
    TooManyRequests { requests: u32, retry_after_s: u64 },
}

/// A mock a test moves the cursor of; what `replay` drives, whichever the exchange.
pub trait Publisher {
    /// Publishes every candle opening at or before `until_ms` and streams what changed.
    fn publish_until(&self, until_ms: i64);
}

/// Where a candle stands at a cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Publication {
    Unpublished,
    Forming,
    Closed,
}

pub fn publication(candle: &Candle, cursor_ms: i64) -> Publication {
    if candle.open_time_ms > cursor_ms {
        Publication::Unpublished
    } else if candle.open_time_ms + MINUTE_MS > cursor_ms {
        Publication::Forming
    } else {
        Publication::Closed
    }
}

/// A candle whose publication changed when the cursor moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KlineChange {
    pub symbol: String,
    pub candle: Candle,
    pub before: Publication,
    pub after: Publication,
}

impl KlineChange {
    pub fn closed(&self) -> bool {
        self.after == Publication::Closed
    }
}

/// What the stream sends after faults: a kline, or garbage in place of a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    Kline(KlineChange),
    Malformed { symbol: String },
}

pub struct PublishedSeries {
    /// 1m candles per symbol (upper case), oldest first.
    series: BTreeMap<String, Vec<Candle>>,
    published_until_ms: i64,
    rest_serves_forming: bool,
    stream_faults: VecDeque<Fault>,
    /// A frame held back by `ReorderKlines`, sent after the next one.
    held: Option<Outgoing>,
}

impl PublishedSeries {
    /// `series` in any order and case; nothing published yet; REST serves the forming candle.
    pub fn new(series: BTreeMap<String, Vec<Candle>>) -> PublishedSeries {
        let series = series
            .into_iter()
            .map(|(symbol, mut candles)| {
                candles.sort_by_key(|candle| candle.open_time_ms);
                (symbol.to_uppercase(), candles)
            })
            .collect();
        PublishedSeries {
            series,
            published_until_ms: i64::MIN + MINUTE_MS,
            rest_serves_forming: true,
            stream_faults: VecDeque::new(),
            held: None,
        }
    }

    pub fn symbols(&self) -> impl Iterator<Item = &str> {
        self.series.keys().map(String::as_str)
    }

    pub fn contains(&self, symbol: &str) -> bool {
        self.series.contains_key(symbol)
    }

    pub fn published_until_ms(&self) -> i64 {
        self.published_until_ms
    }

    /// Leaves the forming candle out of REST answers. The feed tells forming from closed by
    /// the wall clock, and the cursor runs behind it (a test replays minutes faster than they
    /// pass), so a forming candle served over REST would pass for a closed one; with this,
    /// REST and stream agree on what is closed, as they do on the exchanges in real time.
    pub fn rest_serves_forming(&mut self, serves: bool) {
        self.rest_serves_forming = serves;
    }

    pub fn queue_stream_fault(&mut self, fault: Fault) {
        self.stream_faults.push_back(fault);
    }

    /// Moves the cursor to `until_ms` (never back) and returns what the stream sends: the
    /// changes `streamed` keeps (an exchange with no closed flag sends nothing when a candle
    /// closes), after the queued stream faults.
    pub fn publish_until(
        &mut self,
        until_ms: i64,
        streamed: impl Fn(&KlineChange) -> bool,
    ) -> Vec<Outgoing> {
        let previous_ms = self.published_until_ms;
        if until_ms <= previous_ms {
            return Vec::new();
        }
        self.published_until_ms = until_ms;
        let changes = changed_klines(&self.series, previous_ms, until_ms);
        let kept = changes.into_iter().filter(|change| streamed(change));
        self.apply_stream_faults(kept.map(Outgoing::Kline).collect())
    }

    fn apply_stream_faults(&mut self, frames: Vec<Outgoing>) -> Vec<Outgoing> {
        let mut out = Vec::new();
        for frame in frames {
            let fault = self.stream_faults.pop_front();
            if fault == Some(Fault::MalformedFrame) {
                if let Outgoing::Kline(change) = &frame {
                    out.push(Outgoing::Malformed {
                        symbol: change.symbol.clone(),
                    });
                }
            }
            match fault {
                Some(Fault::SkipKline) => {}
                Some(Fault::DuplicateKline) => out.extend([frame.clone(), frame]),
                Some(Fault::ReorderKlines) => self.held = Some(frame),
                _ => {
                    out.push(frame);
                    out.extend(self.held.take());
                }
            }
        }
        out
    }

    /// Published 1m candles of `symbol` aggregated to `timeframe`, oldest first; the last
    /// bucket holds only the minutes published so far. The forming minute is left out when
    /// REST does not serve it.
    pub fn published(&self, symbol: &str, timeframe: Timeframe) -> Vec<Candle> {
        self.published_from(symbol, timeframe, i64::MIN)
    }

    /// [`PublishedSeries::published`] from the bucket holding `from_ms` on: a mock that
    /// answers only part of the series aggregates only that part (months of 1m candles
    /// take seconds to fold in a debug build).
    pub fn published_from(&self, symbol: &str, timeframe: Timeframe, from_ms: i64) -> Vec<Candle> {
        let first_ms = timeframe.bucket_start_ms(from_ms.max(i64::MIN / 2));
        let minutes = self.minutes(symbol, self.rest_newest_ms());
        let first = minutes.partition_point(|c| c.open_time_ms < first_ms);
        let mut buckets: Vec<Candle> = Vec::new();
        for candle in &minutes[first..] {
            let bucket_ms = timeframe.bucket_start_ms(candle.open_time_ms);
            match buckets.last_mut() {
                Some(last) if last.open_time_ms == bucket_ms => *last = last.merge(candle),
                _ => buckets.push(Candle {
                    open_time_ms: bucket_ms,
                    ..*candle
                }),
            }
        }
        buckets
    }

    /// The open time of the newest 1m candle REST serves.
    pub fn rest_newest_ms(&self) -> i64 {
        if self.rest_serves_forming {
            self.published_until_ms
        } else {
            self.published_until_ms - MINUTE_MS
        }
    }

    /// The newest `count` published 1m candles of `symbol`, the forming one included (a
    /// stream always shows it), oldest first.
    pub fn newest_minutes(&self, symbol: &str, count: usize) -> &[Candle] {
        let minutes = self.minutes(symbol, self.published_until_ms);
        &minutes[minutes.len().saturating_sub(count)..]
    }

    fn minutes(&self, symbol: &str, newest_ms: i64) -> &[Candle] {
        let candles = self
            .series
            .get(symbol)
            .map(Vec::as_slice)
            .unwrap_or_default();
        &candles[..candles.partition_point(|c| c.open_time_ms <= newest_ms)]
    }
}

/// The candles whose publication changed between the two cursors, in open-time order (a
/// candle's forming change before its closed one), symbols in name order.
fn changed_klines(
    series: &BTreeMap<String, Vec<Candle>>,
    previous_ms: i64,
    until_ms: i64,
) -> Vec<KlineChange> {
    let mut changes = Vec::new();
    for (symbol, candles) in series {
        let first =
            candles.partition_point(|candle| candle.open_time_ms + MINUTE_MS <= previous_ms);
        for candle in candles[first..]
            .iter()
            .take_while(|c| c.open_time_ms <= until_ms)
        {
            let (before, after) = (
                publication(candle, previous_ms),
                publication(candle, until_ms),
            );
            if before != after {
                changes.push(KlineChange {
                    symbol: symbol.clone(),
                    candle: *candle,
                    before,
                    after,
                });
            }
        }
    }
    changes.sort_by(|a, b| {
        (a.candle.open_time_ms, a.after, &a.symbol).cmp(&(
            b.candle.open_time_ms,
            b.after,
            &b.symbol,
        ))
    });
    changes
}

/// `(base, quote)` of a symbol by its known quote suffix.
pub fn split_symbol(symbol: &str) -> (&str, &str) {
    QUOTE_ASSETS
        .iter()
        .find_map(|quote| symbol.strip_suffix(quote).map(|base| (base, *quote)))
        .unwrap_or((symbol, ""))
}

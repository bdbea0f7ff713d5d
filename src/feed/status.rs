//! What the feed knows of each followed symbol, shared with the API (`/api/symbols`,
//! `/api/actors`, `/api/health`, metrics).
//!
//! Staleness rule: a followed symbol is `stale` when no closed candle has *arrived* for
//! `stale_after_intervals` base intervals of wall-clock time (arrival, not the candle's own
//! time, so a feed replaying an older window is live while candles keep coming).

use super::format::ExchangeKind;
use cryptolens_actors::domain::market::{Symbol, Timeframe};
use parking_lot::Mutex;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedState {
    /// Fetching its start-up history.
    Warming,
    Live,
    Stale,
    Paused,
    /// The exchange does not list it, or its history could not be stored: see `error`.
    Failed,
}

/// Progress of a history fetch (start-up or backfill), in candles.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub done: u64,
    pub total: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SymbolFeed {
    pub exchange: ExchangeKind,
    pub market_symbol: Option<String>,
    pub state: FeedState,
    pub paused: bool,
    pub progress: Option<Progress>,
    pub backfill: Option<Progress>,
    /// Candles stored by backfills so far.
    pub backfilled: u64,
    pub last_closed_open_time_ms: Option<i64>,
    /// Wall-clock time the last closed candle arrived.
    pub last_closed_arrived_at_ms: Option<i64>,
    pub gaps_repaired: u64,
    pub candles_repaired: u64,
    pub duplicates_dropped: u64,
    pub error: Option<String>,
}

impl SymbolFeed {
    pub fn new(exchange: ExchangeKind) -> SymbolFeed {
        SymbolFeed {
            exchange,
            market_symbol: None,
            state: FeedState::Warming,
            paused: false,
            progress: None,
            backfill: None,
            backfilled: 0,
            last_closed_open_time_ms: None,
            last_closed_arrived_at_ms: None,
            gaps_repaired: 0,
            candles_repaired: 0,
            duplicates_dropped: 0,
            error: None,
        }
    }

    /// The state as of `now_ms`: a live symbol past the staleness limit is stale.
    pub fn state_at(&self, now_ms: i64, stale_after_intervals: u32) -> FeedState {
        if self.paused {
            return FeedState::Paused;
        }
        let limit_ms = i64::from(stale_after_intervals) * Timeframe::M1.duration_ms();
        match (self.state, self.last_closed_arrived_at_ms) {
            (FeedState::Live, Some(arrived_ms)) if now_ms - arrived_ms >= limit_ms => {
                FeedState::Stale
            }
            (state, _) => state,
        }
    }
}

/// Counters of one exchange connection.
#[derive(Debug, Default)]
pub struct ExchangeCounters {
    pub reconnects: AtomicU64,
    pub malformed_frames: AtomicU64,
    pub frames: AtomicU64,
}

#[derive(Debug, Default)]
pub struct FeedStatus {
    symbols: Mutex<BTreeMap<Symbol, SymbolFeed>>,
    exchanges: Mutex<BTreeMap<ExchangeKind, std::sync::Arc<ExchangeCounters>>>,
    pub stale_after_intervals: AtomicU64,
}

impl FeedStatus {
    pub fn new(stale_after_intervals: u32) -> FeedStatus {
        let status = FeedStatus::default();
        status
            .stale_after_intervals
            .store(u64::from(stale_after_intervals), Ordering::Relaxed);
        status
    }

    pub fn insert(&self, symbol: Symbol, feed: SymbolFeed) {
        self.symbols.lock().insert(symbol, feed);
    }

    pub fn remove(&self, symbol: &Symbol) -> Option<SymbolFeed> {
        self.symbols.lock().remove(symbol)
    }

    /// Changes one symbol's entry, if it is followed.
    pub fn update(&self, symbol: &Symbol, change: impl FnOnce(&mut SymbolFeed)) {
        if let Some(feed) = self.symbols.lock().get_mut(symbol) {
            change(feed);
        }
    }

    pub fn get(&self, symbol: &Symbol) -> Option<SymbolFeed> {
        self.symbols.lock().get(symbol).cloned()
    }

    pub fn len(&self) -> usize {
        self.symbols.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.symbols.lock().is_empty()
    }

    pub fn all(&self) -> BTreeMap<Symbol, SymbolFeed> {
        self.symbols.lock().clone()
    }

    /// Marks a backfill of `symbol` as running: None if it is not followed, false if one
    /// already runs (checked and set under one lock, so two requests cannot both start).
    pub fn claim_backfill(&self, symbol: &Symbol) -> Option<bool> {
        let mut symbols = self.symbols.lock();
        let feed = symbols.get_mut(symbol)?;
        if feed.backfill.is_some() {
            return Some(false);
        }
        feed.backfill = Some(Progress::default());
        if feed
            .error
            .as_deref()
            .is_some_and(|error| error.starts_with("backfill"))
        {
            feed.error = None;
        }
        Some(true)
    }

    pub fn is_paused(&self, symbol: &Symbol) -> bool {
        self.symbols
            .lock()
            .get(symbol)
            .is_some_and(|feed| feed.paused)
    }

    /// Base intervals without a closed candle after which a followed symbol is stale.
    pub fn stale_limit(&self) -> u32 {
        u32::try_from(self.stale_after_intervals.load(Ordering::Relaxed)).unwrap_or(u32::MAX)
    }

    /// Each followed symbol's state at `now_ms`.
    pub fn state_of(&self, symbol: &Symbol, now_ms: i64) -> Option<FeedState> {
        let limit = self.stale_limit();
        self.symbols
            .lock()
            .get(symbol)
            .map(|feed| feed.state_at(now_ms, limit))
    }

    /// Followed symbols that are stale at `now_ms`.
    pub fn stale(&self, now_ms: i64) -> Vec<Symbol> {
        let limit = self.stale_limit();
        self.symbols
            .lock()
            .iter()
            .filter(|(_, feed)| feed.state_at(now_ms, limit) == FeedState::Stale)
            .map(|(symbol, _)| symbol.clone())
            .collect()
    }

    pub fn counters(&self, exchange: ExchangeKind) -> std::sync::Arc<ExchangeCounters> {
        std::sync::Arc::clone(self.exchanges.lock().entry(exchange).or_default())
    }

    pub fn all_counters(&self) -> Vec<(ExchangeKind, std::sync::Arc<ExchangeCounters>)> {
        self.exchanges
            .lock()
            .iter()
            .map(|(kind, counters)| (*kind, std::sync::Arc::clone(counters)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_symbol_turns_stale_after_the_limit_and_paused_wins() {
        let mut feed = SymbolFeed::new(ExchangeKind::Binance);
        feed.state = FeedState::Live;
        feed.last_closed_arrived_at_ms = Some(1_000_000);
        assert_eq!(feed.state_at(1_000_000 + 119_999, 2), FeedState::Live);
        assert_eq!(feed.state_at(1_000_000 + 120_000, 2), FeedState::Stale);
        feed.paused = true;
        assert_eq!(feed.state_at(1_000_000 + 120_000, 2), FeedState::Paused);
        feed.paused = false;
        feed.state = FeedState::Warming;
        assert_eq!(
            feed.state_at(9_000_000, 2),
            FeedState::Warming,
            "only live symbols go stale"
        );
    }
}

use crate::domain::analysis::{PatternEvent, SignalEvent};
use crate::domain::market::{Candle, Symbol, Timeframe};

/// What symbol actors publish for other components (WebSocket clients, notifiers). A slow
/// subscriber loses the oldest events, so portfolio exits do not come from here: they read
/// each symbol's lossless exit backlog (`portfolio/candle_feed.rs`).
#[derive(Debug, Clone, PartialEq)]
pub enum MarketEvent {
    CandleClosed {
        symbol: Symbol,
        timeframe: Timeframe,
        candle: Candle,
    },
    /// The candle still forming in `timeframe` after an ingest that changed it (a chart's
    /// live bar); it may change again before it closes.
    CandleForming {
        symbol: Symbol,
        timeframe: Timeframe,
        candle: Candle,
    },
    Pattern {
        symbol: Symbol,
        event: PatternEvent,
    },
    Signal {
        symbol: Symbol,
        event: SignalEvent,
    },
}

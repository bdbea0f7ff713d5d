use crate::domain::analysis::{PatternEvent, SignalEvent};
use crate::domain::market::{Candle, Symbol, Timeframe};
use tokio::sync::broadcast;

/// Where symbol actors publish: every event, and signal events once more on a channel of
/// their own, so the notifier (which wants only signals, a few per symbol a day) never
/// loses one behind a flood of candle events during a bulk import.
#[derive(Debug, Clone)]
pub struct MarketEvents {
    pub all: broadcast::Sender<MarketEvent>,
    pub signals: broadcast::Sender<MarketEvent>,
}

impl MarketEvents {
    pub fn new(capacity: usize) -> MarketEvents {
        MarketEvents {
            all: broadcast::channel(capacity.max(1)).0,
            signals: broadcast::channel(capacity.max(1)).0,
        }
    }
}

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

use crate::domain::analysis::{PatternEvent, SignalEvent};
use crate::domain::market::{Candle, Symbol, Timeframe};

/// What symbol actors publish for other components (WebSocket clients, notifiers, the
/// portfolio's stop and target triggers).
#[derive(Debug, Clone, PartialEq)]
pub enum MarketEvent {
    CandleClosed {
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

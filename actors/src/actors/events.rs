use crate::domain::market::{Candle, Symbol, Timeframe};

/// What symbol actors publish for other components (WebSocket clients, analysis, notifiers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarketEvent {
    CandleClosed {
        symbol: Symbol,
        timeframe: Timeframe,
        candle: Candle,
    },
}

//! Carries closed candles to the portfolios, and decides nothing: every closed base-timeframe
//! candle of a symbol goes to [`PortfolioBook::evaluate_exits`], which sends it to every
//! portfolio actor; the exits themselves are the domain's (`Portfolio::on_candle`, rules in
//! `domain/ledger/exits.rs`), logged by the actor under keys naming the trade, the candle and
//! the level, so an exit is applied once however often its candle arrives.
//!
//! The candles come from the engine's broadcast of market events. Known limit: a receiver
//! that falls behind loses the oldest events (`Lagged`, logged as a warning), and the exits
//! of those candles are not evaluated; a lossless feed with catch-up from the symbol's
//! history replaces this broadcast hop.

use super::PortfolioBook;
use crate::actors::{Engine, MarketEvent};
use crate::domain::market::{Candle, Symbol};
use tokio::sync::broadcast::error::RecvError;

/// Runs until the engine's event channel closes.
pub async fn run_candle_feed(engine: Engine) {
    let mut events = engine.subscribe();
    loop {
        match events.recv().await {
            Ok(MarketEvent::CandleClosed {
                symbol,
                timeframe,
                candle,
            }) => {
                if engine.base_timeframe(&symbol) != Some(timeframe) {
                    continue;
                }
                if let Some(book) = engine.portfolios() {
                    let at_ms = candle.open_time_ms + timeframe.duration_ms();
                    forward(&book, &symbol, &candle, at_ms).await;
                }
            }
            Ok(_) => {}
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "the portfolio candle feed lagged behind the market events; exits of the missed candles are not evaluated");
            }
            Err(RecvError::Closed) => return,
        }
    }
}

async fn forward(book: &PortfolioBook, symbol: &Symbol, candle: &Candle, at_ms: i64) {
    let applied = book.evaluate_exits(symbol, candle, at_ms).await;
    if applied > 0 {
        tracing::debug!(%symbol, applied, "paper exits applied");
    }
}

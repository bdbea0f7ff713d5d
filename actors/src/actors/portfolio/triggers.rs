//! Stops and targets of open paper trades, triggered by live candles: on every closed base
//! candle of a symbol, each open trade on it is checked (rules in `domain/ledger/exits.rs`)
//! and its exit sent to the portfolio actor like any other mutation. The idempotency key
//! names the trade, the candle and the level, so an exit is applied once however often the
//! candle is seen.

use super::PortfolioBook;
use crate::actors::{Engine, MarketEvent};
use crate::domain::ledger::{exit_on_candle, Mutation};
use crate::domain::market::{Candle, Symbol, Timeframe};
use tokio::sync::broadcast::error::RecvError;

/// Exits one candle can cause on one trade: every target, then the stop.
const EXITS_PER_CANDLE_MAX: usize = 12;

/// Runs until the engine's event channel closes.
pub async fn run_exit_triggers(engine: Engine) {
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
                    trigger_exits(&book, &symbol, timeframe, &candle).await;
                }
            }
            Ok(_) => {}
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "exit triggers lagged behind the market events");
            }
            Err(RecvError::Closed) => return,
        }
    }
}

async fn trigger_exits(
    book: &PortfolioBook,
    symbol: &Symbol,
    timeframe: Timeframe,
    candle: &Candle,
) {
    let at_ms = candle.open_time_ms + timeframe.duration_ms();
    for entry in book.list() {
        for _ in 0..EXITS_PER_CANDLE_MAX {
            let Ok(trades) = book.open_trades(entry.id, symbol).await else {
                break;
            };
            let exits: Vec<_> = trades
                .iter()
                .filter_map(|trade| exit_on_candle(trade, candle).map(|exit| (trade.id, exit)))
                .collect();
            if exits.is_empty() {
                break;
            }
            for (trade_id, exit) in exits {
                let level = match &exit {
                    Mutation::TakeProfit { target, .. } => format!("target-{target}"),
                    _ => "stop".to_owned(),
                };
                let key = format!("exit-{trade_id}-{}-{level}", candle.open_time_ms);
                if let Err(error) = book.mutate(entry.id, exit, Some(key), at_ms).await {
                    tracing::error!(portfolio = entry.id, trade_id, %error, "paper exit refused");
                    return;
                }
            }
        }
    }
}

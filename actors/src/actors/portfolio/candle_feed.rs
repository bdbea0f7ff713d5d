//! Carries closed candles to the portfolios, and decides nothing: every closed base-timeframe
//! candle of a symbol goes to [`PortfolioBook::evaluate_exits`], which sends it to every
//! portfolio actor; the exits themselves are the domain's (`Portfolio::on_candle`, rules in
//! `domain/ledger/exits.rs`), logged by the actor under keys naming the trade, the candle and
//! the level, so an exit is applied once however often its candle arrives.
//!
//! Rule: the feed is lossless. It does not read the market-event broadcast (which drops
//! events for a slow reader); each symbol actor appends the base candles it closes to its
//! exit backlog and marks the symbol in the engine's [`ExitWakeups`]. The feed takes the
//! marked symbols and drains each backlog in batches of [`EXIT_BATCH_CANDLES_MAX`], in order,
//! acknowledging a batch only on its next read, so a feed that falls behind catches up from
//! the backlog instead of skipping, and a lost answer re-reads the same candles (the
//! portfolios' cursors make that harmless). The backlog's length and the last candle handed
//! on are in `/api/actors`; only a backlog past its cap drops candles, logged and counted.
//! The notifier's alerts read the same batches (with the patterns their closes formed),
//! after the portfolios, for the symbols they watch.
//!
//! [`ExitWakeups`]: crate::actors::ExitWakeups

use crate::actors::notifier::EvaluateAlerts;
use crate::actors::symbol::ExitBatch;
use crate::actors::{Engine, EngineError};
use crate::domain::market::{Symbol, Timeframe};
use std::collections::HashMap;
use std::time::Duration;

/// Candles of one symbol handed to the portfolios per batch.
pub const EXIT_BATCH_CANDLES_MAX: usize = 5_000;
/// The longest the feed sleeps without a wake-up before it checks for a shutdown.
const IDLE_CHECK_MS: u64 = 500;
/// Pause before re-reading a symbol whose actor was busy (full mailbox, timeout).
const BUSY_RETRY_MS: u64 = 20;

/// The feed, running until the engine stops accepting work. Symbol actors keep exit
/// backlogs from this call on, not from the future's first poll: a candle ingested between
/// spawning the feed and its first run is queued too (it was lost when attaching waited for
/// the task to be scheduled).
pub fn run_candle_feed(engine: Engine) -> impl std::future::Future<Output = ()> + Send {
    let wakeups = engine.exit_wakeups();
    wakeups.attach();
    async move {
        // Per symbol, the open time of the last candle handed on: the next read acknowledges it.
        let mut handed_on: HashMap<Symbol, i64> = HashMap::new();
        while engine.is_accepting() {
            wakeups.wait(IDLE_CHECK_MS).await;
            for symbol in wakeups.take() {
                let drained = drain_symbol(&engine, &symbol, &mut handed_on).await;
                if let Err(error) = drained {
                    tracing::warn!(%symbol, %error, "exit candles not read yet; retrying");
                    tokio::time::sleep(Duration::from_millis(BUSY_RETRY_MS)).await;
                    wakeups.mark(&symbol);
                }
            }
        }
    }
}

/// Hands every candle in `symbol`'s exit backlog to the portfolios, batch by batch, until a
/// read finds it empty (that read acknowledges the last batch). A symbol that no longer
/// exists has nothing to drain; a busy actor is an error, and the caller retries later.
async fn drain_symbol(
    engine: &Engine,
    symbol: &Symbol,
    handed_on: &mut HashMap<Symbol, i64>,
) -> Result<(), EngineError> {
    let Some(timeframe) = engine.base_timeframe(symbol) else {
        return Ok(());
    };
    loop {
        let after = handed_on.get(symbol).copied();
        let batch = match engine
            .take_exit_candles(symbol, after, EXIT_BATCH_CANDLES_MAX)
            .await
        {
            Ok(batch) => batch,
            Err(EngineError::UnknownSymbol(_) | EngineError::ActorStopped(_)) => return Ok(()),
            Err(error) => return Err(error),
        };
        let Some(last) = batch.candles.last() else {
            return Ok(());
        };
        handed_on.insert(symbol.clone(), last.open_time_ms);
        if let Some(book) = engine.portfolios() {
            let evaluation = book
                .evaluate_exits(symbol, timeframe, &batch.candles, &batch.signals)
                .await;
            if evaluation.applied > 0 {
                tracing::debug!(%symbol, applied = evaluation.applied, "paper exits applied");
            }
        }
        hand_to_alerts(engine, symbol, timeframe, batch).await;
    }
}

/// The same batch to the notifier's alerts, if one watches `symbol`; waits for the notifier
/// to take it (its mailbox is bounded), so no candle or pattern is skipped.
async fn hand_to_alerts(engine: &Engine, symbol: &Symbol, base: Timeframe, batch: ExitBatch) {
    let Some(notifier) = engine.notifier() else {
        return;
    };
    if !notifier.watched.contains(symbol) {
        return;
    }
    let evaluate = EvaluateAlerts {
        symbol: symbol.clone(),
        base,
        candles: batch.candles,
        patterns: batch.patterns,
    };
    if notifier.addr.send(evaluate).await.is_err() {
        tracing::warn!(%symbol, "the notifier stopped; alerts are no longer evaluated");
    }
}

//! `cryptolens store check`, `compact` and `export`: operator commands on a stopped
//! server's store (the running server holds its lock).

use crate::report::{indicators_json, CandleJson, PatternJson, SignalJson};
use cryptolens_actors::domain::scanner::SymbolScanner;
use cryptolens_actors::store::{CheckReport, CompactReport, Store, StoreError, StoreProblem};
use serde_json::{json, Value};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum StoreCommandError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{} {}: {}", .0.tree, .0.key, .0.problem)]
    Damaged(StoreProblem),
    #[error("the store has no snapshot of {0}")]
    UnknownSymbol(String),
}

/// Verifies every stored value.
pub fn check(path: &Path) -> Result<CheckReport, StoreCommandError> {
    Ok(Store::open(path)?.check()?)
}

/// Rewrites the store into a fresh database, giving back the space of old values.
pub fn compact(path: &Path) -> Result<CompactReport, StoreCommandError> {
    Ok(cryptolens_actors::store::compact(path)?)
}

/// One symbol's snapshot as JSON: candles of every timeframe, the latest indicators,
/// patterns and signals.
pub fn export(path: &Path, symbol: &str) -> Result<Value, StoreCommandError> {
    let store = Store::open(path)?;
    let scanner: SymbolScanner = store
        .symbol(symbol)
        .map_err(StoreCommandError::Damaged)?
        .ok_or_else(|| StoreCommandError::UnknownSymbol(symbol.to_owned()))?;
    let aggregator = scanner.aggregator();
    let analysis = scanner.analysis();
    let timeframes: Vec<Value> = analysis
        .engines()
        .iter()
        .map(|engine| {
            let timeframe = engine.timeframe();
            let closed = aggregator
                .closed(timeframe)
                .into_iter()
                .flat_map(|ring| ring.tail(usize::MAX));
            let candles: Vec<CandleJson> = closed
                .map(|candle| CandleJson::new(candle, true))
                .chain(
                    aggregator
                        .forming(timeframe)
                        .map(|candle| CandleJson::new(&candle, false)),
                )
                .collect();
            let patterns: Vec<PatternJson> = engine
                .resolved()
                .chain(engine.live())
                .map(|pattern| PatternJson::new(pattern, None))
                .collect();
            json!({
                "timeframe": timeframe,
                "candles": candles,
                "indicators": engine.latest().map(|(_, values)| indicators_json(values)),
                "patterns": patterns,
            })
        })
        .collect();
    let book = analysis.signals();
    let signals: Vec<SignalJson> = book
        .live()
        .chain(book.ended())
        .map(SignalJson::new)
        .collect();
    Ok(json!({
        "symbol": scanner.symbol(),
        "base_timeframe": aggregator.base(),
        "timeframes": timeframes,
        "signals": signals,
    }))
}

//! `cryptolens store check`, `compact`, `repair`, `backup`, `restore` and `export`: operator
//! commands on a stopped server's store (the running server holds its lock; `backup` then
//! asks the server).

use crate::report::{indicators_json, CandleJson, PatternJson, SignalJson};
use cryptolens_actors::domain::scanner::SymbolScanner;
use cryptolens_actors::store::{
    CheckReport, CompactReport, RepairReport, RestoredBackup, Store, StoreError, StoreProblem,
};
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
    #[error("a server holds the store; set {KEY_VARIABLE} to an admin API key so the backup can be asked of it at {0}")]
    NoKey(String),
    #[error("the server at {url} did not take the backup: {message}")]
    Server { url: String, message: String },
}

/// The admin API key `store backup` uses to ask a running server for the backup.
pub const KEY_VARIABLE: &str = "CRYPTOLENS_API_KEY";

/// Writes a consistent copy of the store and its journal into `dir`: itself when no server
/// runs, else by asking the server that holds the store (`POST /api/store/backup` at
/// `server_url`, with the admin key in [`KEY_VARIABLE`]).
pub fn backup(path: &Path, dir: &Path, server_url: &str) -> Result<Value, StoreCommandError> {
    let dir = std::path::absolute(dir).map_err(|source| StoreError::Compact {
        path: dir.to_owned(),
        source,
    })?;
    match Store::open(path) {
        Ok(store) => Ok(serde_json::to_value(store.backup_to(&dir)?).unwrap_or_default()),
        Err(StoreError::Locked { .. }) => backup_by_server(&dir, server_url),
        Err(error) => Err(error.into()),
    }
}

fn backup_by_server(dir: &Path, server_url: &str) -> Result<Value, StoreCommandError> {
    let key =
        std::env::var(KEY_VARIABLE).map_err(|_| StoreCommandError::NoKey(server_url.into()))?;
    let failed = |message: String| StoreCommandError::Server {
        url: server_url.into(),
        message,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| failed(error.to_string()))?;
    runtime.block_on(async {
        let answer = reqwest::Client::new()
            .post(format!("{server_url}/api/store/backup"))
            .header("X-API-Key", key)
            .json(&serde_json::json!({"dir": dir}))
            .send()
            .await
            .map_err(|error| failed(error.to_string()))?;
        let status = answer.status();
        let body: Value = answer.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(failed(format!("{status}: {body}")));
        }
        Ok(body)
    })
}

/// Puts the backup in `from` in place of the store (the server must be stopped).
pub fn restore(path: &Path, from: &Path) -> Result<RestoredBackup, StoreCommandError> {
    Ok(cryptolens_actors::store::restore(path, from)?)
}

/// Verifies every stored value.
pub fn check(path: &Path) -> Result<CheckReport, StoreCommandError> {
    Ok(Store::open(path)?.check()?)
}

/// Moves a damaged store aside and rebuilds it from the ledger journal and whatever of the
/// old one is readable.
pub fn repair(path: &Path) -> Result<RepairReport, StoreCommandError> {
    Ok(cryptolens_actors::store::repair(path)?)
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

//! `--symbol-file SYMBOL=FILE ...`: one strategy over several symbols, each its own run (its
//! own cash, its own files), in parallel on all cores (rayon), ranked by return (ties: by
//! symbol, so the ranking is the same on every run).

use super::plan::Plan;
use super::{BacktestArgs, BacktestCliError};
use cryptolens_actors::domain::backtest::metrics::Metrics;
use rayon::prelude::*;
use serde::Serialize;
use std::path::PathBuf;

/// A bound on one command, as the grid has.
const SYMBOLS_MAX: usize = 1_000;

#[derive(Debug, Clone, Serialize)]
pub struct SymbolRun {
    pub symbol: String,
    #[serde(flatten)]
    pub metrics: Metrics,
}

pub fn run(args: &BacktestArgs) -> Result<Vec<SymbolRun>, BacktestCliError> {
    let runs = pairs(&args.symbol_file)?;
    let plans = runs
        .iter()
        .map(|(symbol, file)| {
            let one = BacktestArgs {
                symbol: symbol.clone(),
                file: vec![file.clone()],
                symbol_file: Vec::new(),
                ..args.clone()
            };
            Ok((Plan::from_args(&one)?, one.file))
        })
        .collect::<Result<Vec<_>, BacktestCliError>>()?;
    let results: Result<Vec<SymbolRun>, BacktestCliError> = plans
        .par_iter()
        .map(|(plan, files)| {
            let candles = super::input::load(files, plan.file_timeframe, plan.from_ms, plan.to_ms)?;
            let result = plan.run(&candles, &mut |_| {})?;
            Ok(SymbolRun {
                symbol: plan.symbol.to_string(),
                metrics: result.metrics,
            })
        })
        .collect();
    let mut results = results?;
    results.sort_by(|a, b| {
        b.metrics
            .return_pct
            .total_cmp(&a.metrics.return_pct)
            .then(a.symbol.cmp(&b.symbol))
    });
    Ok(results)
}

/// The `SYMBOL=FILE` pairs, each symbol once.
fn pairs(texts: &[String]) -> Result<Vec<(String, PathBuf)>, BacktestCliError> {
    if texts.len() > SYMBOLS_MAX {
        return Err(bad(format!("at most {SYMBOLS_MAX} symbols")));
    }
    let mut pairs: Vec<(String, PathBuf)> = Vec::with_capacity(texts.len());
    for text in texts {
        let (symbol, file) = text
            .split_once('=')
            .filter(|(symbol, file)| !symbol.is_empty() && !file.is_empty())
            .ok_or_else(|| bad(format!("{text:?} is not SYMBOL=FILE")))?;
        if pairs.iter().any(|(known, _)| known == symbol) {
            return Err(bad(format!("{symbol} is named twice")));
        }
        pairs.push((symbol.to_owned(), PathBuf::from(file)));
    }
    Ok(pairs)
}

fn bad(message: String) -> BacktestCliError {
    BacktestCliError::argument("symbol-file", message)
}

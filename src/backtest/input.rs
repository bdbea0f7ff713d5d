//! The candles of a run: every file read and checked as `import` reads it, merged in time
//! order (a candle in two files must be the same in both), cut to `[from, to)`.

use super::BacktestCliError;
use crate::import::read_candle_file;
use cryptolens_actors::domain::market::{Candle, Timeframe};
use std::path::PathBuf;

pub fn load(
    files: &[PathBuf],
    timeframe: Timeframe,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
) -> Result<Vec<Candle>, BacktestCliError> {
    let mut candles = match files {
        [only] => in_time_order(read_candle_file(only, timeframe)?, only)?,
        _ => merged(files, timeframe)?,
    };
    candles.retain(|candle| {
        from_ms.is_none_or(|from| candle.open_time_ms >= from)
            && to_ms.is_none_or(|to| candle.open_time_ms < to)
    });
    Ok(candles)
}

/// One file's candles in time order: as they are when the file is (the usual case, and no
/// copy then), else sorted and merged like several files.
fn in_time_order(candles: Vec<Candle>, path: &PathBuf) -> Result<Vec<Candle>, BacktestCliError> {
    if candles
        .windows(2)
        .all(|pair| pair[0].open_time_ms < pair[1].open_time_ms)
    {
        return Ok(candles);
    }
    deduplicated(
        candles.into_iter().map(|candle| (candle, 0)).collect(),
        std::slice::from_ref(path),
    )
}

fn merged(files: &[PathBuf], timeframe: Timeframe) -> Result<Vec<Candle>, BacktestCliError> {
    let mut tagged: Vec<(Candle, usize)> = Vec::new();
    for (index, path) in files.iter().enumerate() {
        let candles = read_candle_file(path, timeframe)?;
        tagged.extend(candles.into_iter().map(|candle| (candle, index)));
    }
    deduplicated(tagged, files)
}

/// Sorted by time (stable: for equal times the earlier file first); a time given twice must
/// carry the same candle.
fn deduplicated(
    mut tagged: Vec<(Candle, usize)>,
    files: &[PathBuf],
) -> Result<Vec<Candle>, BacktestCliError> {
    tagged.sort_by_key(|(candle, _)| candle.open_time_ms);
    let mut candles: Vec<Candle> = Vec::with_capacity(tagged.len());
    for (candle, file) in tagged {
        match candles.last() {
            Some(last) if last.open_time_ms == candle.open_time_ms => {
                if *last != candle {
                    return Err(BacktestCliError::ConflictingCandles {
                        path: files[file].clone(),
                        open_time_ms: candle.open_time_ms,
                    });
                }
            }
            _ => candles.push(candle),
        }
    }
    Ok(candles)
}

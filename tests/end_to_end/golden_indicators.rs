//! Every indicator equals TA-Lib within 1e-9 relative at every candle, and is null exactly
//! where TA-Lib gives NaN. Golden values: fixtures/generate_indicator_golden.py, on the
//! `backtesting` package's EURUSD hourly candles and on every ../shared CSV.

use crate::support::{fixtures, shared_csv_files, stem_and_timeframe};
use cryptolens::import::read_candle_file;
use cryptolens_actors::domain::analysis::indicators::{IndicatorSet, INDICATOR_NAMES};
use std::path::Path;

pub const RELATIVE_TOLERANCE: f64 = 1e-9;
/// Oscillators bounded by 0..100, measured against that range.
const OSCILLATORS: [&str; 3] = ["rsi_14", "stoch_k", "stoch_d"];
/// Differences of averages, in price units, that cross zero.
const PRICE_DIFFERENCES: [&str; 3] = ["macd", "macd_signal", "macd_hist"];

/// Error relative to the larger of the two values and the quantity's own scale: a value that
/// should be 0 (a flat %D, a crossing MACD) is noise in TA-Lib's running sums too, so it is
/// measured against 100 for oscillators and against the price for MACD lines.
pub fn relative_error(name: &str, actual: f64, expected: f64, close: f64) -> f64 {
    if actual == expected {
        return 0.0;
    }
    let scale = if OSCILLATORS.contains(&name) {
        100.0
    } else if PRICE_DIFFERENCES.contains(&name) {
        close.abs()
    } else {
        0.0
    };
    (actual - expected).abs() / actual.abs().max(expected.abs()).max(scale)
}

fn check_against_talib(source: &Path) {
    let (stem, timeframe) = stem_and_timeframe(source);
    let candles = read_candle_file(source, timeframe).expect("valid candles");
    let golden = std::fs::read_to_string(
        fixtures()
            .join("golden/indicators")
            .join(format!("{stem}.csv")),
    )
    .expect("golden file");
    let rows: Vec<&str> = golden.lines().skip(1).collect();
    assert_eq!(
        rows.len(),
        candles.len(),
        "{stem}: one golden row per candle"
    );
    let mut indicators = IndicatorSet::default();
    let mut worst = [0.0_f64; 15];
    for (index, (candle, row)) in candles.iter().zip(&rows).enumerate() {
        let values = indicators.on_candle(candle).as_array();
        let mut cells = row.split(',');
        let time: i64 = cells
            .next()
            .and_then(|cell| cell.parse().ok())
            .expect("timestamp");
        assert_eq!(time, candle.open_time_ms, "{stem} row {index}");
        for (column, (actual, cell)) in values.iter().zip(cells).enumerate() {
            let name = INDICATOR_NAMES[column];
            match (actual, cell.parse::<f64>().ok()) {
                (None, None) => {}
                (Some(actual), Some(expected)) => {
                    let error = relative_error(name, *actual, expected, candle.close.to_f64());
                    worst[column] = worst[column].max(error);
                    assert!(
                        error <= RELATIVE_TOLERANCE,
                        "{stem} row {index} {name}: {actual} vs TA-Lib {expected} ({error:e})"
                    );
                }
                (actual, _) => {
                    panic!("{stem} row {index} {name}: {actual:?} but TA-Lib has {cell:?}")
                }
            }
        }
    }
    let report: Vec<String> = INDICATOR_NAMES
        .iter()
        .zip(worst)
        .map(|(name, error)| format!("{name} {error:.1e}"))
        .collect();
    println!("{stem}: worst relative error {}", report.join(", "));
}

#[test]
fn indicators_equal_talib_on_the_registry_eurusd_candles() {
    check_against_talib(&fixtures().join("data/EURUSD-1h.csv"));
}

#[test]
fn indicators_equal_talib_on_every_shared_candle_file() {
    let Some(files) = shared_csv_files() else {
        return;
    };
    for file in files {
        check_against_talib(&file);
    }
}

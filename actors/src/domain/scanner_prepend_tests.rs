//! `SymbolScanner::prepend`: analysis rebuilt from the held candles equals analysis that saw
//! them in order, a warm start defines every indicator on every timeframe, and a refusal or an
//! empty prepend changes nothing.

use crate::domain::analysis::{AnalysisEvents, AnalysisSettings};
use crate::domain::market::aggregator::prepend_tests::walk;
use crate::domain::market::{Candle, Symbol, Timeframe};
use crate::domain::scanner::SymbolScanner;
use crate::domain::DomainError;
use std::sync::Arc;

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 1_440 * MINUTE_MS;

fn scanner() -> SymbolScanner {
    let symbol = Symbol::parse("BTCUSDT").unwrap();
    SymbolScanner::new(
        symbol,
        Timeframe::M1,
        10_000,
        Arc::new(AnalysisSettings::default()),
    )
}

fn fed(candles: &[Candle]) -> SymbolScanner {
    let mut scanner = scanner();
    let (mut closed, mut events) = (Vec::new(), AnalysisEvents::default());
    for candle in candles {
        scanner.on_candle(*candle, &mut closed, &mut events);
    }
    scanner
}

#[test]
fn analysis_rebuilt_after_a_prepend_equals_analysis_of_the_whole_series() {
    let series = walk(Timeframe::M1, 20 * DAY_MS, 4 * 1_440 + 333, 17);
    let split = 2 * 1_440;
    let mut scanner = fed(&series[split..]);
    let tally = scanner
        .prepend(&[(Timeframe::M1, series[..split].to_vec())])
        .unwrap();
    assert_eq!(tally.prepended, split as u64);
    let whole = fed(&series);
    assert_eq!(scanner.analysis(), whole.analysis());
    assert!(
        whole
            .analysis()
            .engines()
            .iter()
            .any(|e| e.live().next().is_some()),
        "the series forms patterns, so the comparison means something"
    );
}

#[test]
fn a_warm_start_defines_every_indicator_on_every_timeframe() {
    let day_start_ms = 400 * DAY_MS;
    let mut scanner = fed(&walk(Timeframe::M1, day_start_ms, 120, 23));
    let seeds: Vec<(Timeframe, Vec<Candle>)> = Timeframe::M1
        .higher()
        .map(|timeframe| {
            let start_ms = day_start_ms - 60 * timeframe.duration_ms();
            (timeframe, walk(timeframe, start_ms, 60, 29))
        })
        .collect();
    let tally = scanner.prepend(&seeds).unwrap();
    assert_eq!(tally.prepended, 7 * 60);
    for engine in scanner.analysis().engines() {
        let (_, values) = engine.latest().unwrap();
        assert!(
            values.as_array().iter().all(Option::is_some),
            "{:?}: {values:?}",
            engine.timeframe()
        );
    }
}

#[test]
fn a_refused_series_leaves_everything_as_it_was() {
    let series = walk(Timeframe::M1, DAY_MS, 200, 31);
    let mut scanner = fed(&series[100..]);
    let before = scanner.clone();
    let misaligned = walk(Timeframe::M1, DAY_MS - 3 * MINUTE_MS, 1, 1);
    let result = scanner.prepend(&[
        (Timeframe::M1, series[..100].to_vec()),
        (Timeframe::M5, misaligned),
    ]);
    assert!(matches!(result, Err(DomainError::InvalidHistory { .. })));
    assert_eq!(scanner, before);
    let duplicates = scanner
        .prepend(&[(Timeframe::M1, series[100..150].to_vec())])
        .unwrap();
    assert!(!duplicates.changed());
    assert_eq!(scanner, before, "nothing written, nothing rebuilt");
}

#[test]
fn a_rebuilt_analysis_keeps_the_symbols_tick() {
    let tick = Some(rust_decimal::Decimal::new(5, 1));
    let symbol = Symbol::parse("BTCUSDT").unwrap();
    let settings = Arc::new(AnalysisSettings::default());
    let mut scanner = SymbolScanner::with_tick_size(symbol, Timeframe::M1, 1_000, settings, tick);
    let series = walk(Timeframe::M1, DAY_MS, 100, 37);
    let (mut closed, mut events) = (Vec::new(), AnalysisEvents::default());
    for candle in &series[50..] {
        scanner.on_candle(*candle, &mut closed, &mut events);
    }
    let tally = scanner
        .prepend(&[(Timeframe::M1, series[..50].to_vec())])
        .unwrap();
    assert!(tally.changed());
    assert_eq!(scanner.analysis().tick_size(), tick);
}

//! Analysis throughput on one core, candle by candle over the real `UNITTEST_BTC-1m.csv`
//! (repeated forward to 1,000,000 candles; a synthetic walk if ../shared is absent):
//!
//! - `full_pipeline/1m`: what a symbol actor does per base candle: aggregation to all eight
//!   timeframes, then on every closed candle of each timeframe all indicators, the three
//!   detectors, filters, lifecycles and levels, and a signal evaluation per instant;
//! - `indicators_and_detectors/1m`: indicators and the three detectors on the 1m series only.
//!
//!     cargo bench -p cryptolens-actors --bench analysis

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use cryptolens_actors::domain::analysis::detectors::{
    FairValueGapDetector, FairValueGapSettings, LiquiditySweepDetector, LiquiditySweepSettings,
    OrderBlockDetector, OrderBlockSettings,
};
use cryptolens_actors::domain::analysis::indicators::IndicatorSet;
use cryptolens_actors::domain::analysis::{AnalysisEvents, AnalysisSettings};
use cryptolens_actors::domain::market::{Candle, Symbol, Timeframe};
use cryptolens_actors::domain::scanner::SymbolScanner;
use std::hint::black_box;
use std::sync::Arc;

const CANDLES: usize = 1_000_000;

#[path = "support/real_candles.rs"]
mod real_candles;

fn analyse(candles: &[Candle]) -> usize {
    let mut indicators = IndicatorSet::default();
    let mut gaps = FairValueGapDetector::new(FairValueGapSettings::default());
    let mut blocks = OrderBlockDetector::new(OrderBlockSettings::default());
    let mut sweeps = LiquiditySweepDetector::new(LiquiditySweepSettings::default());
    let mut found = 0;
    for candle in candles {
        black_box(indicators.on_candle(candle));
        found += usize::from(gaps.on_candle(candle).is_some());
        found += usize::from(blocks.on_candle(candle).is_some());
        found += sweeps.on_candle(candle).iter().flatten().count();
    }
    found
}

/// The symbol actor's per-candle work, without the actor; returns the events reported.
fn scan(candles: &[Candle]) -> usize {
    let symbol = Symbol::parse("BTCUSDT").expect("symbol");
    let settings = Arc::new(AnalysisSettings::default());
    let mut scanner = SymbolScanner::new(symbol, Timeframe::M1, 1000, settings);
    let (mut closed, mut events) = (Vec::new(), AnalysisEvents::default());
    let mut reported = 0;
    for candle in candles {
        scanner.on_candle(*candle, &mut closed, &mut events);
        reported += events.patterns.len() + events.signals.len();
        closed.clear();
        events.clear();
    }
    reported
}

fn bench_analysis(c: &mut Criterion) {
    let candles = real_candles::load_repeated("UNITTEST_BTC-1m.csv", Timeframe::M1, CANDLES);
    let mut group = c.benchmark_group("analysis");
    group.sample_size(10);
    group.throughput(Throughput::Elements(CANDLES as u64));
    group.bench_function("full_pipeline/1m", |b| {
        b.iter(|| black_box(scan(black_box(&candles))))
    });
    group.bench_function("indicators_and_detectors/1m", |b| {
        b.iter(|| black_box(analyse(black_box(&candles))))
    });
    group.finish();
}

criterion_group!(benches, bench_analysis);
criterion_main!(benches);

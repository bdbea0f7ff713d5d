//! Analysis throughput on one core: every indicator plus the Fair Value Gap, Order Block and
//! Liquidity Sweep detectors, candle by candle over the real `UNITTEST_BTC-1m.csv` (repeated
//! forward to 1,000,000 candles; a synthetic walk if ../shared is absent). Lifecycle, signals
//! and levels are not built yet and are not in this figure.
//!
//!     cargo bench -p cryptolens-actors --bench analysis

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use cryptolens_actors::domain::analysis::detectors::{
    FairValueGapDetector, FairValueGapSettings, LiquiditySweepDetector, LiquiditySweepSettings,
    OrderBlockDetector, OrderBlockSettings,
};
use cryptolens_actors::domain::analysis::indicators::IndicatorSet;
use cryptolens_actors::domain::market::{Candle, Timeframe};
use std::hint::black_box;

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

fn bench_analysis(c: &mut Criterion) {
    let candles = real_candles::load_repeated("UNITTEST_BTC-1m.csv", Timeframe::M1, CANDLES);
    let mut group = c.benchmark_group("analysis");
    group.sample_size(10);
    group.throughput(Throughput::Elements(CANDLES as u64));
    group.bench_function("indicators_and_detectors/1m", |b| {
        b.iter(|| black_box(analyse(black_box(&candles))))
    });
    group.finish();
}

criterion_group!(benches, bench_analysis);
criterion_main!(benches);

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
use cryptolens_actors::domain::market::{
    Candle, CandleDraft, CandleField, Price, Timeframe, Volume,
};
use std::hint::black_box;
use std::path::PathBuf;

const CANDLES: usize = 1_000_000;

fn real_or_synthetic() -> Vec<Candle> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/candles/UNITTEST_BTC-1m.csv");
    let base: Vec<Candle> = std::fs::read_to_string(&path)
        .map(|text| text.lines().skip(1).filter_map(parse_line).collect())
        .unwrap_or_else(|_| {
            eprintln!("note: {} absent, using a synthetic walk", path.display());
            (0..10_000_i64)
                .map(|step| {
                    let price = 100_000 + (step * 7919) % 5_000;
                    Candle {
                        open_time_ms: step * 60_000,
                        open: Price::from_raw(price),
                        high: Price::from_raw(price + 300),
                        low: Price::from_raw(price - 300),
                        close: Price::from_raw(price + (step % 7) * 40 - 120),
                        volume: Volume::from_raw(1_000_000),
                    }
                })
                .collect()
        });
    let span = base.last().map_or(0, |c| c.open_time_ms)
        - base.first().map_or(0, |c| c.open_time_ms)
        + 60_000;
    (0..CANDLES)
        .map(|index| {
            let candle = base[index % base.len()];
            Candle {
                open_time_ms: candle.open_time_ms + span * (index / base.len()) as i64,
                ..candle
            }
        })
        .collect()
}

fn parse_line(line: &str) -> Option<Candle> {
    let cells: Vec<&str> = line.split(',').collect();
    let number =
        |index: usize| CandleDraft::parse_number(CandleField::ALL[index], cells.get(index)?).ok();
    let draft = CandleDraft {
        open_time_ms: cells.first()?.parse().ok()?,
        open: number(1)?,
        high: number(2)?,
        low: number(3)?,
        close: number(4)?,
        volume: number(5)?,
    };
    Candle::new_checked(Timeframe::M1, &draft).ok()
}

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
    let candles = real_or_synthetic();
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

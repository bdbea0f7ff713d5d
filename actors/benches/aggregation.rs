//! Aggregation throughput on one core: base candles per second through
//! `TimeframeAggregator::on_candle` into every higher timeframe.
//!
//! Input: the real `UNITTEST_BTC-1m.csv` (1m) and `TRX_BTC-5m.csv` (5m) from ../shared,
//! repeated forward in time to 1,000,000 candles; a seeded synthetic walk if ../shared is
//! absent. A second group runs the same algorithm over `rust_decimal::Decimal` fields, the
//! alternative representation, to justify fixed-point integers.
//!
//!     cargo bench -p cryptolens-actors --bench aggregation

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use cryptolens_actors::domain::market::{Candle, Timeframe, TimeframeAggregator};
use rust_decimal::Decimal;
use std::hint::black_box;

const CANDLES: usize = 1_000_000;

#[path = "support/real_candles.rs"]
mod real_candles;

fn aggregate(timeframe: Timeframe, candles: &[Candle]) -> usize {
    let mut aggregator = TimeframeAggregator::new(timeframe, 1000);
    let mut closed = Vec::with_capacity(64);
    let mut total_closed = 0;
    for candle in candles {
        aggregator.on_candle(*candle, &mut closed);
        total_closed += closed.len();
        closed.clear();
    }
    total_closed
}

/// The same bucket fold over Decimal fields: what the candle would cost as Decimal.
#[derive(Clone, Copy)]
struct DecimalCandle {
    open_time_ms: i64,
    open: Decimal,
    high: Decimal,
    low: Decimal,
    close: Decimal,
    volume: Decimal,
}

fn aggregate_decimal(timeframe: Timeframe, candles: &[DecimalCandle]) -> usize {
    let higher: Vec<Timeframe> = timeframe.higher().collect();
    let mut partial: Vec<Option<DecimalCandle>> = vec![None; higher.len()];
    let mut closed = 0;
    for candle in candles {
        for (slot, tf) in partial.iter_mut().zip(&higher) {
            let bucket = tf.bucket_start_ms(candle.open_time_ms);
            *slot = match *slot {
                Some(open) if open.open_time_ms == bucket => Some(DecimalCandle {
                    open_time_ms: bucket,
                    open: open.open,
                    high: open.high.max(candle.high),
                    low: open.low.min(candle.low),
                    close: candle.close,
                    volume: open.volume + candle.volume,
                }),
                previous => {
                    closed += usize::from(previous.is_some());
                    Some(DecimalCandle {
                        open_time_ms: bucket,
                        ..*candle
                    })
                }
            };
        }
    }
    closed
}

fn bench_aggregation(c: &mut Criterion) {
    let mut group = c.benchmark_group("aggregation");
    group.sample_size(10);
    group.throughput(Throughput::Elements(CANDLES as u64));
    for (name, timeframe) in [
        ("UNITTEST_BTC-1m.csv", Timeframe::M1),
        ("TRX_BTC-5m.csv", Timeframe::M5),
    ] {
        let candles = real_candles::load_repeated(name, timeframe, CANDLES);
        group.bench_function(format!("fixed_point/{timeframe}_to_all_higher"), |b| {
            b.iter(|| black_box(aggregate(timeframe, black_box(&candles))))
        });
        if timeframe == Timeframe::M1 {
            let decimals: Vec<DecimalCandle> = candles
                .iter()
                .map(|candle| DecimalCandle {
                    open_time_ms: candle.open_time_ms,
                    open: candle.open.to_decimal(),
                    high: candle.high.to_decimal(),
                    low: candle.low.to_decimal(),
                    close: candle.close.to_decimal(),
                    volume: candle.volume.to_decimal(),
                })
                .collect();
            group.bench_function("decimal_fold_only/1m_to_all_higher", |b| {
                b.iter_batched(
                    || (),
                    |()| black_box(aggregate_decimal(timeframe, black_box(&decimals))),
                    BatchSize::SmallInput,
                )
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_aggregation);
criterion_main!(benches);

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
use cryptolens_actors::domain::market::{
    Candle, CandleDraft, CandleField, Timeframe, TimeframeAggregator,
};
use rust_decimal::Decimal;
use std::hint::black_box;
use std::path::PathBuf;

const CANDLES: usize = 1_000_000;

fn load(name: &str, timeframe: Timeframe) -> Vec<Candle> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/candles")
        .join(name);
    let base: Vec<Candle> = match std::fs::read_to_string(&path) {
        Ok(text) => text
            .lines()
            .skip(1)
            .filter_map(|line| parse_line(line, timeframe))
            .collect(),
        Err(_) => {
            eprintln!("note: {} absent, using a synthetic walk", path.display());
            synthetic(timeframe)
        }
    };
    repeat_forward(&base, timeframe)
}

fn parse_line(line: &str, timeframe: Timeframe) -> Option<Candle> {
    let cells: Vec<&str> = line.split(',').collect();
    let number =
        |index: usize| CandleDraft::parse_number(CandleField::ALL[index], cells[index]).ok();
    let draft = CandleDraft {
        open_time_ms: cells.first()?.parse().ok()?,
        open: number(1)?,
        high: number(2)?,
        low: number(3)?,
        close: number(4)?,
        volume: number(5)?,
    };
    Candle::new_checked(timeframe, &draft).ok()
}

fn synthetic(timeframe: Timeframe) -> Vec<Candle> {
    (0..10_000_i64)
        .filter_map(|step| {
            let price = Decimal::new(10_000 + (step * 7919) % 500, 2);
            let draft = CandleDraft {
                open_time_ms: step * timeframe.duration_ms(),
                open: price,
                high: price + Decimal::ONE,
                low: price - Decimal::ONE,
                close: price,
                volume: Decimal::new(step % 1000, 3),
            };
            Candle::new_checked(timeframe, &draft).ok()
        })
        .collect()
}

/// Repeats `base` back to back, shifted by whole days, until there are CANDLES candles.
fn repeat_forward(base: &[Candle], timeframe: Timeframe) -> Vec<Candle> {
    let first = base.first().map_or(0, |candle| candle.open_time_ms);
    let last = base.last().map_or(0, |candle| candle.open_time_ms);
    let day = Timeframe::D1.duration_ms();
    let span = ((last - first) / day + 1) * day;
    let mut candles = Vec::with_capacity(CANDLES);
    let mut shift = 0;
    while candles.len() < CANDLES {
        candles.extend(
            base.iter()
                .take(CANDLES - candles.len())
                .map(|candle| Candle {
                    open_time_ms: candle.open_time_ms + shift,
                    ..*candle
                }),
        );
        shift += span;
    }
    debug_assert!(timeframe.is_aligned(candles[0].open_time_ms));
    candles
}

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
        let candles = load(name, timeframe);
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

//! End-to-end ingest through the actors: 500 symbols, each sent its one-minute candles in
//! batches of 1,000 through `Engine::ingest` (registry routing, bounded mailboxes, symbol
//! actors on 2 arbiters, aggregation to every timeframe, reply). Candles are checked up front,
//! as the HTTP edge does; JSON parsing is not in this figure.
//!
//!     cargo bench --bench ingest

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use cryptolens_actors::actors::{Engine, EngineSettings};
use cryptolens_actors::domain::market::{Candle, Price, Symbol, Timeframe, Volume};
use std::time::{Duration, Instant};

const SYMBOLS: usize = 500;
const CANDLES_PER_SYMBOL: usize = 2_000;
const BATCH: usize = 1_000;

fn candles(seed: usize) -> Vec<Candle> {
    (0..CANDLES_PER_SYMBOL)
        .map(|minute| {
            let base = 1_000_000 + ((minute * 7919 + seed * 104_729) % 100_000) as i64;
            Candle {
                open_time_ms: minute as i64 * Timeframe::M1.duration_ms(),
                open: Price::from_raw(base),
                high: Price::from_raw(base + 500),
                low: Price::from_raw(base - 500),
                close: Price::from_raw(base + 100),
                volume: Volume::from_raw(123_456_789),
            }
        })
        .collect()
}

async fn ingest_all(engine: &Engine, work: &[(Symbol, Vec<Candle>)]) {
    let tasks = work.iter().map(|(symbol, candles)| async move {
        for batch in candles.chunks(BATCH) {
            loop {
                match engine.ingest(symbol, Timeframe::M1, batch.to_vec()).await {
                    Ok(_) => break,
                    Err(cryptolens_actors::actors::EngineError::MailboxFull { .. }) => {
                        tokio::task::yield_now().await
                    }
                    Err(error) => panic!("ingest failed: {error}"),
                }
            }
        }
    });
    futures_util::future::join_all(tasks).await;
}

fn bench_ingest(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let work: Vec<(Symbol, Vec<Candle>)> = (0..SYMBOLS)
        .map(|index| {
            (
                Symbol::parse(&format!("SYM{index:03}USDT")).expect("symbol"),
                candles(index),
            )
        })
        .collect();
    let mut group = c.benchmark_group("ingest");
    group.sample_size(10);
    group.throughput(Throughput::Elements((SYMBOLS * CANDLES_PER_SYMBOL) as u64));
    group.bench_function("500_symbols_through_actors_2_shards", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                let settings = EngineSettings {
                    shards: 2,
                    ..EngineSettings::default()
                };
                let engine = Engine::start(settings).expect("engine");
                let started = Instant::now();
                runtime.block_on(ingest_all(&engine, &work));
                total += started.elapsed();
                runtime.block_on(engine.shutdown());
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, bench_ingest);
criterion_main!(benches);

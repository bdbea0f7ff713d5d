//! Store throughput for 500 symbols, each holding 1000 candles on every one of the 8
//! timeframes (1m base fed one candle per day from the real `UNITTEST_BTC-1m.csv` prices, so
//! every ring fills) with its whole analysis state:
//!
//! - `write_500_snapshots`: encode every scanner in its envelope (with the round-trip check)
//!   and write them as one sled batch followed by a flush;
//! - `restore_500_symbols`: what start-up does: an engine that reads, verifies and decodes
//!   every snapshot and starts a symbol actor on each. Target: under 2 s.
//!
//!     cargo bench -p cryptolens-actors --bench persistence

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use cryptolens_actors::actors::{Engine, EngineSettings};
use cryptolens_actors::domain::analysis::AnalysisSettings;
use cryptolens_actors::domain::market::Timeframe;
use cryptolens_actors::domain::scanner::SymbolScanner;
use cryptolens_actors::store::{encode, Store};
use std::sync::Arc;

#[path = "support/full_scanner.rs"]
mod full_scanner;
#[path = "support/real_candles.rs"]
mod real_candles;
use full_scanner::{full_scanner, RING};

const SYMBOLS: usize = 500;

fn bench_persistence(c: &mut Criterion) {
    let prices = real_candles::load_repeated("UNITTEST_BTC-1m.csv", Timeframe::M1, 5_000);
    let scanners: Vec<SymbolScanner> = (0..SYMBOLS).map(|i| full_scanner(i, &prices)).collect();
    for timeframe in Timeframe::ALL {
        let held = scanners[0]
            .aggregator()
            .closed(timeframe)
            .map_or(0, |ring| ring.len());
        assert_eq!(held, RING, "{timeframe} ring is full");
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(Store::open(&dir.path().join("store")).expect("store"));
    let encoded = |scanners: &[SymbolScanner]| -> Vec<(String, Vec<u8>)> {
        scanners
            .iter()
            .map(|s| (s.symbol().as_str().to_owned(), encode(s).expect("encode")))
            .collect()
    };
    let bytes: usize = encoded(&scanners[..1]).iter().map(|(_, v)| v.len()).sum();
    eprintln!(
        "one snapshot: {bytes} bytes; {SYMBOLS} symbols: {} MB",
        bytes * SYMBOLS / 1_000_000
    );

    let mut group = c.benchmark_group("persistence");
    group.sample_size(10);
    group.throughput(Throughput::Elements(SYMBOLS as u64));
    group.bench_function("write_500_snapshots", |b| {
        b.iter(|| store.put_symbols(encoded(&scanners)).expect("write"))
    });
    group.bench_function("restore_500_symbols", |b| {
        b.iter(|| {
            let settings = EngineSettings {
                shards: 2,
                ..EngineSettings::default()
            };
            let engine =
                Engine::start_restoring(settings, AnalysisSettings::default()).expect("engine");
            let report = engine.restore_from(Arc::clone(&store)).expect("restore");
            assert_eq!((report.symbols, report.problems.len()), (SYMBOLS, 0));
            let runtime = tokio::runtime::Runtime::new().expect("runtime");
            runtime.block_on(engine.shutdown());
        })
    });
    group.finish();
}

criterion_group!(benches, bench_persistence);
criterion_main!(benches);

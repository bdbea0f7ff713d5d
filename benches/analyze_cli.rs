//! `cryptolens analyze` over 100,000 real one-minute candles (`UNITTEST_BTC-1m.csv` repeated
//! forward in time; a synthetic walk if ../shared is absent): the whole process, from reading
//! the CSV to writing the JSON document (to /dev/null). Target: under 0.5 s.
//!
//!     cargo bench --bench analyze_cli

use criterion::{criterion_group, criterion_main, Criterion};
use cryptolens_actors::domain::market::Timeframe;
use std::fmt::Write as _;
use std::process::{Command, Stdio};

#[path = "../actors/benches/support/real_candles.rs"]
mod real_candles;

const CANDLES: usize = 100_000;

fn bench_analyze(c: &mut Criterion) {
    let candles = real_candles::load_repeated("UNITTEST_BTC-1m.csv", Timeframe::M1, CANDLES);
    let mut csv = String::from("timestamp,open,high,low,close,volume\n");
    for candle in &candles {
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{}",
            candle.open_time_ms, candle.open, candle.high, candle.low, candle.close, candle.volume
        );
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("candles.csv");
    std::fs::write(&input, csv).expect("write candles");
    let mut group = c.benchmark_group("analyze_cli");
    group.sample_size(10);
    group.bench_function("100k_1m_candles", |b| {
        b.iter(|| {
            let status = Command::new(env!("CARGO_BIN_EXE_cryptolens"))
                .args(["analyze", "--timeframe", "1m", "--input"])
                .arg(&input)
                .stdout(Stdio::null())
                .status()
                .expect("run analyze");
            assert!(status.success());
        })
    });
    group.finish();
}

criterion_group!(benches, bench_analyze);
criterion_main!(benches);

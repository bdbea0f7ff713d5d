//! Disk soak: 50 symbols with full rings (8 timeframes × 1000 candles and the whole analysis
//! state), each moved on by one candle and snapshotted, round after round, exactly as the
//! persistence actor writes them (envelopes, one batch, one flush). Prints the data
//! directory's size on disk (every file, as `du` counts it) every 100 rounds; the store is
//! bounded when the final size stays within 2× the size after the first 100 rounds.
//!
//!     cargo bench -p cryptolens-actors --bench store_soak            # 2000 rounds
//!     SOAK_ROUNDS=300 cargo bench -p cryptolens-actors --bench store_soak

use cryptolens_actors::domain::market::Timeframe;
use cryptolens_actors::domain::scanner::SymbolScanner;
use cryptolens_actors::store::{directory_bytes as size_on_disk, encode, Store};
use std::time::Instant;

#[path = "support/full_scanner.rs"]
mod full_scanner;
#[path = "support/real_candles.rs"]
mod real_candles;
use full_scanner::{feed_day, full_scanner, RING};

const SYMBOLS: usize = 50;

fn main() {
    if std::env::args().any(|arg| arg == "--list") {
        println!("store_soak: bench");
        return;
    }
    let rounds: usize = std::env::var("SOAK_ROUNDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(2000);
    let prices = real_candles::load_repeated("UNITTEST_BTC-1m.csv", Timeframe::M1, 5_000);
    let mut scanners: Vec<SymbolScanner> = (0..SYMBOLS).map(|i| full_scanner(i, &prices)).collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&dir.path().join("store")).expect("store");
    let started = Instant::now();
    let mut after_first_hundred = 0;
    for round in 1..=rounds {
        let day = (RING + round) as i64;
        let values = scanners
            .iter_mut()
            .enumerate()
            .map(|(index, scanner)| {
                feed_day(scanner, day, &prices[(index + round) % prices.len()]);
                let bytes = encode(&*scanner).expect("encode");
                (scanner.symbol().as_str().to_owned(), bytes)
            })
            .collect();
        store.put_symbols(values).expect("write");
        if round % 100 == 0 {
            let bytes = size_on_disk(dir.path());
            if round == 100 {
                after_first_hundred = bytes;
            }
            println!(
                "round {round:>5}: {:>7.1} MB on disk ({:.2}× round 100), {:.0} s",
                bytes as f64 / 1e6,
                bytes as f64 / after_first_hundred.max(1) as f64,
                started.elapsed().as_secs_f64()
            );
        }
    }
    let last = size_on_disk(dir.path());
    let ratio = last as f64 / after_first_hundred.max(1) as f64;
    println!(
        "final: {:.1} MB, {ratio:.2}× the size after 100 rounds",
        last as f64 / 1e6
    );
    assert!(ratio <= 2.0, "the store kept growing");
}

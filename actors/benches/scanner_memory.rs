//! Heap held by one symbol's domain state (the scanner the symbol actor owns) with every ring
//! full: 8 timeframes × 1,000 candles and the analysis state the memory load script's walk
//! leaves, counted exactly by a counting allocator rather than read from RSS. Prints the
//! whole and its parts (rings, engines with their patterns, signals) after feeding and after
//! a store round trip, which is what a restart restores.
//!
//!     cargo bench -p cryptolens-actors --bench scanner_memory

use cryptolens_actors::domain::analysis::{AnalysisEvents, AnalysisSettings};
use cryptolens_actors::domain::market::{Candle, Price, Symbol, Timeframe, Volume};
use cryptolens_actors::domain::scanner::SymbolScanner;
use cryptolens_actors::store::{decode, encode};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::Arc;

/// Counts live heap bytes; the figures are exact, not estimated from RSS.
struct Counting;

static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE_BYTES.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const SYMBOLS: usize = 20;
const CANDLES: usize = 10_001;
const DAY_MS: i64 = 86_400_000;

fn live() -> isize {
    LIVE_BYTES.load(Ordering::Relaxed)
}

/// Heap bytes `make` leaves allocated, kept alive in the returned value.
fn held<T>(make: impl FnOnce() -> T) -> (T, isize) {
    let before = live();
    let value = make();
    (value, live() - before)
}

/// The walk of `benches/load/memory_per_symbol.py`: one-minute candles a day apart, so every
/// timeframe closes a candle per candle.
fn walk_candle(symbol: usize, index: usize) -> Candle {
    let price = 100 + ((index * 7919 + symbol) % 50) as i64;
    let at = |value: i64| Price::from_decimal(rust_decimal::Decimal::from(value)).expect("price");
    Candle {
        open_time_ms: index as i64 * DAY_MS,
        open: at(price),
        high: at(price + 2),
        low: at(price - 2),
        close: at(price + 1),
        volume: Volume::from_decimal(rust_decimal::Decimal::from(10)).expect("volume"),
    }
}

fn fed_scanner(symbol: usize) -> SymbolScanner {
    let name = Symbol::parse(&format!("M{symbol:04}USDT")).expect("symbol");
    let mut scanner = SymbolScanner::new(
        name,
        Timeframe::M1,
        1000,
        Arc::new(AnalysisSettings::default()),
    );
    let (mut closed, mut events) = (Vec::new(), AnalysisEvents::default());
    for index in 0..CANDLES {
        closed.clear();
        events.clear();
        scanner.on_candle(walk_candle(symbol, index), &mut closed, &mut events);
    }
    scanner
}

fn mib(bytes: isize) -> f64 {
    bytes as f64 / SYMBOLS as f64 / 1_048_576.0
}

fn main() {
    if std::env::args().any(|arg| arg == "--list") {
        println!("scanner_memory: bench");
        return;
    }
    let (scanners, fed) = held(|| (0..SYMBOLS).map(fed_scanner).collect::<Vec<_>>());
    let (restored, restored_bytes) = held(|| {
        scanners
            .iter()
            .map(|scanner| {
                decode::<SymbolScanner>(&encode(scanner).expect("encode")).expect("decode")
            })
            .collect::<Vec<_>>()
    });
    let (_rings, rings) = held(|| {
        scanners
            .iter()
            .map(|s| s.aggregator().clone())
            .collect::<Vec<_>>()
    });
    let (_engines, engines) = held(|| {
        scanners
            .iter()
            .map(|s| s.analysis().engines().to_vec())
            .collect::<Vec<_>>()
    });
    let (_signals, signals) = held(|| {
        scanners
            .iter()
            .map(|s| s.analysis().signals().clone())
            .collect::<Vec<_>>()
    });
    let patterns: usize = scanners[0]
        .analysis()
        .engines()
        .iter()
        .map(|engine| engine.live().count() + engine.resolved().count())
        .sum();
    println!("heap per symbol, {SYMBOLS} symbols, {CANDLES} one-minute candles a day apart:");
    println!("  fed:                  {:.3} MiB", mib(fed));
    println!("  restored from store:  {:.3} MiB", mib(restored_bytes));
    println!("  parts (exact-size copies):");
    println!("    candle rings:       {:.3} MiB", mib(rings));
    println!(
        "    pattern engines:    {:.3} MiB ({patterns} patterns)",
        mib(engines)
    );
    println!("    signal book:        {:.3} MiB", mib(signals));
    println!(
        "  sizes: Candle {} B, Pattern {} B",
        std::mem::size_of::<Candle>(),
        std::mem::size_of::<cryptolens_actors::domain::analysis::Pattern>()
    );
    drop(restored);
}

//! A scanner whose 8 rings are full, for the store benchmarks.

use cryptolens_actors::domain::analysis::{AnalysisEvents, AnalysisSettings};
use cryptolens_actors::domain::market::{Candle, Symbol, Timeframe};
use cryptolens_actors::domain::scanner::SymbolScanner;
use std::sync::Arc;

/// Candles held per timeframe.
pub const RING: usize = 1000;

/// Symbol `index` fed `RING + 1` daily candles from `prices`: one base candle per day closes
/// a candle on every timeframe, so every ring fills.
pub fn full_scanner(index: usize, prices: &[Candle]) -> SymbolScanner {
    let symbol = Symbol::parse(&format!("SYM{index:04}USDT")).expect("symbol");
    let settings = Arc::new(AnalysisSettings::default());
    let mut scanner = SymbolScanner::new(symbol, Timeframe::M1, RING, settings);
    for (step, candle) in prices.iter().cycle().skip(index).take(RING + 1).enumerate() {
        feed_day(&mut scanner, step as i64, candle);
    }
    scanner
}

/// Feeds `candle` as the base candle of day `day`.
pub fn feed_day(scanner: &mut SymbolScanner, day: i64, candle: &Candle) {
    let (mut closed, mut events) = (Vec::new(), AnalysisEvents::default());
    let daily = Candle {
        open_time_ms: day * Timeframe::D1.duration_ms(),
        ..*candle
    };
    scanner.on_candle(daily, &mut closed, &mut events);
}

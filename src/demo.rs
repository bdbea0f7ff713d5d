//! Demo data for `serve --demo`: a seeded random walk per symbol, so a newcomer sees several
//! live symbols at once. This file is the generator; the same seed gives the same history.
//!
//! History: `history_candles` one-minute candles per symbol ending just before the current
//! minute, with a rare missing minute (real feeds have gaps). Live: every `tick_interval_ms`
//! each symbol's forming candle is revised through the same ingest path as any other source.

use crate::config::DemoSettings;
use cryptolens_actors::actors::{Engine, EngineError};
use cryptolens_actors::domain::market::{Candle, CandleDraft, Symbol, Timeframe};
use cryptolens_actors::domain::DomainError;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;
use std::time::Duration;
use tokio::sync::watch;

/// Chance that a minute is missing from the generated history.
const GAP_PROBABILITY: f64 = 0.002;
/// Standard deviation of one minute's log return.
const MINUTE_VOLATILITY: f64 = 0.0012;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("demo symbol: {0}")]
    Symbol(#[from] DomainError),
    #[error("loading demo candles: {0}")]
    Engine(#[from] EngineError),
}

struct WalkingSymbol {
    symbol: Symbol,
    price: f64,
    decimals: u32,
    forming: Option<Candle>,
}

/// The generator: deterministic for a given seed.
pub struct DemoMarket {
    symbols: Vec<WalkingSymbol>,
    rng: StdRng,
}

impl DemoMarket {
    pub fn new(settings: &DemoSettings) -> Result<DemoMarket, DemoError> {
        let symbols = settings
            .symbols
            .iter()
            .map(|name| {
                let symbol = Symbol::parse(name)?;
                let price = starting_price(symbol.as_str());
                let decimals = if price >= 10.0 { 2 } else { 4 };
                Ok(WalkingSymbol {
                    symbol,
                    price,
                    decimals,
                    forming: None,
                })
            })
            .collect::<Result<Vec<_>, DemoError>>()?;
        Ok(DemoMarket {
            symbols,
            rng: StdRng::seed_from_u64(settings.seed),
        })
    }

    /// `count` one-minute candles per symbol, the last one opening just before `end_ms`.
    pub fn history(&mut self, end_ms: i64, count: usize) -> Vec<(Symbol, Vec<Candle>)> {
        let end_minute = Timeframe::M1.bucket_start_ms(end_ms);
        let first_minute = end_minute - Timeframe::M1.duration_ms() * count as i64;
        let mut history = Vec::with_capacity(self.symbols.len());
        for index in 0..self.symbols.len() {
            let mut candles = Vec::with_capacity(count);
            for step in 0..count as i64 {
                let minute = first_minute + step * Timeframe::M1.duration_ms();
                let candle = self.next_minute(index, minute);
                let skipped = self.rng.random_bool(GAP_PROBABILITY);
                // Rounded prices are positive and ordered by construction; a refused candle
                // would only become one more gap.
                if let (Ok(candle), false) = (candle, skipped) {
                    candles.push(candle);
                }
            }
            history.push((self.symbols[index].symbol.clone(), candles));
        }
        history
    }

    /// Revises (or opens) each symbol's candle of the minute containing `now_ms`.
    pub fn tick(&mut self, now_ms: i64) -> Vec<(Symbol, Candle)> {
        let minute = Timeframe::M1.bucket_start_ms(now_ms);
        (0..self.symbols.len())
            .filter_map(|index| {
                let step = self.rng.random_range(-1.0..1.0) * MINUTE_VOLATILITY * 0.3;
                let walking = &mut self.symbols[index];
                walking.price *= 1.0 + step;
                let last = walking.price;
                let volume = self.rng.random_range(0.5..20.0);
                let walking = &mut self.symbols[index];
                let candle = match walking
                    .forming
                    .filter(|forming| forming.open_time_ms == minute)
                {
                    Some(forming) => revise(forming, last, volume, walking.decimals),
                    None => build(minute, last, last, last, last, volume, walking.decimals),
                }
                .ok()?;
                walking.forming = Some(candle);
                Some((walking.symbol.clone(), candle))
            })
            .collect()
    }

    fn next_minute(&mut self, index: usize, minute: i64) -> Result<Candle, DomainError> {
        let log_return = normal(&mut self.rng) * MINUTE_VOLATILITY;
        let wick_up = normal(&mut self.rng).abs() * MINUTE_VOLATILITY * 0.5;
        let wick_down = normal(&mut self.rng).abs() * MINUTE_VOLATILITY * 0.5;
        let volume = self.rng.random_range(5.0..500.0);
        let walking = &mut self.symbols[index];
        let open = walking.price;
        let close = open * log_return.exp();
        walking.price = close;
        let high = open.max(close) * (1.0 + wick_up);
        let low = open.min(close) * (1.0 - wick_down);
        build(minute, open, high, low, close, volume, walking.decimals)
    }
}

/// Standard normal draw (Box-Muller), enough for a demo walk.
fn normal(rng: &mut StdRng) -> f64 {
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random_range(0.0..1.0);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn starting_price(symbol: &str) -> f64 {
    match symbol {
        "BTCUSDT" => 65_000.0,
        "ETHUSDT" => 3_400.0,
        "SOLUSDT" => 150.0,
        "BNBUSDT" => 580.0,
        "XRPUSDT" => 0.52,
        "ADAUSDT" => 0.45,
        _ => 100.0,
    }
}

fn rounded(value: f64, decimals: u32) -> Decimal {
    Decimal::from_f64(value)
        .unwrap_or(Decimal::ONE)
        .round_dp(decimals)
        .max(Decimal::new(1, decimals))
}

/// Rounds to the symbol's tick and keeps the candle valid (low <= open, close <= high).
fn build(
    minute: i64,
    open: f64,
    high: f64,
    low: f64,
    close: f64,
    volume: f64,
    decimals: u32,
) -> Result<Candle, DomainError> {
    let (open, close) = (rounded(open, decimals), rounded(close, decimals));
    let high = rounded(high, decimals).max(open.max(close));
    let low = rounded(low, decimals).min(open.min(close));
    let draft = CandleDraft {
        open_time_ms: minute,
        open,
        high,
        low,
        close,
        volume: rounded(volume, 4),
    };
    Candle::new_checked(Timeframe::M1, &draft)
}

fn revise(forming: Candle, last: f64, volume: f64, decimals: u32) -> Result<Candle, DomainError> {
    let open = forming.open.to_f64();
    let high = forming.high.to_f64().max(last);
    let low = forming.low.to_f64().min(last);
    let total_volume = forming.volume.to_f64() + volume;
    build(
        forming.open_time_ms,
        open,
        high,
        low,
        last,
        total_volume,
        decimals,
    )
}

/// Loads the history through the engine, then streams live revisions until shutdown.
pub async fn load_and_stream(
    engine: &Engine,
    settings: &DemoSettings,
    mut shutting_down: watch::Receiver<bool>,
) -> Result<(), DemoError> {
    let mut market = DemoMarket::new(settings)?;
    let clock = engine.clock();
    for (symbol, candles) in market.history(clock.now_ms(), settings.history_candles) {
        for chunk in candles.chunks(10_000) {
            engine
                .ingest(&symbol, Timeframe::M1, chunk.to_vec())
                .await?;
        }
    }
    let engine = engine.clone();
    let interval = Duration::from_millis(settings.tick_interval_ms.max(10));
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = async { let _ = shutting_down.wait_for(|down| *down).await; } => break,
            }
            for (symbol, candle) in market.tick(clock.now_ms()) {
                if let Err(error) = engine.ingest(&symbol, Timeframe::M1, vec![candle]).await {
                    tracing::debug!(%symbol, %error, "demo tick not applied");
                }
            }
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> DemoSettings {
        DemoSettings {
            symbols: vec!["BTCUSDT".into(), "XRPUSDT".into()],
            history_candles: 500,
            tick_interval_ms: 1000,
            seed: 7,
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_history() {
        let first = DemoMarket::new(&settings())
            .unwrap()
            .history(1_700_000_000_000, 500);
        let second = DemoMarket::new(&settings())
            .unwrap()
            .history(1_700_000_000_000, 500);
        assert_eq!(first, second);
        assert_eq!(first.len(), 2);
    }

    #[test]
    fn history_is_ordered_valid_and_ends_before_the_current_minute() {
        let end_ms = 1_700_000_030_000;
        for (_, candles) in DemoMarket::new(&settings()).unwrap().history(end_ms, 500) {
            assert!(candles.len() > 480, "only a rare minute is missing");
            assert!(candles
                .windows(2)
                .all(|pair| pair[0].open_time_ms < pair[1].open_time_ms));
            let last = candles.last().unwrap().open_time_ms;
            assert!(last < Timeframe::M1.bucket_start_ms(end_ms));
        }
    }

    #[test]
    fn ticks_revise_the_forming_minute_then_open_the_next() {
        let mut market = DemoMarket::new(&settings()).unwrap();
        let first = market.tick(120_000);
        let second = market.tick(150_000);
        assert_eq!(first[0].1.open_time_ms, 120_000);
        assert_eq!(second[0].1.open_time_ms, 120_000);
        assert_eq!(
            second[0].1.open, first[0].1.open,
            "a revision keeps the open"
        );
        assert_eq!(market.tick(180_000)[0].1.open_time_ms, 180_000);
    }
}

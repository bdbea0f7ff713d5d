//! Candles for unit tests, one minute apart.

use super::market::{Candle, Price, Volume};
use proptest::prelude::*;

/// A one-minute candle at `minute` from raw fixed-point prices (units of 1e-8), no volume.
pub fn raw_candle(minute: i64, open: i64, high: i64, low: i64, close: i64) -> Candle {
    Candle {
        open_time_ms: minute * 60_000,
        open: Price::from_raw(open),
        high: Price::from_raw(high),
        low: Price::from_raw(low),
        close: Price::from_raw(close),
        volume: Volume::ZERO,
    }
}

/// A candle starting `start_ms` from decimal prices `[open, high, low, close]`, no volume.
pub fn decimal_candle(start_ms: i64, [open, high, low, close]: [&str; 4]) -> Candle {
    let price =
        |text: &str| Price::from_decimal(text.parse().expect("a decimal")).expect("a price");
    Candle {
        open_time_ms: start_ms,
        open: price(open),
        high: price(high),
        low: price(low),
        close: price(close),
        volume: Volume::ZERO,
    }
}

/// Up to 200 random but valid one-minute candles in time order.
pub fn candles_strategy() -> impl Strategy<Value = Vec<Candle>> {
    proptest::collection::vec(
        (
            1_i64..1_000,
            0_i64..200,
            0_i64..200,
            1_i64..1_000,
            0_i128..10_000,
        ),
        1..200,
    )
    .prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(|(index, (open, up, down, close, volume))| {
                let (open, close) = (open * 1_000, close * 1_000);
                Candle {
                    open_time_ms: index as i64 * 60_000,
                    open: Price::from_raw(open),
                    high: Price::from_raw(open.max(close) + up * 100),
                    low: Price::from_raw((open.min(close) - down * 100).max(1)),
                    close: Price::from_raw(close),
                    volume: Volume::from_raw(volume),
                }
            })
            .collect()
    })
}

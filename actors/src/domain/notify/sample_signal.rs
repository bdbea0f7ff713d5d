//! A signal to notify about, for the tests of this module.

use crate::domain::analysis::{
    Direction, Lifecycle, Pattern, PatternKind, Signal, SignalStatus, TradingLevels, Zone,
};
use crate::domain::market::{self, Symbol, Timeframe};
use crate::domain::money::Price;
use rust_decimal::Decimal;

fn price(text: &str) -> Price {
    Price::new_checked(text.parse::<Decimal>().unwrap()).unwrap()
}

fn market_price(text: &str) -> market::Price {
    market::Price::from_decimal(text.parse::<Decimal>().unwrap()).unwrap()
}

/// BTCUSDT bullish on 15m from an order block, created at `created_at_ms`, R:R 2.5.
pub fn sample_signal(created_at_ms: i64) -> Signal {
    let levels = TradingLevels {
        entry: price("100.5"),
        stop: price("98"),
        targets: [price("103"), price("105.5"), price("106.75")],
        risk_reward: "2.5".parse().unwrap(),
    };
    let pattern = Pattern {
        kind: PatternKind::OrderBlock,
        direction: Direction::Bullish,
        timeframe: Timeframe::M15,
        anchor_at_ms: created_at_ms - 900_000,
        formed_at_ms: created_at_ms - 900_000,
        zone: Zone::new(market_price("99"), market_price("100.5")),
        lifecycle: Lifecycle::new(),
        levels: Some(levels),
    };
    Signal {
        symbol: Symbol::parse("BTCUSDT").unwrap(),
        direction: Direction::Bullish,
        status: SignalStatus::Live,
        created_at_ms,
        updated_at_ms: created_at_ms,
        ended_at_ms: None,
        confluence: 3,
        timeframes_with_data: 8,
        aligned_timeframes: vec![Timeframe::M15, Timeframe::H1, Timeframe::H4],
        confidence: 0.62,
        reasons: Vec::new(),
        entry_timeframe: Timeframe::M15,
        levels: Some(levels),
        patterns: vec![pattern],
    }
}

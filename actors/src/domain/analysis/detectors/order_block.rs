//! Order Blocks: candle i is a displacement when its body exceeds `displacement_ratio` times
//! the mean body of the previous `body_period` candles; the order block is the last
//! opposite-coloured candle among i-1..i-3. Its zone is that candle's body, or its full range.

use crate::domain::analysis::{Direction, Zone};
use crate::domain::market::Candle;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// How many candles before the displacement may hold the order block.
const LOOKBACK_CANDLES: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OrderBlockSettings {
    pub body_period: usize,
    /// The ratio as tenths (15 = 1.5x), so the comparison stays in exact integers.
    pub displacement_ratio_tenths: u32,
    pub zone_is_full_range: bool,
}

impl Default for OrderBlockSettings {
    fn default() -> Self {
        OrderBlockSettings {
            body_period: 20,
            displacement_ratio_tenths: 15,
            zone_is_full_range: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderBlock {
    pub direction: Direction,
    /// Open time of the order-block candle.
    pub anchor_at_ms: i64,
    /// Open time of the displacement candle whose close completes the pattern.
    pub formed_at_ms: i64,
    pub zone: Zone,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderBlockDetector {
    settings: OrderBlockSettings,
    /// The previous `body_period` candles, newest last.
    previous: VecDeque<Candle>,
    body_total: i128,
}

fn body(candle: &Candle) -> i128 {
    i128::from((candle.close.raw() - candle.open.raw()).abs())
}

impl OrderBlockDetector {
    pub fn new(settings: OrderBlockSettings) -> OrderBlockDetector {
        assert!(
            settings.body_period >= LOOKBACK_CANDLES,
            "the body period must cover the order-block lookback"
        );
        OrderBlockDetector {
            settings,
            previous: VecDeque::with_capacity(settings.body_period),
            body_total: 0,
        }
    }

    pub fn on_candle(&mut self, candle: &Candle) -> Option<OrderBlock> {
        let found = self.detect(candle);
        if self.previous.len() == self.settings.body_period {
            if let Some(oldest) = self.previous.pop_front() {
                self.body_total -= body(&oldest);
            }
        }
        self.previous.push_back(*candle);
        self.body_total += body(candle);
        found
    }

    fn detect(&self, candle: &Candle) -> Option<OrderBlock> {
        let period = self.settings.body_period;
        if self.previous.len() < period || candle.close == candle.open {
            return None;
        }
        // body > ratio * total / period  <=>  body * period * 10 > ratio_tenths * total
        let displaced = body(candle) * period as i128 * 10
            > i128::from(self.settings.displacement_ratio_tenths) * self.body_total;
        if !displaced {
            return None;
        }
        let direction = if candle.close > candle.open {
            Direction::Bullish
        } else {
            Direction::Bearish
        };
        let opposite = |other: &&Candle| match direction {
            Direction::Bullish => other.close < other.open,
            Direction::Bearish => other.close > other.open,
        };
        let block = self
            .previous
            .iter()
            .rev()
            .take(LOOKBACK_CANDLES)
            .find(opposite)?;
        let zone = if self.settings.zone_is_full_range {
            Zone::new(block.low, block.high)
        } else {
            Zone::new(block.open.min(block.close), block.open.max(block.close))
        };
        Some(OrderBlock {
            direction,
            anchor_at_ms: block.open_time_ms,
            formed_at_ms: candle.open_time_ms,
            zone,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::market::{Price, Volume};

    fn candle(minute: i64, open: i64, close: i64) -> Candle {
        Candle {
            open_time_ms: minute * 60_000,
            open: Price::from_raw(open),
            high: Price::from_raw(open.max(close) + 1),
            low: Price::from_raw(open.min(close) - 1),
            close: Price::from_raw(close),
            volume: Volume::ZERO,
        }
    }

    fn settings() -> OrderBlockSettings {
        OrderBlockSettings {
            body_period: 4,
            ..OrderBlockSettings::default()
        }
    }

    #[test]
    fn a_bullish_displacement_marks_the_last_down_candle() {
        let mut detector = OrderBlockDetector::new(settings());
        // bodies 2, 2, 2 (down), 2 (up): mean 2; displacement body 10 > 3
        for (minute, (open, close)) in [(100, 102), (102, 100), (100, 98), (98, 100)]
            .into_iter()
            .enumerate()
        {
            assert_eq!(
                detector.on_candle(&candle(minute as i64, open, close)),
                None
            );
        }
        let block = detector.on_candle(&candle(4, 100, 110)).unwrap();
        assert_eq!(
            (block.direction, block.anchor_at_ms, block.formed_at_ms),
            (Direction::Bullish, 120_000, 240_000)
        );
        assert_eq!((block.zone.bottom.raw(), block.zone.top.raw()), (98, 100));
    }

    #[test]
    fn exactly_one_and_a_half_times_the_mean_is_not_a_displacement() {
        let mut detector = OrderBlockDetector::new(settings());
        for (minute, (open, close)) in [(100, 102), (102, 100), (100, 98), (98, 100)]
            .into_iter()
            .enumerate()
        {
            detector.on_candle(&candle(minute as i64, open, close));
        }
        assert_eq!(
            detector.on_candle(&candle(4, 100, 103)),
            None,
            "body 3 = 1.5 x mean 2"
        );
    }

    #[test]
    fn the_full_range_option_widens_the_zone_and_no_opposite_candle_means_no_block() {
        let full = OrderBlockSettings {
            zone_is_full_range: true,
            ..settings()
        };
        let mut detector = OrderBlockDetector::new(full);
        for (minute, (open, close)) in [(100, 102), (102, 100), (100, 98), (98, 100)]
            .into_iter()
            .enumerate()
        {
            detector.on_candle(&candle(minute as i64, open, close));
        }
        let block = detector.on_candle(&candle(4, 100, 110)).unwrap();
        assert_eq!((block.zone.bottom.raw(), block.zone.top.raw()), (97, 101));
        let mut rising = OrderBlockDetector::new(settings());
        for minute in 0..4 {
            rising.on_candle(&candle(minute, 100 + minute, 102 + minute));
        }
        assert_eq!(rising.on_candle(&candle(4, 104, 120)), None);
    }
}

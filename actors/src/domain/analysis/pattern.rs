//! What every pattern shares: a direction and an exact price zone.

use crate::domain::market::{Candle, Price};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Bullish,
    Bearish,
}

/// A price zone `[bottom, top]`, in exact prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Zone {
    pub bottom: Price,
    pub top: Price,
}

impl Zone {
    pub fn new(bottom: Price, top: Price) -> Zone {
        debug_assert!(
            bottom <= top,
            "Invariant: a zone's bottom is not above its top"
        );
        Zone { bottom, top }
    }

    /// Whether `candle` trades into the zone from the side price left it on: down into a
    /// bullish zone (low reaches the top), up into a bearish one (high reaches the bottom).
    pub fn is_entered_by(&self, direction: Direction, candle: &Candle) -> bool {
        match direction {
            Direction::Bullish => candle.low <= self.top,
            Direction::Bearish => candle.high >= self.bottom,
        }
    }
}

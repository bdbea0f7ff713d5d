//! A detected pattern as the engine tracks it: what the detector found, where it is in its
//! lifecycle, and the trading levels computed when it formed.

use super::{Direction, Lifecycle, PatternKind, TradingLevels, Zone};
use crate::domain::market::Timeframe;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pattern {
    pub kind: PatternKind,
    pub direction: Direction,
    pub timeframe: Timeframe,
    /// Open time of the candle that defines the zone (c2 of a gap, the order-block candle,
    /// the swept swing).
    pub anchor_at_ms: i64,
    /// Open time of the candle whose close completed the pattern.
    pub formed_at_ms: i64,
    pub zone: Zone,
    pub lifecycle: Lifecycle,
    /// None while ATR(14) is still warming up.
    pub levels: Option<TradingLevels>,
}

/// What identifies a pattern within one symbol: each detector reports at most one pattern
/// per direction on a candle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PatternKey {
    pub timeframe: Timeframe,
    pub formed_at_ms: i64,
    pub kind: PatternKind,
    pub direction: Direction,
}

impl Pattern {
    pub fn key(&self) -> PatternKey {
        PatternKey {
            timeframe: self.timeframe,
            formed_at_ms: self.formed_at_ms,
            kind: self.kind,
            direction: self.direction,
        }
    }
}

impl std::fmt::Display for PatternKey {
    /// The id the API and `cryptolens analyze` print, e.g. `5m-1700000000000-fvg-bull`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            PatternKind::FairValueGap => "fvg",
            PatternKind::OrderBlock => "ob",
            PatternKind::LiquiditySweep => "sweep",
        };
        let direction = match self.direction {
            Direction::Bullish => "bull",
            Direction::Bearish => "bear",
        };
        write!(
            f,
            "{}-{}-{kind}-{direction}",
            self.timeframe, self.formed_at_ms
        )
    }
}

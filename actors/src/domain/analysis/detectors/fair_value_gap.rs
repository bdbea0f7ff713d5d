//! Fair Value Gaps over three consecutive candles c1, c2, c3: bullish when high[c1] <
//! low[c3], zone [high[c1], low[c3]]; bearish when low[c1] > high[c3], zone
//! [high[c3], low[c1]]. With `require_body_direction`, c2 must close up (bullish) or down
//! (bearish), as smartmoneyconcepts' `fvg` does.

use crate::domain::analysis::{Direction, Zone};
use crate::domain::market::Candle;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FairValueGapSettings {
    pub require_body_direction: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FairValueGap {
    pub direction: Direction,
    /// Open time of c2, the candle the gap is drawn around.
    pub anchor_at_ms: i64,
    /// Open time of c3, whose close completes the gap.
    pub formed_at_ms: i64,
    pub zone: Zone,
}

/// Remembers the two previous candles; reports a gap when the third closes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FairValueGapDetector {
    settings: FairValueGapSettings,
    first: Option<Candle>,
    second: Option<Candle>,
}

impl FairValueGapDetector {
    pub fn new(settings: FairValueGapSettings) -> FairValueGapDetector {
        FairValueGapDetector {
            settings,
            first: None,
            second: None,
        }
    }

    pub fn on_candle(&mut self, third: &Candle) -> Option<FairValueGap> {
        let found = match (self.first, self.second) {
            (Some(first), Some(second)) => self.detect(&first, &second, third),
            _ => None,
        };
        self.first = self.second.replace(*third);
        found
    }

    fn detect(&self, first: &Candle, second: &Candle, third: &Candle) -> Option<FairValueGap> {
        let body_allows = |direction| {
            !self.settings.require_body_direction
                || match direction {
                    Direction::Bullish => second.close > second.open,
                    Direction::Bearish => second.close < second.open,
                }
        };
        let (direction, zone) = if first.high < third.low && body_allows(Direction::Bullish) {
            (Direction::Bullish, Zone::new(first.high, third.low))
        } else if first.low > third.high && body_allows(Direction::Bearish) {
            (Direction::Bearish, Zone::new(third.high, first.low))
        } else {
            return None;
        };
        Some(FairValueGap {
            direction,
            anchor_at_ms: second.open_time_ms,
            formed_at_ms: third.open_time_ms,
            zone,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_candles::raw_candle as candle;

    fn run(settings: FairValueGapSettings, candles: &[Candle]) -> Vec<FairValueGap> {
        let mut detector = FairValueGapDetector::new(settings);
        candles
            .iter()
            .filter_map(|candle| detector.on_candle(candle))
            .collect()
    }

    #[test]
    fn a_bullish_gap_is_reported_on_the_third_close_with_its_zone() {
        let candles = [
            candle(0, 10, 11, 9, 10),
            candle(1, 10, 16, 10, 15),
            candle(2, 15, 17, 13, 16),
        ];
        let gaps = run(FairValueGapSettings::default(), &candles);
        assert_eq!(gaps.len(), 1);
        let gap = gaps[0];
        assert_eq!(
            (gap.direction, gap.anchor_at_ms, gap.formed_at_ms),
            (Direction::Bullish, 60_000, 120_000)
        );
        assert_eq!((gap.zone.bottom.raw(), gap.zone.top.raw()), (11, 13));
    }

    #[test]
    fn a_bearish_gap_mirrors_it() {
        let candles = [
            candle(0, 20, 21, 18, 19),
            candle(1, 19, 19, 12, 12),
            candle(2, 12, 15, 11, 14),
        ];
        let gap = run(FairValueGapSettings::default(), &candles)[0];
        assert_eq!(gap.direction, Direction::Bearish);
        assert_eq!((gap.zone.bottom.raw(), gap.zone.top.raw()), (15, 18));
    }

    #[test]
    fn the_body_filter_needs_the_middle_candle_to_close_the_gap_s_way() {
        // bullish price gap, but c2 closes down
        let candles = [
            candle(0, 10, 11, 9, 10),
            candle(1, 15, 16, 10, 12),
            candle(2, 15, 17, 13, 16),
        ];
        assert_eq!(run(FairValueGapSettings::default(), &candles).len(), 1);
        assert!(run(
            FairValueGapSettings {
                require_body_direction: true
            },
            &candles
        )
        .is_empty());
    }

    #[test]
    fn touching_edges_are_not_a_gap() {
        let candles = [
            candle(0, 10, 13, 9, 10),
            candle(1, 10, 16, 10, 15),
            candle(2, 15, 17, 13, 16),
        ];
        assert!(run(FairValueGapSettings::default(), &candles).is_empty());
    }
}

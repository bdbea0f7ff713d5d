//! Liquidity Sweeps: for a confirmed swing low between i-50 and i-4, a bullish sweep when
//! low[i] < swing low and close[i] > swing low (price ran the stops below it and was
//! reclaimed), zone [low[i], swing low]; bearish mirrors it with swing highs. The most recent
//! qualifying swing is the one swept, and a swing is swept at most once.

use super::swing::{SwingDetector, SwingKind, SwingPoint};
use crate::domain::analysis::{Direction, Zone};
use crate::domain::market::{Candle, Price};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LiquiditySweepSettings {
    pub swing_lookaround: usize,
    /// Oldest swing considered, in candles back from the sweeping candle.
    pub candles_back_max: u64,
    /// Newest swing considered, in candles back.
    pub candles_back_min: u64,
}

impl Default for LiquiditySweepSettings {
    fn default() -> Self {
        LiquiditySweepSettings {
            swing_lookaround: 3,
            candles_back_max: 50,
            candles_back_min: 4,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiquiditySweep {
    pub direction: Direction,
    /// Open time of the swept swing candle.
    pub anchor_at_ms: i64,
    /// Open time of the sweeping candle.
    pub formed_at_ms: i64,
    /// The reclaimed level: the swing's price.
    pub level: Price,
    pub zone: Zone,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiquiditySweepDetector {
    settings: LiquiditySweepSettings,
    swings: SwingDetector,
    /// Unswept confirmed swings, oldest first.
    lows: VecDeque<SwingPoint>,
    highs: VecDeque<SwingPoint>,
}

impl LiquiditySweepDetector {
    pub fn new(settings: LiquiditySweepSettings) -> LiquiditySweepDetector {
        assert!(
            settings.candles_back_min > settings.swing_lookaround as u64,
            "a swing must be confirmed before the candle that sweeps it"
        );
        LiquiditySweepDetector {
            settings,
            swings: SwingDetector::new(settings.swing_lookaround),
            lows: VecDeque::new(),
            highs: VecDeque::new(),
        }
    }

    /// Sweeps completed by this candle (an outside candle can sweep both sides).
    pub fn on_candle(&mut self, candle: &Candle) -> [Option<LiquiditySweep>; 2] {
        let index = self.swings.seen();
        let oldest = index.saturating_sub(self.settings.candles_back_max);
        let newest = index.checked_sub(self.settings.candles_back_min);
        self.lows.retain(|swing| swing.index >= oldest);
        self.highs.retain(|swing| swing.index >= oldest);
        let sweeps = match newest {
            Some(newest) => [
                self.sweep_low(candle, newest),
                self.sweep_high(candle, newest),
            ],
            None => [None, None],
        };
        for swing in self.swings.on_candle(candle).into_iter().flatten() {
            match swing.kind {
                SwingKind::Low => self.lows.push_back(swing),
                SwingKind::High => self.highs.push_back(swing),
            }
        }
        sweeps
    }

    fn sweep_low(&mut self, candle: &Candle, newest: u64) -> Option<LiquiditySweep> {
        let position = self.lows.iter().rposition(|swing| {
            swing.index <= newest && candle.low < swing.price && candle.close > swing.price
        })?;
        let swing = self.lows.remove(position)?;
        Some(LiquiditySweep {
            direction: Direction::Bullish,
            anchor_at_ms: swing.at_ms,
            formed_at_ms: candle.open_time_ms,
            level: swing.price,
            zone: Zone::new(candle.low, swing.price),
        })
    }

    fn sweep_high(&mut self, candle: &Candle, newest: u64) -> Option<LiquiditySweep> {
        let position = self.highs.iter().rposition(|swing| {
            swing.index <= newest && candle.high > swing.price && candle.close < swing.price
        })?;
        let swing = self.highs.remove(position)?;
        Some(LiquiditySweep {
            direction: Direction::Bearish,
            anchor_at_ms: swing.at_ms,
            formed_at_ms: candle.open_time_ms,
            level: swing.price,
            zone: Zone::new(swing.price, candle.high),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::market::Volume;

    fn candle(minute: i64, high: i64, low: i64, close: i64) -> Candle {
        Candle {
            open_time_ms: minute * 60_000,
            open: Price::from_raw(close),
            high: Price::from_raw(high),
            low: Price::from_raw(low),
            close: Price::from_raw(close),
            volume: Volume::ZERO,
        }
    }

    /// A swing low of 90 at minute 3, then quiet candles.
    fn with_swing_low() -> (LiquiditySweepDetector, i64) {
        let mut detector = LiquiditySweepDetector::new(LiquiditySweepSettings::default());
        let lows = [100, 98, 95, 90, 95, 98, 100, 99, 99];
        for (minute, low) in lows.iter().enumerate() {
            let swept = detector.on_candle(&candle(minute as i64, low + 5, *low, low + 2));
            assert_eq!(swept, [None, None]);
        }
        (detector, lows.len() as i64)
    }

    #[test]
    fn a_wick_below_a_swing_low_that_closes_back_above_is_a_bullish_sweep() {
        let (mut detector, minute) = with_swing_low();
        let [bullish, bearish] = detector.on_candle(&candle(minute, 101, 85, 92));
        assert!(bearish.is_none());
        let sweep = bullish.unwrap();
        assert_eq!(
            (sweep.direction, sweep.anchor_at_ms, sweep.level.raw()),
            (Direction::Bullish, 180_000, 90)
        );
        assert_eq!((sweep.zone.bottom.raw(), sweep.zone.top.raw()), (85, 90));
        assert_eq!(
            detector.on_candle(&candle(minute + 1, 101, 85, 92))[0],
            None,
            "a swing is swept once"
        );
    }

    #[test]
    fn closing_below_the_swing_is_a_break_not_a_sweep() {
        let (mut detector, minute) = with_swing_low();
        assert_eq!(detector.on_candle(&candle(minute, 101, 85, 89))[0], None);
    }

    #[test]
    fn a_swing_older_than_fifty_candles_is_forgotten() {
        let (mut detector, minute) = with_swing_low();
        for later in minute..minute + 50 {
            detector.on_candle(&candle(later, 105, 99, 101));
        }
        assert_eq!(
            detector.on_candle(&candle(minute + 50, 101, 85, 92))[0],
            None
        );
    }
}

//! Swing points: a swing high at i when high[i] is strictly the highest of i-L..i+L; it is
//! known at the close of i+L, never earlier. Swing lows mirror it.

use crate::domain::market::{Candle, Price};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SwingKind {
    High,
    Low,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwingPoint {
    pub kind: SwingKind,
    /// Open time of the swing candle.
    pub at_ms: i64,
    pub price: Price,
    /// Position of the swing candle in the stream (0 = first candle seen).
    pub index: u64,
}

/// Keeps the last 2L+1 candles and confirms the middle one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwingDetector {
    lookaround: usize,
    window: VecDeque<Candle>,
    seen: u64,
}

impl SwingDetector {
    pub fn new(lookaround: usize) -> SwingDetector {
        assert!(
            lookaround > 0,
            "a swing needs at least one candle on each side"
        );
        SwingDetector {
            lookaround,
            window: VecDeque::with_capacity(2 * lookaround + 1),
            seen: 0,
        }
    }

    /// Swings confirmed by this candle's close (at most one high and one low).
    pub fn on_candle(&mut self, candle: &Candle) -> [Option<SwingPoint>; 2] {
        self.seen += 1;
        if self.window.len() == 2 * self.lookaround + 1 {
            self.window.pop_front();
        }
        self.window.push_back(*candle);
        if self.window.len() < 2 * self.lookaround + 1 {
            return [None, None];
        }
        let middle = self.window[self.lookaround];
        let index = self.seen - 1 - self.lookaround as u64;
        let others = || {
            self.window
                .iter()
                .enumerate()
                .filter(|(position, _)| *position != self.lookaround)
                .map(|(_, c)| c)
        };
        let high = others().all(|other| other.high < middle.high);
        let low = others().all(|other| other.low > middle.low);
        [
            high.then_some(SwingPoint {
                kind: SwingKind::High,
                at_ms: middle.open_time_ms,
                price: middle.high,
                index,
            }),
            low.then_some(SwingPoint {
                kind: SwingKind::Low,
                at_ms: middle.open_time_ms,
                price: middle.low,
                index,
            }),
        ]
    }

    /// Candles seen so far.
    pub fn seen(&self) -> u64 {
        self.seen
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::market::Volume;

    pub(crate) fn bar(minute: i64, high: i64, low: i64) -> Candle {
        let mid = Price::from_raw((high + low) / 2);
        Candle {
            open_time_ms: minute * 60_000,
            open: mid,
            high: Price::from_raw(high),
            low: Price::from_raw(low),
            close: mid,
            volume: Volume::ZERO,
        }
    }

    #[test]
    fn a_swing_high_is_confirmed_only_l_candles_later() {
        let highs = [10, 11, 12, 20, 12, 11, 10, 9];
        let mut detector = SwingDetector::new(3);
        let confirmations: Vec<(usize, SwingPoint)> = highs
            .iter()
            .enumerate()
            .filter_map(|(minute, high)| {
                detector.on_candle(&bar(minute as i64, *high, high - 5))[0]
                    .map(|swing| (minute, swing))
            })
            .collect();
        assert_eq!(confirmations.len(), 1);
        let (confirmed_at, swing) = confirmations[0];
        assert_eq!((confirmed_at, swing.index, swing.price.raw()), (6, 3, 20));
    }

    #[test]
    fn an_equal_neighbour_is_not_a_swing() {
        let mut detector = SwingDetector::new(1);
        detector.on_candle(&bar(0, 10, 5));
        detector.on_candle(&bar(1, 12, 5));
        let [high, _] = detector.on_candle(&bar(2, 12, 5));
        assert!(high.is_none());
    }
}

use super::sma::Sma;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// TA-Lib's STOCHF(k_period, d_period, SMA): fast %K = 100 (close - lowest low) / (highest
/// high - lowest low) over `k_period` candles (0 when the range is 0), fast %D its SMA. Like
/// TA-Lib, %K is reported only once %D exists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StochasticFast {
    k_period: usize,
    seen: u64,
    /// Monotonic windows (index, value): the front is the window's highest high / lowest low.
    /// Amortised O(1) per candle, and exact: max and min of floats involve no rounding.
    highs: VecDeque<(u64, f64)>,
    lows: VecDeque<(u64, f64)>,
    d: Sma,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StochasticValue {
    pub k: f64,
    pub d: f64,
}

impl StochasticFast {
    pub fn new(k_period: usize, d_period: usize) -> StochasticFast {
        assert!(k_period > 0, "%K needs a period of at least 1");
        StochasticFast {
            k_period,
            seen: 0,
            highs: VecDeque::with_capacity(k_period),
            lows: VecDeque::with_capacity(k_period),
            d: Sma::new(d_period),
        }
    }

    pub fn update(&mut self, high: f64, low: f64, close: f64) -> Option<StochasticValue> {
        let index = self.seen;
        self.seen += 1;
        push_extreme(&mut self.highs, index, high, |kept, new| kept > new);
        push_extreme(&mut self.lows, index, low, |kept, new| kept < new);
        let oldest = self.seen.saturating_sub(self.k_period as u64);
        for window in [&mut self.highs, &mut self.lows] {
            while window.front().is_some_and(|(at, _)| *at < oldest) {
                window.pop_front();
            }
        }
        if self.seen < self.k_period as u64 {
            return None;
        }
        let (Some(&(_, highest)), Some(&(_, lowest))) = (self.highs.front(), self.lows.front())
        else {
            return None;
        };
        let range = (highest - lowest) / 100.0;
        let k = if range != 0.0 {
            (close - lowest) / range
        } else {
            0.0
        };
        let d = self.d.update(k)?;
        Some(StochasticValue { k, d })
    }
}

/// Appends `value`, first dropping every kept value it beats or equals (`keeps` says which
/// kept values still win), so the deque stays ordered best-first.
fn push_extreme(
    window: &mut VecDeque<(u64, f64)>,
    index: u64,
    value: f64,
    keeps: impl Fn(f64, f64) -> bool,
) {
    while window.back().is_some_and(|(_, kept)| !keeps(*kept, value)) {
        window.pop_back();
    }
    window.push_back((index, value));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_places_the_close_in_the_range_and_zero_range_gives_zero() {
        let mut stochastic = StochasticFast::new(2, 1);
        assert_eq!(stochastic.update(10.0, 0.0, 5.0), None);
        assert_eq!(
            stochastic.update(10.0, 0.0, 7.5),
            Some(StochasticValue { k: 75.0, d: 75.0 })
        );
        let mut flat = StochasticFast::new(2, 1);
        flat.update(1.0, 1.0, 1.0);
        assert_eq!(
            flat.update(1.0, 1.0, 1.0),
            Some(StochasticValue { k: 0.0, d: 0.0 })
        );
    }
}

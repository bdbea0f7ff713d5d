use super::sma::Sma;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// TA-Lib's STOCHF(k_period, d_period, SMA): fast %K = 100 (close - lowest low) / (highest
/// high - lowest low) over `k_period` candles (0 when the range is 0), fast %D its SMA. Like
/// TA-Lib, %K is reported only once %D exists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StochasticFast {
    k_period: usize,
    highs: VecDeque<f64>,
    lows: VecDeque<f64>,
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
            highs: VecDeque::with_capacity(k_period),
            lows: VecDeque::with_capacity(k_period),
            d: Sma::new(d_period),
        }
    }

    pub fn update(&mut self, high: f64, low: f64, close: f64) -> Option<StochasticValue> {
        if self.highs.len() == self.k_period {
            self.highs.pop_front();
            self.lows.pop_front();
        }
        self.highs.push_back(high);
        self.lows.push_back(low);
        if self.highs.len() < self.k_period {
            return None;
        }
        // A fixed, small window: scanning it is O(k_period), constant per candle.
        let highest = self.highs.iter().copied().fold(f64::MIN, f64::max);
        let lowest = self.lows.iter().copied().fold(f64::MAX, f64::min);
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

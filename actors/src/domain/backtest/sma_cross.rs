//! The reference strategy `sma-cross`, as backtesting.py documents its `SmaCross` example:
//! when the fast simple moving average of closes crosses above the slow one, close any
//! position and buy; when it crosses below, close and sell. A cross is backtesting.py's
//! `crossover`: the previous bar strictly below (above) and this bar strictly above (below),
//! so a bar where the two averages are equal is neither, and neither is any bar before both
//! averages exist (NaN compares false). The averages are pandas' (see `rolling_mean.rs`).

use super::rolling_mean::RollingMean;
use super::BacktestError;
use crate::domain::ledger::Side;

#[derive(Debug, Clone, PartialEq)]
pub struct SmaCross {
    fast: RollingMean,
    slow: RollingMean,
    /// (fast, slow) of the bar before.
    previous: (f64, f64),
}

impl SmaCross {
    /// backtesting.py's example parameters.
    pub const FAST_DEFAULT: usize = 10;
    pub const SLOW_DEFAULT: usize = 20;
    /// A bound on the windows, so one run's memory is bounded whatever is asked.
    pub const PERIOD_MAX: usize = 100_000;

    pub fn new(fast: usize, slow: usize) -> Result<SmaCross, BacktestError> {
        for (field, period) in [("fast", fast), ("slow", slow)] {
            if !(1..=SmaCross::PERIOD_MAX).contains(&period) {
                let message = format!("a period from 1 to {}", SmaCross::PERIOD_MAX);
                return Err(BacktestError::setting(field, message));
            }
        }
        Ok(SmaCross {
            fast: RollingMean::new(fast),
            slow: RollingMean::new(slow),
            previous: (f64::NAN, f64::NAN),
        })
    }

    /// Takes a bar's close; answers the side to reverse into when the averages crossed.
    pub fn on_close(&mut self, close: f64) -> Option<Side> {
        let now = (self.fast.push(close), self.slow.push(close));
        let (before_fast, before_slow) = std::mem::replace(&mut self.previous, now);
        if before_fast < before_slow && now.0 > now.1 {
            Some(Side::Long)
        } else if before_slow < before_fast && now.1 > now.0 {
            Some(Side::Short)
        } else {
            None
        }
    }

    pub fn describe(&self) -> String {
        format!(
            "sma-cross fast={} slow={}",
            self.fast.period(),
            self.slow.period()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crosses(closes: &[f64]) -> Vec<(usize, Side)> {
        let mut strategy = SmaCross::new(1, 2).expect("periods");
        closes
            .iter()
            .enumerate()
            .filter_map(|(index, close)| strategy.on_close(*close).map(|side| (index, side)))
            .collect()
    }

    #[test]
    fn a_cross_needs_strict_sides_on_both_bars() {
        // fast = close, slow = mean of two: below at 2, above at 3 -> buy at index 3.
        assert_eq!(crosses(&[5.0, 4.0, 3.0, 6.0]), vec![(3, Side::Long)]);
        assert_eq!(crosses(&[1.0, 2.0, 3.0, 1.0]), vec![(3, Side::Short)]);
    }

    #[test]
    fn a_tie_on_either_bar_is_no_cross() {
        // Index 2: fast 3 = slow 3 (a tie); index 3 above: the bar before was no "below".
        assert_eq!(crosses(&[5.0, 3.0, 3.0, 6.0]), vec![]);
    }

    #[test]
    fn periods_out_of_range_name_their_field() {
        assert!(matches!(
            SmaCross::new(0, 20),
            Err(BacktestError::Setting { field: "fast", .. })
        ));
        assert!(matches!(
            SmaCross::new(10, SmaCross::PERIOD_MAX + 1),
            Err(BacktestError::Setting { field: "slow", .. })
        ));
    }
}

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Simple moving average over `period` values, as TA-Lib's running sum computes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sma {
    period: usize,
    window: VecDeque<f64>,
    total: f64,
}

impl Sma {
    pub fn new(period: usize) -> Sma {
        assert!(period > 0, "an SMA needs a period of at least 1");
        Sma {
            period,
            window: VecDeque::with_capacity(period),
            total: 0.0,
        }
    }

    pub fn update(&mut self, value: f64) -> Option<f64> {
        self.total += value;
        self.window.push_back(value);
        if self.window.len() < self.period {
            return None;
        }
        let mean = self.total / self.period as f64;
        // TA-Lib subtracts the oldest value after producing the output.
        if let Some(oldest) = self.window.pop_front() {
            self.total -= oldest;
        }
        Some(mean)
    }

    /// Values seen so far, up to the period (the current window).
    pub fn window(&self) -> &VecDeque<f64> {
        &self.window
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warms_up_then_averages_the_last_period() {
        let mut sma = Sma::new(3);
        let outputs: Vec<Option<f64>> = [1.0, 2.0, 3.0, 4.0, 10.0]
            .into_iter()
            .map(|x| sma.update(x))
            .collect();
        assert_eq!(
            outputs,
            [None, None, Some(2.0), Some(3.0), Some(17.0 / 3.0)]
        );
    }
}

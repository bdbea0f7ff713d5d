use super::ema::Ema;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// MACD(fast, slow, signal) as TA-Lib computes it. TA-Lib seeds *both* EMAs at the slow EMA's
/// first index: the slow one with the SMA of the first `slow` closes, the fast one with the
/// SMA of the last `fast` closes up to that index (not at the fast EMA's own first index).
/// The signal line is an EMA of MACD seeded with the SMA of its first `signal` values, and all
/// three outputs start together once the signal exists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Macd {
    fast_period: usize,
    slow_period: usize,
    closes: VecDeque<f64>,
    fast: Option<Ema>,
    slow: Option<Ema>,
    signal: Ema,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MacdValue {
    pub macd: f64,
    pub signal: f64,
    pub histogram: f64,
}

impl Macd {
    pub fn new(fast_period: usize, slow_period: usize, signal_period: usize) -> Macd {
        assert!(
            0 < fast_period && fast_period <= slow_period,
            "MACD needs 0 < fast <= slow"
        );
        Macd {
            fast_period,
            slow_period,
            closes: VecDeque::with_capacity(slow_period),
            fast: None,
            slow: None,
            signal: Ema::new(signal_period),
        }
    }

    pub fn update(&mut self, close: f64) -> Option<MacdValue> {
        let (fast, slow) = match (&mut self.fast, &mut self.slow) {
            (Some(fast), Some(slow)) => (fast.update(close)?, slow.update(close)?),
            _ => self.seed(close)?,
        };
        let macd = fast - slow;
        let signal = self.signal.update(macd)?;
        Some(MacdValue {
            macd,
            signal,
            histogram: macd - signal,
        })
    }

    /// Collects closes until the slow period is full, then seeds both EMAs from them.
    fn seed(&mut self, close: f64) -> Option<(f64, f64)> {
        self.closes.push_back(close);
        if self.closes.len() < self.slow_period {
            return None;
        }
        let mean_of = |values: &mut dyn Iterator<Item = &f64>, count: usize| {
            let total = values.fold(0.0, |total, value| total + value);
            total / count as f64
        };
        let slow = mean_of(&mut self.closes.iter(), self.slow_period);
        let fast = mean_of(
            &mut self.closes.iter().skip(self.slow_period - self.fast_period),
            self.fast_period,
        );
        self.fast = Some(Ema::seeded(self.fast_period, fast));
        self.slow = Some(Ema::seeded(self.slow_period, slow));
        self.closes = VecDeque::new();
        Some((fast, slow))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_start_together_after_slow_plus_signal_warm_up() {
        let mut macd = Macd::new(2, 3, 2);
        let outputs: Vec<bool> = (0..6)
            .map(|step| macd.update(step as f64).is_some())
            .collect();
        // slow seeds at index 2; the signal needs 2 MACD values: first output at index 3.
        assert_eq!(outputs, [false, false, false, true, true, true]);
    }

    #[test]
    fn flat_prices_give_zero() {
        let mut macd = Macd::new(12, 26, 9);
        let last = (0..40).map(|_| macd.update(5.0)).last().flatten().unwrap();
        assert_eq!((last.macd, last.signal, last.histogram), (0.0, 0.0, 0.0));
    }
}

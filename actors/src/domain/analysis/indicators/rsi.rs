use serde::{Deserialize, Serialize};

/// Wilder's RSI as TA-Lib computes it: the first output needs `period + 1` closes; gains and
/// losses are seeded with their simple means, then smoothed `avg = (avg * (n - 1) + x) / n`.
/// No movement at all (gain + loss = 0) gives 0, as in TA-Lib.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rsi {
    period: usize,
    previous_close: Option<f64>,
    changes_seen: usize,
    gain: f64,
    loss: f64,
}

impl Rsi {
    pub fn new(period: usize) -> Rsi {
        assert!(period > 0, "an RSI needs a period of at least 1");
        Rsi {
            period,
            previous_close: None,
            changes_seen: 0,
            gain: 0.0,
            loss: 0.0,
        }
    }

    pub fn update(&mut self, close: f64) -> Option<f64> {
        let previous = self.previous_close.replace(close)?;
        let change = close - previous;
        let n = self.period as f64;
        self.changes_seen += 1;
        if self.changes_seen > self.period {
            self.loss *= n - 1.0;
            self.gain *= n - 1.0;
        }
        if change < 0.0 {
            self.loss -= change;
        } else {
            self.gain += change;
        }
        if self.changes_seen < self.period {
            return None;
        }
        self.loss /= n;
        self.gain /= n;
        let total = self.gain + self.loss;
        Some(if total != 0.0 {
            100.0 * (self.gain / total)
        } else {
            0.0
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_prices_give_zero_and_rises_give_one_hundred() {
        let mut flat = Rsi::new(3);
        let outputs: Vec<Option<f64>> = (0..5).map(|_| flat.update(1.0)).collect();
        assert_eq!(outputs, [None, None, None, Some(0.0), Some(0.0)]);
        let mut rising = Rsi::new(3);
        let last = (0..6)
            .map(|step| rising.update(step as f64))
            .last()
            .flatten();
        assert_eq!(last, Some(100.0));
    }
}

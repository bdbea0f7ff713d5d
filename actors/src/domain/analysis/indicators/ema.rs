use serde::{Deserialize, Serialize};

/// Exponential moving average, seeded like TA-Lib with the SMA of the first `period` values,
/// then `ema += (x - ema) * k` with `k = 2 / (period + 1)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ema {
    period: usize,
    k: f64,
    seed_total: f64,
    seen: usize,
    value: Option<f64>,
}

impl Ema {
    pub fn new(period: usize) -> Ema {
        assert!(period > 0, "an EMA needs a period of at least 1");
        Ema {
            period,
            k: 2.0 / (period as f64 + 1.0),
            seed_total: 0.0,
            seen: 0,
            value: None,
        }
    }

    /// An EMA that starts from `seed` (used by MACD, which seeds its EMAs itself).
    pub fn seeded(period: usize, seed: f64) -> Ema {
        Ema {
            value: Some(seed),
            seen: period,
            ..Ema::new(period)
        }
    }

    pub fn update(&mut self, value: f64) -> Option<f64> {
        match self.value {
            Some(previous) => self.value = Some((value - previous) * self.k + previous),
            None => {
                self.seed_total += value;
                self.seen += 1;
                if self.seen == self.period {
                    self.value = Some(self.seed_total / self.period as f64);
                }
            }
        }
        self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_with_the_sma_then_smooths() {
        let mut ema = Ema::new(3);
        assert_eq!(ema.update(1.0), None);
        assert_eq!(ema.update(2.0), None);
        assert_eq!(ema.update(3.0), Some(2.0));
        assert_eq!(ema.update(6.0), Some(4.0));
    }
}

use super::sma::Sma;
use serde::{Deserialize, Serialize};

/// Wilder's average true range as TA-Lib computes it: true ranges start at the second
/// candle; the first ATR is their SMA over `period`, then `atr = (atr * (n - 1) + tr) / n`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Atr {
    period: usize,
    previous_close: Option<f64>,
    seed: Sma,
    value: Option<f64>,
}

impl Atr {
    pub fn new(period: usize) -> Atr {
        Atr {
            period,
            previous_close: None,
            seed: Sma::new(period),
            value: None,
        }
    }

    pub fn update(&mut self, high: f64, low: f64, close: f64) -> Option<f64> {
        let previous = self.previous_close.replace(close)?;
        let range = true_range(high, low, previous);
        self.value = match self.value {
            Some(atr) => {
                let n = self.period as f64;
                Some((atr * (n - 1.0) + range) / n)
            }
            None => self.seed.update(range),
        };
        self.value
    }
}

/// TA-Lib's TRANGE: the greatest of high - low, |previous close - high|, |low - previous close|.
pub fn true_range(high: f64, low: f64, previous_close: f64) -> f64 {
    let mut greatest = high - low;
    let to_high = (previous_close - high).abs();
    if to_high > greatest {
        greatest = to_high;
    }
    let to_low = (low - previous_close).abs();
    if to_low > greatest {
        greatest = to_low;
    }
    greatest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gap_counts_in_the_true_range() {
        assert_eq!(true_range(12.0, 11.0, 8.0), 4.0);
        assert_eq!(true_range(12.0, 11.0, 11.5), 1.0);
        let mut atr = Atr::new(2);
        assert_eq!(atr.update(10.0, 9.0, 9.5), None);
        assert_eq!(atr.update(10.0, 9.0, 9.5), None);
        assert_eq!(atr.update(11.0, 9.0, 10.0), Some(1.5));
        assert_eq!(atr.update(10.0, 10.0, 10.0), Some(0.75));
    }
}

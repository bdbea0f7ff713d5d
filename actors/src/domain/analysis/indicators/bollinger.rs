use super::sma::Sma;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Bollinger Bands as TA-Lib's BBANDS(period, k, k, SMA): the middle is the SMA, the width is
/// k population standard deviations, with the variance taken as mean(x²) - SMA² from a
/// running sum of squares (TA-Lib's order, so the results agree bit for bit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BollingerBands {
    deviations: f64,
    middle: Sma,
    squares: VecDeque<f64>,
    squares_total: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BollingerValue {
    pub upper: f64,
    pub middle: f64,
    pub lower: f64,
}

impl BollingerBands {
    pub fn new(period: usize, deviations: f64) -> BollingerBands {
        BollingerBands {
            deviations,
            middle: Sma::new(period),
            squares: VecDeque::with_capacity(period),
            squares_total: 0.0,
        }
    }

    pub fn update(&mut self, close: f64) -> Option<BollingerValue> {
        let square = close * close;
        self.squares_total += square;
        self.squares.push_back(square);
        let middle = self.middle.update(close)?;
        let period = self.squares.len() as f64;
        let mut variance = self.squares_total / period;
        if let Some(oldest) = self.squares.pop_front() {
            self.squares_total -= oldest;
        }
        variance -= middle * middle;
        let deviation = if variance > 0.0 { variance.sqrt() } else { 0.0 };
        let width = deviation * self.deviations;
        Some(BollingerValue {
            upper: middle + width,
            middle,
            lower: middle - width,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_prices_have_zero_width() {
        let mut bands = BollingerBands::new(3, 2.0);
        let last = (0..5).map(|_| bands.update(7.0)).last().flatten().unwrap();
        assert_eq!((last.upper, last.middle, last.lower), (7.0, 7.0, 7.0));
    }

    #[test]
    fn width_is_k_population_deviations() {
        let mut bands = BollingerBands::new(2, 2.0);
        bands.update(1.0);
        let value = bands.update(3.0).unwrap();
        assert_eq!((value.upper, value.middle, value.lower), (4.0, 2.0, 0.0));
    }
}

//! A simple moving average computed the way pandas' `Series.rolling(n).mean()` computes it,
//! bit for bit, because backtesting.py's `SmaCross` compares two of them with strict `<`/`>`:
//! on crypto data the two averages are often equal, and whether a tie counts as a cross
//! depends on the last bit of each average.
//!
//! pandas (`_libs/window/aggregations.pyx`, `roll_mean`) keeps a running sum with two Kahan
//! compensations, one for values added and one for values removed; each step first removes
//! the value leaving the window, then adds the one entering; the mean is `sum / n`, except
//! that a window of `n` equal values answers that value exactly (pandas GH#42064) and an
//! all-positive window never answers below zero. An exact (decimal) average would turn
//! pandas' near-ties into ties and so disagree with it; this replica agrees on every value
//! of the EURUSD, GOOG and crypto series checked by `fixtures/generate_backtest_golden.py`.

#[derive(Debug, Clone, PartialEq)]
pub struct RollingMean {
    period: usize,
    /// The last `period` values, a ring: `next` is where the next value goes (the oldest
    /// once the ring is full).
    window: Vec<f64>,
    next: usize,
    sum: f64,
    added_compensation: f64,
    removed_compensation: f64,
    negatives: usize,
    /// How many of the latest values equal `latest` (a run of equal values).
    equal_run: usize,
    latest: f64,
}

impl RollingMean {
    /// A mean over `period` values; `period` is at least 1.
    pub fn new(period: usize) -> RollingMean {
        debug_assert!(period >= 1, "Invariant: a window holds at least one value");
        RollingMean {
            period: period.max(1),
            window: Vec::with_capacity(period.max(1)),
            next: 0,
            sum: 0.0,
            added_compensation: 0.0,
            removed_compensation: 0.0,
            negatives: 0,
            equal_run: 0,
            latest: f64::NAN,
        }
    }

    pub fn period(&self) -> usize {
        self.period
    }

    /// Takes the next value; answers the mean of the last `period` values, NaN until
    /// `period` values have been seen (pandas' `min_periods` default).
    pub fn push(&mut self, value: f64) -> f64 {
        if self.window.len() == self.period {
            let leaving = self.window[self.next];
            self.remove(leaving);
            self.add(value, false);
            self.window[self.next] = value;
        } else {
            let first = self.window.is_empty();
            self.add(value, first);
            self.window.push(value);
        }
        self.next = (self.next + 1) % self.period;
        self.mean()
    }

    fn add(&mut self, value: f64, first: bool) {
        let adjusted = value - self.added_compensation;
        let total = self.sum + adjusted;
        self.added_compensation = total - self.sum - adjusted;
        self.sum = total;
        if value.is_sign_negative() {
            self.negatives += 1;
        }
        // pandas starts its run count with the window's first value as "previous".
        if value == self.latest || first {
            self.equal_run += 1;
        } else {
            self.equal_run = 1;
        }
        self.latest = value;
    }

    fn remove(&mut self, value: f64) {
        let adjusted = -value - self.removed_compensation;
        let total = self.sum + adjusted;
        self.removed_compensation = total - self.sum - adjusted;
        self.sum = total;
        if value.is_sign_negative() {
            self.negatives -= 1;
        }
    }

    fn mean(&self) -> f64 {
        let count = self.window.len();
        if count < self.period {
            return f64::NAN;
        }
        let mean = self.sum / count as f64;
        if self.equal_run >= count {
            self.latest
        } else if (self.negatives == 0 && mean < 0.0) || (self.negatives == count && mean > 0.0) {
            // A window of one sign averages to that sign; rounding may not say so.
            0.0
        } else {
            mean
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_until_the_window_is_full_then_the_mean() {
        let mut mean = RollingMean::new(3);
        assert!(mean.push(1.0).is_nan());
        assert!(mean.push(2.0).is_nan());
        assert_eq!(mean.push(3.0), 2.0);
        assert_eq!(mean.push(6.0), 11.0 / 3.0);
    }

    #[test]
    fn a_window_of_equal_values_is_that_value_exactly() {
        // 0.1 + 0.2 + 0.3 - 0.1 - 0.2 leaves a rounding residue a plain sum would show.
        let mut mean = RollingMean::new(2);
        for value in [0.1, 0.2, 0.3, 0.7, 0.7] {
            mean.push(value);
        }
        assert_eq!(mean.push(0.7), 0.7);
    }

    #[test]
    fn matches_pandas_on_values_whose_plain_running_sum_drifts() {
        // pandas 3.1.1: pd.Series([1.1, 2.2, 3.3, 4.4, 5.5, 1e-3, 7.7]).rolling(3).mean()
        let expected = [
            f64::NAN,
            f64::NAN,
            2.1999999999999997,
            3.3000000000000003,
            4.3999999999999995,
            3.300333333333333,
            4.400333333333333,
        ];
        let mut mean = RollingMean::new(3);
        for (value, want) in [1.1, 2.2, 3.3, 4.4, 5.5, 1e-3, 7.7]
            .into_iter()
            .zip(expected)
        {
            let got = mean.push(value);
            assert!(
                got == want || got.is_nan() && want.is_nan(),
                "{got} vs {want}"
            );
        }
    }
}

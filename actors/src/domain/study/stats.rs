//! Counting outcomes: hit rates with their Wilson interval and expectancy in R, before and
//! after fees.

use crate::domain::backtest::outcome::{Followed, Outcome};
use serde::Serialize;

/// The normal quantile of a two-sided 95% interval.
const Z_95: f64 = 1.959_963_984_540_054;

/// The 95% Wilson score interval of `hits` successes in `trials`; None without trials. Unlike
/// the normal approximation it stays inside [0, 1] and is honest for small samples.
pub fn wilson_interval(hits: u64, trials: u64) -> Option<[f64; 2]> {
    if trials == 0 {
        return None;
    }
    let n = trials as f64;
    let p = hits as f64 / n;
    let z2 = Z_95 * Z_95;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = Z_95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    Some([(centre - half).max(0.0), (centre + half).min(1.0)])
}

/// How a followed trade ended (by the end of the data, `Unresolved`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    Ended(Outcome),
    Unresolved,
}

impl Resolution {
    pub fn name(self) -> &'static str {
        match self {
            Resolution::Ended(Outcome::Target) => "target",
            Resolution::Ended(Outcome::Stop) => "stop",
            Resolution::Ended(Outcome::Expired) => "expired",
            Resolution::Unresolved => "unresolved",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    trades: u64,
    expired: u64,
    hits: u64,
    stops: u64,
    r_sum: f64,
    r_after_costs_sum: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub trades: u64,
    pub expired: u64,
    /// Target 1 or the stop reached.
    pub resolved: u64,
    pub hits: u64,
    pub hit_rate: Option<f64>,
    pub hit_rate_ci: Option<[f64; 2]>,
    /// Mean R of resolved trades: +reward/risk at target 1, -1 at the stop.
    pub expectancy_r: Option<f64>,
    /// The same, less both sides' fees in R.
    pub expectancy_r_after_costs: Option<f64>,
}

impl Tally {
    /// Counts one trade; `fee_rate` per side on notional.
    pub fn add(&mut self, resolution: Resolution, followed: &Followed, fee_rate: f64) {
        self.trades += 1;
        let risk = (followed.entry - followed.stop).abs();
        let (r, exit) = match resolution {
            Resolution::Unresolved => return,
            Resolution::Ended(Outcome::Expired) => {
                self.expired += 1;
                return;
            }
            Resolution::Ended(Outcome::Target) => {
                self.hits += 1;
                (
                    (followed.target - followed.entry).abs() / risk,
                    followed.target,
                )
            }
            Resolution::Ended(Outcome::Stop) => {
                self.stops += 1;
                (-1.0, followed.stop)
            }
        };
        let costs_r = fee_rate * (followed.entry + exit) / risk;
        if r.is_finite() && costs_r.is_finite() {
            self.r_sum += r;
            self.r_after_costs_sum += r - costs_r;
        }
    }

    pub fn merge(&mut self, other: &Tally) {
        self.trades += other.trades;
        self.expired += other.expired;
        self.hits += other.hits;
        self.stops += other.stops;
        self.r_sum += other.r_sum;
        self.r_after_costs_sum += other.r_after_costs_sum;
    }

    pub fn figures(&self) -> Figures {
        let resolved = self.hits + self.stops;
        let mean = |sum: f64| (resolved > 0).then(|| sum / resolved as f64);
        Figures {
            trades: self.trades,
            expired: self.expired,
            resolved,
            hits: self.hits,
            hit_rate: (resolved > 0).then(|| self.hits as f64 / resolved as f64),
            hit_rate_ci: wilson_interval(self.hits, resolved),
            expectancy_r: mean(self.r_sum),
            expectancy_r_after_costs: mean(self.r_after_costs_sum),
        }
    }
}

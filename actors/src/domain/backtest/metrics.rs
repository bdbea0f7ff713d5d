//! A run's figures, from its equity curve (one point per bar, at the bar's close) and its
//! closed trades. Conventions, since peers differ:
//! - `max_drawdown_pct`: the largest fall from a running peak, in percent of that peak, as
//!   a positive number;
//! - `sharpe`, `sortino`: per-bar simple returns, risk-free rate 0, annualised by the bars
//!   in a 365-day year (crypto trades every day); `sortino`'s downside deviation is the root
//!   mean square of the negative returns over all bars. None when undefined (no variation);
//! - `win_rate`: the fraction of closed trades with a positive net P&L, in [0, 1];
//! - `profit_factor`: gross profit over gross loss of closed trades (None without a loss);
//! - `expectancy`: the mean net P&L per closed trade, in money;
//! - `avg_r`: the mean R multiple of closed trades that had a stop;
//! - `exposure_pct`: the percent of bars that closed holding a position.

use super::result::TradeRecord;
use crate::domain::money::Money;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

const YEAR_MS: f64 = 365.0 * 86_400_000.0;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub initial_cash: Money,
    pub final_equity: Money,
    pub return_pct: f64,
    pub max_drawdown_pct: f64,
    pub sharpe: Option<f64>,
    pub sortino: Option<f64>,
    pub win_rate: Option<f64>,
    pub profit_factor: Option<f64>,
    pub expectancy: Option<Money>,
    pub avg_r: Option<f64>,
    pub exposure_pct: f64,
    pub bars: usize,
    pub trade_count: usize,
}

/// The equity at each bar's close, and whether a position was held then.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EquityCurve {
    pub close_ms: Vec<i64>,
    pub equity: Vec<f64>,
    pub held: Vec<bool>,
}

impl EquityCurve {
    pub fn with_capacity(bars: usize) -> EquityCurve {
        EquityCurve {
            close_ms: Vec::with_capacity(bars),
            equity: Vec::with_capacity(bars),
            held: Vec::with_capacity(bars),
        }
    }

    pub fn push(&mut self, close_ms: i64, equity: f64, held: bool) {
        self.close_ms.push(close_ms);
        self.equity.push(equity);
        self.held.push(held);
    }

    /// The largest drawdown, in percent (>= 0), without building the series.
    pub fn max_drawdown_pct(&self) -> f64 {
        let (mut peak, mut worst) = (f64::MIN, 0.0_f64);
        for equity in &self.equity {
            peak = peak.max(*equity);
            if peak > 0.0 {
                worst = worst.max((peak - equity) / peak * 100.0);
            }
        }
        worst
    }

    /// The drawdown from the running peak at each point, in percent (>= 0).
    pub fn drawdown_pct(&self) -> Vec<f64> {
        let mut peak = f64::MIN;
        self.equity
            .iter()
            .map(|equity| {
                peak = peak.max(*equity);
                if peak > 0.0 {
                    (peak - equity) / peak * 100.0
                } else {
                    0.0
                }
            })
            .collect()
    }
}

pub fn metrics(
    initial_cash: Money,
    final_equity: Money,
    curve: &EquityCurve,
    bar_ms: i64,
    trades: &[TradeRecord],
) -> Metrics {
    let initial = initial_cash.get().to_f64().unwrap_or(f64::NAN);
    let last = final_equity.get().to_f64().unwrap_or(f64::NAN);
    let (sharpe, sortino) = risk_ratios(&curve.equity, YEAR_MS / bar_ms.max(1) as f64);
    let held = curve.held.iter().filter(|held| **held).count();
    Metrics {
        initial_cash,
        final_equity,
        return_pct: (last / initial - 1.0) * 100.0,
        max_drawdown_pct: curve.max_drawdown_pct(),
        sharpe,
        sortino,
        win_rate: (!trades.is_empty()).then(|| {
            trades.iter().filter(|t| t.pnl.is_positive()).count() as f64 / trades.len() as f64
        }),
        profit_factor: profit_factor(trades),
        expectancy: expectancy(trades),
        avg_r: mean(trades.iter().filter_map(|trade| trade.r_multiple)),
        exposure_pct: if curve.held.is_empty() {
            0.0
        } else {
            held as f64 / curve.held.len() as f64 * 100.0
        },
        bars: curve.equity.len(),
        trade_count: trades.len(),
    }
}

fn risk_ratios(equity: &[f64], bars_per_year: f64) -> (Option<f64>, Option<f64>) {
    let returns = || {
        equity
            .windows(2)
            .filter(|pair| pair[0] > 0.0)
            .map(|pair| pair[1] / pair[0] - 1.0)
    };
    let (sum, count, downside_squares) = returns()
        .fold((0.0, 0usize, 0.0), |(sum, count, down), r| {
            (sum + r, count + 1, down + r.min(0.0).powi(2))
        });
    if count < 2 {
        return (None, None);
    }
    let count = count as f64;
    let average = sum / count;
    let variance = returns().map(|r| (r - average).powi(2)).sum::<f64>() / (count - 1.0);
    let downside = (downside_squares / count).sqrt();
    let annualise = bars_per_year.sqrt();
    let ratio = |deviation: f64| (deviation > 0.0).then(|| average / deviation * annualise);
    (ratio(variance.sqrt()), ratio(downside))
}

fn profit_factor(trades: &[TradeRecord]) -> Option<f64> {
    let (mut won, mut lost) = (Decimal::ZERO, Decimal::ZERO);
    for trade in trades {
        if trade.pnl.is_positive() {
            won += trade.pnl.get();
        } else {
            lost -= trade.pnl.get();
        }
    }
    (lost > Decimal::ZERO).then(|| (won / lost).to_f64().unwrap_or(f64::NAN))
}

fn expectancy(trades: &[TradeRecord]) -> Option<Money> {
    let total = Money::checked_sum(trades.iter().map(|trade| trade.pnl)).ok()?;
    let count = Decimal::from(trades.len());
    (!trades.is_empty())
        .then(|| total.checked_div_by(count).ok())
        .flatten()
        .map(|mean| Money::new(mean.get().round_dp(8)))
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, count) = values.fold((0.0, 0usize), |(sum, count), value| {
        (sum + value, count + 1)
    });
    (count > 0).then(|| sum / count as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawdown_is_the_fall_from_the_running_peak() {
        let curve = EquityCurve {
            close_ms: vec![1, 2, 3, 4],
            equity: vec![100.0, 120.0, 90.0, 130.0],
            held: vec![false, true, true, false],
        };
        assert_eq!(curve.drawdown_pct(), vec![0.0, 0.0, 25.0, 0.0]);
        let metrics = metrics(
            Money::new(Decimal::from(100)),
            Money::new(Decimal::from(130)),
            &curve,
            86_400_000,
            &[],
        );
        assert_eq!(metrics.max_drawdown_pct, 25.0);
        assert_eq!(metrics.exposure_pct, 50.0);
        assert!((metrics.return_pct - 30.0).abs() < 1e-9);
        assert_eq!(metrics.win_rate, None);
        // Returns 0.2, -0.25, 0.444..: mean 0.1315, sample deviation 0.3523 -> x sqrt(365).
        let sharpe = metrics.sharpe.expect("defined");
        assert!(
            (sharpe - 0.131_481_481_5 / 0.352_256_103 * 365f64.sqrt()).abs() < 1e-6,
            "{sharpe}"
        );
    }
}

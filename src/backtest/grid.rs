//! `--grid fast=5..20:5,slow=20..60:10`: every sma-cross combination with fast < slow, run
//! in parallel on all cores (rayon), ranked by return (ties: the smaller parameters first,
//! so the ranking is the same on every run).

use super::plan::{Choice, Plan};
use super::BacktestCliError;
use cryptolens_actors::domain::backtest::metrics::Metrics;
use cryptolens_actors::domain::market::Candle;
use rayon::prelude::*;
use serde::Serialize;

/// A bound on one grid, so a typo cannot ask for a million runs.
const COMBINATIONS_MAX: usize = 10_000;

#[derive(Debug, Clone, Serialize)]
pub struct Ranked {
    pub fast: usize,
    pub slow: usize,
    #[serde(flatten)]
    pub metrics: Metrics,
}

pub fn run(plan: &Plan, candles: &[Candle], grid: &str) -> Result<Vec<Ranked>, BacktestCliError> {
    if !matches!(plan.choice, Choice::SmaCross { .. }) {
        return Err(BacktestCliError::argument("grid", "only for sma-cross"));
    }
    let combinations = combinations(grid)?;
    let runs: Result<Vec<Ranked>, BacktestCliError> = combinations
        .par_iter()
        .map(|&(fast, slow)| {
            let result = plan.run_sma_cross(candles, fast, slow, &mut |_| {})?;
            Ok(Ranked {
                fast,
                slow,
                metrics: result.metrics,
            })
        })
        .collect();
    let mut runs = runs?;
    runs.sort_by(|a, b| {
        b.metrics
            .return_pct
            .total_cmp(&a.metrics.return_pct)
            .then((a.fast, a.slow).cmp(&(b.fast, b.slow)))
    });
    Ok(runs)
}

/// The (fast, slow) pairs a grid names, fast < slow, in order.
pub fn combinations(grid: &str) -> Result<Vec<(usize, usize)>, BacktestCliError> {
    let (mut fast, mut slow) = (None, None);
    for part in grid.split(',') {
        let (name, range) = part
            .split_once('=')
            .ok_or_else(|| bad(format!("{part:?} is not name=from..to:step")))?;
        let values = range_values(range)?;
        match name.trim() {
            "fast" => fast = Some(values),
            "slow" => slow = Some(values),
            other => {
                return Err(bad(format!(
                    "unknown parameter {other:?}; sma-cross has fast and slow"
                )))
            }
        }
    }
    let fast = fast.ok_or_else(|| bad("fast=from..to:step is missing".into()))?;
    let slow = slow.ok_or_else(|| bad("slow=from..to:step is missing".into()))?;
    let pairs: Vec<(usize, usize)> = fast
        .iter()
        .flat_map(|f| slow.iter().map(move |s| (*f, *s)))
        .filter(|(f, s)| f < s)
        .collect();
    if pairs.is_empty() {
        return Err(bad("no combination has fast < slow".into()));
    }
    if pairs.len() > COMBINATIONS_MAX {
        return Err(bad(format!(
            "{} combinations; at most {COMBINATIONS_MAX}",
            pairs.len()
        )));
    }
    Ok(pairs)
}

/// `from..to:step` (to included; `:step` defaults to 1) or a single value.
fn range_values(text: &str) -> Result<Vec<usize>, BacktestCliError> {
    let number = |text: &str| {
        text.trim()
            .parse::<usize>()
            .map_err(|_| bad(format!("{text:?} is not a whole number")))
    };
    let Some((from, rest)) = text.split_once("..") else {
        return Ok(vec![number(text)?]);
    };
    let (to, step) = match rest.split_once(':') {
        Some((to, step)) => (number(to)?, number(step)?),
        None => (number(rest)?, 1),
    };
    let from = number(from)?;
    if step == 0 || from == 0 || to < from {
        return Err(bad(format!(
            "{text:?}: needs 1 <= from <= to and a step of at least 1"
        )));
    }
    Ok((from..=to).step_by(step).collect())
}

fn bad(message: String) -> BacktestCliError {
    BacktestCliError::argument("grid", message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grid_names_every_pair_with_fast_below_slow() {
        assert_eq!(
            combinations("fast=5..15:5,slow=10..20:10").expect("grid"),
            vec![(5, 10), (5, 20), (10, 20), (15, 20)]
        );
        assert_eq!(
            combinations("slow=30,fast=10").expect("grid"),
            vec![(10, 30)]
        );
    }

    #[test]
    fn bad_grids_say_what_is_wrong() {
        for (grid, words) in [
            ("fast=5..20", "slow="),
            ("fast=5..20:0,slow=30", "step"),
            ("fast=a..3,slow=4", "whole number"),
            ("fast=5,slow=5", "fast < slow"),
            ("fast=1..200,slow=1..200", "combinations"),
            ("speed=3,slow=4", "unknown parameter"),
        ] {
            let message = combinations(grid).expect_err(grid).to_string();
            assert!(message.contains(words), "{grid}: {message}");
        }
    }
}

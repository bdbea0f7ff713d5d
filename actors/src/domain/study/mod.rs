//! The signal study: is there an edge, and does it survive costs? Every signal a series
//! produces is taken once at creation with the levels it had then (pending at its entry until
//! it expires, then target 1 against the stop, a candle touching both counted as the stop: the
//! rules of the backtest's outcome study, `backtest/outcome.rs`), and compared with chance:
//! for each signal, random trades at random times of the same series with the same direction
//! and the same stop and target distances (as fractions of price), entered at market, and
//! random pending orders placed at the same distance from the market as the signal's entry.
//!
//! Each group (all signals; by pattern kind, entry timeframe, direction, confluence and
//! confidence bucket) reports the hit rate with its 95% Wilson interval, the expectancy in R
//! before and after fees, the same for both baselines, and the edge in points over each (the
//! matched one is random pending orders: the signals' own entries rest too). A seeded
//! generator makes the baselines repeatable.

pub mod calibration;
mod stats;
mod trials;

pub use stats::{wilson_interval, Figures};

use crate::domain::analysis::AnalysisSettings;
use crate::domain::backtest::Series;
use serde::Serialize;
use stats::Tally;
use std::collections::BTreeMap;
use std::sync::Arc;
use trials::{baselines, collect, resolve, Trial};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StudySettings {
    /// A pending entry not filled within this many entry-timeframe bars expires.
    pub expiry_bars: u32,
    /// Fee per side in basis points of notional, for the figures after costs.
    pub fee_bps: u32,
    /// Random trades of each baseline per signal.
    pub draws: u32,
    pub seed: u64,
}

impl Default for StudySettings {
    fn default() -> StudySettings {
        StudySettings {
            expiry_bars: 12,
            fee_bps: 10,
            draws: 10,
            seed: 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StudyRow {
    /// `all`, `kind`, `timeframe`, `direction`, `confluence` or `confidence`.
    pub dimension: &'static str,
    pub group: String,
    pub signals: Figures,
    pub random_entry: Figures,
    pub random_pending: Figures,
    /// Signals' hit rate minus that of random pending orders (the matched baseline: a
    /// resting entry fills when the price comes against it, which alone lowers the hit
    /// rate on a random walk), in percentage points.
    pub edge_points: Option<f64>,
    /// Signals' hit rate minus random market entries', in percentage points.
    pub edge_over_market_points: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StudyReport {
    pub candles: usize,
    pub days: f64,
    pub signals: usize,
    pub signals_per_day: Option<f64>,
    pub fee_bps: u32,
    pub draws: u32,
    pub seed: u64,
    /// The `all` row first, then each dimension's groups in order.
    pub rows: Vec<StudyRow>,
    /// Each signal's own outcome, in creation order (for calibration; not in the JSON).
    #[serde(skip)]
    pub outcomes: Vec<SignalOutcome>,
}

/// One signal of the study and how its trade ended.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalOutcome {
    pub key: crate::domain::backtest::outcome::StudyKey,
    pub confidence: f64,
    /// `target`, `stop`, `expired` or `unresolved`.
    pub outcome: &'static str,
}

/// Every signal of `series` under `analysis`, with its baselines, grouped.
pub fn study(
    series: Series,
    analysis: Arc<AnalysisSettings>,
    settings: &StudySettings,
) -> StudyReport {
    let collected = collect(series, analysis, settings.expiry_bars);
    let fee_rate = f64::from(settings.fee_bps) / 10_000.0;
    let mut rng = trials::generator(settings.seed);
    let mut groups: BTreeMap<(usize, String), [Tally; 3]> = BTreeMap::new();
    let from_index = collected
        .trials
        .first()
        .map_or(0, |trial| trial.first_index);
    let mut outcomes = Vec::with_capacity(collected.trials.len());
    for trial in &collected.trials {
        let mut tallies: [Tally; 3] = Default::default();
        let own = resolve(trial.followed, &collected.candles[trial.first_index..]);
        tallies[0].add(own, &trial.followed, fee_rate);
        outcomes.push(SignalOutcome {
            key: trial.followed.key,
            confidence: trial.confidence,
            outcome: own.name(),
        });
        let draws = (from_index, settings.draws);
        let (market, pending) = baselines(trial, &collected.candles, draws, &mut rng);
        for (followed, resolution) in market {
            tallies[1].add(resolution, &followed, fee_rate);
        }
        for (followed, resolution) in pending {
            tallies[2].add(resolution, &followed, fee_rate);
        }
        for group in groups_of(trial) {
            let entry = groups.entry(group).or_default();
            for (into, from) in entry.iter_mut().zip(&tallies) {
                into.merge(from);
            }
        }
    }
    let rows = groups
        .into_iter()
        .map(|((dimension, group), [signals, market, pending])| {
            row(DIMENSIONS[dimension], group, &signals, &market, &pending)
        })
        .collect();
    let days = collected.span_ms as f64 / 86_400_000.0;
    let signals = collected.trials.len();
    StudyReport {
        candles: collected.candles.len(),
        days,
        signals,
        signals_per_day: (days > 0.0).then(|| signals as f64 / days),
        fee_bps: settings.fee_bps,
        draws: settings.draws,
        seed: settings.seed,
        rows,
        outcomes,
    }
}

const DIMENSIONS: [&str; 6] = [
    "all",
    "kind",
    "timeframe",
    "direction",
    "confluence",
    "confidence",
];

/// The groups a trial counts in: all, then one per dimension.
fn groups_of(trial: &Trial) -> [(usize, String); 6] {
    let key = trial.followed.key;
    let bucket = ((trial.confidence * 5.0).floor() as i64).clamp(0, 4) as f64 / 5.0;
    [
        (0, "all".to_owned()),
        (1, serde_name(&key.pattern_kind)),
        (2, key.timeframe.to_string()),
        (3, serde_name(&key.direction)),
        (4, format!("{:02}", key.confluence)),
        (5, format!("{bucket:.1}-{:.1}", bucket + 0.2)),
    ]
}

/// A value's name as the API spells it (`order_block`, `bullish`).
pub fn serde_name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn row(
    dimension: &'static str,
    group: String,
    signals: &Tally,
    market: &Tally,
    pending: &Tally,
) -> StudyRow {
    let signals = signals.figures();
    let random_entry = market.figures();
    let random_pending = pending.figures();
    let edge = |chance: &Figures| {
        signals
            .hit_rate
            .zip(chance.hit_rate)
            .map(|(ours, chance)| (ours - chance) * 100.0)
    };
    StudyRow {
        dimension,
        group,
        edge_points: edge(&random_pending),
        edge_over_market_points: edge(&random_entry),
        signals,
        random_entry,
        random_pending,
    }
}

#[cfg(test)]
mod tests;

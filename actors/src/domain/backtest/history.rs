//! Scores that learn from history: the outcome study of past signals, pooled per pattern
//! kind, entry timeframe and direction (confluence left out, so each group has samples
//! enough), answering for a live signal how often its kind reached target 1 before the stop.
//!
//! `learned_score` is that hit rate with one success and one failure added (Laplace's rule):
//! a group with 3 of 3 scores 0.8, not 1, and a group never seen 0.5, so a small sample
//! cannot claim certainty. The raw rate and the sample size are shown beside it.

use super::outcome::{OutcomeStudy, OutcomeTable, StudyKey};
use super::Series;
use crate::domain::analysis::{
    AnalysisEvents, AnalysisSettings, Direction, PatternKind, Signal, SignalEvent,
};
use crate::domain::market::{ClosedCandle, Timeframe};
use crate::domain::scanner::SymbolScanner;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The study of every signal `series` produces, each followed for `expiry_bars` bars of
/// its entry timeframe before it counts as expired: the same rules as a backtest's study.
pub fn study_signals(
    series: Series,
    settings: Arc<AnalysisSettings>,
    expiry_bars: u32,
) -> OutcomeTable {
    let mut scanner = SymbolScanner::new(series.symbol.clone(), series.timeframe, 1, settings);
    let mut study = OutcomeStudy::new(expiry_bars);
    let (mut closed, mut events) = (Vec::new(), AnalysisEvents::default());
    for bar in series.bars {
        scanner.on_candle(*bar, &mut closed, &mut events);
        follow(&mut study, series.timeframe, &mut closed, &mut events);
    }
    let _ = scanner.finish(&mut closed, &mut events);
    follow(&mut study, series.timeframe, &mut closed, &mut events);
    study.finish()
}

fn follow(
    study: &mut OutcomeStudy,
    base: Timeframe,
    closed: &mut Vec<ClosedCandle>,
    events: &mut AnalysisEvents,
) {
    for bar in closed.iter().filter(|closed| closed.timeframe == base) {
        study.on_base_candle(&bar.candle);
    }
    for event in &events.signals {
        if let SignalEvent::Emitted(signal) = event {
            study.on_signal(signal);
        }
    }
    closed.clear();
    events.clear();
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Group {
    pattern_kind: PatternKind,
    timeframe: Timeframe,
    direction: Direction,
}

/// Hits and resolved cases per group, over every table added.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LearnedScores {
    groups: BTreeMap<Group, (u64, u64)>,
    pub computed_at_ms: i64,
}

/// What a signal shows of its kind's past.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignalHistory {
    pub hit_rate: f64,
    pub samples: u64,
    pub learned_score: f64,
    pub text: String,
    pub computed_at: i64,
}

impl LearnedScores {
    pub fn new(computed_at_ms: i64) -> LearnedScores {
        LearnedScores {
            groups: BTreeMap::new(),
            computed_at_ms,
        }
    }

    /// Pools one study (of one symbol) in.
    pub fn add(&mut self, table: &OutcomeTable) {
        for row in &table.rows {
            let group = group(&row.key);
            let counts = self.groups.entry(group).or_default();
            counts.0 += row.target_first;
            counts.1 += row.target_first + row.stop_first;
        }
    }

    /// The history of `signal`'s group, if any case of it resolved.
    pub fn for_signal(&self, signal: &Signal) -> Option<SignalHistory> {
        let key = StudyKey::of(signal)?;
        let (hits, resolved) = self
            .groups
            .get(&group(&key))
            .copied()
            .filter(|(_, resolved)| *resolved > 0)?;
        let hit_rate = hits as f64 / resolved as f64;
        Some(SignalHistory {
            hit_rate,
            samples: resolved,
            learned_score: (hits as f64 + 1.0) / (resolved as f64 + 2.0),
            text: format!(
                "TP1 before stop in {:.0}% of {resolved} past cases",
                hit_rate * 100.0
            ),
            computed_at: self.computed_at_ms,
        })
    }
}

fn group(key: &StudyKey) -> Group {
    Group {
        pattern_kind: key.pattern_kind,
        timeframe: key.timeframe,
        direction: key.direction,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::backtest::run_tests::random_walk;
    use crate::domain::market::Symbol;

    /// Every signal the walk emits, as the study sees them.
    fn emitted(series: Series, settings: Arc<AnalysisSettings>) -> Vec<Signal> {
        let mut scanner = SymbolScanner::new(series.symbol.clone(), series.timeframe, 1, settings);
        let (mut closed, mut events, mut signals) =
            (Vec::new(), AnalysisEvents::default(), Vec::new());
        for bar in series.bars {
            scanner.on_candle(*bar, &mut closed, &mut events);
            signals.extend(events.signals.drain(..).filter_map(|event| match event {
                SignalEvent::Emitted(signal) => Some(signal),
                _ => None,
            }));
            closed.clear();
            events.clear();
        }
        signals
    }

    #[test]
    fn a_signal_reads_its_groups_pooled_past_with_a_laplace_score() {
        let symbol = Symbol::parse("TESTUSDT").expect("symbol");
        let bars = random_walk(5_000, 3);
        let series = Series {
            symbol: &symbol,
            timeframe: Timeframe::M1,
            bars: &bars,
        };
        let settings = Arc::new(AnalysisSettings::default());
        let table = study_signals(series, Arc::clone(&settings), 12);
        let mut scores = LearnedScores::new(42);
        scores.add(&table);
        scores.add(&table);
        let signals = emitted(series, settings);
        let signal = signals
            .iter()
            .find(|signal| scores.for_signal(signal).is_some())
            .expect("a signal of a resolved group");
        let key = StudyKey::of(signal).expect("a key");
        // Every group counted twice: the rate is the single table's, the samples doubled.
        let rows: Vec<_> = table
            .rows
            .iter()
            .filter(|row| group(&row.key) == group(&key))
            .collect();
        let hits: u64 = rows.iter().map(|row| row.target_first).sum();
        let resolved: u64 = rows
            .iter()
            .map(|row| row.target_first + row.stop_first)
            .sum();
        let history = scores.for_signal(signal).expect("history");
        assert_eq!(history.samples, 2 * resolved);
        assert!((history.hit_rate - hits as f64 / resolved as f64).abs() < 1e-12);
        let laplace = (2.0 * hits as f64 + 1.0) / (2.0 * resolved as f64 + 2.0);
        assert!((history.learned_score - laplace).abs() < 1e-12);
        assert!(
            history.text.starts_with("TP1 before stop in ")
                && history
                    .text
                    .ends_with(&format!("of {} past cases", 2 * resolved))
        );
        assert_eq!(history.computed_at, 42);
        assert!(
            LearnedScores::new(0).for_signal(signal).is_none(),
            "no past, no history"
        );
    }
}

//! Analysis of one symbol on all its timeframes: a [`PatternEngine`] per timeframe and the
//! symbol's [`SignalBook`], re-evaluated once per instant at which candles closed.

use super::signals::{SignalBook, SignalEvent, SignalHistory, TimeframeVote};
use super::{AnalysisSettings, Direction, PatternEngine, PatternEvent};
use crate::domain::market::{ClosedCandle, Symbol, Timeframe};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// What analysis reported while handling candles.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnalysisEvents {
    pub patterns: Vec<PatternEvent>,
    pub signals: Vec<SignalEvent>,
}

impl AnalysisEvents {
    pub fn clear(&mut self) {
        self.patterns.clear();
        self.signals.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty() && self.signals.is_empty()
    }

    /// Keeps at most `capacity` entries' room in each list.
    pub fn shrink_to(&mut self, capacity: usize) {
        self.patterns.shrink_to(capacity);
        self.signals.shrink_to(capacity);
    }
}

/// A cell of the pattern matrix: the direction of a timeframe's latest unresolved pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Bias {
    Bullish,
    Bearish,
    Neutral,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SymbolAnalysis {
    symbol: Symbol,
    #[serde(skip)]
    settings: Arc<AnalysisSettings>,
    /// One per timeframe the symbol has, shortest first.
    engines: Vec<PatternEngine>,
    signals: SignalBook,
}

/// Equal state: the settings are configuration, not state (and are not stored).
impl PartialEq for SymbolAnalysis {
    fn eq(&self, other: &SymbolAnalysis) -> bool {
        self.symbol == other.symbol
            && self.engines == other.engines
            && self.signals == other.signals
    }
}

impl SymbolAnalysis {
    pub fn new(
        symbol: Symbol,
        timeframes: impl Iterator<Item = Timeframe>,
        settings: Arc<AnalysisSettings>,
    ) -> SymbolAnalysis {
        SymbolAnalysis::with_tick_size(symbol, timeframes, settings, None)
    }

    /// As [`SymbolAnalysis::new`], with `tick_fallback` (an exchange's tick) used when the
    /// settings name no tick for the symbol.
    pub fn with_tick_size(
        symbol: Symbol,
        timeframes: impl Iterator<Item = Timeframe>,
        settings: Arc<AnalysisSettings>,
        tick_fallback: Option<Decimal>,
    ) -> SymbolAnalysis {
        let configured = settings.tick_sizes.get(symbol.as_str()).copied();
        let tick_size = configured.or(tick_fallback);
        let engines = timeframes
            .map(|timeframe| PatternEngine::new(timeframe, &settings, tick_size))
            .collect();
        SymbolAnalysis {
            symbol,
            settings,
            engines,
            signals: SignalBook::default(),
        }
    }

    pub fn reattach(&mut self, settings: Arc<AnalysisSettings>) {
        self.settings = settings;
    }

    pub fn symbol(&self) -> &Symbol {
        &self.symbol
    }

    pub fn settings(&self) -> &Arc<AnalysisSettings> {
        &self.settings
    }

    /// The tick the symbol's levels are rounded to, if one is set.
    pub fn tick_size(&self) -> Option<Decimal> {
        self.engines.first().and_then(PatternEngine::tick_size)
    }

    pub fn engine(&self, timeframe: Timeframe) -> Option<&PatternEngine> {
        self.engines
            .iter()
            .find(|engine| engine.timeframe() == timeframe)
    }

    /// Every timeframe's engine, shortest first.
    pub fn engines(&self) -> &[PatternEngine] {
        &self.engines
    }

    pub fn signals(&self) -> &SignalBook {
        &self.signals
    }

    /// Feeds the candles that closed at one instant (the arrival of one base candle), then
    /// re-evaluates signals once, so a signal never sees half of an instant.
    pub fn on_closed(&mut self, closed: &[ClosedCandle], events: &mut AnalysisEvents) {
        let patterns_before = events.patterns.len();
        let with_data_before = self.timeframes_with_data();
        let mut at_ms = None;
        for closed in closed {
            let Some(engine) = self
                .engines
                .iter_mut()
                .find(|engine| engine.timeframe() == closed.timeframe)
            else {
                continue;
            };
            engine.on_candle(&closed.candle, &self.settings, &mut events.patterns);
            let close_ms = closed.candle.open_time_ms + closed.timeframe.duration_ms();
            at_ms = at_ms.max(Some(close_ms));
        }
        // Signals depend only on each timeframe's latest unresolved pattern and on which
        // timeframes have data: when neither moved, evaluating again would change nothing.
        let changed = events.patterns.len() > patterns_before
            || self.timeframes_with_data() != with_data_before;
        if let (Some(at_ms), true) = (at_ms, changed) {
            self.evaluate_signals(at_ms, &mut events.signals);
        }
    }

    fn timeframes_with_data(&self) -> usize {
        self.engines
            .iter()
            .filter(|engine| engine.latest().is_some())
            .count()
    }

    /// Re-evaluates signals without a new candle (after a settings reload, or on request).
    pub fn reevaluate(&mut self, events: &mut AnalysisEvents) {
        let latest_close_ms = self
            .engines
            .iter()
            .filter_map(|engine| {
                let (candle, _) = engine.latest()?;
                Some(candle.open_time_ms + engine.timeframe().duration_ms())
            })
            .max();
        if let Some(at_ms) = latest_close_ms {
            self.evaluate_signals(at_ms, &mut events.signals);
        }
    }

    fn evaluate_signals(&mut self, at_ms: i64, events: &mut Vec<SignalEvent>) {
        let votes = self.engines.iter().filter_map(|engine| {
            let (candle, values) = engine.latest()?;
            Some(TimeframeVote {
                timeframe: engine.timeframe(),
                pattern: engine.latest_live(),
                candle,
                values,
            })
        });
        self.signals.evaluate(
            &self.symbol,
            at_ms,
            votes,
            &self.settings.signals,
            &SignalHistory {
                kept: self.settings.resolved_patterns_kept,
                max_age_ms: self.settings.resolved_max_age_ms(),
            },
            events,
        );
    }

    /// The symbol's row of the pattern matrix, shortest timeframe first.
    pub fn matrix_row(&self) -> Vec<(Timeframe, Bias)> {
        self.engines
            .iter()
            .map(|engine| {
                let bias = match engine.latest_live().map(|pattern| pattern.direction) {
                    Some(Direction::Bullish) => Bias::Bullish,
                    Some(Direction::Bearish) => Bias::Bearish,
                    None => Bias::Neutral,
                };
                (engine.timeframe(), bias)
            })
            .collect()
    }
}

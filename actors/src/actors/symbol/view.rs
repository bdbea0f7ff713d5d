//! The read model of one symbol's analysis. The actor publishes a fresh immutable copy after
//! each batch that changed it, so API reads (patterns, signals, matrix, indicators) never
//! queue behind ingest in the actor's mailbox, and a reader sees a batch whole or not at all.

use crate::domain::analysis::indicators::IndicatorValues;
use crate::domain::analysis::{Bias, Pattern, PatternEngine, Signal, SymbolAnalysis};
use crate::domain::market::{Candle, Symbol, Timeframe};
use std::any::Any;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

/// One timeframe's state as readers see it.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeframeView {
    pub timeframe: Timeframe,
    /// The last closed candle and its indicator values.
    pub latest: Option<(Candle, IndicatorValues)>,
    /// Recently resolved and unresolved patterns, newest first (by formation time, then
    /// key), so that readers can page without sorting on every request.
    pub patterns: Vec<Pattern>,
    /// What a reader derived from this view and keeps for the next reader (the API keeps
    /// each pattern's JSON). A new view starts empty, so nothing derived outlives its source.
    pub derived: DerivedCache,
}

/// One value of any type, set once.
#[derive(Default)]
pub struct DerivedCache(OnceLock<Arc<dyn Any + Send + Sync>>);

impl DerivedCache {
    /// The value, made by `make` on first use. None if a value of another type is kept.
    pub fn get_or_init<T: Any + Send + Sync>(&self, make: impl FnOnce() -> T) -> Option<Arc<T>> {
        let value = self.0.get_or_init(|| Arc::new(make()));
        Arc::clone(value).downcast::<T>().ok()
    }
}

/// A cache is not part of the value: clones start empty and every cache compares equal.
impl Clone for DerivedCache {
    fn clone(&self) -> Self {
        DerivedCache::default()
    }
}

impl PartialEq for DerivedCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for DerivedCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DerivedCache")
    }
}

impl TimeframeView {
    fn of(engine: &PatternEngine) -> TimeframeView {
        let mut patterns: Vec<Pattern> = engine.resolved().chain(engine.live()).cloned().collect();
        patterns.sort_by(newest_first);
        TimeframeView {
            timeframe: engine.timeframe(),
            latest: engine.latest().map(|(candle, values)| (*candle, *values)),
            patterns,
            derived: DerivedCache::default(),
        }
    }
}

/// Newest formation first; the key breaks ties, so the order is total within a symbol.
pub fn newest_first(a: &Pattern, b: &Pattern) -> std::cmp::Ordering {
    b.formed_at_ms
        .cmp(&a.formed_at_ms)
        .then_with(|| a.key().cmp(&b.key()))
}

#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisView {
    pub symbol: Symbol,
    /// Shortest timeframe first.
    pub timeframes: Vec<Arc<TimeframeView>>,
    /// Live signals, then recently ended ones (oldest first).
    pub signals: Arc<Vec<Signal>>,
    pub matrix: Vec<(Timeframe, Bias)>,
}

impl AnalysisView {
    pub fn of(analysis: &SymbolAnalysis) -> AnalysisView {
        AnalysisView {
            symbol: analysis.symbol().clone(),
            timeframes: analysis
                .engines()
                .iter()
                .map(|engine| Arc::new(TimeframeView::of(engine)))
                .collect(),
            signals: Arc::new(signals_of(analysis)),
            matrix: analysis.matrix_row(),
        }
    }

    /// A copy that shares every part `analysis` has not changed since: only the timeframes in
    /// `touched` are rebuilt, and the signals only if `signals_changed`.
    pub fn refreshed(
        &self,
        analysis: &SymbolAnalysis,
        touched: &[Timeframe],
        signals_changed: bool,
    ) -> AnalysisView {
        let timeframes = self
            .timeframes
            .iter()
            .zip(analysis.engines())
            .map(|(view, engine)| {
                if touched.contains(&engine.timeframe()) {
                    Arc::new(TimeframeView::of(engine))
                } else {
                    Arc::clone(view)
                }
            })
            .collect();
        let signals = if signals_changed {
            Arc::new(signals_of(analysis))
        } else {
            Arc::clone(&self.signals)
        };
        AnalysisView {
            symbol: self.symbol.clone(),
            timeframes,
            signals,
            matrix: analysis.matrix_row(),
        }
    }

    pub fn timeframe(&self, timeframe: Timeframe) -> Option<&TimeframeView> {
        self.timeframes
            .iter()
            .map(Arc::as_ref)
            .find(|view| view.timeframe == timeframe)
    }
}

fn signals_of(analysis: &SymbolAnalysis) -> Vec<Signal> {
    let book = analysis.signals();
    book.live().chain(book.ended()).cloned().collect()
}

/// Where the actor publishes its [`AnalysisView`]; shared with the registry's handle.
#[derive(Debug)]
pub struct AnalysisBoard {
    current: RwLock<Arc<AnalysisView>>,
}

impl AnalysisBoard {
    pub fn new(view: AnalysisView) -> AnalysisBoard {
        AnalysisBoard {
            current: RwLock::new(Arc::new(view)),
        }
    }

    pub fn current(&self) -> Arc<AnalysisView> {
        // Writers only swap an Arc, so a poisoned lock still holds a whole view.
        let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(&current)
    }

    pub fn publish(&self, view: AnalysisView) {
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        *current = Arc::new(view);
    }
}

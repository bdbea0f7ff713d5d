//! Analysis: incremental indicators, pattern detectors with filters, lifecycles and trading
//! levels, and signals with confluence across timeframes. Pure and synchronous: the symbol
//! actors, the backtester and `cryptolens analyze` run the same code candle by candle.

pub mod detectors;
mod filters;
pub mod indicators;
mod levels;
mod lifecycle;
mod pattern;
mod pattern_engine;
mod reasons;
mod settings;
mod signals;
mod symbol_analysis;
mod tracked;

#[cfg(test)]
mod causality_tests;
#[cfg(test)]
mod signal_tests;

pub use filters::ZoneFilters;
pub use levels::{infer_tick_size, trading_levels, LevelRules, PatternKind, TradingLevels};
pub use lifecycle::{default_expiry_ms, ExpiryLimits, Lifecycle, PatternStatus};
pub use pattern::{Direction, Zone};
pub use pattern_engine::{PatternEngine, PatternEvent};
pub use reasons::SignalReason;
pub use settings::{AnalysisSettings, ExpiryRule, SignalSettings};
pub use signals::{Signal, SignalBook, SignalEvent, SignalHistory, SignalStatus, TimeframeVote};
pub use symbol_analysis::{AnalysisEvents, Bias, SymbolAnalysis};
pub use tracked::{Pattern, PatternKey};

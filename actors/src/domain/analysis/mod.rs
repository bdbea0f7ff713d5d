//! Analysis: incremental indicators and pattern detectors (signals and trading levels next).

pub mod detectors;
mod filters;
pub mod indicators;
mod levels;
mod lifecycle;
mod pattern;

#[cfg(test)]
mod causality_tests;

pub use filters::ZoneFilters;
pub use levels::{infer_tick_size, trading_levels, PatternKind, TradingLevels};
pub use lifecycle::{default_expiry_ms, Lifecycle, PatternStatus};
pub use pattern::{Direction, Zone};

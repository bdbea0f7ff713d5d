//! Analysis: incremental indicators and pattern detectors (signals and trading levels next).

pub mod detectors;
pub mod indicators;
mod pattern;

#[cfg(test)]
mod causality_tests;

pub use pattern::{Direction, Zone};

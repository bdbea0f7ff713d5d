//! Analysis: incremental indicators (and, next, detectors, signals and trading levels).

pub mod indicators;

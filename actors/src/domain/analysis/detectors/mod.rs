//! Causal pattern detectors: each reports a pattern on the close of the candle that
//! completes it and never looks at a later candle.

mod fair_value_gap;

pub use fair_value_gap::{FairValueGap, FairValueGapDetector, FairValueGapSettings};

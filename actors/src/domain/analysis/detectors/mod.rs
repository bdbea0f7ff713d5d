//! Causal pattern detectors: each reports a pattern on the close of the candle that
//! completes it and never looks at a later candle.

mod fair_value_gap;
mod liquidity_sweep;
mod order_block;
mod swing;

pub use fair_value_gap::{FairValueGap, FairValueGapDetector, FairValueGapSettings};
pub use liquidity_sweep::{LiquiditySweep, LiquiditySweepDetector, LiquiditySweepSettings};
pub use order_block::{OrderBlock, OrderBlockDetector, OrderBlockSettings};
pub use swing::{SwingDetector, SwingKind, SwingPoint};

//! Incremental indicators, O(1) per candle, equal to TA-Lib within 1e-9 relative at every
//! candle (see `tests/end_to_end/golden_indicators.rs`). Each follows TA-Lib's arithmetic
//! order (running sums, SMA-seeded EMAs, Wilder smoothing), so results agree to the last few
//! bits, and returns `None` exactly where TA-Lib returns NaN during warm-up.

mod atr;
mod bollinger;
mod ema;
mod macd;
mod rsi;
mod set;
mod sma;
mod stochastic;

pub use atr::Atr;
pub use bollinger::{BollingerBands, BollingerValue};
pub use ema::Ema;
pub use macd::{Macd, MacdValue};
pub use rsi::Rsi;
pub use set::{IndicatorSet, IndicatorValues, INDICATOR_NAMES};
pub use sma::Sma;
pub use stochastic::{StochasticFast, StochasticValue};

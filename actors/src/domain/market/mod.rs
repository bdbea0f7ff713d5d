//! Market data: symbols, timeframes, exact fixed-point candles, ring buffers and aggregation.

pub(crate) mod aggregator;
mod candle;
mod fixed_point;
mod ring;
mod symbol;
mod timeframe;

pub use aggregator::{ClosedCandle, IngestOutcome, IngestTally, PrependTally, TimeframeAggregator};
pub use candle::{Candle, CandleDraft, CandleField};
pub use fixed_point::{Price, Volume, PRICE_MAX_UNITS, SCALE_DIGITS, VOLUME_MAX_UNITS};
pub use ring::CandleRing;
pub use symbol::Symbol;
pub use timeframe::Timeframe;

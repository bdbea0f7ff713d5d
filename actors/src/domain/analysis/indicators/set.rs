use super::{Atr, BollingerBands, Ema, Macd, Rsi, Sma, StochasticFast};
use crate::domain::market::Candle;
use serde::{Deserialize, Serialize};

/// Indicator names in output order, as `cryptolens analyze` and the API print them.
pub const INDICATOR_NAMES: [&str; 15] = [
    "sma_20",
    "sma_50",
    "ema_12",
    "ema_26",
    "rsi_14",
    "macd",
    "macd_signal",
    "macd_hist",
    "bb_upper",
    "bb_middle",
    "bb_lower",
    "stoch_k",
    "stoch_d",
    "atr_14",
    "volume_ratio",
];

/// Every indicator of one symbol and timeframe, fed one closed candle at a time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndicatorSet {
    sma_20: Sma,
    sma_50: Sma,
    ema_12: Ema,
    ema_26: Ema,
    rsi_14: Rsi,
    macd: Macd,
    bollinger: BollingerBands,
    stochastic: StochasticFast,
    atr_14: Atr,
    volume_sma_20: Sma,
}

/// One candle's indicator values; `None` during warm-up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct IndicatorValues {
    pub sma_20: Option<f64>,
    pub sma_50: Option<f64>,
    pub ema_12: Option<f64>,
    pub ema_26: Option<f64>,
    pub rsi_14: Option<f64>,
    pub macd: Option<f64>,
    pub macd_signal: Option<f64>,
    pub macd_hist: Option<f64>,
    pub bb_upper: Option<f64>,
    pub bb_middle: Option<f64>,
    pub bb_lower: Option<f64>,
    pub stoch_k: Option<f64>,
    pub stoch_d: Option<f64>,
    pub atr_14: Option<f64>,
    pub volume_ratio: Option<f64>,
}

impl IndicatorValues {
    /// The values in [`INDICATOR_NAMES`] order.
    pub fn as_array(&self) -> [Option<f64>; 15] {
        [
            self.sma_20,
            self.sma_50,
            self.ema_12,
            self.ema_26,
            self.rsi_14,
            self.macd,
            self.macd_signal,
            self.macd_hist,
            self.bb_upper,
            self.bb_middle,
            self.bb_lower,
            self.stoch_k,
            self.stoch_d,
            self.atr_14,
            self.volume_ratio,
        ]
    }
}

impl Default for IndicatorSet {
    fn default() -> Self {
        IndicatorSet {
            sma_20: Sma::new(20),
            sma_50: Sma::new(50),
            ema_12: Ema::new(12),
            ema_26: Ema::new(26),
            rsi_14: Rsi::new(14),
            macd: Macd::new(12, 26, 9),
            bollinger: BollingerBands::new(20, 2.0),
            stochastic: StochasticFast::new(14, 3),
            atr_14: Atr::new(14),
            volume_sma_20: Sma::new(20),
        }
    }
}

impl IndicatorSet {
    pub fn on_candle(&mut self, candle: &Candle) -> IndicatorValues {
        let (high, low, close) = (
            candle.high.to_f64(),
            candle.low.to_f64(),
            candle.close.to_f64(),
        );
        let volume = candle.volume.to_f64();
        let macd = self.macd.update(close);
        let bands = self.bollinger.update(close);
        let stochastic = self.stochastic.update(high, low, close);
        let volume_mean = self.volume_sma_20.update(volume);
        IndicatorValues {
            sma_20: self.sma_20.update(close),
            sma_50: self.sma_50.update(close),
            ema_12: self.ema_12.update(close),
            ema_26: self.ema_26.update(close),
            rsi_14: self.rsi_14.update(close),
            macd: macd.map(|value| value.macd),
            macd_signal: macd.map(|value| value.signal),
            macd_hist: macd.map(|value| value.histogram),
            bb_upper: bands.map(|value| value.upper),
            bb_middle: bands.map(|value| value.middle),
            bb_lower: bands.map(|value| value.lower),
            stoch_k: stochastic.map(|value| value.k),
            stoch_d: stochastic.map(|value| value.d),
            atr_14: self.atr_14.update(high, low, close),
            volume_ratio: volume_mean
                .filter(|mean| *mean > 0.0)
                .map(|mean| volume / mean),
        }
    }
}

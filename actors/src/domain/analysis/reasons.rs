//! Why a signal has its confidence: each indicator that agrees with the signal's direction.
//! Kept as data and worded only when shown, since signals are re-evaluated on every candle.

use super::{Direction, Pattern, PatternKind};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum SignalReason {
    CloseBeyondSma20,
    Sma20BeyondSma50,
    RsiBeyond { rsi: f64, bound: f64 },
    MacdBeyondSignal,
    BollingerBandTouched,
    VolumeAboveMean { ratio: f64 },
}

impl SignalReason {
    /// The reason in words, for a signal of `direction`.
    pub fn describe(&self, direction: Direction) -> String {
        let bullish = direction == Direction::Bullish;
        let (above, below) = if bullish {
            ("above", "below")
        } else {
            ("below", "above")
        };
        match self {
            SignalReason::CloseBeyondSma20 => format!("close {above} SMA20"),
            SignalReason::Sma20BeyondSma50 => format!("SMA20 {above} SMA50"),
            SignalReason::RsiBeyond { rsi, bound } => format!("RSI {rsi:.1} {below} {bound}"),
            SignalReason::MacdBeyondSignal => format!("MACD {above} its signal line"),
            SignalReason::BollingerBandTouched => {
                let band = if bullish { "lower" } else { "upper" };
                format!("price touched the {band} Bollinger band")
            }
            SignalReason::VolumeAboveMean { ratio } => {
                format!("volume {ratio:.2}x its 20-candle mean")
            }
        }
    }
}

/// "bullish on 3 of 5 timeframes: 5m fair value gap, 1h order block, 4h liquidity sweep".
pub fn describe_alignment(direction: Direction, patterns: &[Pattern], of: usize) -> String {
    let names: Vec<String> = patterns
        .iter()
        .map(|pattern| {
            let kind = match pattern.kind {
                PatternKind::FairValueGap => "fair value gap",
                PatternKind::OrderBlock => "order block",
                PatternKind::LiquiditySweep => "liquidity sweep",
            };
            format!("{} {kind}", pattern.timeframe)
        })
        .collect();
    let direction = match direction {
        Direction::Bullish => "bullish",
        Direction::Bearish => "bearish",
    };
    format!(
        "{direction} on {} of {of} timeframes: {}",
        patterns.len(),
        names.join(", ")
    )
}

//! JSON shapes of analysis results, shared by the API and `cryptolens analyze`. Prices and
//! levels are exact decimal strings; times are Unix milliseconds; indicators are numbers,
//! null during warm-up.

use cryptolens_actors::domain::analysis::indicators::{IndicatorValues, INDICATOR_NAMES};
use cryptolens_actors::domain::analysis::{
    Direction, Pattern, PatternKind, PatternStatus, Signal, SignalStatus, TradingLevels,
};
use cryptolens_actors::domain::market::{Candle, Symbol, Timeframe};
use serde::Serialize;
use serde_json::{Map, Value};

/// Prices and volume as exact decimal strings.
#[derive(Serialize)]
pub struct CandleJson {
    pub t: i64,
    pub o: String,
    pub h: String,
    pub l: String,
    pub c: String,
    pub v: String,
    pub closed: bool,
}

impl CandleJson {
    pub fn new(candle: &Candle, closed: bool) -> CandleJson {
        CandleJson {
            t: candle.open_time_ms,
            o: candle.open.to_string(),
            h: candle.high.to_string(),
            l: candle.low.to_string(),
            c: candle.close.to_string(),
            v: candle.volume.to_string(),
            closed,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct LevelsJson {
    pub entry: String,
    pub stop: String,
    pub targets: [String; 3],
    pub risk_reward: String,
}

impl LevelsJson {
    pub fn new(levels: &TradingLevels) -> LevelsJson {
        LevelsJson {
            entry: levels.entry.to_string(),
            stop: levels.stop.to_string(),
            targets: levels.targets.map(|target| target.to_string()),
            risk_reward: levels.risk_reward.to_string(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct PatternJson {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbol: Option<Symbol>,
    pub timeframe: Timeframe,
    pub kind: PatternKind,
    pub direction: Direction,
    pub anchor_at: i64,
    pub formed_at: i64,
    pub top: String,
    pub bottom: String,
    pub status: PatternStatus,
    pub touched_at: Option<i64>,
    pub filled_at: Option<i64>,
    pub invalidated_at: Option<i64>,
    pub expired_at: Option<i64>,
    pub levels: Option<LevelsJson>,
}

impl PatternJson {
    pub fn new(pattern: &Pattern, symbol: Option<&Symbol>) -> PatternJson {
        let lifecycle = &pattern.lifecycle;
        PatternJson {
            id: pattern.key().to_string(),
            symbol: symbol.cloned(),
            timeframe: pattern.timeframe,
            kind: pattern.kind,
            direction: pattern.direction,
            anchor_at: pattern.anchor_at_ms,
            formed_at: pattern.formed_at_ms,
            top: pattern.zone.top.to_string(),
            bottom: pattern.zone.bottom.to_string(),
            status: lifecycle.status,
            touched_at: lifecycle.touched_at_ms,
            filled_at: lifecycle.filled_at_ms,
            invalidated_at: lifecycle.invalidated_at_ms,
            expired_at: lifecycle.expired_at_ms,
            levels: pattern.levels.as_ref().map(LevelsJson::new),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct SignalJson {
    pub id: String,
    pub symbol: Symbol,
    pub direction: Direction,
    pub status: SignalStatus,
    pub created_at: i64,
    pub updated_at: i64,
    pub ended_at: Option<i64>,
    pub confluence: usize,
    pub timeframes_with_data: usize,
    pub aligned_timeframes: Vec<Timeframe>,
    pub confidence: f64,
    pub reasons: Vec<String>,
    pub entry_timeframe: Timeframe,
    pub levels: Option<LevelsJson>,
    pub patterns: Vec<PatternJson>,
    /// No fresh candle confirms this signal: the symbol's exchange feed is stale, or its
    /// newest candle is older than the live window (history, not a setup to take now).
    pub stale: bool,
    /// How signals of its kind did in the past (`[learned_scores]`, opt-in).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<cryptolens_actors::domain::backtest::history::SignalHistory>,
    /// Each target's reward in R after a round trip's costs (`[analysis.levels]`
    /// round_trip_cost), to two decimals; in the API only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r_after_costs: Option<[f64; 3]>,
    /// The calibrated probability of target 1 before the stop for its kind and confidence
    /// (`config/calibration.json`), with the trades behind it; in the API only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probability: Option<cryptolens_actors::domain::study::calibration::Calibrated>,
}

impl SignalJson {
    pub fn new(signal: &Signal) -> SignalJson {
        SignalJson {
            id: signal.id(),
            symbol: signal.symbol.clone(),
            direction: signal.direction,
            status: signal.status,
            created_at: signal.created_at_ms,
            updated_at: signal.updated_at_ms,
            ended_at: signal.ended_at_ms,
            confluence: signal.confluence,
            timeframes_with_data: signal.timeframes_with_data,
            aligned_timeframes: signal.aligned_timeframes.clone(),
            confidence: signal.confidence,
            reasons: signal.reason_texts(),
            entry_timeframe: signal.entry_timeframe,
            levels: signal.levels.as_ref().map(LevelsJson::new),
            patterns: signal
                .patterns
                .iter()
                .map(|pattern| PatternJson::new(pattern, None))
                .collect(),
            stale: false,
            history: None,
            r_after_costs: None,
            probability: None,
        }
    }
}

/// `{"sma_20": x|null, ...}` in [`INDICATOR_NAMES`] order.
pub fn indicators_json(values: &IndicatorValues) -> Map<String, Value> {
    INDICATOR_NAMES
        .iter()
        .zip(values.as_array())
        .map(|(name, value)| ((*name).to_owned(), number_or_null(value)))
        .collect()
}

pub fn number_or_null(value: Option<f64>) -> Value {
    value
        .and_then(serde_json::Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

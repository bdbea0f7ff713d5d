//! Strategies as data: which signals to take, how to enter, how much, how to get out and
//! what it costs. Read from TOML (examples in `config/strategies/`); every field has a
//! default except the name, so a file says only what it changes. Checked whole by
//! [`StrategySpec::validate`] before a run, each problem named by its field.

use super::BacktestError;
use crate::domain::analysis::indicators::INDICATOR_NAMES;
use crate::domain::analysis::{Direction, PatternKind};
use crate::domain::market::Timeframe;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategySpec {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub entry: EntryRules,
    #[serde(default)]
    pub sizing: SizingRules,
    #[serde(default)]
    pub exits: ExitSpec,
    #[serde(default)]
    pub costs: Costs,
}

/// Which new signals are taken. An empty list allows every value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EntryRules {
    pub directions: Vec<Direction>,
    /// The signal's entry timeframe.
    pub timeframes: Vec<Timeframe>,
    /// The kind of the signal's pattern on its entry timeframe.
    pub pattern_kinds: Vec<PatternKind>,
    pub min_confluence: usize,
    /// The signal's confidence, in [0, 1].
    pub min_score: f64,
    /// The levels' reward of the last target over the risk.
    pub min_risk_reward: Decimal,
    pub order: OrderType,
    /// A pending order not filled within this many entry-timeframe bars expires.
    pub expiry_bars: u32,
    /// Conditions on the entry timeframe's indicators when the signal is emitted.
    pub indicators: Vec<IndicatorCondition>,
}

impl Default for EntryRules {
    fn default() -> EntryRules {
        EntryRules {
            directions: Vec::new(),
            timeframes: Vec::new(),
            pattern_kinds: Vec::new(),
            min_confluence: 0,
            min_score: 0.0,
            min_risk_reward: Decimal::ZERO,
            order: OrderType::Pending,
            expiry_bars: 12,
            indicators: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderType {
    /// Rests at the levels' entry price (a limit, or a stop-entry beyond the market).
    Pending,
    /// Fills at the next bar's open.
    Market,
}

/// `name` above `above` and/or below `below`; an indicator still warming up fails it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorCondition {
    pub name: String,
    #[serde(default)]
    pub above: Option<f64>,
    #[serde(default)]
    pub below: Option<f64>,
}

/// Risk-based sizing with the live caps (see `ledger/sizing.rs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SizingRules {
    /// Percent of equity lost if the stop fills.
    pub risk_pct: Decimal,
    pub max_open_positions: Option<u32>,
    pub max_position_notional: Option<Decimal>,
}

impl Default for SizingRules {
    fn default() -> SizingRules {
        SizingRules {
            risk_pct: Decimal::ONE,
            max_open_positions: Some(1),
            max_position_notional: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExitSpec {
    /// How many of the levels' three targets are used (1 to 3); each closes its share.
    pub targets: usize,
    /// The stop trails the best price by this percent.
    pub trailing_pct: Option<Decimal>,
    pub break_even_after_target: bool,
    /// Whatever is still open after this many entry-timeframe bars closes at market.
    pub time_stop_bars: Option<u32>,
}

impl Default for ExitSpec {
    fn default() -> ExitSpec {
        ExitSpec {
            targets: 3,
            trailing_pct: None,
            break_even_after_target: false,
            time_stop_bars: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Costs {
    /// Per side, on notional.
    pub fee_rate: Decimal,
    pub slippage_bps: u32,
}

impl Default for Costs {
    fn default() -> Costs {
        Costs {
            fee_rate: Decimal::new(1, 3),
            slippage_bps: 0,
        }
    }
}

impl StrategySpec {
    /// Every rule checked; the first problem named by its dotted field.
    pub fn validate(&self) -> Result<(), BacktestError> {
        let fail = |field: &'static str, message: &str| Err(BacktestError::setting(field, message));
        if self.name.trim().is_empty() || self.name.len() > 80 {
            return fail("name", "1 to 80 characters");
        }
        if !(0.0..=1.0).contains(&self.entry.min_score) {
            return fail("entry.min_score", "a confidence from 0 to 1");
        }
        if self.entry.min_risk_reward < Decimal::ZERO {
            return fail("entry.min_risk_reward", "at least 0");
        }
        if self.entry.expiry_bars == 0 || self.entry.expiry_bars > 10_000 {
            return fail("entry.expiry_bars", "from 1 to 10000 bars");
        }
        for condition in &self.entry.indicators {
            if !INDICATOR_NAMES.contains(&condition.name.as_str()) {
                let known = INDICATOR_NAMES.join(", ");
                return Err(BacktestError::setting(
                    "entry.indicators.name",
                    format!("unknown indicator {:?}; known: {known}", condition.name),
                ));
            }
            if condition.above.is_none() && condition.below.is_none() {
                return fail(
                    "entry.indicators",
                    "each condition needs above and/or below",
                );
            }
        }
        if self.sizing.risk_pct <= Decimal::ZERO || self.sizing.risk_pct > Decimal::from(100) {
            return fail("sizing.risk_pct", "a percent above 0, at most 100");
        }
        if !(1..=3).contains(&self.exits.targets) {
            return fail("exits.targets", "1, 2 or 3 of the levels' targets");
        }
        if let Some(trailing) = self.exits.trailing_pct {
            if trailing <= Decimal::ZERO || trailing >= Decimal::from(100) {
                return fail("exits.trailing_pct", "a percent between 0 and 100");
            }
        }
        if self.exits.time_stop_bars == Some(0) {
            return fail("exits.time_stop_bars", "at least 1 bar");
        }
        if self.costs.fee_rate < Decimal::ZERO || self.costs.fee_rate >= Decimal::new(1, 1) {
            return fail("costs.fee_rate", "a fraction from 0 to below 0.1 (10%)");
        }
        if self.costs.slippage_bps > crate::domain::ledger::SLIPPAGE_BPS_MAX {
            return fail("costs.slippage_bps", "at most 1000 basis points");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> StrategySpec {
        StrategySpec {
            name: "test".into(),
            description: String::new(),
            entry: EntryRules::default(),
            sizing: SizingRules::default(),
            exits: ExitSpec::default(),
            costs: Costs::default(),
        }
    }

    #[test]
    fn defaults_are_valid_and_each_bad_field_is_named() {
        assert_eq!(spec().validate(), Ok(()));
        type Breakage = Box<dyn Fn(&mut StrategySpec)>;
        let cases: Vec<(&str, Breakage)> = vec![
            ("name", Box::new(|s| s.name = " ".into())),
            ("entry.min_score", Box::new(|s| s.entry.min_score = 1.5)),
            ("entry.expiry_bars", Box::new(|s| s.entry.expiry_bars = 0)),
            (
                "sizing.risk_pct",
                Box::new(|s| s.sizing.risk_pct = Decimal::ZERO),
            ),
            ("exits.targets", Box::new(|s| s.exits.targets = 4)),
            (
                "exits.trailing_pct",
                Box::new(|s| s.exits.trailing_pct = Some(Decimal::from(100))),
            ),
            (
                "exits.time_stop_bars",
                Box::new(|s| s.exits.time_stop_bars = Some(0)),
            ),
            (
                "costs.fee_rate",
                Box::new(|s| s.costs.fee_rate = Decimal::ONE),
            ),
            (
                "costs.slippage_bps",
                Box::new(|s| s.costs.slippage_bps = 5_000),
            ),
            (
                "entry.indicators.name",
                Box::new(|s| {
                    s.entry.indicators.push(IndicatorCondition {
                        name: "rsi_7".into(),
                        above: Some(1.0),
                        below: None,
                    })
                }),
            ),
        ];
        for (field, break_it) in cases {
            let mut broken = spec();
            break_it(&mut broken);
            match broken.validate() {
                Err(BacktestError::Setting { field: named, .. }) => assert_eq!(named, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }
}

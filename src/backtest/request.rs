//! A backtest asked for over HTTP (`POST /api/backtests`): the symbol's stored candles, a
//! strategy by name (`sma-cross` or one of the examples in `config/strategies/`, built
//! in) or given whole as `spec`, and the same options as the command line.

use super::plan::{read_strategy_text, Choice, Plan, SMA_CROSS};
use super::BacktestCliError;
use cryptolens_actors::domain::analysis::AnalysisSettings;
use cryptolens_actors::domain::backtest::{spec_account, Account, StrategySpec};
use cryptolens_actors::domain::market::{Symbol, Timeframe};
use cryptolens_actors::domain::money::Money;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The example strategies, built into the server (the files stay the documentation).
pub const BUILT_IN: [(&str, &str); 3] = [
    (
        "order-block-pullback",
        include_str!("../../config/strategies/order-block-pullback.toml"),
    ),
    (
        "momentum-market",
        include_str!("../../config/strategies/momentum-market.toml"),
    ),
    (
        "fvg-longs",
        include_str!("../../config/strategies/fvg-longs.toml"),
    ),
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BacktestRequest {
    pub symbol: String,
    /// `sma-cross` (the default) or a built-in strategy's name; ignored with `spec`.
    #[serde(default)]
    pub strategy: Option<String>,
    /// A whole strategy, as a strategy file's fields.
    #[serde(default)]
    pub spec: Option<StrategySpec>,
    #[serde(default)]
    pub fast: Option<usize>,
    #[serde(default)]
    pub slow: Option<usize>,
    /// Decimal text; default 10000.
    #[serde(default)]
    pub cash: Option<String>,
    /// Fee per side, decimal text; sma-cross's default 0, a strategy's own otherwise.
    #[serde(default)]
    pub commission: Option<String>,
    /// sma-cross: trade bars of this timeframe, aggregated from the symbol's base candles.
    #[serde(default)]
    pub bar_timeframe: Option<String>,
}

impl BacktestRequest {
    /// The run this asks for on `symbol` (whose base timeframe is `base`). Errors name the
    /// request's field (`--flag` spelled as `flag`).
    pub fn plan(
        &self,
        base: Timeframe,
        settings: Arc<AnalysisSettings>,
    ) -> Result<Plan, BacktestCliError> {
        let symbol = Symbol::parse(&self.symbol)
            .map_err(|e| BacktestCliError::argument("symbol", e.to_string()))?;
        let cash = Money::new(
            super::plan::decimal("cash", self.cash.as_deref())?.unwrap_or(Decimal::from(10_000)),
        );
        if !cash.is_positive() {
            return Err(BacktestCliError::argument("cash", "more than 0"));
        }
        let commission = super::plan::decimal("commission", self.commission.as_deref())?;
        let bar_timeframe = match &self.bar_timeframe {
            Some(text) => super::plan::timeframe("bar_timeframe", text)?,
            None => base,
        };
        if bar_timeframe < base {
            return Err(BacktestCliError::argument(
                "bar_timeframe",
                "at least the symbol's base timeframe",
            ));
        }
        let (choice, account) = self.choice(cash, commission)?;
        if bar_timeframe != base && !matches!(choice, Choice::SmaCross { .. }) {
            return Err(BacktestCliError::argument(
                "bar_timeframe",
                "only for sma-cross",
            ));
        }
        Ok(Plan {
            symbol,
            file_timeframe: base,
            bar_timeframe,
            choice,
            account,
            from_ms: None,
            to_ms: None,
            settings,
        })
    }

    fn choice(
        &self,
        cash: Money,
        commission: Option<Decimal>,
    ) -> Result<(Choice, Account), BacktestCliError> {
        let mut spec = match (&self.spec, self.strategy.as_deref()) {
            (Some(spec), _) => spec.clone(),
            (None, None) | (None, Some(SMA_CROSS)) => return self.sma_cross(cash, commission),
            (None, Some(name)) => built_in(name)?,
        };
        if self.fast.is_some() || self.slow.is_some() {
            return Err(BacktestCliError::argument(
                "fast",
                "fast and slow are sma-cross's",
            ));
        }
        if let Some(rate) = commission {
            spec.costs.fee_rate = rate;
        }
        spec.validate()
            .map_err(|e| BacktestCliError::argument("spec", e.to_string()))?;
        let account = spec_account(&spec, cash)?;
        Ok((Choice::Spec(Box::new(spec)), account))
    }

    fn sma_cross(
        &self,
        cash: Money,
        commission: Option<Decimal>,
    ) -> Result<(Choice, Account), BacktestCliError> {
        super::plan::sma_cross_choice(self.fast, self.slow, cash, commission)
    }
}

pub fn built_in(name: &str) -> Result<StrategySpec, BacktestCliError> {
    let text = BUILT_IN
        .iter()
        .find(|(known, _)| *known == name)
        .map(|(_, text)| *text)
        .ok_or_else(|| {
            let names: Vec<&str> = BUILT_IN.iter().map(|(known, _)| *known).collect();
            BacktestCliError::argument(
                "strategy",
                format!(
                    "unknown strategy {name:?}; known: {SMA_CROSS}, {}",
                    names.join(", ")
                ),
            )
        })?;
    read_strategy_text(text).map_err(|message| BacktestCliError::argument("strategy", message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_strategy_reads_and_validates() {
        for (name, _) in BUILT_IN {
            let spec = built_in(name).expect(name);
            assert_eq!(spec.name, name);
            assert_eq!(spec.validate(), Ok(()));
        }
    }
}

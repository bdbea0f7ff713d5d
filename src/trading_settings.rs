//! `[trading]`: how paper orders fill. Market orders fill at the last price moved against
//! the trader by `slippage_bps`; quantities are multiples of the symbol's step.

use cryptolens_actors::domain::ledger::SLIPPAGE_BPS_MAX;
use cryptolens_actors::domain::market::Symbol;
use cryptolens_actors::domain::money::{Quantity, DECIMALS_MAX};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TradingSettings {
    pub slippage_bps: u32,
    /// The quantity step of symbols not listed in `quantity_steps`.
    #[serde(with = "rust_decimal::serde::str")]
    pub quantity_step_default: Decimal,
    /// Symbol -> quantity step, e.g. BTCUSDT = "0.00001".
    #[serde(default)]
    pub quantity_steps: BTreeMap<String, Decimal>,
}

impl Default for TradingSettings {
    fn default() -> TradingSettings {
        TradingSettings {
            slippage_bps: 0,
            quantity_step_default: Decimal::new(1, DECIMALS_MAX),
            quantity_steps: BTreeMap::new(),
        }
    }
}

impl TradingSettings {
    /// Every step positive with at most 8 places, slippage within its bound.
    pub fn validate(&self) -> Result<(), String> {
        if self.slippage_bps > SLIPPAGE_BPS_MAX {
            return Err(format!(
                "trading.slippage_bps must be at most {SLIPPAGE_BPS_MAX}"
            ));
        }
        let steps = std::iter::once(("quantity_step_default", &self.quantity_step_default))
            .chain(self.quantity_steps.iter().map(|(k, v)| (k.as_str(), v)));
        for (name, step) in steps {
            if Quantity::new_checked(*step).is_err() || *step <= Decimal::ZERO {
                return Err(format!(
                    "trading.{name} must be a positive quantity with at most {DECIMALS_MAX} decimals"
                ));
            }
        }
        Ok(())
    }

    /// The quantity step of `symbol`: as configured, else the exchange's lot step when the
    /// symbol is followed from one (`exchange_step`), else the default.
    pub fn quantity_step(&self, symbol: &Symbol, exchange_step: Option<Decimal>) -> Quantity {
        let configured = self.quantity_steps.get(symbol.as_str()).copied();
        let from_exchange = exchange_step
            .and_then(|step| Quantity::new_checked(step).ok())
            .filter(|step| !step.is_zero());
        match (configured, from_exchange) {
            (None, Some(step)) => step,
            // `validate` checked every configured step at load, so this is never zero.
            _ => Quantity::new_checked(configured.unwrap_or(self.quantity_step_default))
                .unwrap_or(Quantity::ZERO),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_and_slippage_are_checked() {
        let mut settings = TradingSettings::default();
        assert!(settings.validate().is_ok());
        settings
            .quantity_steps
            .insert("BTCUSDT".into(), Decimal::new(1, 5));
        let btc = Symbol::parse("BTCUSDT").unwrap();
        let eth = Symbol::parse("ETHUSDT").unwrap();
        assert_eq!(settings.quantity_step(&btc, None).get(), Decimal::new(1, 5));
        assert_eq!(settings.quantity_step(&eth, None).get(), Decimal::new(1, 8));
        let lot = Some(Decimal::new(1, 4));
        assert_eq!(
            settings.quantity_step(&eth, lot).get(),
            Decimal::new(1, 4),
            "the exchange's lot"
        );
        assert_eq!(
            settings.quantity_step(&btc, lot).get(),
            Decimal::new(1, 5),
            "configured wins"
        );
        let unusable = Some(Decimal::new(1, 12));
        assert_eq!(
            settings.quantity_step(&eth, unusable).get(),
            Decimal::new(1, 8)
        );
        settings
            .quantity_steps
            .insert("ETHUSDT".into(), Decimal::new(1, 9));
        assert!(settings.validate().unwrap_err().contains("ETHUSDT"));
        let slippery = TradingSettings {
            slippage_bps: SLIPPAGE_BPS_MAX + 1,
            ..TradingSettings::default()
        };
        assert!(slippery.validate().unwrap_err().contains("slippage_bps"));
    }
}

//! Position sizing by risk: how much to buy or sell at an entry with a stop.
//!
//! Rule: the quantity loses `risk_percent` of equity if the stop is hit,
//! `equity x risk_percent / 100 / |entry - stop|`, capped at what the cash buys with the fee
//! included, `cash / (entry x (1 + fee_rate))`, because paper trades are unleveraged; then
//! rounded down to `DECIMALS_MAX` places (never more than the cap). Every step is checked
//! arithmetic: overflow and a zero entry-stop distance are error values, never a panic.

use super::{analytics, check_amount, LedgerError, Portfolio, DECIMALS_MAX};
use crate::domain::money::{FeeRate, Money, MoneyError, Price, Quantity};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

const HUNDRED: Decimal = Decimal::from_parts(100, 0, 0, false, 0);

/// What sizing by risk decided, for the response: the quantity the risk alone gives, the
/// quantity placed, and the cap that cut it down, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SizingNote {
    #[serde(with = "rust_decimal::serde::str")]
    pub risk_percent: Decimal,
    pub by_risk: Quantity,
    pub quantity: Quantity,
    pub cap: Option<SizingCap>,
}

/// The limit that made a risk-sized quantity smaller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SizingCap {
    MaxPositionNotional,
    AvailableCash,
}

/// A share of equity to risk on one trade, in percent: in (0, 100].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RiskPercent(Decimal);

impl RiskPercent {
    /// What a trade risks when the request does not say: 1% of equity.
    pub const DEFAULT: RiskPercent = RiskPercent(Decimal::ONE);

    pub fn new(percent: Decimal) -> Result<RiskPercent, LedgerError> {
        if percent <= Decimal::ZERO || percent > HUNDRED {
            return Err(LedgerError::invalid("risk_percent", "must be in (0, 100]"));
        }
        Ok(RiskPercent(percent))
    }

    /// The given percent, or [`RiskPercent::DEFAULT`] when absent.
    pub fn or_default(percent: Option<Decimal>) -> Result<RiskPercent, LedgerError> {
        percent.map_or(Ok(RiskPercent::DEFAULT), RiskPercent::new)
    }

    pub fn percent(self) -> Decimal {
        self.0
    }
}

/// The quantity that risks `risk` of `equity` between `entry` and `stop`, capped at what
/// `cash` buys at `entry` with `fee_rate` on top.
pub fn risk_sized_quantity(
    equity: Money,
    cash: Money,
    fee_rate: FeeRate,
    entry: Price,
    stop: Price,
    risk: RiskPercent,
) -> Result<Quantity, LedgerError> {
    let overflow = || LedgerError::Overflow(MoneyError::Overflow);
    let (equity, cash, fee_rate) = (equity.get(), cash.get(), fee_rate.get());
    let entry = entry.get();
    let risk_per_unit = entry.checked_sub(stop.get()).ok_or_else(overflow)?.abs();
    if risk_per_unit.is_zero() {
        return Err(LedgerError::invalid(
            "stop_loss",
            "the stop equals the entry: there is no risk to size by",
        ));
    }
    let by_risk = equity
        .checked_mul(risk.percent())
        .and_then(|amount| amount.checked_div(HUNDRED))
        .and_then(|amount| amount.checked_div(risk_per_unit))
        .ok_or_else(overflow)?;
    let unit_cost = Decimal::ONE
        .checked_add(fee_rate)
        .and_then(|rate| entry.checked_mul(rate))
        .ok_or_else(overflow)?;
    let affordable = cash.checked_div(unit_cost).ok_or_else(|| {
        LedgerError::invalid("price", "the entry must be greater than 0 to size by cash")
    })?;
    let quantity = by_risk
        .min(affordable)
        .round_dp_with_strategy(DECIMALS_MAX, RoundingStrategy::ToZero);
    // Negative equity (a short deep under water) sizes below zero: refused as the ledger
    // refuses any such quantity, naming the field.
    check_amount("quantity", quantity)?;
    Quantity::new_checked(quantity)
        .map_err(|error| LedgerError::invalid("quantity", error.to_string()))
}

impl Portfolio {
    /// [`risk_sized_quantity`] for this portfolio: its equity at `marks` (open positions at
    /// cost where a symbol has no mark), its cash and its fee rate.
    pub fn risk_sized_quantity(
        &self,
        marks: &HashMap<String, Price>,
        now_ms: i64,
        entry: Price,
        stop: Price,
        risk: RiskPercent,
    ) -> Result<Quantity, LedgerError> {
        let equity = analytics::stats(self, marks, now_ms)?.equity;
        risk_sized_quantity(equity, self.cash(), self.spec().fee_rate, entry, stop, risk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ledger::test_spec;

    use crate::domain::money::test_values::{dec, money, price, quantity};

    fn rate(text: &str) -> FeeRate {
        FeeRate::new_checked(dec(text)).unwrap()
    }

    fn huge_price() -> Price {
        Price::new_checked(crate::domain::money::PRICE_MAX).unwrap()
    }

    fn percent(text: &str) -> RiskPercent {
        RiskPercent::new(dec(text)).unwrap()
    }

    #[test]
    fn the_quantity_loses_the_risk_share_of_equity_at_the_stop() {
        // 1% of 10000 is 100; 5 per unit between 100 and 95: 20 units.
        let sized = risk_sized_quantity(
            money("10000"),
            money("10000"),
            FeeRate::ZERO,
            price("100"),
            price("95"),
            RiskPercent::DEFAULT,
        );
        assert_eq!(sized, Ok(quantity("20")));
        let short = risk_sized_quantity(
            money("10000"),
            money("10000"),
            FeeRate::ZERO,
            price("100"),
            price("104"),
            percent("2"),
        );
        assert_eq!(short, Ok(quantity("50")), "200 at risk over 4 per unit");
    }

    #[test]
    fn the_cash_caps_the_quantity_fee_included() {
        // 50% of 10000 over 1 per unit is 5000 units; 1000 cash buys 1000 / 10.1 of them.
        let sized = risk_sized_quantity(
            money("10000"),
            money("1000"),
            rate("0.01"),
            price("10"),
            price("9"),
            percent("50"),
        );
        assert_eq!(
            sized,
            Ok(quantity("99.00990099")),
            "rounded down to 8 places"
        );
        let without_fee = risk_sized_quantity(
            money("10000"),
            money("1000"),
            FeeRate::ZERO,
            price("10"),
            price("9"),
            percent("50"),
        );
        assert_eq!(without_fee, Ok(quantity("100")));
    }

    #[test]
    fn quantities_round_down_to_eight_places() {
        let sized = risk_sized_quantity(
            money("100"),
            money("100"),
            FeeRate::ZERO,
            price("10"),
            price("7"),
            RiskPercent::DEFAULT,
        );
        assert_eq!(sized, Ok(quantity("0.33333333")));
    }

    #[test]
    fn a_zero_stop_distance_is_an_error_not_a_division_by_zero() {
        let sized = risk_sized_quantity(
            money("100"),
            money("100"),
            FeeRate::ZERO,
            price("10"),
            price("10"),
            RiskPercent::DEFAULT,
        );
        assert!(matches!(
            sized,
            Err(LedgerError::Invalid {
                field: "stop_loss",
                ..
            })
        ));
        let free = risk_sized_quantity(
            money("100"),
            money("100"),
            FeeRate::ZERO,
            Price::ZERO,
            price("1"),
            RiskPercent::DEFAULT,
        );
        assert!(matches!(
            free,
            Err(LedgerError::Invalid { field: "price", .. })
        ));
    }

    #[test]
    fn overflow_is_an_error_value() {
        let sized = risk_sized_quantity(
            Money::new(Decimal::MAX),
            Money::new(Decimal::MAX),
            FeeRate::ZERO,
            price("0.0000001"),
            price("0.00000005"),
            percent("100"),
        );
        assert_eq!(sized, Err(LedgerError::Overflow(MoneyError::Overflow)));
        let distance = risk_sized_quantity(
            money("1"),
            money("1"),
            FeeRate::ZERO,
            huge_price(),
            Price::ZERO.checked_sub(huge_price()).unwrap(),
            RiskPercent::DEFAULT,
        );
        assert!(
            matches!(
                distance,
                Err(LedgerError::Invalid {
                    field: "quantity",
                    ..
                })
            ),
            "prices are bounded, so the widest distance sizes to nothing, refused: {distance:?}"
        );
    }

    #[test]
    fn negative_equity_sizes_to_a_refused_quantity_not_an_overflow() {
        let sized = risk_sized_quantity(
            money("-500"),
            money("100"),
            FeeRate::ZERO,
            price("10"),
            price("9"),
            RiskPercent::DEFAULT,
        );
        assert_eq!(
            sized,
            Err(LedgerError::invalid(
                "quantity",
                "must be greater than 0, got -5"
            ))
        );
    }

    #[test]
    fn the_risk_percent_must_be_in_zero_to_a_hundred() {
        for bad in ["0", "-1", "100.0001"] {
            assert!(
                matches!(
                    RiskPercent::new(dec(bad)),
                    Err(LedgerError::Invalid {
                        field: "risk_percent",
                        ..
                    })
                ),
                "{bad}"
            );
        }
        assert_eq!(percent("100").percent(), dec("100"));
        assert_eq!(RiskPercent::or_default(None), Ok(RiskPercent::DEFAULT));
        assert_eq!(RiskPercent::or_default(Some(dec("2"))), Ok(percent("2")));
        assert!(RiskPercent::or_default(Some(dec("0"))).is_err());
    }

    #[test]
    fn a_portfolio_sizes_by_its_equity_cash_and_fee() {
        let portfolio = Portfolio::create(test_spec("1000", dec("0.001"))).unwrap();
        let sized = portfolio.risk_sized_quantity(
            &HashMap::new(),
            0,
            price("100"),
            price("90"),
            RiskPercent::DEFAULT,
        );
        assert_eq!(sized, Ok(quantity("1")), "10 at risk over 10 per unit");
    }
}

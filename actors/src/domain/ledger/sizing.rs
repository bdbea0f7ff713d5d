//! Position sizing by risk: how much to buy or sell at an entry with a stop.
//!
//! Rule: the quantity loses `risk_percent` of equity if the stop is hit,
//! `equity x risk_percent / 100 / |entry - stop|`, capped at what the cash buys with the fee
//! included, `cash / (entry x (1 + fee_rate))`, because paper trades are unleveraged; then
//! rounded down to `DECIMALS_MAX` places (never more than the cap). Every step is checked
//! arithmetic: overflow and a zero entry-stop distance are error values, never a panic.

use super::{analytics, LedgerError, Portfolio, DECIMALS_MAX};
use rust_decimal::{Decimal, RoundingStrategy};
use std::collections::HashMap;

const HUNDRED: Decimal = Decimal::from_parts(100, 0, 0, false, 0);

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
    equity: Decimal,
    cash: Decimal,
    fee_rate: Decimal,
    entry: Decimal,
    stop: Decimal,
    risk: RiskPercent,
) -> Result<Decimal, LedgerError> {
    let risk_per_unit = entry.checked_sub(stop).ok_or(LedgerError::Overflow)?.abs();
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
        .ok_or(LedgerError::Overflow)?;
    let unit_cost = Decimal::ONE
        .checked_add(fee_rate)
        .and_then(|rate| entry.checked_mul(rate))
        .ok_or(LedgerError::Overflow)?;
    let affordable = cash.checked_div(unit_cost).ok_or_else(|| {
        LedgerError::invalid("price", "the entry must be greater than 0 to size by cash")
    })?;
    Ok(by_risk
        .min(affordable)
        .round_dp_with_strategy(DECIMALS_MAX, RoundingStrategy::ToZero))
}

impl Portfolio {
    /// [`risk_sized_quantity`] for this portfolio: its equity at `marks` (open positions at
    /// cost where a symbol has no mark), its cash and its fee rate.
    pub fn risk_sized_quantity(
        &self,
        marks: &HashMap<String, Decimal>,
        now_ms: i64,
        entry: Decimal,
        stop: Decimal,
        risk: RiskPercent,
    ) -> Result<Decimal, LedgerError> {
        let equity = analytics::stats(self, marks, now_ms).equity;
        risk_sized_quantity(equity, self.cash(), self.spec().fee_rate, entry, stop, risk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ledger::test_spec;

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn percent(text: &str) -> RiskPercent {
        RiskPercent::new(dec(text)).unwrap()
    }

    #[test]
    fn the_quantity_loses_the_risk_share_of_equity_at_the_stop() {
        // 1% of 10000 is 100; 5 per unit between 100 and 95: 20 units.
        let quantity = risk_sized_quantity(
            dec("10000"),
            dec("10000"),
            Decimal::ZERO,
            dec("100"),
            dec("95"),
            RiskPercent::DEFAULT,
        );
        assert_eq!(quantity, Ok(dec("20")));
        let short = risk_sized_quantity(
            dec("10000"),
            dec("10000"),
            Decimal::ZERO,
            dec("100"),
            dec("104"),
            percent("2"),
        );
        assert_eq!(short, Ok(dec("50")), "200 at risk over 4 per unit");
    }

    #[test]
    fn the_cash_caps_the_quantity_fee_included() {
        // 50% of 10000 over 1 per unit is 5000 units; 1000 cash buys 1000 / 10.1 of them.
        let quantity = risk_sized_quantity(
            dec("10000"),
            dec("1000"),
            dec("0.01"),
            dec("10"),
            dec("9"),
            percent("50"),
        );
        assert_eq!(quantity, Ok(dec("99.00990099")), "rounded down to 8 places");
        let without_fee = risk_sized_quantity(
            dec("10000"),
            dec("1000"),
            Decimal::ZERO,
            dec("10"),
            dec("9"),
            percent("50"),
        );
        assert_eq!(without_fee, Ok(dec("100")));
    }

    #[test]
    fn quantities_round_down_to_eight_places() {
        let quantity = risk_sized_quantity(
            dec("100"),
            dec("100"),
            Decimal::ZERO,
            dec("10"),
            dec("7"),
            RiskPercent::DEFAULT,
        );
        assert_eq!(quantity, Ok(dec("0.33333333")));
    }

    #[test]
    fn a_zero_stop_distance_is_an_error_not_a_division_by_zero() {
        let quantity = risk_sized_quantity(
            dec("100"),
            dec("100"),
            Decimal::ZERO,
            dec("10"),
            dec("10"),
            RiskPercent::DEFAULT,
        );
        assert!(matches!(
            quantity,
            Err(LedgerError::Invalid {
                field: "stop_loss",
                ..
            })
        ));
        let free = risk_sized_quantity(
            dec("100"),
            dec("100"),
            Decimal::ZERO,
            Decimal::ZERO,
            dec("1"),
            RiskPercent::DEFAULT,
        );
        assert!(matches!(
            free,
            Err(LedgerError::Invalid { field: "price", .. })
        ));
    }

    #[test]
    fn overflow_is_an_error_value() {
        let quantity = risk_sized_quantity(
            Decimal::MAX,
            Decimal::MAX,
            Decimal::ZERO,
            dec("0.0000001"),
            dec("0.00000005"),
            percent("100"),
        );
        assert_eq!(quantity, Err(LedgerError::Overflow));
        let distance = risk_sized_quantity(
            dec("1"),
            dec("1"),
            Decimal::ZERO,
            Decimal::MAX,
            Decimal::MIN,
            RiskPercent::DEFAULT,
        );
        assert_eq!(distance, Err(LedgerError::Overflow));
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
        let quantity = portfolio.risk_sized_quantity(
            &HashMap::new(),
            0,
            dec("100"),
            dec("90"),
            RiskPercent::DEFAULT,
        );
        assert_eq!(quantity, Ok(dec("1")), "10 at risk over 10 per unit");
    }
}

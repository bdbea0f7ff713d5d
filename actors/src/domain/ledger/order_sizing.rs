//! How much an order buys or sells: the quantity given (a multiple of the symbol's step), or
//! sized by risk and then capped.
//!
//! Rule for `Size::Risk`: `equity x risk_percent / 100 / |entry - stop|` (equity at the
//! marks, pending reservations included), then capped by `max_position_notional / entry`,
//! then by what the cash buys with the fee, `cash / (entry x (1 + fee_rate))` (paper trades
//! are unleveraged), then rounded down to the step. The note says which cap applied; only a
//! capped quantity that rounds to zero is refused.

use super::analytics::marked_equity;
use super::{
    LedgerError, OrderRequest, Portfolio, RiskPercent, Size, SizingCap, SizingNote, DECIMALS_MAX,
};
use crate::domain::money::{MoneyError, Price, Quantity};
use rust_decimal::{Decimal, RoundingStrategy};
use std::collections::HashMap;

const HUNDRED: Decimal = Decimal::ONE_HUNDRED;

impl Portfolio {
    /// The quantity `request` places at `price`, and how it was sized when by risk.
    pub(super) fn order_quantity(
        &self,
        request: &OrderRequest,
        price: Price,
    ) -> Result<(Quantity, Option<SizingNote>), LedgerError> {
        let step = request.quantity_step;
        let (percent, marks) = match &request.size {
            Size::Quantity(quantity) => {
                check_step(*quantity, step)?;
                return Ok((*quantity, None));
            }
            Size::Risk { percent, marks } => (*percent, marks),
        };
        let stop = request.stop_loss.ok_or_else(|| {
            LedgerError::invalid("stop_loss", "sizing by risk_percent needs a stop loss")
        })?;
        let risk = RiskPercent::new(percent)?;
        let marks: HashMap<String, Price> = marks.clone().into_iter().collect();
        let equity = marked_equity(self, &marks)?;
        let by_risk = risk_quantity(equity.get(), risk, price, stop)?;
        let (capped, cap) = self.capped(by_risk, price)?;
        let quantity = round_down_to(capped, step)?;
        let note = SizingNote {
            risk_percent: risk.percent(),
            by_risk: Quantity::new_checked(
                round_down_to(by_risk, Quantity::ZERO)?.min(quantity_max()),
            )
            .map_err(LedgerError::from)?,
            quantity: Quantity::new_checked(quantity).map_err(LedgerError::from)?,
            cap,
        };
        if note.quantity.is_zero() {
            let limit = match cap {
                Some(SizingCap::MaxPositionNotional) => "max_position_notional",
                Some(SizingCap::AvailableCash) => "available_cash",
                None => "risk_percent",
            };
            return Err(LedgerError::RiskLimit {
                limit,
                message: format!(
                    "the quantity sized by risk and capped by {limit} rounds down to zero at the step {step}"
                ),
            });
        }
        Ok((note.quantity, Some(note)))
    }

    /// `quantity` capped by the position limit and the cash, with the cap that cut it.
    fn capped(
        &self,
        quantity: Decimal,
        price: Price,
    ) -> Result<(Decimal, Option<SizingCap>), LedgerError> {
        let overflow = || LedgerError::Overflow(MoneyError::Overflow);
        let mut capped = (quantity, None);
        if let Some(max) = self.spec().limits.max_position_notional {
            let most = max.get().checked_div(price.get()).ok_or_else(overflow)?;
            if most < capped.0 {
                capped = (most, Some(SizingCap::MaxPositionNotional));
            }
        }
        let unit_cost = Decimal::ONE
            .checked_add(self.spec().fee_rate.get())
            .and_then(|rate| price.get().checked_mul(rate))
            .ok_or_else(overflow)?;
        let affordable = self
            .cash()
            .get()
            .checked_div(unit_cost)
            .ok_or_else(overflow)?;
        if affordable < capped.0 {
            capped = (affordable, Some(SizingCap::AvailableCash));
        }
        Ok(capped)
    }
}

fn quantity_max() -> Decimal {
    crate::domain::money::QUANTITY_MAX
}

/// The quantity losing `risk` of `equity` between `entry` and `stop`, unrounded; zero for
/// equity at or below zero.
fn risk_quantity(
    equity: Decimal,
    risk: RiskPercent,
    entry: Price,
    stop: Price,
) -> Result<Decimal, LedgerError> {
    let overflow = || LedgerError::Overflow(MoneyError::Overflow);
    let distance = entry
        .get()
        .checked_sub(stop.get())
        .ok_or_else(overflow)?
        .abs();
    if distance.is_zero() {
        return Err(LedgerError::invalid(
            "stop_loss",
            "the stop equals the entry: there is no risk to size by",
        ));
    }
    let quantity = equity
        .max(Decimal::ZERO)
        .checked_mul(risk.percent())
        .and_then(|amount| amount.checked_div(HUNDRED))
        .and_then(|amount| amount.checked_div(distance))
        .ok_or_else(overflow)?;
    Ok(quantity)
}

/// `quantity` rounded down to a whole multiple of `step` (to 8 places for a zero step).
fn round_down_to(quantity: Decimal, step: Quantity) -> Result<Decimal, LedgerError> {
    let eighths = quantity.round_dp_with_strategy(DECIMALS_MAX, RoundingStrategy::ToZero);
    if step.is_zero() {
        return Ok(eighths);
    }
    let steps = eighths
        .checked_div(step.get())
        .ok_or(LedgerError::Overflow(MoneyError::Overflow))?
        .floor();
    steps
        .checked_mul(step.get())
        .map(|value| value.normalize())
        .ok_or(LedgerError::Overflow(MoneyError::Overflow))
}

/// A given quantity must be a whole number of steps.
fn check_step(quantity: Quantity, step: Quantity) -> Result<(), LedgerError> {
    if step.is_zero() {
        return Ok(());
    }
    let whole = quantity
        .get()
        .checked_rem(step.get())
        .is_some_and(|rest| rest.is_zero());
    if !whole {
        return Err(LedgerError::invalid(
            "quantity",
            format!("must be a whole multiple of the symbol's step {step}"),
        ));
    }
    Ok(())
}

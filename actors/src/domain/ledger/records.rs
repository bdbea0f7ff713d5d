//! What a trade's record says about it, derived from its fills: the averages that survive
//! the close, the R multiple and the duration.

use super::{FillKind, Trade, TradeStatus};
use crate::domain::money::{MoneyError, Quantity, DECIMALS_MAX};
use rust_decimal::Decimal;

/// Decimal places of an R multiple.
const R_DECIMALS: u32 = 4;

impl Trade {
    /// Everything the entry and the adds filled.
    pub fn entered_quantity(&self) -> Result<Quantity, MoneyError> {
        self.fills
            .iter()
            .filter(|fill| fill.kind != FillKind::Exit)
            .try_fold(Quantity::ZERO, |total, fill| {
                total.checked_add(fill.quantity)
            })
    }

    /// Average price of the entry and the adds (rounded to 8 places), kept once the trade is
    /// closed; None before anything filled. Trades stored before fills were recorded fall
    /// back to the open quantity's cost.
    pub fn average_entry_price(&self) -> Option<Decimal> {
        let entries: Vec<_> = self
            .fills
            .iter()
            .filter(|fill| fill.kind != FillKind::Exit)
            .collect();
        if entries.is_empty() {
            return self.cost_basis.per_unit(self.quantity).ok();
        }
        let quantity = self.entered_quantity().ok()?;
        let notional = entries.iter().try_fold(Decimal::ZERO, |total, fill| {
            total.checked_add(fill.quantity.get().checked_mul(fill.price.get())?)
        })?;
        let average = notional.checked_div(quantity.get())?;
        Some(average.round_dp(DECIMALS_MAX).normalize())
    }

    /// Average price of the exits (rounded to 8 places); None before any exit.
    pub fn average_exit_price(&self) -> Option<Decimal> {
        if self.closed_quantity.is_zero() {
            return None;
        }
        let average = self.exit_notional.per_unit(self.closed_quantity).ok()?;
        Some(average.round_dp(DECIMALS_MAX).normalize())
    }

    /// Net P&L in units of the initial risk (4 places); None without a stop at entry.
    pub fn r_multiple(&self) -> Option<Decimal> {
        let risk = self.initial_risk?;
        if !risk.is_positive() {
            return None;
        }
        let ratio = self.net_pnl().ok()?.ratio_to(risk).ok()?;
        Some(ratio.round_dp(R_DECIMALS).normalize())
    }

    /// From the entry fill (placement for an order that never filled) to the close; None
    /// while it is still open or pending.
    pub fn duration_ms(&self) -> Option<i64> {
        let closed_at_ms = self.closed_at_ms?;
        let started_at_ms = match self.status {
            TradeStatus::Cancelled | TradeStatus::Expired => self
                .pending
                .as_ref()
                .map_or(self.opened_at_ms, |order| order.placed_at_ms),
            _ => self.opened_at_ms,
        };
        Some(closed_at_ms - started_at_ms)
    }
}

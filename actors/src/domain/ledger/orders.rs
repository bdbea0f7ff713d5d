//! Orders: placing one (filled now at market, or resting as a pending trade with its cash
//! reserved), filling a pending one when a candle trades through its price, cancelling or
//! expiring it, and moving a stop.
//!
//! Rules:
//! - a market entry fills now at its fill price (the caller's last price with slippage);
//! - a resting entry already marketable (a long limit with the market at or below it, a long
//!   stop-entry with the market at or above it, mirrored for shorts) fills now at the market,
//!   never at a price the market did not offer;
//! - otherwise the order rests: one `OrderReserve` ledger entry holds notional + fee at the
//!   order's price; a fill gives it back (`OrderRelease`) and reserves the actual cost at the
//!   fill price; a cancel or expiry gives it back;
//! - pending orders count against `max_open_positions`, with the open trades;
//! - stops only ever move towards the winning side.

use super::portfolio::{check_exits, Exits};
use super::{
    check_amount, Entry, EntryKind, ExitReason, Fill, FillKind, LedgerError, OrderKind,
    OrderRequest, Outcome, PendingEntry, Portfolio, Side, Trade, TradeStatus,
};
use crate::domain::money::{Money, Price, Quantity};

impl Portfolio {
    pub(super) fn place(
        &mut self,
        request: &OrderRequest,
        at_ms: i64,
    ) -> Result<Outcome, LedgerError> {
        let (price, fills_now) = entry_price(&request.entry, request.side);
        check_amount("price", price.get())?;
        check_exits(
            request.side,
            price.get(),
            request.stop_loss,
            &request.take_profits,
        )?;
        let (quantity, sizing) = self.order_quantity(request, price)?;
        self.check_position_count()?;
        let mut outcome = if fills_now {
            let order = super::Order {
                side: request.side,
                quantity,
                price,
            };
            let exits = Exits {
                stop_loss: request.stop_loss,
                take_profits: &request.take_profits,
                rules: &request.exit_rules,
            };
            self.open(&request.symbol, order, exits, &request.source, at_ms)?
        } else {
            self.rest(request, quantity, price, at_ms)?
        };
        outcome.sizing = sizing;
        Ok(outcome)
    }

    /// Refused when open trades and pending orders fill `max_open_positions`.
    fn check_position_count(&self) -> Result<(), LedgerError> {
        let Some(max) = self.spec().limits.max_open_positions else {
            return Ok(());
        };
        let held = self.open_positions + self.pending_orders;
        if held >= max as usize {
            return Err(LedgerError::RiskLimit {
                limit: "max_open_positions",
                message: format!("{held} positions are open or pending, the limit is {max}"),
            });
        }
        Ok(())
    }

    /// A pending trade for `request`, its cash reserved at `price`.
    fn rest(
        &mut self,
        request: &OrderRequest,
        quantity: Quantity,
        price: Price,
        at_ms: i64,
    ) -> Result<Outcome, LedgerError> {
        let Entry::Resting { kind, .. } = request.entry else {
            return Err(LedgerError::invalid("order", "a market order cannot rest"));
        };
        self.check_daily_loss(at_ms)?;
        let (notional, fee) = self.notional_and_fee(quantity, price)?;
        Portfolio::check_notional_bound(notional)?;
        self.check_position_notional(notional)?;
        let reserved = notional.checked_add(fee)?;
        let id = self.next_trade_id();
        let entry = self.entry(id, EntryKind::OrderReserve, -reserved, Money::ZERO, at_ms)?;
        let trade = Trade {
            id,
            symbol: request.symbol.clone(),
            side: request.side,
            quantity,
            closed_quantity: Quantity::ZERO,
            cost_basis: Money::ZERO,
            fees_paid: Money::ZERO,
            realised_pnl: Money::ZERO,
            stop_loss: request.stop_loss,
            take_profits: request.take_profits.clone(),
            initial_risk: None,
            opened_at_ms: at_ms,
            closed_at_ms: None,
            status: TradeStatus::Pending,
            source: request.source.clone(),
            fills: Vec::new(),
            exit_notional: Money::ZERO,
            exit_reason: None,
            targets_hit: 0,
            pending: Some(PendingEntry {
                kind,
                price,
                expires_at_ms: request.expires_at_ms,
                placed_at_ms: at_ms,
                reserved,
            }),
            exit_rules: request.exit_rules.clone(),
        };
        self.commit(trade, vec![entry])
    }

    /// The pending trade `trade_id` and its order terms.
    fn pending_trade(&self, trade_id: u64) -> Result<(&Trade, &PendingEntry), LedgerError> {
        let trade = self
            .trade(trade_id)
            .ok_or(LedgerError::UnknownTrade(trade_id))?;
        match (&trade.pending, trade.is_pending()) {
            (Some(order), true) => Ok((trade, order)),
            _ => Err(LedgerError::NotPending(trade_id)),
        }
    }

    /// The ledger entry giving pending order `trade_id`'s cash back.
    fn release_order_cash(
        &self,
        trade_id: u64,
        order: &PendingEntry,
        at_ms: i64,
    ) -> Result<super::LedgerEntry, LedgerError> {
        let reserved = order.reserved;
        self.entry(
            trade_id,
            EntryKind::OrderRelease,
            reserved,
            Money::ZERO,
            at_ms,
        )
    }

    /// Cancels or expires (`reason`) a pending order, giving its cash back.
    pub(super) fn end_order(
        &mut self,
        trade_id: u64,
        reason: ExitReason,
        at_ms: i64,
    ) -> Result<Outcome, LedgerError> {
        let (trade, order) = self.pending_trade(trade_id)?;
        let entry = self.release_order_cash(trade_id, order, at_ms)?;
        let mut trade = trade.clone();
        trade.status = match reason {
            ExitReason::Expired => TradeStatus::Expired,
            _ => TradeStatus::Cancelled,
        };
        trade.exit_reason = Some(reason);
        trade.closed_at_ms = Some(at_ms);
        self.commit(trade, vec![entry])
    }

    /// Fills pending order `trade_id` at `price`: its reservation comes back and the actual
    /// cost at `price` is reserved, as an open would. Refused (the order stays pending) when
    /// the cash does not cover it.
    pub(super) fn fill_order(
        &mut self,
        trade_id: u64,
        price: Price,
        at_ms: i64,
    ) -> Result<Outcome, LedgerError> {
        let (trade, order) = self.pending_trade(trade_id)?;
        check_amount("price", price.get())?;
        let (notional, fee) = self.notional_and_fee(trade.quantity, price)?;
        let release = self.release_order_cash(trade_id, order, at_ms)?;
        let cost = notional.checked_add(fee)?;
        let after_release = release.cash_after;
        if after_release.checked_sub(cost)?.is_negative() {
            return Err(LedgerError::InsufficientCash {
                needed: cost,
                available: after_release,
            });
        }
        let reserve = super::LedgerEntry {
            trade_id,
            kind: EntryKind::Reserve,
            amount: -cost,
            cost_change: notional,
            cash_before: after_release,
            cash_after: after_release.checked_sub(cost)?,
            at_ms,
        };
        let mut trade = trade.clone();
        trade.status = TradeStatus::Open;
        trade.cost_basis = notional;
        trade.fees_paid = fee;
        trade.opened_at_ms = at_ms;
        trade.initial_risk = match trade.stop_loss {
            Some(stop) => Some(
                super::Order {
                    side: trade.side,
                    quantity: trade.quantity,
                    price,
                }
                .risk_to(stop)?,
            ),
            None => None,
        };
        trade.fills.push(Fill {
            at_ms,
            kind: FillKind::Entry,
            price,
            quantity: trade.quantity,
            fee,
            reason: None,
        });
        self.commit(trade, vec![release, reserve])
    }

    /// Moves the stop of open trade `trade_id` to `stop`, only towards the winning side.
    pub(super) fn move_stop(&mut self, trade_id: u64, stop: Price) -> Result<Outcome, LedgerError> {
        let trade = self.open_trade(trade_id)?;
        check_amount("stop_loss", stop.get())?;
        let improves = match (trade.stop_loss, trade.side) {
            (None, _) => true,
            (Some(current), Side::Long) => stop > current,
            (Some(current), Side::Short) => stop < current,
        };
        if !improves {
            return Err(LedgerError::invalid(
                "stop_loss",
                "a stop only moves towards the winning side",
            ));
        }
        let mut trade = trade.clone();
        trade.stop_loss = Some(stop);
        self.commit(trade, Vec::new())
    }
}

/// The price an entry is checked and sized at, and whether it fills now.
fn entry_price(entry: &Entry, side: Side) -> (Price, bool) {
    match *entry {
        Entry::Market { fill_price } => (fill_price, true),
        Entry::Resting {
            kind,
            price,
            market,
        } => {
            let marketable = match (kind, side) {
                (OrderKind::Limit, Side::Long) | (OrderKind::StopEntry, Side::Short) => {
                    market <= price
                }
                (OrderKind::Limit, Side::Short) | (OrderKind::StopEntry, Side::Long) => {
                    market >= price
                }
            };
            if marketable {
                (market, true)
            } else {
                (price, false)
            }
        }
    }
}

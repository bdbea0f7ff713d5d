//! A paper portfolio as a state machine over [`Mutation`]s, in exact decimals.
//!
//! Cash rules (the reference model in `reference_tests.rs` re-implements them independently):
//! - open or add `q` at `p`: reserve `q*p` plus the fee `q*p*fee_rate`;
//! - close `q` of a position holding `Q` at cost `C`, at price `x`: release the cost
//!   `c = C` when `q = Q`, else `c = round(C*q/Q, 12)`; gross P&L is `q*x - c` long and
//!   `c - q*x` short; cash moves by `c + gross - q*x*fee_rate`.
//!
//! With `money_decimals: Some(d)` in the spec, each of those amounts is rounded to `d` places
//! where it is computed (the rule is in `rounding.rs`); `None` keeps the exact figures above.
//!
//! Every check runs before anything changes, so a refused mutation changes nothing; cash is
//! never negative; cash always equals the initial balance plus the sum of ledger amounts.
//! Quantities, prices and amounts are the checked value types of [`crate::domain::money`]:
//! every arithmetic step returns an error value instead of panicking.

use super::model::{EntryKind, LedgerEntry, Side, Trade, TradeSource, TradeStatus};
use super::rounding::{check_money_decimals, round_money};
use super::{
    Addition, ExitReason, ExitRules, Fill, FillKind, LedgerError, Mutation, Order, PortfolioSpec,
};
use crate::domain::money::{Money, MoneyError, Price, Quantity, DECIMALS_MAX, NOTIONAL_MAX};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const INITIAL_BALANCE_MAX: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);
/// Scale of a partial close's released cost.
const RELEASE_DECIMALS: u32 = 12;
const DAY_MS: i64 = 86_400_000;
const JOURNAL_TEXT_MAX: usize = 10_000;
/// Journal entries one trade keeps at most.
const JOURNAL_ENTRIES_MAX: usize = 1_000;
const TAGS_MAX: usize = 20;
const TAG_LENGTH_MAX: usize = 40;

/// What one accepted mutation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub trade: Trade,
    pub entries: Vec<LedgerEntry>,
    /// How a risk-sized order was sized.
    pub sizing: Option<super::SizingNote>,
    /// The entry a journal mutation appended.
    pub journal_entry: Option<super::JournalEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Portfolio {
    spec: PortfolioSpec,
    cash: Money,
    trades: BTreeMap<u64, Trade>,
    /// Kept with every change, so the position limit is O(1) however long the history.
    pub(super) open_positions: usize,
    /// Pending orders, kept like `open_positions`: they count against the position limit.
    pub(super) pending_orders: usize,
    ledger: Vec<LedgerEntry>,
    /// Journal entries per trade, kept apart from the trade so appending one stores one.
    journals: BTreeMap<u64, Vec<super::JournalEntry>>,
    /// Realised P&L net of exit fees per UTC day (day number since the epoch).
    realised_by_day: BTreeMap<i64, Money>,
    /// Trades holding a position or a pending order: what every candle's exit evaluation
    /// reads, so its cost does not grow with the closed history.
    #[serde(default)]
    live: std::collections::BTreeSet<u64>,
}

impl Portfolio {
    pub fn create(spec: PortfolioSpec) -> Result<Portfolio, LedgerError> {
        check_spec(&spec)?;
        Ok(Portfolio {
            cash: spec.initial_balance,
            spec,
            trades: BTreeMap::new(),
            open_positions: 0,
            pending_orders: 0,
            ledger: Vec::new(),
            journals: BTreeMap::new(),
            realised_by_day: BTreeMap::new(),
            live: std::collections::BTreeSet::new(),
        })
    }

    pub fn spec(&self) -> &PortfolioSpec {
        &self.spec
    }

    pub fn cash(&self) -> Money {
        self.cash
    }

    pub fn trades(&self) -> impl DoubleEndedIterator<Item = &Trade> {
        self.trades.values()
    }

    /// Trades open, partially closed or pending, in id order.
    pub fn live_trades(&self) -> impl Iterator<Item = &Trade> {
        self.live.iter().filter_map(|id| self.trades.get(id))
    }

    pub fn trade(&self, id: u64) -> Option<&Trade> {
        self.trades.get(&id)
    }

    /// The journal of trade `trade_id`, oldest first.
    pub fn journal_of(&self, trade_id: u64) -> &[super::JournalEntry] {
        self.journals.get(&trade_id).map_or(&[], Vec::as_slice)
    }

    pub fn ledger(&self) -> &[LedgerEntry] {
        &self.ledger
    }

    /// Realised P&L net of exit fees, per UTC day number.
    pub fn realised_by_day(&self) -> impl Iterator<Item = (i64, Money)> + '_ {
        self.realised_by_day.iter().map(|(day, pnl)| (*day, *pnl))
    }

    /// The conservation invariant: cash = initial balance + the sum of the ledger.
    pub fn is_conserved(&self) -> bool {
        let sum = self
            .ledger
            .iter()
            .try_fold(self.spec.initial_balance, |total, entry| {
                total.checked_add(entry.amount)
            });
        sum == Ok(self.cash) && !self.cash.is_negative()
    }

    /// Applies `mutation` at `at_ms`, all or nothing.
    pub fn apply(&mut self, mutation: &Mutation, at_ms: i64) -> Result<Outcome, LedgerError> {
        match mutation {
            Mutation::Open {
                symbol,
                side,
                quantity,
                price,
                stop_loss,
                take_profits,
                source,
            } => {
                let order = Order {
                    side: *side,
                    quantity: *quantity,
                    price: *price,
                };
                let exits = Exits {
                    stop_loss: *stop_loss,
                    take_profits,
                    rules: &ExitRules::default(),
                };
                self.open(symbol, order, exits, source, at_ms)
            }
            Mutation::Add {
                trade_id,
                quantity,
                price,
            } => self.add(*trade_id, *quantity, *price, at_ms),
            Mutation::Close {
                trade_id,
                quantity,
                price,
            } => self.close(*trade_id, *quantity, *price, ExitReason::Manual, at_ms),
            Mutation::TakeProfit {
                trade_id,
                target,
                price,
            } => self.take_profit(*trade_id, *target, *price, at_ms),
            Mutation::Amend {
                trade_id,
                stop_loss,
                clear_stop_loss,
                take_profits,
            } => self.amend(
                *trade_id,
                *stop_loss,
                *clear_stop_loss,
                take_profits.as_deref(),
            ),
            Mutation::Journal {
                trade_id,
                text,
                tags,
            } => self.journal(*trade_id, text, tags, at_ms),
            Mutation::Place(request) => self.place(request, at_ms),
            Mutation::Cancel { trade_id } => {
                self.end_order(*trade_id, ExitReason::Cancelled, at_ms)
            }
            Mutation::Expire { trade_id } => self.end_order(*trade_id, ExitReason::Expired, at_ms),
            Mutation::FillOrder { trade_id, price } => self.fill_order(*trade_id, *price, at_ms),
            Mutation::Exit {
                trade_id,
                price,
                reason,
            } => self.close(*trade_id, None, *price, *reason, at_ms),
            Mutation::MoveStop { trade_id, stop } => self.move_stop(*trade_id, *stop),
        }
    }

    /// Opens a trade filled now at `order.price`.
    pub(super) fn open(
        &mut self,
        symbol: &crate::domain::market::Symbol,
        order: Order,
        exits: Exits<'_>,
        source: &TradeSource,
        at_ms: i64,
    ) -> Result<Outcome, LedgerError> {
        let Exits {
            stop_loss,
            take_profits,
            rules,
        } = exits;
        check_amount("quantity", order.quantity.get())?;
        check_amount("price", order.price.get())?;
        check_exits(order.side, order.price.get(), stop_loss, take_profits)?;
        let approved = self.approve_open(order, at_ms)?;
        let (notional, fee) = (approved.notional(), approved.fee());
        let reserve = notional.checked_add(fee)?;
        let id = self.next_trade_id();
        let entry = self.entry(id, EntryKind::Reserve, -reserve, notional, at_ms)?;
        let initial_risk = stop_loss.map(|stop| order.risk_to(stop)).transpose()?;
        let trade = Trade {
            id,
            symbol: symbol.clone(),
            side: order.side,
            quantity: order.quantity,
            closed_quantity: Quantity::ZERO,
            cost_basis: notional,
            fees_paid: fee,
            realised_pnl: Money::ZERO,
            stop_loss,
            take_profits: take_profits.to_vec(),
            initial_risk,
            opened_at_ms: at_ms,
            closed_at_ms: None,
            status: TradeStatus::Open,
            source: source.clone(),
            fills: vec![Fill {
                at_ms,
                kind: FillKind::Entry,
                price: order.price,
                quantity: order.quantity,
                fee,
                reason: None,
            }],
            exit_notional: Money::ZERO,
            exit_reason: None,
            targets_hit: 0,
            pending: None,
            exit_rules: rules.clone(),
        };
        self.commit(trade, vec![entry])
    }

    fn add(
        &mut self,
        trade_id: u64,
        quantity: Quantity,
        price: Price,
        at_ms: i64,
    ) -> Result<Outcome, LedgerError> {
        let trade = self.open_trade(trade_id)?;
        check_amount("quantity", quantity.get())?;
        check_amount("price", price.get())?;
        let approved = self.approve_add(trade, Addition { quantity, price }, at_ms)?;
        let (notional, fee) = (approved.notional(), approved.fee());
        let new_cost = approved.position_cost();
        let reserve = notional.checked_add(fee)?;
        let mut trade = trade.clone();
        trade.quantity = trade.quantity.checked_add(quantity)?;
        trade.cost_basis = new_cost;
        trade.fees_paid = trade.fees_paid.checked_add(fee)?;
        trade.fills.push(Fill {
            at_ms,
            kind: FillKind::Add,
            price,
            quantity,
            fee,
            reason: None,
        });
        let entry = self.entry(trade_id, EntryKind::Reserve, -reserve, notional, at_ms)?;
        self.commit(trade, vec![entry])
    }

    fn close(
        &mut self,
        trade_id: u64,
        quantity: Option<Quantity>,
        price: Price,
        reason: ExitReason,
        at_ms: i64,
    ) -> Result<Outcome, LedgerError> {
        let trade = self.open_trade(trade_id)?;
        let quantity = quantity.unwrap_or(trade.quantity);
        check_amount("quantity", quantity.get())?;
        check_amount("price", price.get())?;
        if quantity > trade.quantity {
            return Err(LedgerError::invalid(
                "quantity",
                format!("only {} is open", trade.quantity),
            ));
        }
        let decimals = self.spec.money_decimals;
        let released = released_cost(trade.cost_basis, quantity, trade.quantity, decimals)?;
        let (exit_notional, fee) = self.notional_and_fee(quantity, price)?;
        let gross = match trade.side {
            Side::Long => exit_notional.checked_sub(released),
            Side::Short => released.checked_sub(exit_notional),
        }
        .map(|gross| round_money(gross, decimals))?;
        let amount = round_money(released.checked_add(gross)?.checked_sub(fee)?, decimals);
        let entry = self.entry(trade_id, EntryKind::Release, amount, -released, at_ms)?;
        let part = ClosedPart {
            quantity,
            price,
            exit_notional,
            released,
            gross,
            fee,
            reason,
        };
        let trade = part.applied_to(trade.clone(), at_ms)?;
        let net = gross.checked_sub(fee)?;
        let day = at_ms.div_euclid(DAY_MS);
        let today = self.realised_on(day).checked_add(net)?;
        let outcome = self.commit(trade, vec![entry])?;
        self.realised_by_day.insert(day, today);
        Ok(outcome)
    }

    fn take_profit(
        &mut self,
        trade_id: u64,
        target: Price,
        price: Price,
        at_ms: i64,
    ) -> Result<Outcome, LedgerError> {
        let trade = self.open_trade(trade_id)?;
        let position = trade
            .take_profits
            .iter()
            .position(|held| *held == target)
            .ok_or_else(|| {
                LedgerError::invalid("target", format!("trade {trade_id} has no target {target}"))
            })?;
        let share = super::exits::target_share(trade);
        let reason = ExitReason::Target(trade.targets_hit + 1);
        let mut outcome = self.close(trade_id, Some(share), price, reason, at_ms)?;
        if let Some(trade) = self.trades.get_mut(&trade_id) {
            trade.take_profits.remove(position);
            trade.targets_hit += 1;
            outcome.trade = trade.clone();
        }
        Ok(outcome)
    }

    fn amend(
        &mut self,
        trade_id: u64,
        stop_loss: Option<Price>,
        clear_stop_loss: bool,
        take_profits: Option<&[Price]>,
    ) -> Result<Outcome, LedgerError> {
        let trade = self.open_trade(trade_id)?;
        let reference = trade.cost_basis.per_unit(trade.quantity)?;
        let stop = match (stop_loss, clear_stop_loss) {
            (Some(_), true) => {
                return Err(LedgerError::invalid(
                    "stop_loss",
                    "give a stop loss or clear it, not both",
                ))
            }
            (Some(stop), false) => Some(stop),
            (None, true) => None,
            (None, false) => trade.stop_loss,
        };
        let targets = take_profits.unwrap_or(&trade.take_profits).to_vec();
        check_exits(trade.side, reference, stop, &targets)?;
        let mut trade = trade.clone();
        trade.stop_loss = stop;
        trade.take_profits = targets;
        self.commit(trade, Vec::new())
    }
    fn journal(
        &mut self,
        trade_id: u64,
        text: &str,
        tags: &[String],
        at_ms: i64,
    ) -> Result<Outcome, LedgerError> {
        let trade = self
            .trades
            .get(&trade_id)
            .ok_or(LedgerError::UnknownTrade(trade_id))?;
        if self.journal_of(trade_id).len() >= JOURNAL_ENTRIES_MAX {
            return Err(LedgerError::invalid(
                "text",
                format!(
                    "trade {trade_id} has {JOURNAL_ENTRIES_MAX} journal entries, the most it keeps"
                ),
            ));
        }
        let length = text.chars().count();
        if text.trim().is_empty() || length > JOURNAL_TEXT_MAX {
            return Err(LedgerError::invalid(
                "text",
                format!("must be 1 to {JOURNAL_TEXT_MAX} characters"),
            ));
        }
        if tags.len() > TAGS_MAX
            || tags
                .iter()
                .any(|tag| tag.trim().is_empty() || tag.chars().count() > TAG_LENGTH_MAX)
        {
            return Err(LedgerError::invalid(
                "tags",
                format!("at most {TAGS_MAX} tags of 1 to {TAG_LENGTH_MAX} characters"),
            ));
        }
        let trade = trade.clone();
        let entry = super::JournalEntry {
            text: text.to_owned(),
            tags: tags.to_vec(),
            at_ms,
        };
        let mut outcome = self.commit(trade, Vec::new())?;
        self.journals
            .entry(trade_id)
            .or_default()
            .push(entry.clone());
        outcome.journal_entry = Some(entry);
        Ok(outcome)
    }

    pub(super) fn next_trade_id(&self) -> u64 {
        self.trades.keys().next_back().map_or(1, |last| last + 1)
    }

    pub(super) fn open_trade(&self, trade_id: u64) -> Result<&Trade, LedgerError> {
        let trade = self
            .trades
            .get(&trade_id)
            .ok_or(LedgerError::UnknownTrade(trade_id))?;
        if !trade.is_open() {
            return Err(LedgerError::TradeClosed(trade_id));
        }
        Ok(trade)
    }

    pub(super) fn notional_and_fee(
        &self,
        quantity: Quantity,
        price: Price,
    ) -> Result<(Money, Money), LedgerError> {
        let decimals = self.spec.money_decimals;
        let notional = round_money(quantity.checked_mul(price)?, decimals);
        let fee = round_money(self.spec.fee_rate.fee_on(notional)?, decimals);
        Ok((notional, fee))
    }

    /// An entry's notional within [`NOTIONAL_MAX`], so everything computed from it fits.
    pub(super) fn check_notional_bound(notional: Money) -> Result<(), LedgerError> {
        if notional.get() > NOTIONAL_MAX {
            return Err(LedgerError::OutOfRange {
                field: "quantity",
                message: format!("quantity x price is {notional}, at most {NOTIONAL_MAX}"),
            });
        }
        Ok(())
    }

    pub(super) fn check_position_notional(&self, notional: Money) -> Result<(), LedgerError> {
        match self.spec.limits.max_position_notional {
            Some(max) if notional > max => Err(LedgerError::RiskLimit {
                limit: "max_position_notional",
                message: format!("the position would cost {notional}, the limit is {max}"),
            }),
            _ => Ok(()),
        }
    }

    /// Realised P&L net of exit fees on UTC day number `day`.
    fn realised_on(&self, day: i64) -> Money {
        self.realised_by_day
            .get(&day)
            .copied()
            .unwrap_or(Money::ZERO)
    }

    pub(super) fn check_daily_loss(&self, at_ms: i64) -> Result<(), LedgerError> {
        let Some(limit) = self.spec.limits.daily_loss_limit else {
            return Ok(());
        };
        let today = self.realised_on(at_ms.div_euclid(DAY_MS));
        if -today >= limit {
            return Err(LedgerError::RiskLimit {
                limit: "daily_loss_limit",
                message: format!("today's realised loss {} reached the limit {limit}", -today),
            });
        }
        Ok(())
    }

    /// A ledger entry moving cash by `amount`, refused if cash would go negative.
    pub(super) fn entry(
        &self,
        trade_id: u64,
        kind: EntryKind,
        amount: Money,
        cost_change: Money,
        at_ms: i64,
    ) -> Result<LedgerEntry, LedgerError> {
        let cash_after = self.cash.checked_add(amount)?;
        if cash_after.is_negative() {
            return Err(LedgerError::InsufficientCash {
                needed: -amount,
                available: self.cash,
            });
        }
        Ok(LedgerEntry {
            trade_id,
            kind,
            amount,
            cost_change,
            cash_before: self.cash,
            cash_after,
            at_ms,
        })
    }

    /// The only place state changes, after every check passed.
    pub(super) fn commit(
        &mut self,
        trade: Trade,
        entries: Vec<LedgerEntry>,
    ) -> Result<Outcome, LedgerError> {
        if let Some(last) = entries.last() {
            self.cash = last.cash_after;
        }
        self.ledger.extend(entries.iter().cloned());
        let before = self.trades.get(&trade.id);
        let (was_open, was_pending) = (
            before.is_some_and(Trade::is_open),
            before.is_some_and(Trade::is_pending),
        );
        match (was_open, trade.is_open()) {
            (false, true) => self.open_positions += 1,
            (true, false) => self.open_positions -= 1,
            _ => {}
        }
        match (was_pending, trade.is_pending()) {
            (false, true) => self.pending_orders += 1,
            (true, false) => self.pending_orders -= 1,
            _ => {}
        }
        if trade.is_open() || trade.is_pending() {
            self.live.insert(trade.id);
        } else {
            self.live.remove(&trade.id);
        }
        self.trades.insert(trade.id, trade.clone());
        debug_assert!(
            self.is_conserved(),
            "Invariant: cash = initial + ledger, >= 0"
        );
        Ok(Outcome {
            trade,
            entries,
            sizing: None,
            journal_entry: None,
        })
    }
}

/// What a close takes out of a trade, computed and checked before anything changes.
struct ClosedPart {
    quantity: Quantity,
    price: Price,
    exit_notional: Money,
    released: Money,
    gross: Money,
    fee: Money,
    reason: ExitReason,
}

impl ClosedPart {
    /// `trade` after this part closed at `at_ms`.
    fn applied_to(&self, mut trade: Trade, at_ms: i64) -> Result<Trade, MoneyError> {
        trade.quantity = trade.quantity.checked_sub(self.quantity)?;
        trade.closed_quantity = trade.closed_quantity.checked_add(self.quantity)?;
        trade.cost_basis = trade.cost_basis.checked_sub(self.released)?;
        trade.realised_pnl = trade.realised_pnl.checked_add(self.gross)?;
        trade.fees_paid = trade.fees_paid.checked_add(self.fee)?;
        trade.exit_notional = trade.exit_notional.checked_add(self.exit_notional)?;
        trade.exit_reason = Some(self.reason);
        trade.fills.push(Fill {
            at_ms,
            kind: FillKind::Exit,
            price: self.price,
            quantity: self.quantity,
            fee: self.fee,
            reason: Some(self.reason),
        });
        if trade.quantity.is_zero() {
            trade.status = TradeStatus::Closed;
            trade.closed_at_ms = Some(at_ms);
        } else {
            trade.status = TradeStatus::PartiallyClosed;
        }
        Ok(trade)
    }
}

/// The cost a close of `quantity` out of `open` releases, to the portfolio's precision
/// (`decimals`) or, for an exact portfolio, to [`RELEASE_DECIMALS`].
fn released_cost(
    cost: Money,
    quantity: Quantity,
    open: Quantity,
    decimals: Option<u32>,
) -> Result<Money, MoneyError> {
    if quantity == open {
        return Ok(cost);
    }
    let places = decimals.unwrap_or(RELEASE_DECIMALS);
    cost.proportion(quantity, open, places)
}

/// Positive, with at most 8 decimals.
pub fn check_amount(field: &'static str, value: Decimal) -> Result<(), LedgerError> {
    if value <= Decimal::ZERO {
        return Err(LedgerError::invalid(
            field,
            format!("must be greater than 0, got {value}"),
        ));
    }
    if value.normalize().scale() > DECIMALS_MAX {
        return Err(LedgerError::invalid(
            field,
            format!("at most {DECIMALS_MAX} decimals, got {value}"),
        ));
    }
    Ok(())
}

/// The stop, targets and exit rules a trade opens with.
pub(super) struct Exits<'a> {
    pub stop_loss: Option<Price>,
    pub take_profits: &'a [Price],
    pub rules: &'a ExitRules,
}

/// A long's stop is below the entry and its targets above; a short's the other way round.
pub(super) fn check_exits(
    side: Side,
    price: Decimal,
    stop_loss: Option<Price>,
    take_profits: &[Price],
) -> Result<(), LedgerError> {
    let below = |value: Decimal| match side {
        Side::Long => value < price,
        Side::Short => value > price,
    };
    if let Some(stop) = stop_loss {
        check_amount("stop_loss", stop.get())?;
        if !below(stop.get()) {
            return Err(LedgerError::invalid(
                "stop_loss",
                format!("a {side:?} stop must be on the losing side of {price}").to_lowercase(),
            ));
        }
    }
    if take_profits.len() > 10 {
        return Err(LedgerError::invalid("take_profits", "at most 10 targets"));
    }
    for target in take_profits.iter().map(|target| target.get()) {
        check_amount("take_profits", target)?;
        if below(target) || target == price {
            return Err(LedgerError::invalid(
                "take_profits",
                format!("a {side:?} target must be on the winning side of {price}").to_lowercase(),
            ));
        }
    }
    Ok(())
}

/// The fee rate is checked by its type ([`crate::domain::money::FeeRate`]).
fn check_spec(spec: &PortfolioSpec) -> Result<(), LedgerError> {
    check_money_decimals(spec.money_decimals, spec.initial_balance)?;
    let balance = spec.initial_balance.get();
    if balance <= Decimal::ZERO || balance > INITIAL_BALANCE_MAX {
        return Err(LedgerError::invalid(
            "initial_balance",
            "must be greater than 0 and at most 1000000000",
        ));
    }
    if balance.normalize().scale() > DECIMALS_MAX {
        return Err(LedgerError::invalid(
            "initial_balance",
            format!("at most {DECIMALS_MAX} decimals"),
        ));
    }
    let name_length = spec.name.chars().count();
    if spec.name.trim().is_empty() || name_length > 100 {
        return Err(LedgerError::invalid("name", "must be 1 to 100 characters"));
    }
    let quote_ok = (2..=10).contains(&spec.quote_currency.len())
        && spec
            .quote_currency
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if !quote_ok {
        return Err(LedgerError::invalid(
            "quote_currency",
            "2 to 10 upper-case letters or digits, e.g. USDT",
        ));
    }
    let limits = &spec.limits;
    for (field, value) in [
        ("limits.max_position_notional", limits.max_position_notional),
        ("limits.daily_loss_limit", limits.daily_loss_limit),
    ] {
        if value.is_some_and(|value| !value.is_positive()) {
            return Err(LedgerError::invalid(field, "must be greater than 0"));
        }
    }
    if limits.max_open_positions == Some(0) {
        return Err(LedgerError::invalid(
            "limits.max_open_positions",
            "must be at least 1",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ledger::RiskLimits;
    use crate::domain::market::Symbol;

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn quantity(text: &str) -> Quantity {
        Quantity::new_checked(dec(text)).unwrap()
    }

    fn price(text: &str) -> Price {
        Price::new_checked(dec(text)).unwrap()
    }

    fn portfolio(limits: RiskLimits) -> Portfolio {
        let spec = PortfolioSpec {
            limits,
            ..crate::domain::ledger::test_spec("1000", Decimal::ZERO)
        };
        Portfolio::create(spec).unwrap()
    }

    fn open(amount: &str, at: &str) -> Mutation {
        Mutation::Open {
            symbol: Symbol::parse("BTCUSDT").unwrap(),
            side: Side::Long,
            quantity: quantity(amount),
            price: price(at),
            stop_loss: None,
            take_profits: Vec::new(),
            source: TradeSource::Manual,
        }
    }

    fn limit_name(error: LedgerError) -> &'static str {
        match error {
            LedgerError::RiskLimit { limit, .. } => limit,
            other => panic!("expected a risk limit, got {other}"),
        }
    }

    #[test]
    fn each_risk_limit_refuses_and_changes_nothing() {
        let mut held = portfolio(RiskLimits {
            max_open_positions: Some(1),
            ..RiskLimits::default()
        });
        held.apply(&open("1", "10"), 0).unwrap();
        let before = held.clone();
        assert_eq!(
            limit_name(held.apply(&open("1", "10"), 1).unwrap_err()),
            "max_open_positions"
        );
        assert_eq!(held, before);

        let mut sized = portfolio(RiskLimits {
            max_position_notional: Some(Money::new(dec("100"))),
            ..RiskLimits::default()
        });
        sized.apply(&open("10", "10"), 0).unwrap();
        let add = Mutation::Add {
            trade_id: 1,
            quantity: quantity("0.1"),
            price: price("10"),
        };
        assert_eq!(
            limit_name(sized.apply(&add, 1).unwrap_err()),
            "max_position_notional"
        );

        let mut losing = portfolio(RiskLimits {
            daily_loss_limit: Some(Money::new(dec("50"))),
            ..RiskLimits::default()
        });
        losing.apply(&open("10", "10"), 0).unwrap();
        let close = Mutation::Close {
            trade_id: 1,
            quantity: None,
            price: price("5"),
        };
        losing.apply(&close, 1).unwrap(); // -50 today
        assert_eq!(
            limit_name(losing.apply(&open("1", "10"), 2).unwrap_err()),
            "daily_loss_limit"
        );
        assert!(
            losing.apply(&open("1", "10"), DAY_MS).is_ok(),
            "a new UTC day starts over"
        );
    }

    #[test]
    fn closing_more_than_is_open_or_a_closed_trade_is_refused() {
        let mut held = portfolio(RiskLimits::default());
        held.apply(&open("1", "10"), 0).unwrap();
        let too_much = Mutation::Close {
            trade_id: 1,
            quantity: Some(quantity("2")),
            price: price("10"),
        };
        assert!(matches!(
            held.apply(&too_much, 1),
            Err(LedgerError::Invalid {
                field: "quantity",
                ..
            })
        ));
        let all = Mutation::Close {
            trade_id: 1,
            quantity: None,
            price: price("10"),
        };
        held.apply(&all, 1).unwrap();
        assert_eq!(
            held.apply(&all, 2).unwrap_err(),
            LedgerError::TradeClosed(1)
        );
        assert_eq!(
            held.apply(
                &Mutation::Close {
                    trade_id: 9,
                    quantity: None,
                    price: price("1")
                },
                2
            )
            .unwrap_err(),
            LedgerError::UnknownTrade(9)
        );
    }

    #[test]
    fn adds_average_the_entry_price() {
        let mut held = portfolio(RiskLimits::default());
        held.apply(&open("1", "10"), 0).unwrap();
        let add = Mutation::Add {
            trade_id: 1,
            quantity: quantity("3"),
            price: price("14"),
        };
        let outcome = held.apply(&add, 1).unwrap();
        assert_eq!(
            outcome.trade.average_entry_price(),
            Some(dec("13")),
            "(10 + 42) / 4"
        );
    }
}

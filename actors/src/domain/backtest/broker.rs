//! The backtest's broker: a real ledger [`Portfolio`] and the orders a strategy decided on,
//! filled at the open of the first bar after the decision, as backtesting.py fills market
//! orders (and as a live strategy's order is placed on the candle after the one it saw).
//! Exits, pending-order fills and stop moves are the ledger's own `Portfolio::on_candle`,
//! the very rules the live portfolio actor applies.

use super::signal_trader::{exit_at_market, ledger_error};
use super::BacktestError;
use crate::domain::ledger::analytics::unrealised;
use crate::domain::ledger::{
    market_fill_price, LedgerError, Mutation, Outcome, Portfolio, PortfolioSpec, RiskLimits, Side,
    TradeSource,
};
use crate::domain::market::{Candle, Symbol};
use crate::domain::money::{FeeRate, Money, Price, Quantity};
use rust_decimal::Decimal;

/// A run's account: what it starts with and what trading costs.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub cash: Money,
    /// Per side, on notional: backtesting.py's `commission`.
    pub fee_rate: FeeRate,
    /// Market fills move this many basis points against the trader.
    pub slippage_bps: u32,
    pub limits: RiskLimits,
    /// Decimal places cash, fees and P&L are rounded to, as a live portfolio's are; None is
    /// exact arithmetic (sma-cross: backtesting.py's floats are near-exact, and sizing all
    /// the cash in whole units turns a rounding of the cash into a unit less).
    pub money_decimals: Option<u32>,
}

/// What a strategy wants done at the next bar's open.
#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    /// Close everything open, then open `side` with all the cash in whole units (strictly
    /// less than the cash buys, as backtesting.py's default size of 1 - epsilon of equity).
    Reverse(Side),
    /// Close everything open.
    Flatten,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Close time of the bar the strategy decided on.
    pub decided_at_ms: i64,
    pub intent: Intent,
    /// Why, in the strategy's words (the signal id, the cross).
    pub reason: String,
}

pub struct Broker {
    portfolio: Portfolio,
    symbol: Symbol,
    slippage_bps: u32,
    view: EquityView,
    queued: Vec<Decision>,
}

/// The account reduced to what marks it at a price: equity = `fixed + (long - short) x
/// mark`. Refreshed from the ledger after every fill, so marking each bar is two float
/// operations. Only the equity curve (drawdown, Sharpe) reads it; every money figure of a
/// run (final equity, P&L) comes from the ledger's exact decimals.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct EquityView {
    /// Cash, pending orders' reserves, and twice each short's cost (a short is worth its
    /// cost plus cost - quantity x mark).
    fixed: f64,
    long_quantity: f64,
    short_quantity: f64,
    holding: bool,
}

impl Broker {
    pub fn new(
        symbol: Symbol,
        account: &Account,
        started_at_ms: i64,
    ) -> Result<Broker, BacktestError> {
        let spec = PortfolioSpec {
            id: 1,
            owner: "backtest".into(),
            name: "backtest".into(),
            quote_currency: "QUOTE".into(),
            initial_balance: account.cash,
            fee_rate: account.fee_rate,
            limits: account.limits.clone(),
            created_at_ms: started_at_ms,
            money_decimals: account.money_decimals,
        };
        let portfolio = Portfolio::create(spec).map_err(|error| match error.field() {
            Some(_) => BacktestError::setting("cash", error.to_string()),
            None => ledger_error("create", started_at_ms, error),
        })?;
        Ok(Broker {
            portfolio,
            symbol,
            slippage_bps: account.slippage_bps,
            view: EquityView {
                fixed: to_f64(account.cash.get()),
                ..EquityView::default()
            },
            queued: Vec::new(),
        })
    }

    pub fn portfolio(&self) -> &Portfolio {
        &self.portfolio
    }

    pub fn queue(&mut self, decision: Decision) {
        self.queued.push(decision);
    }

    /// Decisions not yet filled (those of the last bar, at the end of a run).
    pub fn queued(&self) -> &[Decision] {
        &self.queued
    }

    pub fn has_position(&self) -> bool {
        self.view.holding
    }

    /// Equity at `mark`, in floating point, for the equity curve.
    pub fn equity_f64(&self, mark: f64) -> f64 {
        self.view.fixed + (self.view.long_quantity - self.view.short_quantity) * mark
    }

    /// Fills every queued decision taken before `candle` opened, at its open.
    pub fn fill_at_open(&mut self, candle: &Candle) -> Result<(), BacktestError> {
        if self.queued.is_empty() {
            return Ok(());
        }
        let due: Vec<Decision> = std::mem::take(&mut self.queued);
        let (due, later): (Vec<Decision>, Vec<Decision>) = due
            .into_iter()
            .partition(|decision| decision.decided_at_ms <= candle.open_time_ms);
        self.queued = later;
        let open = Price::from_market(candle.open);
        for decision in due {
            self.execute(&decision, open, candle.open_time_ms)?;
        }
        Ok(())
    }

    fn execute(
        &mut self,
        decision: &Decision,
        open: Price,
        at_ms: i64,
    ) -> Result<(), BacktestError> {
        match &decision.intent {
            Intent::Reverse(side) => {
                self.flatten(open, at_ms)?;
                self.open_all_in(*side, open, at_ms, &decision.reason)
            }
            Intent::Flatten => self.flatten(open, at_ms),
        }
    }

    /// Places a signal's order (a [`super::signal_trader::SignalTrader`] mutation); answers
    /// whether the ledger took it: a refused entry (no cash, a risk limit) is a decision
    /// not taken, as a live portfolio refuses it.
    pub fn place(&mut self, placement: &Mutation, at_ms: i64) -> Result<bool, BacktestError> {
        match self.portfolio.apply(placement, at_ms) {
            Ok(outcome) => {
                self.track(&outcome);
                Ok(true)
            }
            Err(error) if error.field().is_some() => Ok(false),
            Err(error) => Err(ledger_error("place", at_ms, error)),
        }
    }

    /// Applies a strategy's own exit (see [`exit_at_market`]).
    pub fn exit(&mut self, exit: &Mutation, at_ms: i64) -> Result<(), BacktestError> {
        let outcome = self
            .portfolio
            .apply(exit, at_ms)
            .map_err(|error| ledger_error("exit", at_ms, error))?;
        self.track(&outcome);
        Ok(())
    }

    fn flatten(&mut self, open: Price, at_ms: i64) -> Result<(), BacktestError> {
        let exits = self
            .open_trades()
            .map(|trade| exit_at_market(trade, open, self.slippage_bps))
            .collect::<Result<Vec<Mutation>, LedgerError>>()
            .map_err(|error| ledger_error("exit", at_ms, error))?;
        for exit in &exits {
            self.exit(exit, at_ms)?;
        }
        Ok(())
    }

    fn open_all_in(
        &mut self,
        side: Side,
        open: Price,
        at_ms: i64,
        reason: &str,
    ) -> Result<(), BacktestError> {
        let price = market_fill_price(open, side == Side::Long, self.slippage_bps)
            .map_err(|error| ledger_error("open", at_ms, error))?;
        let Some(quantity) =
            whole_units_below(self.portfolio.cash(), price, self.portfolio.spec().fee_rate)
        else {
            // backtesting.py cancels such an order; so does the broker here.
            return Ok(());
        };
        let open = Mutation::Open {
            symbol: self.symbol.clone(),
            side,
            quantity,
            price,
            stop_loss: None,
            take_profits: Vec::new(),
            source: TradeSource::Signal(reason.to_owned()),
        };
        let outcome = self
            .portfolio
            .apply(&open, at_ms)
            .map_err(|error| ledger_error("open", at_ms, error))?;
        self.track(&outcome);
        Ok(())
    }

    /// The ledger's exits, pending fills and stop moves for one closed bar.
    pub fn on_closed_bar(&mut self, candle: &Candle, close_ms: i64) {
        if self.portfolio.live_trades().next().is_none() {
            return;
        }
        let exits = self.portfolio.on_candle(&self.symbol, candle, close_ms);
        if !exits.fills.is_empty() {
            self.refresh_view();
        }
    }

    /// Open trades (not pending orders), for rules that look at them each bar.
    pub fn open_trades(&self) -> impl Iterator<Item = &crate::domain::ledger::Trade> {
        self.portfolio.live_trades().filter(|trade| trade.is_open())
    }

    fn track(&mut self, _outcome: &Outcome) {
        self.refresh_view();
    }

    fn refresh_view(&mut self) {
        let mut view = EquityView {
            fixed: to_f64(self.portfolio.cash().get()),
            ..EquityView::default()
        };
        for trade in self.portfolio.live_trades() {
            if let Some(order) = trade.pending.as_ref().filter(|_| trade.is_pending()) {
                view.fixed += to_f64(order.reserved.get());
                continue;
            }
            view.holding = true;
            let quantity = to_f64(trade.quantity.get());
            match trade.side {
                Side::Long => view.long_quantity += quantity,
                Side::Short => {
                    view.short_quantity += quantity;
                    view.fixed += 2.0 * to_f64(trade.cost_basis.get());
                }
            }
        }
        self.view = view;
    }

    /// Cash, open positions valued at `mark`, and cash held by pending orders.
    pub fn equity(&self, mark: Price) -> Result<Money, BacktestError> {
        let mut equity = self.portfolio.cash();
        for trade in self.portfolio.live_trades() {
            let value = if trade.is_pending() {
                trade
                    .pending
                    .as_ref()
                    .map_or(Money::ZERO, |order| order.reserved)
            } else {
                trade.cost_basis.checked_add(unrealised(trade, mark)?)?
            };
            equity = equity.checked_add(value)?;
        }
        Ok(equity)
    }
}

/// The most whole units `cash` buys at `price` with `fee_rate` on top, strictly less than
/// it buys exactly: backtesting.py sizes `int(cash * (1 - eps) // (price * (1 + fee)))`, so
/// an exact fit is one unit short. None when not even one unit fits.
pub fn whole_units_below(cash: Money, price: Price, fee_rate: FeeRate) -> Option<Quantity> {
    let unit_cost = price.get().checked_mul(Decimal::ONE + fee_rate.get())?;
    let exact = cash.get().checked_div(unit_cost)?;
    let mut units = exact.floor();
    if units == exact {
        units -= Decimal::ONE;
    }
    if units < Decimal::ONE {
        return None;
    }
    Quantity::new_checked(units).ok()
}

fn to_f64(value: Decimal) -> f64 {
    rust_decimal::prelude::ToPrimitive::to_f64(&value).unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::test_values::{dec, price};

    fn money(text: &str) -> Money {
        Money::new(dec(text))
    }

    #[test]
    fn whole_units_stop_short_of_an_exact_fit() {
        let fee = FeeRate::new_checked(dec("0.002")).expect("fee");
        // 10,000 / (100 x 1.002) = 99.8 -> 99 units.
        assert_eq!(
            whole_units_below(money("10000"), price("100"), fee).map(Quantity::get),
            Some(dec("99"))
        );
        // 10,020 / 100.2 = 100 exactly -> 99, as 1 - epsilon of equity would give.
        assert_eq!(
            whole_units_below(money("10020"), price("100"), fee).map(Quantity::get),
            Some(dec("99"))
        );
        assert_eq!(whole_units_below(money("100"), price("100"), fee), None);
    }
}

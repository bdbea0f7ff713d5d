//! A signal strategy's decisions over a portfolio, one piece of code for a backtest and for a
//! live paper portfolio: which new signals are taken (and why not), the order each taken one
//! places at the open of the next candle of its symbol, and the time stops. The caller owns
//! the ledger and applies the mutations this hands out, in this order for every closed base
//! candle of a symbol:
//!
//! 1. [`SignalTrader::due_orders`]: orders decided before the candle opened, entered at its open;
//! 2. the ledger's own exits for the candle (`Portfolio::on_candle`);
//! 3. [`SignalTrader::time_stops`]: what has been open too long closes at the candle's close;
//! 4. [`SignalTrader::judge`] + [`SignalTrader::take`] for each signal the candle's close emitted.
//!
//! A backtest runs those steps over history (`run.rs`), the portfolio actor over live candles,
//! so both make the same decisions on the same candles.

use super::result::DecisionRecord;
use super::signal_orders::{entry_at, marked, order_for, refusal};
use super::strategy::StrategySpec;
use super::BacktestError;
use crate::domain::analysis::indicators::IndicatorValues;
use crate::domain::analysis::Signal;
use crate::domain::ledger::{
    market_fill_price, ExitReason, LedgerError, Mutation, OrderRequest, Portfolio, Side, Trade,
    TradeSource,
};
use crate::domain::market::{Candle, Symbol};
use crate::domain::money::Price;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A new signal as a live strategy gets it: emitted at the close of the base candle opening
/// at `candle_open_time_ms`, with its entry timeframe's indicators at that close (a batch of
/// candles moves them on before anyone reads them).
#[derive(Debug, Clone, PartialEq)]
pub struct SignalAtClose {
    pub candle_open_time_ms: i64,
    pub signal: Arc<Signal>,
    pub values: Option<IndicatorValues>,
}

/// An order a taken signal asks for, waiting for the next candle of its symbol to open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedOrder {
    /// Close time of the candle whose signal it answers.
    pub decided_at_ms: i64,
    pub request: OrderRequest,
}

/// What the strategy made of one new signal: the log entry and, when taken, its order and the
/// time its time stop falls due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub symbol: Symbol,
    pub signal_id: String,
    pub record: DecisionRecord,
    pub order: Option<QueuedOrder>,
    pub time_limit_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SignalTrader {
    spec: StrategySpec,
    queued: Vec<QueuedOrder>,
    /// Signal id -> when whatever its order opened is closed by the time stop.
    time_limits_ms: BTreeMap<String, i64>,
}

impl SignalTrader {
    /// A trader for `spec`, checked whole.
    pub fn new(spec: StrategySpec) -> Result<SignalTrader, BacktestError> {
        spec.validate()?;
        Ok(SignalTrader {
            spec,
            queued: Vec::new(),
            time_limits_ms: BTreeMap::new(),
        })
    }

    pub fn spec(&self) -> &StrategySpec {
        &self.spec
    }

    /// Orders decided and not yet entered.
    pub fn queued(&self) -> &[QueuedOrder] {
        &self.queued
    }

    /// Judges a new signal; `values` are its entry timeframe's indicators at its candle.
    /// Changes nothing: [`SignalTrader::take`] acts on the verdict (live, once it is logged).
    pub fn judge(&self, signal: &Signal, values: Option<&IndicatorValues>) -> Verdict {
        let at_ms = signal.created_at_ms;
        let signal_id = signal.id();
        let skip = |why: String| Verdict {
            record: DecisionRecord {
                at_ms,
                action: "skip".into(),
                reason: format!("{signal_id}: {why}").into(),
            },
            symbol: signal.symbol.clone(),
            signal_id: signal_id.clone(),
            order: None,
            time_limit_ms: None,
        };
        let Some(levels) = signal.levels.as_ref() else {
            return skip("no levels yet".into());
        };
        if let Some(why) = refusal(&self.spec, signal, values) {
            return skip(why);
        }
        let bar_ms = signal.entry_timeframe.duration_ms();
        let bars_ms = |bars: u32| at_ms.saturating_add(i64::from(bars) * bar_ms);
        let request = order_for(
            &self.spec,
            signal,
            levels,
            bars_ms(self.spec.entry.expiry_bars),
        );
        let action = if request.side == Side::Long {
            "long"
        } else {
            "short"
        };
        Verdict {
            record: DecisionRecord {
                at_ms,
                action: action.into(),
                reason: signal_id.clone().into(),
            },
            symbol: signal.symbol.clone(),
            signal_id: signal_id.clone(),
            order: Some(QueuedOrder {
                decided_at_ms: at_ms,
                request,
            }),
            time_limit_ms: self.spec.exits.time_stop_bars.map(bars_ms),
        }
    }

    /// Acts on `verdict`: queues its order and keeps its time stop.
    pub fn take(&mut self, verdict: &Verdict) {
        if let Some(order) = &verdict.order {
            self.queued.push(order.clone());
        }
        if let Some(limit_ms) = verdict.time_limit_ms {
            self.time_limits_ms
                .insert(verdict.signal_id.clone(), limit_ms);
        }
    }

    /// Takes the order answering `signal_id` off the queue (replay: its placement is logged).
    pub fn forget_queued(&mut self, signal_id: &str) {
        self.queued
            .retain(|order| source_id(&order.request.source) != signal_id);
    }

    /// Takes off the queue the orders for `symbol` decided at or before `candle` opened and
    /// answers each as the ledger mutation placing it at the candle's open (market entries
    /// with `slippage_bps`, risk sized on equity marked there), with the signal it answers.
    pub fn due_orders(
        &mut self,
        symbol: &Symbol,
        candle: &Candle,
        slippage_bps: u32,
    ) -> Result<Vec<(String, Mutation)>, BacktestError> {
        if self.queued.is_empty() {
            return Ok(Vec::new());
        }
        let (due, later): (Vec<QueuedOrder>, Vec<QueuedOrder>) = std::mem::take(&mut self.queued)
            .into_iter()
            .partition(|order| {
                order.request.symbol == *symbol && order.decided_at_ms <= candle.open_time_ms
            });
        self.queued = later;
        let open = Price::from_market(candle.open);
        due.into_iter()
            .map(|order| {
                let signal_id = source_id(&order.request.source).to_owned();
                let mut request = marked(order.request, open);
                request.entry = entry_at(&request, open, slippage_bps)?;
                Ok((signal_id, Mutation::Place(Box::new(request))))
            })
            .collect()
    }

    /// The open trades of `symbol` whose time stop is due at `close_ms`, each as the exit at
    /// `candle`'s close. Forgets time stops with nothing left to close.
    pub fn time_stops(
        &mut self,
        portfolio: &Portfolio,
        symbol: &Symbol,
        candle: &Candle,
        close_ms: i64,
        slippage_bps: u32,
    ) -> Result<Vec<(u64, Mutation)>, BacktestError> {
        if self.time_limits_ms.is_empty() {
            return Ok(Vec::new());
        }
        let mark = Price::from_market(candle.close);
        let mut exits = Vec::new();
        for trade in portfolio.live_trades() {
            let due = trade.is_open()
                && trade.symbol == *symbol
                && self
                    .time_limits_ms
                    .get(source_id(&trade.source))
                    .is_some_and(|limit_ms| *limit_ms <= close_ms);
            if due {
                let exit = exit_at_market(trade, mark, slippage_bps)
                    .map_err(|error| ledger_error("time stop", close_ms, error))?;
                exits.push((trade.id, exit));
            }
        }
        self.forget_spent_limits(portfolio, close_ms);
        Ok(exits)
    }

    /// Drops time stops past due whose signal has neither a queued order nor a live trade
    /// left (what is being closed now is still live here, and goes on the next candle).
    fn forget_spent_limits(&mut self, portfolio: &Portfolio, close_ms: i64) {
        let queued = &self.queued;
        let spent: Vec<String> = self
            .time_limits_ms
            .iter()
            .filter(|(id, limit_ms)| {
                **limit_ms < close_ms
                    && !queued
                        .iter()
                        .any(|order| source_id(&order.request.source) == id.as_str())
                    && !portfolio
                        .live_trades()
                        .any(|trade| source_id(&trade.source) == id.as_str())
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in spent {
            self.time_limits_ms.remove(&id);
        }
    }
}

/// The signal id an order or trade came from ("" for others).
fn source_id(source: &TradeSource) -> &str {
    match source {
        TradeSource::Signal(id) => id,
        _ => "",
    }
}

/// The mutation closing all of `trade` at `mark`, moved `slippage_bps` against the trader:
/// a strategy's own exit (a reversal, a time stop, the end of a run).
pub fn exit_at_market(
    trade: &Trade,
    mark: Price,
    slippage_bps: u32,
) -> Result<Mutation, LedgerError> {
    let price = market_fill_price(mark, trade.side == Side::Short, slippage_bps)?;
    Ok(Mutation::Exit {
        trade_id: trade.id,
        price,
        reason: ExitReason::Manual,
    })
}

pub(super) fn ledger_error(action: &'static str, at_ms: i64, source: LedgerError) -> BacktestError {
    BacktestError::Ledger {
        action,
        at_ms,
        source,
    }
}

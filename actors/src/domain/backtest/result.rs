//! What a run produces: its closed trades, the decisions it took (with reasons), its
//! equity curve and its figures. Plain data, serialised the same way every time.

use super::metrics::{EquityCurve, Metrics};
use super::outcome::OutcomeTable;
use crate::domain::ledger::{ExitReason, FillKind, Side, Trade};
use crate::domain::money::{Money, MoneyError, Price, Quantity};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradeRecord {
    /// Open time (ms) of the bar whose open filled the entry.
    pub entry_time: i64,
    pub exit_time: i64,
    pub side: Side,
    /// Average entry price over the entry and adds.
    pub entry_price: Price,
    /// Average exit price over every exit fill.
    pub exit_price: Price,
    pub quantity: Quantity,
    /// Net of every fee.
    pub pnl: Money,
    /// `strategy` (the strategy closed it), `stop`, `target_n`, `time_stop`.
    pub exit_reason: String,
    pub r_multiple: Option<f64>,
}

/// One decision a strategy took on a bar's close, or a signal it let pass and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRecord {
    pub at_ms: i64,
    /// `buy`, `sell` (sma-cross reversals), `long`, `short` (signal orders), `skip`.
    pub action: Cow<'static, str>,
    pub reason: Cow<'static, str>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BacktestResult {
    pub metrics: Metrics,
    pub trades: Vec<TradeRecord>,
    /// Still open at the last bar (valued in `final_equity` at its close, not in `trades`).
    pub open_trades: usize,
    pub decisions: Vec<DecisionRecord>,
    #[serde(skip)]
    pub curve: EquityCurve,
    /// Every signal's outcome, for signal strategies.
    pub study: Option<OutcomeTable>,
}

/// The closed trades of a run, oldest entry first; `time_stopped` names trades a time stop
/// closed (the ledger records those as manual exits).
pub fn trade_records<'a>(
    trades: impl Iterator<Item = &'a Trade>,
    time_stopped: &std::collections::BTreeSet<u64>,
) -> Result<Vec<TradeRecord>, MoneyError> {
    let mut records = Vec::new();
    for trade in
        trades.filter(|trade| trade.closed_at_ms.is_some() && !trade.closed_quantity.is_zero())
    {
        records.push(record(trade, time_stopped.contains(&trade.id))?);
    }
    records.sort_by_key(|record| record.entry_time);
    Ok(records)
}

fn record(trade: &Trade, time_stopped: bool) -> Result<TradeRecord, MoneyError> {
    let (mut entered, mut entry_notional) = (Decimal::ZERO, Decimal::ZERO);
    let mut entry_time = trade.opened_at_ms;
    for fill in trade
        .fills
        .iter()
        .filter(|fill| fill.kind != FillKind::Exit)
    {
        if entered.is_zero() {
            entry_time = fill.at_ms;
        }
        entered += fill.quantity.get();
        entry_notional += fill.quantity.get() * fill.price.get();
    }
    let average = |notional: Decimal, quantity: Decimal| -> Result<Price, MoneyError> {
        let value = notional.checked_div(quantity).ok_or(MoneyError::Overflow)?;
        Price::new_checked(value.round_dp(8).normalize())
    };
    let pnl = trade.net_pnl()?;
    let exit_reason = match trade.exit_reason {
        Some(ExitReason::Manual) if time_stopped => "time_stop".to_owned(),
        Some(ExitReason::Manual) => "strategy".to_owned(),
        Some(reason) => reason.name(),
        None => "unknown".to_owned(),
    };
    Ok(TradeRecord {
        entry_time,
        exit_time: trade.closed_at_ms.unwrap_or(entry_time),
        side: trade.side,
        entry_price: average(entry_notional, entered)?,
        exit_price: average(trade.exit_notional.get(), trade.closed_quantity.get())?,
        quantity: trade.closed_quantity,
        pnl,
        exit_reason,
        r_multiple: trade
            .initial_risk
            .filter(|risk| risk.is_positive())
            .and_then(|risk| pnl.ratio_to(risk).ok())
            .and_then(|ratio| ratio.to_f64()),
    })
}

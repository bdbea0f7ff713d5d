//! Every change to a portfolio, as data: the portfolio actor logs these and replays them.

use super::{ExitReason, ExitRules, OrderKind, RiskLimits, Side, TradeSource};
use crate::domain::market::Symbol;
use crate::domain::money::{FeeRate, Money, Price, Quantity};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How a portfolio starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortfolioSpec {
    pub id: u64,
    pub owner: String,
    pub name: String,
    pub quote_currency: String,
    pub initial_balance: Money,
    /// Fee per side as a fraction of notional (0.001 = 0.1%).
    pub fee_rate: FeeRate,
    pub limits: RiskLimits,
    pub created_at_ms: i64,
    /// Decimal places cash, P&L and fees are rounded to (banker's rounding). `None` is the
    /// exact arithmetic of portfolios created before rounding existed, kept so their
    /// ledgers replay to the same outcomes.
    pub money_decimals: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mutation {
    Open {
        symbol: Symbol,
        side: Side,
        quantity: Quantity,
        price: Price,
        stop_loss: Option<Price>,
        take_profits: Vec<Price>,
        source: TradeSource,
    },
    /// Adds to an open trade at `price`; the average entry price follows.
    Add {
        trade_id: u64,
        quantity: Quantity,
        price: Price,
    },
    /// Closes `quantity` (all that is open when None) at `price`.
    Close {
        trade_id: u64,
        quantity: Option<Quantity>,
        price: Price,
    },
    /// A take-profit level was reached: closes the target's share (see `exits.rs`) at
    /// `price` and removes the target, in one step.
    TakeProfit {
        trade_id: u64,
        target: Price,
        price: Price,
    },
    /// Replaces the stop and/or the targets of an open trade.
    Amend {
        trade_id: u64,
        stop_loss: Option<Price>,
        clear_stop_loss: bool,
        take_profits: Option<Vec<Price>>,
    },
    Journal {
        trade_id: u64,
        text: String,
        tags: Vec<String>,
    },
    // Variants below were added after ledgers were first stored: new ones go at the end,
    // existing ones never change (stored records name variants by position).
    /// Places an order: filled at once at market (or when a limit is already marketable),
    /// else resting as a pending trade with its cash reserved.
    Place(Box<OrderRequest>),
    /// Cancels a pending order, releasing its cash.
    Cancel { trade_id: u64 },
    /// A pending order reached its expiry: released like a cancel.
    Expire { trade_id: u64 },
    /// A candle traded through a pending order's price: it fills at `price`.
    FillOrder { trade_id: u64, price: Price },
    /// Closes everything open at `price` for `reason` (a stop, or a manual close).
    Exit {
        trade_id: u64,
        price: Price,
        reason: ExitReason,
    },
    /// Moves the stop of an open trade (a trailing stop or break-even), only ever towards
    /// the winning side.
    MoveStop { trade_id: u64, stop: Price },
}

/// An order as the trader asked for it, sized and priced when it is applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRequest {
    pub symbol: Symbol,
    pub side: Side,
    pub entry: Entry,
    pub size: Size,
    pub stop_loss: Option<Price>,
    pub take_profits: Vec<Price>,
    pub exit_rules: ExitRules,
    /// A pending order not filled by then expires.
    pub expires_at_ms: Option<i64>,
    pub source: TradeSource,
    /// The symbol's quantity step: quantities are multiples of it (sized ones round down).
    pub quantity_step: Quantity,
}

/// Where an order enters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Entry {
    /// Fills now at `fill_price`: the last price with slippage already applied.
    Market { fill_price: Price },
    /// Rests at `price`; `market` is the fill price a market order would get now: a limit
    /// already marketable (a long's limit at or above it) fills at once at `market`.
    Resting {
        kind: OrderKind,
        price: Price,
        market: Price,
    },
}

/// How much an order buys or sells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Size {
    Quantity(Quantity),
    /// Risks `percent` of equity between entry and stop (see `sizing.rs`), equity valued at
    /// `marks` (symbol -> last price; open positions without one at cost), then capped.
    Risk {
        #[serde(with = "rust_decimal::serde::str")]
        percent: Decimal,
        marks: BTreeMap<String, Price>,
    },
}

impl Mutation {
    pub fn trade_id(&self) -> Option<u64> {
        match self {
            Mutation::Open { .. } => None,
            Mutation::Add { trade_id, .. }
            | Mutation::Close { trade_id, .. }
            | Mutation::TakeProfit { trade_id, .. }
            | Mutation::Amend { trade_id, .. }
            | Mutation::Journal { trade_id, .. }
            | Mutation::Cancel { trade_id }
            | Mutation::Expire { trade_id }
            | Mutation::FillOrder { trade_id, .. }
            | Mutation::Exit { trade_id, .. }
            | Mutation::MoveStop { trade_id, .. } => Some(*trade_id),
            Mutation::Place(_) => None,
        }
    }
}

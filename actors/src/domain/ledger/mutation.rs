//! Every change to a portfolio, as data: the portfolio actor logs these and replays them.

use super::{RiskLimits, Side, TradeSource};
use crate::domain::market::Symbol;
use crate::domain::money::{FeeRate, Money, Price, Quantity};
use serde::{Deserialize, Serialize};

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
}

impl Mutation {
    pub fn trade_id(&self) -> Option<u64> {
        match self {
            Mutation::Open { .. } => None,
            Mutation::Add { trade_id, .. }
            | Mutation::Close { trade_id, .. }
            | Mutation::TakeProfit { trade_id, .. }
            | Mutation::Amend { trade_id, .. }
            | Mutation::Journal { trade_id, .. } => Some(*trade_id),
        }
    }
}

//! Every change to a portfolio, as data: the portfolio actor logs these and replays them.

use super::{RiskLimits, Side, TradeSource};
use crate::domain::market::Symbol;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// How a portfolio starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortfolioSpec {
    pub id: u64,
    pub owner: String,
    pub name: String,
    pub quote_currency: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub initial_balance: Decimal,
    /// Fee per side as a fraction of notional (0.001 = 0.1%).
    #[serde(with = "rust_decimal::serde::str")]
    pub fee_rate: Decimal,
    pub limits: RiskLimits,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mutation {
    Open {
        symbol: Symbol,
        side: Side,
        #[serde(with = "rust_decimal::serde::str")]
        quantity: Decimal,
        #[serde(with = "rust_decimal::serde::str")]
        price: Decimal,
        #[serde(with = "rust_decimal::serde::str_option")]
        stop_loss: Option<Decimal>,
        take_profits: Vec<super::DecimalText>,
        source: TradeSource,
    },
    /// Adds to an open trade at `price`; the average entry price follows.
    Add {
        trade_id: u64,
        #[serde(with = "rust_decimal::serde::str")]
        quantity: Decimal,
        #[serde(with = "rust_decimal::serde::str")]
        price: Decimal,
    },
    /// Closes `quantity` (all that is open when None) at `price`.
    Close {
        trade_id: u64,
        #[serde(with = "rust_decimal::serde::str_option")]
        quantity: Option<Decimal>,
        #[serde(with = "rust_decimal::serde::str")]
        price: Decimal,
    },
    /// A take-profit level was reached: closes the target's share (see `exits.rs`) at
    /// `price` and removes the target, in one step.
    TakeProfit {
        trade_id: u64,
        target: super::DecimalText,
        #[serde(with = "rust_decimal::serde::str")]
        price: Decimal,
    },
    /// Replaces the stop and/or the targets of an open trade.
    Amend {
        trade_id: u64,
        stop_loss: Option<super::DecimalText>,
        clear_stop_loss: bool,
        take_profits: Option<Vec<super::DecimalText>>,
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

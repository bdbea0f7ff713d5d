//! The shapes ledgers were stored in before trades carried their fills and journals were kept
//! apart (records `Created` and `Applied`), frozen so those ledgers still decode and replay.
//! Field order is the stored order: never change these types.

use crate::domain::ledger::{
    JournalEntry, LedgerEntry, Outcome, PortfolioSpec, RiskLimits, Side, Trade, TradeSource,
    TradeStatus,
};
use crate::domain::market::Symbol;
use crate::domain::money::{FeeRate, Money, Price, Quantity};
use serde::{Deserialize, Serialize};

/// A portfolio spec as first stored: no rounding precision (exact arithmetic).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortfolioSpecV1 {
    pub id: u64,
    pub owner: String,
    pub name: String,
    pub quote_currency: String,
    pub initial_balance: Money,
    pub fee_rate: FeeRate,
    pub limits: RiskLimits,
    pub created_at_ms: i64,
}

impl PortfolioSpecV1 {
    /// Today's spec of a portfolio created under the first rules: exact arithmetic.
    pub fn upgraded(self) -> PortfolioSpec {
        PortfolioSpec {
            id: self.id,
            owner: self.owner,
            name: self.name,
            quote_currency: self.quote_currency,
            initial_balance: self.initial_balance,
            fee_rate: self.fee_rate,
            limits: self.limits,
            created_at_ms: self.created_at_ms,
            money_decimals: None,
        }
    }
}

/// A mutation's outcome as first stored: the whole trade, its journal inside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeV1 {
    pub trade: TradeV1,
    pub entries: Vec<LedgerEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradeV1 {
    pub id: u64,
    pub symbol: Symbol,
    pub side: Side,
    pub quantity: Quantity,
    pub closed_quantity: Quantity,
    pub cost_basis: Money,
    pub fees_paid: Money,
    pub realised_pnl: Money,
    pub stop_loss: Option<Price>,
    pub take_profits: Vec<Price>,
    pub initial_risk: Option<Money>,
    pub opened_at_ms: i64,
    pub closed_at_ms: Option<i64>,
    pub status: TradeStatus,
    pub source: TradeSource,
    pub journal: Vec<JournalEntry>,
}

impl OutcomeV1 {
    /// `outcome` as it was stored then, the trade's journal being `journal`.
    pub fn projected(outcome: &Outcome, journal: &[JournalEntry]) -> OutcomeV1 {
        OutcomeV1 {
            trade: TradeV1::projected(&outcome.trade, journal),
            entries: outcome.entries.clone(),
        }
    }
}

impl TradeV1 {
    fn projected(trade: &Trade, journal: &[JournalEntry]) -> TradeV1 {
        TradeV1 {
            id: trade.id,
            symbol: trade.symbol.clone(),
            side: trade.side,
            quantity: trade.quantity,
            closed_quantity: trade.closed_quantity,
            cost_basis: trade.cost_basis,
            fees_paid: trade.fees_paid,
            realised_pnl: trade.realised_pnl,
            stop_loss: trade.stop_loss,
            take_profits: trade.take_profits.clone(),
            initial_risk: trade.initial_risk,
            opened_at_ms: trade.opened_at_ms,
            closed_at_ms: trade.closed_at_ms,
            status: trade.status,
            source: trade.source.clone(),
            journal: journal.to_vec(),
        }
    }
}

//! The paper portfolio's records: trades, journal entries and ledger entries.

use crate::domain::market::Symbol;
use crate::domain::money::{Money, MoneyError, Price, Quantity};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Long,
    Short,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TradeStatus {
    Open,
    PartiallyClosed,
    Closed,
}

/// Why the trade was opened. Externally tagged (`"manual"`, `{"signal": id}`), which every
/// serde format can read back, bincode included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TradeSource {
    Manual,
    Signal(String),
    Pattern(String),
}

/// Limits checked on every open and add; `None` is no limit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskLimits {
    pub max_position_notional: Option<Money>,
    pub max_open_positions: Option<u32>,
    /// Opens are refused once the day's (UTC) realised loss, net of fees, reaches this.
    pub daily_loss_limit: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEntry {
    pub text: String,
    pub tags: Vec<String>,
    pub at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trade {
    pub id: u64,
    pub symbol: Symbol,
    pub side: Side,
    /// Quantity still open.
    pub quantity: Quantity,
    pub closed_quantity: Quantity,
    /// What the open quantity cost (sum of quantity x price over opens and adds, less what
    /// closes released); the average entry price is derived from it.
    pub cost_basis: Money,
    pub fees_paid: Money,
    /// Gross price P&L of the closed quantity; fees are in `fees_paid`.
    pub realised_pnl: Money,
    pub stop_loss: Option<Price>,
    pub take_profits: Vec<Price>,
    /// |entry - stop| x quantity when opened with a stop: one R, for R multiples.
    pub initial_risk: Option<Money>,
    pub opened_at_ms: i64,
    pub closed_at_ms: Option<i64>,
    pub status: TradeStatus,
    pub source: TradeSource,
    pub journal: Vec<JournalEntry>,
}

impl Trade {
    /// Average entry price of the open quantity (28 significant digits, so not a [`Price`]);
    /// None once nothing is open.
    pub fn average_entry_price(&self) -> Option<Decimal> {
        self.cost_basis.per_unit(self.quantity).ok()
    }

    /// Realised P&L net of every fee paid.
    pub fn net_pnl(&self) -> Result<Money, MoneyError> {
        self.realised_pnl.checked_sub(self.fees_paid)
    }

    pub fn is_open(&self) -> bool {
        self.status != TradeStatus::Closed
    }
}

/// One cash movement. `cash_after = cash_before + amount`, and the portfolio's cash is always
/// its initial balance plus the sum of every entry's amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub trade_id: u64,
    pub kind: EntryKind,
    pub amount: Money,
    /// How the cost of open positions moved: + notional reserved, - cost released.
    pub cost_change: Money,
    pub cash_before: Money,
    pub cash_after: Money,
    pub at_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// Notional and fee reserved by an open or an add.
    Reserve,
    /// Cost released by a close, with its P&L, less the fee.
    Release,
}

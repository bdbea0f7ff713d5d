//! The paper portfolio's records: trades, journal entries and ledger entries.

use crate::domain::market::Symbol;
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
    #[serde(with = "rust_decimal::serde::str_option")]
    pub max_position_notional: Option<Decimal>,
    pub max_open_positions: Option<u32>,
    /// Opens are refused once the day's (UTC) realised loss, net of fees, reaches this.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub daily_loss_limit: Option<Decimal>,
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
    #[serde(with = "rust_decimal::serde::str")]
    pub quantity: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub closed_quantity: Decimal,
    /// What the open quantity cost (sum of quantity x price over opens and adds, less what
    /// closes released); the average entry price is derived from it.
    #[serde(with = "rust_decimal::serde::str")]
    pub cost_basis: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub fees_paid: Decimal,
    /// Gross price P&L of the closed quantity; fees are in `fees_paid`.
    #[serde(with = "rust_decimal::serde::str")]
    pub realised_pnl: Decimal,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub stop_loss: Option<Decimal>,
    pub take_profits: Vec<DecimalText>,
    /// |entry - stop| x quantity when opened with a stop: one R, for R multiples.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub initial_risk: Option<Decimal>,
    pub opened_at_ms: i64,
    pub closed_at_ms: Option<i64>,
    pub status: TradeStatus,
    pub source: TradeSource,
    pub journal: Vec<JournalEntry>,
}

/// A Decimal stored as text (exact, and fine for formats that cannot self-describe).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecimalText(#[serde(with = "rust_decimal::serde::str")] pub Decimal);

impl Trade {
    /// Average entry price of the open quantity (28 significant digits).
    pub fn average_entry_price(&self) -> Option<Decimal> {
        self.cost_basis.checked_div(self.quantity)
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
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// How the cost of open positions moved: + notional reserved, - cost released.
    #[serde(with = "rust_decimal::serde::str")]
    pub cost_change: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub cash_before: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub cash_after: Decimal,
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

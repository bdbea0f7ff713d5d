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
    /// A resting limit or stop-entry order: cash reserved, nothing filled yet.
    Pending,
    /// A pending order the trader cancelled before it filled.
    Cancelled,
    /// A pending order that reached its expiry before it filled.
    Expired,
}

/// Why a trade (or a pending order) ended; also why each exit fill happened.
/// Serialised as `stop`, `target_1`..`target_n`, `manual`, `expired`, `cancelled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExitReason {
    Stop,
    /// The n-th target reached (1-based, in the order the targets were hit).
    Target(u32),
    Manual,
    Expired,
    Cancelled,
}

/// What one fill did to a trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FillKind {
    Entry,
    Add,
    Exit,
}

/// One execution: when, at what price, how much, and the fee paid on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fill {
    pub at_ms: i64,
    pub kind: FillKind,
    pub price: Price,
    pub quantity: Quantity,
    pub fee: Money,
    /// Set on exit fills.
    pub reason: Option<ExitReason>,
}

/// How a pending order enters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderKind {
    /// Fills when the market trades at `price` or better (a long below, a short above).
    Limit,
    /// Fills when the market trades through `price` (a long above, a short below).
    StopEntry,
}

/// The terms of a trade that is (or was) a pending order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingEntry {
    pub kind: OrderKind,
    pub price: Price,
    pub expires_at_ms: Option<i64>,
    pub placed_at_ms: i64,
    /// Cash held for the order (notional and fee at `price`) while it rests.
    pub reserved: Money,
}

/// A stop that follows the price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trailing {
    /// The stop trails the best price since entry by this percent of it, in (0, 100).
    Percent(#[serde(with = "rust_decimal::serde::str")] Decimal),
    /// The stop trails the best price by this distance (an ATR multiple fixed at entry).
    Distance(Price),
}

/// Optional exit rules of a trade, applied on every candle after its entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitRules {
    pub trailing: Option<Trailing>,
    /// Once the first target fills, the stop moves to the average entry price.
    pub break_even_after_target: bool,
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
    /// Every fill, in order: the entry, adds and exits.
    pub fills: Vec<Fill>,
    /// Sum of exit quantity x price, for the average exit price.
    pub exit_notional: Money,
    /// Why the trade ended (or the last exit's reason while partially closed).
    pub exit_reason: Option<ExitReason>,
    /// Targets reached so far (names the next one `target_{n+1}`).
    pub targets_hit: u32,
    /// Set while (and after) the trade was a pending order.
    pub pending: Option<PendingEntry>,
    pub exit_rules: ExitRules,
}

impl Trade {
    /// Realised P&L net of every fee paid.
    pub fn net_pnl(&self) -> Result<Money, MoneyError> {
        self.realised_pnl.checked_sub(self.fees_paid)
    }

    /// Holding a position: open or partially closed (a pending order is not open).
    pub fn is_open(&self) -> bool {
        matches!(
            self.status,
            TradeStatus::Open | TradeStatus::PartiallyClosed
        )
    }

    /// A pending order still resting.
    pub fn is_pending(&self) -> bool {
        self.status == TradeStatus::Pending
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
    /// Cash held by a pending order.
    OrderReserve,
    /// A pending order's cash given back (fill, cancel or expiry).
    OrderRelease,
}

impl ExitReason {
    pub fn name(self) -> String {
        match self {
            ExitReason::Stop => "stop".into(),
            ExitReason::Target(n) => format!("target_{n}"),
            ExitReason::Manual => "manual".into(),
            ExitReason::Expired => "expired".into(),
            ExitReason::Cancelled => "cancelled".into(),
        }
    }

    pub fn parse(text: &str) -> Option<ExitReason> {
        match text {
            "stop" => Some(ExitReason::Stop),
            "manual" => Some(ExitReason::Manual),
            "expired" => Some(ExitReason::Expired),
            "cancelled" => Some(ExitReason::Cancelled),
            other => {
                let n: u32 = other.strip_prefix("target_")?.parse().ok()?;
                (n >= 1).then_some(ExitReason::Target(n))
            }
        }
    }
}

impl Serialize for ExitReason {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.name())
    }
}

impl<'de> Deserialize<'de> for ExitReason {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        ExitReason::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown exit reason {text:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::ExitReason;

    #[test]
    fn exit_reasons_read_back_their_names() {
        for reason in [
            ExitReason::Stop,
            ExitReason::Target(1),
            ExitReason::Target(10),
            ExitReason::Manual,
            ExitReason::Expired,
            ExitReason::Cancelled,
        ] {
            assert_eq!(ExitReason::parse(&reason.name()), Some(reason));
        }
        assert_eq!(ExitReason::Target(2).name(), "target_2");
        assert_eq!(ExitReason::parse("target_0"), None);
        assert_eq!(ExitReason::parse("take_profit"), None);
    }
}

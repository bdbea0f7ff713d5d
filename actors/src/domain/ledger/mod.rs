//! Paper portfolios: an exact, append-only decimal ledger of trades. Pure and synchronous;
//! the portfolio actor logs each [`Mutation`] durably and replays the log on start. Amounts
//! are the value types of [`crate::domain::money`].

pub mod analytics;
mod error;
mod exits;
mod model;
mod mutation;
mod on_candle;
mod order_fills;
mod order_sizing;
mod orders;
mod portfolio;
mod records;
mod risk;
pub mod rounding;
mod sizing;
mod slippage;
mod trailing;

#[cfg(test)]
mod bounds_tests;
#[cfg(test)]
mod order_tests;
#[cfg(test)]
mod reference_tests;

/// A portfolio spec for unit tests: USDT, no limits.
#[cfg(test)]
pub(crate) fn test_spec(initial_balance: &str, fee_rate: rust_decimal::Decimal) -> PortfolioSpec {
    PortfolioSpec {
        id: 1,
        owner: "trader".into(),
        name: "test".into(),
        quote_currency: "USDT".into(),
        initial_balance: crate::domain::money::Money::new(
            initial_balance.parse().expect("a decimal"),
        ),
        fee_rate: crate::domain::money::FeeRate::new_checked(fee_rate).expect("a fee rate"),
        limits: RiskLimits::default(),
        created_at_ms: 0,
        money_decimals: Some(crate::domain::money::DECIMALS_MAX),
    }
}

/// Kept here too: the ledger's callers knew it by this path before `money` existed.
pub use crate::domain::money::DECIMALS_MAX;
pub use error::LedgerError;
pub use exits::{exit_on_candle, target_share};
pub use model::{
    EntryKind, ExitReason, ExitRules, Fill, FillKind, JournalEntry, LedgerEntry, OrderKind,
    PendingEntry, RiskLimits, Side, Trade, TradeSource, TradeStatus, Trailing,
};
pub use mutation::{Entry, Mutation, OrderRequest, PortfolioSpec, Size};
pub use on_candle::{exit_key, CandleExits, ExitFill, ExitRefusal};
pub use order_fills::{order_key, order_on_candle};
pub use portfolio::{check_amount, Outcome, Portfolio};
pub use risk::{Addition, Order, RiskApproved};
pub use sizing::{risk_sized_quantity, RiskPercent, SizingCap, SizingNote};
pub use slippage::{market_fill_price, SLIPPAGE_BPS_MAX};
pub use trailing::stop_after_candle;

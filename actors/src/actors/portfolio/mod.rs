//! Paper portfolios: one [`PortfolioActor`] per portfolio serialises its mutations and makes
//! each durable before acknowledging it; the [`PortfolioBook`] creates, replays and routes.

mod actor;
mod answers;
mod book;
mod bounds;
mod candle_feed;
mod error;
#[cfg(test)]
mod exit_feed_property;
#[cfg(test)]
mod exit_tests;
#[cfg(test)]
mod journal_tests;
mod messages;
#[cfg(test)]
mod read_only_tests;
mod record;
mod strategy;
mod trade_events;

pub use actor::PortfolioActor;
pub use book::{ExitStatsView, PortfolioBook, PortfolioEntry};
pub use bounds::{KeyCounters, PortfolioBounds};
pub use candle_feed::run_candle_feed;
pub use error::{DurabilityError, PortfolioError, ReplayError};
pub use messages::{
    EvaluateExits, ExitEvaluation, LookupAnswer, MutatePortfolio, ReadPortfolio, ReadTrade,
};
pub use record::{LedgerRecord, RequestId};
pub use strategy::{DecisionView, StrategyChange, StrategyView};
pub use trade_events::{TradeEvent, TRADE_EVENT_CAPACITY};

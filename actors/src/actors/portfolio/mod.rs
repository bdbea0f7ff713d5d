//! Paper portfolios: one [`PortfolioActor`] per portfolio serialises its mutations and makes
//! each durable before acknowledging it; the [`PortfolioBook`] creates, replays and routes.

mod actor;
mod book;
mod error;
mod messages;
mod record;
mod triggers;

pub use actor::PortfolioActor;
pub use book::{PortfolioBook, PortfolioEntry};
pub use error::PortfolioError;
pub use messages::{MutatePortfolio, ReadOpenTrades, ReadPortfolio};
pub use record::LedgerRecord;
pub use triggers::run_exit_triggers;

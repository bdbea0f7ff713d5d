//! Messages a [`super::PortfolioActor`] understands.

use super::PortfolioError;
use crate::domain::ledger::{Mutation, Outcome, Portfolio};
use crate::domain::market::{Candle, Symbol};
use actix::Message;
use tokio::sync::oneshot;

/// Apply one mutation. The reply comes once it is durable (or refused); a repeated
/// `idempotency_key` gets the first answer and applies nothing.
#[derive(Message)]
#[rtype(result = "()")]
pub struct MutatePortfolio {
    pub mutation: Mutation,
    pub idempotency_key: Option<String>,
    pub at_ms: i64,
    pub reply: oneshot::Sender<Result<Outcome, PortfolioError>>,
}

/// A closed base-timeframe candle of `symbol`: apply every exit it causes on the open trades
/// (the rules are the domain's, `Portfolio::on_candle`), each logged durably like any other
/// mutation. Answers how many exits were applied.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct EvaluateExits {
    pub symbol: Symbol,
    pub candle: Candle,
    /// When the exits happen: the candle's close time.
    pub at_ms: i64,
}

/// A copy of the portfolio's state, for reads and analytics.
#[derive(Message)]
#[rtype(result = "Box<Portfolio>")]
pub struct ReadPortfolio;

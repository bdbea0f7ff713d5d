//! Messages a [`super::PortfolioActor`] understands.

use super::PortfolioError;
use crate::domain::ledger::{Mutation, Outcome, Portfolio, Trade};
use crate::domain::market::Symbol;
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

/// The open trades on one symbol (cheap: no ledger copied).
#[derive(Message)]
#[rtype(result = "Vec<Trade>")]
pub struct ReadOpenTrades(pub Symbol);

/// A copy of the portfolio's state, for reads and analytics.
#[derive(Message)]
#[rtype(result = "Box<Portfolio>")]
pub struct ReadPortfolio;

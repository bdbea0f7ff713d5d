//! Messages a [`super::PortfolioActor`] understands.

use super::record::RequestId;
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
    /// The `Idempotency-Key` and the request's fingerprint, when a key was sent.
    pub request: Option<RequestId>,
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

/// The durable first answer to an idempotency key, if any: `Err(KeyReused)` when the key
/// answered a request with another fingerprint.
#[derive(Message)]
#[rtype(result = "Option<Result<Outcome, PortfolioError>>")]
pub struct LookupAnswer {
    pub key: String,
    pub fingerprint: String,
}

/// A copy of the portfolio's state, for reads and analytics.
#[derive(Message)]
#[rtype(result = "Box<Portfolio>")]
pub struct ReadPortfolio;

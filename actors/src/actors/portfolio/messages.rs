//! Messages a [`super::PortfolioActor`] understands.

use super::record::RequestId;
use super::strategy::{StrategyChange, StrategyView};
use super::PortfolioError;
use crate::domain::backtest::SignalAtClose;
use crate::domain::ledger::{Mutation, Outcome, Portfolio};
use crate::domain::market::{Candle, Symbol, Timeframe};
use actix::Message;
use std::sync::Arc;
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

/// Closed base-timeframe candles of one `symbol`, oldest first: apply every exit each causes
/// on the open trades (the rules are the domain's, `Portfolio::on_candle`), each logged
/// durably like any other mutation. A candle at or before the last one this portfolio
/// evaluated on `symbol` is skipped, so each is evaluated at most once.
///
/// The answer goes back on `reply` rather than as the message's result: actix skips a
/// message whose `send` future was dropped (the caller's deadline passed), and a skipped batch
/// would be candles never evaluated. Queued with `try_send`, the batch is always handled.
#[derive(Message)]
#[rtype(result = "()")]
pub struct EvaluateExits {
    pub symbol: Symbol,
    /// Shared by every portfolio the batch goes to.
    pub candles: Arc<[Candle]>,
    /// The signals the candles' closes emitted, for the portfolio's strategy.
    pub signals: Arc<[SignalAtClose]>,
    /// The candles' timeframe: an exit happens at its candle's close time.
    pub timeframe: Timeframe,
    pub reply: oneshot::Sender<ExitEvaluation>,
}

/// What one [`EvaluateExits`] did to one portfolio.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExitEvaluation {
    /// Candles evaluated (those already evaluated before are not counted).
    pub evaluated: usize,
    /// Exits applied and logged.
    pub applied: usize,
    /// Exits the ledger refused (logged; the trade stays open).
    pub refused: usize,
}

/// The durable first answer to an idempotency key, if any: `Err(KeyReused)` when the key
/// answered a request with another fingerprint.
#[derive(Message)]
#[rtype(result = "Option<Result<Outcome, PortfolioError>>")]
pub struct LookupAnswer {
    pub key: String,
    pub fingerprint: String,
}

/// Attach, pause, resume or detach the portfolio's live strategy. The reply comes once the
/// change is durable, with the strategy it leaves (None after a detach).
#[derive(Message)]
#[rtype(result = "()")]
pub struct ConfigureStrategy {
    pub change: StrategyChange,
    pub at_ms: i64,
    pub reply: oneshot::Sender<Result<Option<StrategyView>, PortfolioError>>,
}

/// The portfolio's live strategy, if it has one.
#[derive(Message)]
#[rtype(result = "Option<StrategyView>")]
pub struct ReadStrategy;

/// A copy of the portfolio's state, for reads and analytics.
#[derive(Message)]
#[rtype(result = "Box<Portfolio>")]
pub struct ReadPortfolio;

/// A copy of one trade: what a close or an add needs, without copying every trade.
#[derive(Message)]
#[rtype(result = "Option<crate::domain::ledger::Trade>")]
pub struct ReadTrade {
    pub trade_id: u64,
}

/// Test-only: the actor handles nothing more until `release` fires (or is dropped), so a test
/// can hold exit evaluation back for a while.
#[cfg(test)]
#[derive(Message)]
#[rtype(result = "()")]
pub struct StallPortfolio {
    pub release: oneshot::Receiver<()>,
}

/// Test-only: the actor stops, as after a failed ledger write.
#[cfg(test)]
#[derive(Message)]
#[rtype(result = "()")]
pub struct StopPortfolio;

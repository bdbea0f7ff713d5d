use crate::domain::market::{Symbol, Timeframe};
use crate::domain::DomainError;

/// Errors of the actor layer. Each says what the caller can do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("the mailbox of {symbol} is full ({capacity} messages waiting); retry shortly")]
    MailboxFull { symbol: Symbol, capacity: usize },
    #[error("no candles have been ingested for {0}")]
    UnknownSymbol(Symbol),
    #[error("{symbol} is ingested at {base}; a {received} batch cannot be mixed in")]
    TimeframeMismatch {
        symbol: Symbol,
        base: Timeframe,
        received: Timeframe,
    },
    #[error("{symbol} has no {timeframe} candles: it is ingested at {base}, which aggregates only to longer timeframes")]
    TimeframeUnavailable {
        symbol: Symbol,
        timeframe: Timeframe,
        base: Timeframe,
    },
    #[error("the symbol limit of {0} is reached; no new symbol can be added")]
    SymbolLimit(usize),
    #[error("the actor of {symbol} did not answer within {timeout_ms} ms")]
    Timeout { symbol: Symbol, timeout_ms: u64 },
    #[error("the actor of {0} is not running")]
    ActorStopped(Symbol),
    #[error("the engine is shutting down and accepts no more candles")]
    ShuttingDown,
    #[error("the engine is restoring its state from the store; retry shortly")]
    Restoring,
    #[error("the store failed: {0}")]
    Store(String),
    #[error("the actor system failed to start: {0}")]
    Startup(String),
    #[error(transparent)]
    Domain(#[from] DomainError),
}

use crate::actors::portfolio::PortfolioError;
use crate::domain::market::{Symbol, Timeframe};
use crate::domain::DomainError;
use crate::store::StoreError;

/// Errors of the actor layer. Each says what the caller can do about it; an error caused by
/// another keeps it as its source.
#[derive(Debug, thiserror::Error)]
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
    Store(#[from] StoreError),
    #[error("the portfolios could not be restored: {0}")]
    PortfolioRestore(#[source] PortfolioError),
    #[error("the persistence actor stopped")]
    PersistenceStopped(#[source] actix::MailboxError),
    /// A start-up refusal with no underlying error (bad capacities, the engine stopped).
    #[error("the actor system failed to start: {0}")]
    Startup(&'static str),
    #[error("the actor system failed to start: {0}")]
    InvalidAnalysis(#[source] DomainError),
    #[error("the actor system failed to start: {0}")]
    SystemThread(#[source] std::io::Error),
    #[error(transparent)]
    Domain(#[from] DomainError),
}

impl EngineError {
    /// Whether the same request may succeed later unchanged (the engine is busy, starting or
    /// stopping), rather than being wrong or broken.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            EngineError::MailboxFull { .. }
                | EngineError::ShuttingDown
                | EngineError::Restoring
                | EngineError::Timeout { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error;

    #[test]
    fn busy_starting_and_stopping_are_transient_the_rest_is_not() {
        let symbol = Symbol::parse("BTCUSDT").unwrap();
        let transient = [
            EngineError::MailboxFull {
                symbol: symbol.clone(),
                capacity: 1,
            },
            EngineError::ShuttingDown,
            EngineError::Restoring,
            EngineError::Timeout {
                symbol: symbol.clone(),
                timeout_ms: 5,
            },
        ];
        assert!(transient.iter().all(EngineError::is_transient));
        let lasting = [
            EngineError::UnknownSymbol(symbol.clone()),
            EngineError::ActorStopped(symbol),
            EngineError::SymbolLimit(3),
            EngineError::Startup("the engine is stopped"),
        ];
        assert!(!lasting.iter().any(EngineError::is_transient));
    }

    #[test]
    fn a_caused_error_keeps_its_source() {
        let error = EngineError::PersistenceStopped(actix::MailboxError::Closed);
        assert!(error.source().is_some());
        let error = EngineError::SystemThread(std::io::Error::other("no threads left"));
        assert_eq!(
            error.source().map(ToString::to_string).as_deref(),
            Some("no threads left")
        );
    }
}

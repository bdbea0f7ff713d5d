use crate::domain::ledger::LedgerError;
use crate::store::{EnvelopeError, StoreError};
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortfolioError {
    #[error(transparent)]
    Refused(#[from] LedgerError),
    #[error("portfolio {0} does not exist")]
    Unknown(u64),
    #[error("the same idempotency key was used for a different request")]
    KeyReused,
    #[error("the portfolio could not be written durably: {0}")]
    Durability(#[source] DurabilityError),
    #[error("at most {max} portfolios per user")]
    LimitReached { max: usize },
    #[error("portfolio {portfolio} is read-only: {reason}")]
    ReadOnly { portfolio: u64, reason: String },
    #[error("portfolio {0} has no strategy")]
    NoStrategy(u64),
    #[error("strategy refused: {0}")]
    StrategyRefused(String),
    #[error("the portfolio actor did not answer")]
    Unavailable,
    #[error("the ledger of portfolio {portfolio} does not replay at record {seq}: {cause}")]
    Replay {
        portfolio: u64,
        seq: u64,
        #[source]
        cause: ReplayError,
    },
}

/// Why a stored ledger does not replay; the decoder's or the ledger's error is the source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    #[error("expected record {expected}")]
    Gap { expected: u64 },
    #[error("the record does not decode: {0}")]
    Undecodable(#[source] EnvelopeError),
    #[error("no longer applies: {0}")]
    NoLongerApplies(#[source] LedgerError),
    #[error("replays to a different outcome")]
    DifferentOutcome,
    #[error("records out of place")]
    OutOfPlace,
    #[error("the stored portfolio is refused: {0}")]
    SpecRefused(#[source] LedgerError),
    #[error("no creation record")]
    NoCreation,
    #[error("cash differs from the ledger sum")]
    NotConserved,
    #[error("a strategy record does not apply: {0}")]
    Strategy(String),
}

/// Why a ledger record could not be made durable, with the store's or the envelope's error
/// kept as the source. Shared (`Arc`) because one answer is cloned to every retry of its
/// idempotency key.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DurabilityError {
    #[error(transparent)]
    Store(Arc<StoreError>),
    #[error(transparent)]
    Encode(Arc<EnvelopeError>),
}

/// Two failures are the same when they say the same: the sources themselves have no
/// equality, and answers are compared only as what they tell the client.
impl PartialEq for DurabilityError {
    fn eq(&self, other: &DurabilityError) -> bool {
        self.to_string() == other.to_string()
    }
}

impl Eq for DurabilityError {}

impl From<StoreError> for PortfolioError {
    fn from(error: StoreError) -> PortfolioError {
        PortfolioError::Durability(DurabilityError::Store(Arc::new(error)))
    }
}

impl From<EnvelopeError> for PortfolioError {
    fn from(error: EnvelopeError) -> PortfolioError {
        PortfolioError::Durability(DurabilityError::Encode(Arc::new(error)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error;

    #[test]
    fn a_durability_failure_keeps_the_store_error_as_its_source() {
        let io =
            |text: &str| StoreError::Io(sled::Error::Io(std::io::Error::other(text.to_owned())));
        let error = PortfolioError::from(io("disk full"));
        assert_eq!(
            error.to_string(),
            "the portfolio could not be written durably: store I/O failed: IO error: disk full"
        );
        let source = error.source().expect("a source");
        assert_eq!(source.to_string(), "store I/O failed: IO error: disk full");
        assert_eq!(error.clone(), error);
        assert_ne!(error, PortfolioError::from(io("other")));
    }
}

use crate::domain::ledger::LedgerError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortfolioError {
    #[error(transparent)]
    Refused(#[from] LedgerError),
    #[error("portfolio {0} does not exist")]
    Unknown(u64),
    #[error("the same idempotency key was used for a different request")]
    KeyReused,
    #[error("the portfolio could not be written durably: {0}")]
    Durability(String),
    #[error("the portfolio actor did not answer")]
    Unavailable,
    #[error("the ledger of portfolio {portfolio} does not replay at record {seq}: {problem}")]
    Replay {
        portfolio: u64,
        seq: u64,
        problem: String,
    },
}

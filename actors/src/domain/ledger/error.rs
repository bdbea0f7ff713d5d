use crate::domain::money::{Money, MoneyError};

/// Why a mutation was refused. Each names the field at fault; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// A well-formed amount beyond a bound every portfolio keeps (see `domain::money`).
    #[error("{field}: {message}")]
    OutOfRange {
        field: &'static str,
        message: String,
    },
    #[error("trade {0} does not exist in this portfolio")]
    UnknownTrade(u64),
    #[error("trade {0} is closed")]
    TradeClosed(u64),
    /// Only a pending order can be cancelled, expired or filled.
    #[error("trade {0} is not a pending order")]
    NotPending(u64),
    #[error("not enough cash: {needed} needed, {available} available")]
    InsufficientCash { needed: Money, available: Money },
    #[error("{limit}: {message}")]
    RiskLimit {
        limit: &'static str,
        message: String,
    },
    /// Arithmetic on the amounts failed (overflow, or a result outside its type's range).
    #[error("the amounts overflow")]
    Overflow(#[from] MoneyError),
}

impl LedgerError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> LedgerError {
        LedgerError::Invalid {
            field,
            message: message.into(),
        }
    }

    /// The request field the error is about, for the API's field-level errors.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            LedgerError::Invalid { field, .. } | LedgerError::OutOfRange { field, .. } => {
                Some(field)
            }
            LedgerError::UnknownTrade(_)
            | LedgerError::TradeClosed(_)
            | LedgerError::NotPending(_) => Some("trade_id"),
            LedgerError::InsufficientCash { .. } => Some("quantity"),
            LedgerError::RiskLimit { .. } => Some("quantity"),
            LedgerError::Overflow(_) => None,
        }
    }
}

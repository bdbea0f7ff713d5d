use super::market::CandleField;

/// Every way domain input can be refused. Messages are written for the trader who sent it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("symbol {input:?} {reason}")]
    InvalidSymbol { input: String, reason: &'static str },
    #[error("unknown timeframe {0:?}: expected one of 1m 5m 15m 30m 1h 2h 4h 1d")]
    UnknownTimeframe(String),
    #[error("{field}: {message}")]
    InvalidCandle { field: CandleField, message: String },
    #[error("{field}: {message}")]
    InvalidSetting { field: String, message: String },
    /// Older history offered to a symbol (a prepend) that cannot be placed.
    #[error("{timeframe} history: {message}")]
    InvalidHistory {
        timeframe: &'static str,
        message: String,
    },
}

impl DomainError {
    pub(crate) fn candle(field: CandleField, message: impl Into<String>) -> Self {
        DomainError::InvalidCandle {
            field,
            message: message.into(),
        }
    }
}

use crate::domain::ledger::LedgerError;
use crate::domain::money::MoneyError;

/// Why a backtest could not run or stopped. Each names what to fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BacktestError {
    /// A setting of the run or the strategy is out of its range.
    #[error("{field}: {message}")]
    Setting {
        field: &'static str,
        message: String,
    },
    #[error("no candles in the chosen period")]
    NoCandles,
    /// The ledger refused a step the broker took in good faith: a defect, reported whole.
    #[error("the ledger refused {action} at {at_ms}: {source}")]
    Ledger {
        action: &'static str,
        at_ms: i64,
        #[source]
        source: LedgerError,
    },
    #[error("the amounts overflow")]
    Overflow(#[from] MoneyError),
}

impl BacktestError {
    pub fn setting(field: &'static str, message: impl Into<String>) -> BacktestError {
        BacktestError::Setting {
            field,
            message: message.into(),
        }
    }
}

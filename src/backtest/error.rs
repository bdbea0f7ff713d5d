use crate::import::ImportError;
use cryptolens_actors::domain::backtest::BacktestError;
use std::path::PathBuf;

/// Why `cryptolens backtest` could not run; exit code 2 for bad input, 1 for the rest.
#[derive(Debug, thiserror::Error)]
pub enum BacktestCliError {
    #[error(transparent)]
    Input(#[from] ImportError),
    #[error("--{flag}: {message}")]
    Argument { flag: &'static str, message: String },
    #[error("{path}: {message}")]
    Strategy { path: PathBuf, message: String },
    #[error("{path}: candle at {open_time_ms} appears twice with different values; the files overlap inconsistently")]
    ConflictingCandles { path: PathBuf, open_time_ms: i64 },
    #[error(transparent)]
    Engine(#[from] BacktestError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl BacktestCliError {
    pub fn argument(flag: &'static str, message: impl Into<String>) -> BacktestCliError {
        BacktestCliError::Argument {
            flag,
            message: message.into(),
        }
    }

    /// Whether the user's input is at fault (exit code 2) rather than the machine (1).
    pub fn is_bad_input(&self) -> bool {
        match self {
            BacktestCliError::Input(error) => !matches!(error, ImportError::Read { .. }),
            BacktestCliError::Write { .. } => false,
            BacktestCliError::Engine(BacktestError::Ledger { .. } | BacktestError::Overflow(_)) => {
                false
            }
            _ => true,
        }
    }
}

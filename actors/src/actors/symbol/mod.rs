//! The symbol actor: owns one symbol's candles and analysis, publishes what changes, and
//! keeps the exit backlog the portfolio exit feed drains.

mod actor;
mod exit_backlog;
mod handle;
mod messages;
mod view;

pub use actor::SymbolActor;
pub use exit_backlog::{ExitBacklog, ExitBatch, ExitOutlet};
pub use handle::SymbolHandle;
pub use messages::{
    Ask, CandleSnapshot, DrainMailbox, IngestCandles, IngestReport, PrependCandles, PrependReport,
    ReadCandles, Request, RescanSignals, SnapshotCopy, SymbolSummary, TakeExitCandles,
    TakeSnapshot,
};
pub use view::{newest_first, AnalysisBoard, AnalysisView, DerivedCache, TimeframeView};

#[cfg(feature = "fault-injection")]
pub use messages::{Fault, InjectFault};

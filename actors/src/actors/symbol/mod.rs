//! The symbol actor: owns one symbol's candles and analysis, and publishes what changes.

mod actor;
mod messages;
mod view;

pub use actor::SymbolActor;
pub use messages::{
    CandleSnapshot, DrainMailbox, IngestCandles, IngestReport, ReadCandles, RescanSignals,
    SnapshotCopy, SymbolSummary, TakeSnapshot,
};
pub use view::{newest_first, AnalysisBoard, AnalysisView, TimeframeView};

#[cfg(feature = "fault-injection")]
pub use messages::{Fault, InjectFault};

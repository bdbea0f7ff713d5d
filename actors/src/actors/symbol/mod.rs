//! The symbol actor: owns one symbol's aggregator and publishes what it closes.

mod actor;
mod messages;

pub use actor::SymbolActor;
pub use messages::{
    CandleSnapshot, DrainMailbox, IngestCandles, IngestReport, ReadCandles, SymbolSummary,
};

#[cfg(feature = "fault-injection")]
pub use messages::{Fault, InjectFault};

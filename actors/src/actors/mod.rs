//! Thin actix shells around the domain: one supervised [`SymbolActor`] per symbol, a
//! [`Registry`] that routes by symbol, and the [`Engine`] that owns the actor system (its
//! files split by concern: start-up, restore, persistence, routing, views, shutdown, runtime).
//!
//! Every request to a symbol actor goes through [`SymbolHandle::ask`]: bounded mailbox, time
//! limit, one error mapping. Readers never queue behind ingest: [`PatternQuery`] and
//! [`SignalQuery`] run over the published [`AnalysisView`]s, and [`HealthReports::verdict`]
//! decides the health word from the actors' atomic counters; the API only renders.

mod engine;
mod error;
mod events;
mod exit_wakeups;
mod health;
mod health_verdict;
pub mod notifier;
mod pattern_query;
mod persistence;
pub mod portfolio;
mod registry;
mod settings;
mod signal_query;
pub mod symbol;

pub use engine::{Engine, RestoreReport, ShutdownReport};
pub use error::EngineError;
pub use events::MarketEvent;
pub use exit_wakeups::ExitWakeups;
pub use health::{ActorHealth, ActorHealthView};
pub use health_verdict::{HealthReports, HealthStatus, HealthVerdict, HEARTBEAT_INTERVALS_STALE};
pub use pattern_query::{PatternEntry, PatternPage, PatternQuery, StatusFilter};
pub use persistence::PersistenceView;
pub use registry::Registry;
pub use settings::EngineSettings;
pub use signal_query::SignalQuery;
pub use symbol::{
    newest_first, AnalysisView, CandleSnapshot, IngestReport, PrependReport, SymbolActor,
    SymbolHandle, SymbolSummary, TimeframeView,
};

#[cfg(feature = "fault-injection")]
pub use symbol::Fault;

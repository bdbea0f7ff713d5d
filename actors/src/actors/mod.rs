//! Thin actix shells around the domain: one supervised [`SymbolActor`] per symbol, a
//! [`Registry`] that routes by symbol, and the [`Engine`] that owns the actor system.

mod clock;
mod engine;
mod error;
mod events;
mod health;
mod persistence;
pub mod portfolio;
mod registry;
mod settings;
pub mod symbol;

pub use engine::{Engine, RestoreReport};
pub use error::EngineError;
pub use events::MarketEvent;
pub use health::{ActorHealth, ActorHealthView};
pub use persistence::PersistenceView;
pub use registry::Registry;
pub use settings::EngineSettings;
pub use symbol::{
    newest_first, AnalysisView, CandleSnapshot, IngestReport, SymbolActor, SymbolHandle,
    SymbolSummary, TimeframeView,
};

#[cfg(feature = "fault-injection")]
pub use symbol::Fault;

//! Start-up: the settings are checked before any thread starts.

use super::runtime::ActorRuntime;
use super::{Engine, EngineInner};
use crate::actors::persistence::PersistenceStats;
use crate::actors::registry::Registry;
use crate::actors::{EngineError, EngineSettings, ExitWakeups};
use crate::clock::{system_clock, SharedClock};
use crate::domain::analysis::AnalysisSettings;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, OnceLock};

impl Engine {
    /// Starts an actix system on its own thread with `settings.shards` arbiters; every symbol
    /// actor analyses its candles with `analysis`.
    pub fn start(
        settings: EngineSettings,
        analysis: AnalysisSettings,
    ) -> Result<Engine, EngineError> {
        Engine::start_with(settings, analysis, true, system_clock())
    }

    /// Like [`Engine::start`], but ingest stays closed (503, retry) until
    /// [`Engine::restore_from`] has brought back every stored symbol.
    pub fn start_restoring(
        settings: EngineSettings,
        analysis: AnalysisSettings,
    ) -> Result<Engine, EngineError> {
        Engine::start_with(settings, analysis, false, system_clock())
    }

    /// [`Engine::start_restoring`] with the clock every actor reads (a manual one in tests).
    pub fn start_restoring_with_clock(
        settings: EngineSettings,
        analysis: AnalysisSettings,
        clock: SharedClock,
    ) -> Result<Engine, EngineError> {
        Engine::start_with(settings, analysis, false, clock)
    }

    fn start_with(
        settings: EngineSettings,
        analysis: AnalysisSettings,
        ingest_open: bool,
        clock: SharedClock,
    ) -> Result<Engine, EngineError> {
        if settings.mailbox_capacity == 0 || settings.ring_capacity == 0 {
            return Err(EngineError::Startup(
                "mailbox and ring capacities must be at least 1",
            ));
        }
        analysis.validate().map_err(EngineError::InvalidAnalysis)?;
        let runtime = ActorRuntime::start(settings.shard_count())?;
        let shards = runtime.shards();
        let events = crate::actors::events::MarketEvents::new(settings.event_capacity);
        let exit_wakeups = Arc::new(ExitWakeups::default());
        let registry = Registry::new(
            shards,
            settings.clone(),
            Arc::new(analysis),
            events.clone(),
            Arc::clone(&clock),
            Arc::clone(&exit_wakeups),
        );
        let inner = EngineInner {
            registry: Arc::new(registry),
            settings,
            events,
            accepting: AtomicBool::new(true),
            ingest_open: AtomicBool::new(ingest_open),
            persistence: Mutex::new(None),
            persistence_stats: Arc::new(PersistenceStats::default()),
            store_problems: Mutex::new(Vec::new()),
            portfolios: OnceLock::new(),
            notifier: OnceLock::new(),
            runtime: Mutex::new(Some(runtime)),
            clock,
            exit_wakeups,
        };
        Ok(Engine {
            inner: Arc::new(inner),
        })
    }
}

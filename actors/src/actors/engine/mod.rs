//! The [`Engine`]: the one handle the server holds on the actor system. Each concern lives
//! in its own file:
//!
//! - [`startup`]: checks the settings and starts the actor system and the registry;
//! - [`restore`]: brings back stored symbols and portfolios, then opens ingest;
//! - [`persistence`]: hooks the persistence actor up to the store, snapshots on demand;
//! - [`routing`]: ingest, candle reads and rescans, each one [`SymbolHandle::ask`];
//! - [`views`]: published analysis and health, read without waiting on any actor;
//! - [`shutdown`]: drains every mailbox, takes a final snapshot, stops the system;
//! - [`runtime`]: the actix system thread and its arbiters.

mod notifier;
mod persistence;
mod restore;
mod routing;
mod runtime;
mod shutdown;
mod startup;
mod views;

pub use restore::RestoreReport;
pub use shutdown::ShutdownReport;

use super::persistence::PersistenceStats;
use super::portfolio::PortfolioBook;
use super::registry::Registry;
use super::symbol::SymbolHandle;
use super::{EngineError, EngineSettings, MarketEvent};
use crate::clock::SharedClock;
use crate::domain::market::Symbol;
use persistence::Persistence;
use runtime::ActorRuntime;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use tokio::sync::broadcast;

/// A cheap, cloneable handle on the running engine.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

struct EngineInner {
    registry: Arc<Registry>,
    settings: EngineSettings,
    events: super::events::MarketEvents,
    accepting: AtomicBool,
    /// False while the state is being restored: ingest waits for it.
    ingest_open: AtomicBool,
    persistence: Mutex<Option<Persistence>>,
    persistence_stats: Arc<PersistenceStats>,
    store_problems: Mutex<Vec<crate::store::StoreProblem>>,
    portfolios: OnceLock<Arc<PortfolioBook>>,
    notifier: OnceLock<super::notifier::NotifierHandle>,
    runtime: Mutex<Option<ActorRuntime>>,
    /// The one wall clock of every actor the engine starts.
    clock: SharedClock,
    /// Symbols with exit candles waiting, shared by the symbol actors and the exit feed.
    exit_wakeups: Arc<super::ExitWakeups>,
}

impl Engine {
    pub fn settings(&self) -> &EngineSettings {
        &self.inner.settings
    }

    /// The clock the engine's actors read; the API reads the same one.
    pub fn clock(&self) -> SharedClock {
        Arc::clone(&self.inner.clock)
    }

    /// The wake-ups of the portfolio exit feed.
    pub fn exit_wakeups(&self) -> Arc<super::ExitWakeups> {
        Arc::clone(&self.inner.exit_wakeups)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<MarketEvent> {
        self.inner.events.all.subscribe()
    }

    /// Signal events only, on their own channel (see [`super::events::MarketEvents`]).
    pub fn subscribe_signals(&self) -> broadcast::Receiver<MarketEvent> {
        self.inner.events.signals.subscribe()
    }

    pub fn is_accepting(&self) -> bool {
        self.inner.accepting.load(Ordering::Acquire)
    }

    /// False while the state is being restored.
    pub fn is_open(&self) -> bool {
        self.inner.ingest_open.load(Ordering::Acquire)
    }

    fn handle(&self, symbol: &Symbol) -> Result<SymbolHandle, EngineError> {
        self.inner
            .registry
            .get(symbol)
            .ok_or_else(|| EngineError::UnknownSymbol(symbol.clone()))
    }

    fn request_timeout_ms(&self) -> u64 {
        self.inner.settings.request_timeout_ms
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every critical section here is a single read or write: a poisoned lock still holds a
    // whole value.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests;

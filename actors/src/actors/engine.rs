//! Starts the actor system, routes requests to symbol actors and drains them at shutdown.

use super::health::ActorHealthView;
use super::persistence::{PersistenceActor, PersistenceStats, PersistenceView, SnapshotRound};
use super::portfolio::PortfolioBook;
use super::registry::{Registry, SymbolHandle};
use super::symbol::{
    AnalysisView, CandleSnapshot, DrainMailbox, IngestCandles, IngestReport, ReadCandles,
    RescanSignals, SymbolSummary,
};
use super::{EngineError, EngineSettings, MarketEvent};
use crate::domain::analysis::AnalysisSettings;
use crate::domain::market::{Candle, Price, Symbol, Timeframe};
use crate::domain::scanner::SymbolScanner;
use crate::store::{Store, StoreProblem};
use actix::prelude::SendError;
use actix::{Actor, Addr};
use actix_rt::{Arbiter, System};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, oneshot};

/// A cheap, cloneable handle on the running engine.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

struct EngineInner {
    registry: Arc<Registry>,
    settings: EngineSettings,
    events: broadcast::Sender<MarketEvent>,
    accepting: AtomicBool,
    /// False while the state is being restored: ingest waits for it.
    ingest_open: AtomicBool,
    persistence: Mutex<Option<Persistence>>,
    persistence_stats: Arc<PersistenceStats>,
    store_problems: Mutex<Vec<StoreProblem>>,
    portfolios: std::sync::OnceLock<Arc<PortfolioBook>>,
    runtime: Mutex<Option<ActorRuntime>>,
}

struct Persistence {
    actor: Addr<PersistenceActor>,
    store: Arc<Store>,
}

/// What a restore found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreReport {
    pub symbols: usize,
    pub problems: Vec<StoreProblem>,
}

/// The actix system thread and its arbiters, joined at shutdown.
struct ActorRuntime {
    system: System,
    system_thread: JoinHandle<()>,
    arbiters: Vec<Arbiter>,
    /// Its own thread, so encoding and disk waits never hold up symbol actors.
    persistence_arbiter: Arbiter,
}

impl Engine {
    /// Starts an actix system on its own thread with `settings.shards` arbiters; every symbol
    /// actor analyses its candles with `analysis`.
    pub fn start(
        settings: EngineSettings,
        analysis: AnalysisSettings,
    ) -> Result<Engine, EngineError> {
        Engine::start_with(settings, analysis, true)
    }

    /// Like [`Engine::start`], but ingest stays closed (503, retry) until
    /// [`Engine::restore_from`] has brought back every stored symbol.
    pub fn start_restoring(
        settings: EngineSettings,
        analysis: AnalysisSettings,
    ) -> Result<Engine, EngineError> {
        Engine::start_with(settings, analysis, false)
    }

    fn start_with(
        settings: EngineSettings,
        analysis: AnalysisSettings,
        ingest_open: bool,
    ) -> Result<Engine, EngineError> {
        if settings.mailbox_capacity == 0 || settings.ring_capacity == 0 {
            return Err(EngineError::Startup(
                "mailbox and ring capacities must be at least 1".into(),
            ));
        }
        analysis
            .validate()
            .map_err(|error| EngineError::Startup(error.to_string()))?;
        let runtime = ActorRuntime::start(settings.shard_count())?;
        let shards = runtime.arbiters.iter().map(Arbiter::handle).collect();
        let (events, _) = broadcast::channel(settings.event_capacity.max(1));
        let registry = Registry::new(shards, settings.clone(), Arc::new(analysis), events.clone());
        let inner = EngineInner {
            registry: Arc::new(registry),
            settings,
            events,
            accepting: AtomicBool::new(true),
            ingest_open: AtomicBool::new(ingest_open),
            persistence: Mutex::new(None),
            persistence_stats: Arc::new(PersistenceStats::default()),
            store_problems: Mutex::new(Vec::new()),
            portfolios: std::sync::OnceLock::new(),
            runtime: Mutex::new(Some(runtime)),
        };
        Ok(Engine {
            inner: Arc::new(inner),
        })
    }

    pub fn settings(&self) -> &EngineSettings {
        &self.inner.settings
    }

    /// Restores every symbol snapshot in `store` (blocking: call it off the async reactor),
    /// starts the persistence actor on it, then opens ingest. Snapshots that fail
    /// verification are quarantined, reported here and in [`Engine::store_problems`], and
    /// their symbols start empty; every other symbol is served.
    pub fn restore_from(&self, store: Arc<Store>) -> Result<RestoreReport, EngineError> {
        let loaded = store
            .load_symbols::<SymbolScanner>()
            .map_err(|error| EngineError::Store(error.to_string()))?;
        let (snapshots, problems) = (loaded.values, loaded.problems);
        for problem in &problems {
            tracing::error!(tree = %problem.tree, key = %problem.key, problem = %problem.problem,
                "stored snapshot failed verification; quarantined, not served");
        }
        let symbols = snapshots.len();
        for (_key, scanner) in snapshots {
            self.inner.registry.spawn_restored(scanner)?;
        }
        let portfolio_problems = self.restore_portfolios(Arc::clone(&store))?;
        self.start_persistence(store)?;
        let mut problems = problems;
        problems.extend(portfolio_problems);
        lock(&self.inner.store_problems).extend(problems.iter().cloned());
        self.inner.ingest_open.store(true, Ordering::Release);
        tracing::info!(symbols, problems = problems.len(), "state restored");
        Ok(RestoreReport { symbols, problems })
    }

    fn restore_portfolios(&self, store: Arc<Store>) -> Result<Vec<StoreProblem>, EngineError> {
        let shards = {
            let runtime = lock(&self.inner.runtime);
            let runtime = runtime
                .as_ref()
                .ok_or_else(|| EngineError::Startup("the engine is stopped".into()))?;
            runtime.arbiters.iter().map(Arbiter::handle).collect()
        };
        let (book, problems) = PortfolioBook::restore(store, shards, self.request_timeout())
            .map_err(|error| EngineError::Store(error.to_string()))?;
        let _ = self.inner.portfolios.set(Arc::new(book));
        Ok(problems)
    }

    /// The paper portfolios; None until the state has been restored from a store.
    pub fn portfolios(&self) -> Option<Arc<PortfolioBook>> {
        self.inner.portfolios.get().cloned()
    }

    /// The timeframe `symbol` is ingested at, if it is known.
    pub fn base_timeframe(&self, symbol: &Symbol) -> Option<Timeframe> {
        self.inner
            .registry
            .get(symbol)
            .map(|handle| handle.health.base_timeframe())
    }

    /// The latest price of `symbol`: the close of its newest base candle, forming or closed.
    pub async fn last_price(&self, symbol: &Symbol) -> Result<Price, EngineError> {
        let base = self.handle(symbol)?.health.base_timeframe();
        let snapshot = self.read_candles(symbol, base, 1).await?;
        snapshot
            .forming
            .or_else(|| snapshot.closed.last().copied())
            .map(|candle| candle.close)
            .ok_or_else(|| EngineError::UnknownSymbol(symbol.clone()))
    }

    fn start_persistence(&self, store: Arc<Store>) -> Result<(), EngineError> {
        let runtime = lock(&self.inner.runtime);
        let runtime = runtime
            .as_ref()
            .ok_or_else(|| EngineError::Startup("the engine is stopped".into()))?;
        let actor = PersistenceActor::new(
            Arc::clone(&self.inner.registry),
            Arc::clone(&store),
            Duration::from_millis(self.inner.settings.snapshot_interval_ms.max(1)),
            Arc::clone(&self.inner.persistence_stats),
        );
        let actor =
            PersistenceActor::start_in_arbiter(&runtime.persistence_arbiter.handle(), |_| actor);
        *lock(&self.inner.persistence) = Some(Persistence { actor, store });
        Ok(())
    }

    /// Stored values that failed verification at start-up.
    pub fn store_problems(&self) -> Vec<StoreProblem> {
        lock(&self.inner.store_problems).clone()
    }

    /// Snapshot rounds, snapshots written and failures; None without a store.
    pub fn persistence(&self) -> Option<PersistenceView> {
        lock(&self.inner.persistence)
            .as_ref()
            .map(|_| self.inner.persistence_stats.view())
    }

    /// Takes a snapshot round now (tests and shutdown); returns the symbols written.
    pub async fn snapshot_now(&self) -> Result<usize, EngineError> {
        let actor = lock(&self.inner.persistence)
            .as_ref()
            .map(|persistence| persistence.actor.clone());
        match actor {
            None => Ok(0),
            Some(actor) => actor
                .send(SnapshotRound)
                .await
                .map_err(|_| EngineError::Store("the persistence actor stopped".into())),
        }
    }

    /// Applies checked candles of `timeframe` to `symbol`, creating its actor if needed. A full
    /// mailbox is refused at once with [`EngineError::MailboxFull`]: nothing is queued then.
    pub async fn ingest(
        &self,
        symbol: &Symbol,
        timeframe: Timeframe,
        candles: Vec<Candle>,
    ) -> Result<IngestReport, EngineError> {
        if !self.inner.accepting.load(Ordering::Acquire) {
            return Err(EngineError::ShuttingDown);
        }
        if !self.inner.ingest_open.load(Ordering::Acquire) {
            return Err(EngineError::Restoring);
        }
        let handle = self.inner.registry.get_or_spawn(symbol, timeframe)?;
        reserve_slot(&handle)?;
        let (reply, answer) = oneshot::channel();
        let message = IngestCandles {
            timeframe,
            candles,
            enqueued_at: Instant::now(),
            reply,
        };
        if let Err(error) = handle.addr.try_send(message) {
            handle.health.release_slot();
            return Err(match error {
                SendError::Full(_) => mailbox_full(&handle),
                SendError::Closed(_) => EngineError::ActorStopped(symbol.clone()),
            });
        }
        let answer = tokio::time::timeout(self.request_timeout(), answer).await;
        match answer {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(EngineError::ActorStopped(symbol.clone())),
            Err(_) => Err(self.timeout(symbol)),
        }
    }

    /// The newest `limit` candles of `timeframe` (the forming one last), oldest first.
    pub async fn read_candles(
        &self,
        symbol: &Symbol,
        timeframe: Timeframe,
        limit: usize,
    ) -> Result<CandleSnapshot, EngineError> {
        let handle = self.handle(symbol)?;
        reserve_slot(&handle)?;
        let message = ReadCandles {
            timeframe,
            limit,
            enqueued_at: Instant::now(),
        };
        let request = handle.addr.send(message);
        match tokio::time::timeout(self.request_timeout(), request).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => {
                handle.health.release_slot();
                Err(EngineError::ActorStopped(symbol.clone()))
            }
            Err(_) => Err(self.timeout(symbol)),
        }
    }

    /// Every symbol's published analysis, ordered by symbol. Never waits on an actor.
    pub fn analysis_views(&self) -> Vec<Arc<AnalysisView>> {
        self.inner
            .registry
            .handles()
            .iter()
            .map(|handle| handle.board.current())
            .collect()
    }

    pub fn analysis_view(&self, symbol: &Symbol) -> Result<Arc<AnalysisView>, EngineError> {
        Ok(self.handle(symbol)?.board.current())
    }

    /// Re-evaluates signals of `symbol`, or of every symbol; returns the number of symbols
    /// scanned and of signal events (emitted, updated, ended) that caused. A symbol whose
    /// mailbox is full is refused as in ingest.
    pub async fn rescan(&self, symbol: Option<&Symbol>) -> Result<(usize, usize), EngineError> {
        let handles = match symbol {
            Some(symbol) => vec![self.handle(symbol)?],
            None => self.inner.registry.handles(),
        };
        let mut changes = 0;
        for handle in &handles {
            reserve_slot(handle)?;
            let request = handle.addr.send(RescanSignals {
                enqueued_at: Instant::now(),
            });
            let symbol = handle.health.symbol();
            changes += match tokio::time::timeout(self.request_timeout(), request).await {
                Ok(Ok(changes)) => changes,
                Ok(Err(_)) => {
                    handle.health.release_slot();
                    return Err(EngineError::ActorStopped(symbol.clone()));
                }
                Err(_) => return Err(self.timeout(symbol)),
            };
        }
        Ok((handles.len(), changes))
    }

    /// Health of every symbol actor, read from atomics (never blocked by a busy actor).
    pub fn actor_health(&self) -> Vec<ActorHealthView> {
        self.inner
            .registry
            .handles()
            .iter()
            .map(|handle| handle.health.view())
            .collect()
    }

    pub fn symbols(&self) -> Vec<SymbolSummary> {
        self.inner
            .registry
            .handles()
            .iter()
            .map(|handle| {
                let view = handle.health.view();
                SymbolSummary {
                    symbol: view.symbol,
                    base_timeframe: view.base_timeframe,
                    timeframes: std::iter::once(view.base_timeframe)
                        .chain(view.base_timeframe.higher())
                        .collect(),
                    last_open_time_ms: view.last_candle_open_time_ms,
                }
            })
            .collect()
    }

    pub fn symbol_count(&self) -> usize {
        self.inner.registry.len()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<MarketEvent> {
        self.inner.events.subscribe()
    }

    pub fn is_accepting(&self) -> bool {
        self.inner.accepting.load(Ordering::Acquire)
    }

    /// False while the state is being restored.
    pub fn is_open(&self) -> bool {
        self.inner.ingest_open.load(Ordering::Acquire)
    }

    /// Stops accepting candles, waits until every mailbox is drained, takes a final snapshot
    /// and flushes the store, then stops the actor system and joins its threads. Calling it
    /// twice is harmless.
    pub async fn shutdown(&self) {
        self.inner.accepting.store(false, Ordering::Release);
        for handle in self.inner.registry.handles() {
            // `send` queues behind what is already waiting, so its answer means "drained".
            if handle.addr.send(DrainMailbox).await.is_err() {
                tracing::warn!(symbol = %handle.health.symbol(), "actor stopped before draining");
            }
        }
        self.final_snapshot().await;
        let runtime = lock(&self.inner.runtime).take();
        if let Some(runtime) = runtime {
            // Joining threads blocks: keep it off the async reactor.
            let joined = tokio::task::spawn_blocking(move || runtime.stop_and_join()).await;
            if joined.is_err() {
                tracing::error!("the actor system thread panicked while stopping");
            }
        }
    }

    async fn final_snapshot(&self) {
        let persistence = lock(&self.inner.persistence).take();
        let Some(persistence) = persistence else {
            return;
        };
        match persistence.actor.send(SnapshotRound).await {
            Ok(written) => tracing::info!(written, "final snapshot written"),
            Err(_) => tracing::error!("the persistence actor stopped before the final snapshot"),
        }
        let store = persistence.store;
        let flushed = tokio::task::spawn_blocking(move || store.flush()).await;
        if !matches!(flushed, Ok(Ok(()))) {
            tracing::error!("the final flush of the store failed");
        }
    }

    #[cfg(feature = "fault-injection")]
    pub async fn inject_fault(
        &self,
        symbol: &Symbol,
        fault: super::symbol::Fault,
    ) -> Result<(), EngineError> {
        let handle = self.handle(symbol)?;
        handle
            .addr
            .send(super::symbol::InjectFault(fault))
            .await
            .map_err(|_| EngineError::ActorStopped(symbol.clone()))
    }

    fn handle(&self, symbol: &Symbol) -> Result<SymbolHandle, EngineError> {
        self.inner
            .registry
            .get(symbol)
            .ok_or_else(|| EngineError::UnknownSymbol(symbol.clone()))
    }

    fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.inner.settings.request_timeout_ms)
    }

    fn timeout(&self, symbol: &Symbol) -> EngineError {
        EngineError::Timeout {
            symbol: symbol.clone(),
            timeout_ms: self.inner.settings.request_timeout_ms,
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every critical section here is a single read or write: a poisoned lock still holds a
    // whole value.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn reserve_slot(handle: &SymbolHandle) -> Result<(), EngineError> {
    if handle.health.try_reserve_slot() {
        Ok(())
    } else {
        Err(mailbox_full(handle))
    }
}

fn mailbox_full(handle: &SymbolHandle) -> EngineError {
    EngineError::MailboxFull {
        symbol: handle.health.symbol().clone(),
        capacity: handle.health.mailbox_capacity(),
    }
}

impl ActorRuntime {
    fn start(shards: usize) -> Result<ActorRuntime, EngineError> {
        let (started_tx, started_rx) = std::sync::mpsc::sync_channel(1);
        let system_thread = std::thread::Builder::new()
            .name("actix-system".into())
            .spawn(move || {
                let runner = actix_rt::System::new();
                let started = runner.block_on(async move {
                    let arbiters: Vec<Arbiter> = (0..shards).map(|_| Arbiter::new()).collect();
                    (System::current(), arbiters, Arbiter::new())
                });
                if started_tx.send(started).is_ok() {
                    if let Err(error) = runner.run() {
                        tracing::error!(%error, "actor system stopped with an error");
                    }
                }
            })
            .map_err(|error| EngineError::Startup(error.to_string()))?;
        let (system, arbiters, persistence_arbiter) = started_rx
            .recv()
            .map_err(|_| EngineError::Startup("the actor system thread exited early".into()))?;
        Ok(ActorRuntime {
            system,
            system_thread,
            arbiters,
            persistence_arbiter,
        })
    }

    fn stop_and_join(self) {
        let all: Vec<Arbiter> = self
            .arbiters
            .into_iter()
            .chain(std::iter::once(self.persistence_arbiter))
            .collect();
        for arbiter in &all {
            arbiter.stop();
        }
        for arbiter in all {
            if arbiter.join().is_err() {
                tracing::error!("an arbiter thread panicked");
            }
        }
        self.system.stop();
        if self.system_thread.join().is_err() {
            tracing::error!("the actor system thread panicked");
        }
    }
}

//! Routes by symbol to its actor, creating the actor on the symbol's first candle.

use super::events::MarketEvents;
use super::exit_wakeups::ExitWakeups;
use super::health::ActorHealth;
use super::symbol::{
    AnalysisBoard, AnalysisView, ExitBacklog, ExitOutlet, SymbolActor, SymbolHandle,
};
use super::{EngineError, EngineSettings};
use crate::clock::SharedClock;
use crate::domain::analysis::AnalysisSettings;
use crate::domain::market::{Symbol, Timeframe};
use crate::domain::scanner::SymbolScanner;
use actix::Supervisor;
use actix_rt::ArbiterHandle;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

pub struct Registry {
    handles: RwLock<HashMap<Symbol, SymbolHandle>>,
    shards: Vec<ArbiterHandle>,
    next_shard: AtomicUsize,
    settings: EngineSettings,
    analysis: Arc<AnalysisSettings>,
    events: MarketEvents,
    clock: SharedClock,
    exit_wakeups: Arc<ExitWakeups>,
    /// Ticks of symbols not yet created, from their exchange.
    tick_sizes: RwLock<HashMap<Symbol, rust_decimal::Decimal>>,
}

impl Registry {
    pub fn new(
        shards: Vec<ArbiterHandle>,
        settings: EngineSettings,
        analysis: Arc<AnalysisSettings>,
        events: MarketEvents,
        clock: SharedClock,
        exit_wakeups: Arc<ExitWakeups>,
    ) -> Registry {
        assert!(!shards.is_empty(), "a registry needs at least one arbiter");
        Registry {
            handles: RwLock::new(HashMap::new()),
            shards,
            next_shard: AtomicUsize::new(0),
            settings,
            analysis,
            events,
            clock,
            exit_wakeups,
            tick_sizes: RwLock::new(HashMap::new()),
        }
    }

    pub fn get(&self, symbol: &Symbol) -> Option<SymbolHandle> {
        // A panic elsewhere cannot leave the map half-written (inserts are single calls).
        let handles = self.handles.read().unwrap_or_else(PoisonError::into_inner);
        handles.get(symbol).cloned()
    }

    /// The symbol's actor, started on the next arbiter (round robin) if it has none yet.
    pub fn get_or_spawn(
        &self,
        symbol: &Symbol,
        base: Timeframe,
    ) -> Result<SymbolHandle, EngineError> {
        if let Some(handle) = self.get(symbol) {
            return Ok(handle);
        }
        let mut handles = self.handles.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(handle) = handles.get(symbol) {
            return Ok(handle.clone());
        }
        if handles.len() >= self.settings.symbols_max {
            return Err(EngineError::SymbolLimit(self.settings.symbols_max));
        }
        let handle = self.spawn(symbol.clone(), base);
        handles.insert(symbol.clone(), handle.clone());
        Ok(handle)
    }

    fn spawn(&self, symbol: Symbol, base: Timeframe) -> SymbolHandle {
        let tick = self
            .tick_sizes
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&symbol)
            .copied();
        let scanner = SymbolScanner::with_tick_size(
            symbol,
            base,
            self.settings.ring_capacity,
            Arc::clone(&self.analysis),
            tick,
        );
        self.spawn_with(scanner)
    }

    /// The tick `symbol`'s levels use when it is created (an exchange's, for a followed
    /// symbol); a tick in the analysis settings wins.
    pub fn set_tick_size(&self, symbol: &Symbol, tick: rust_decimal::Decimal) {
        let mut ticks = self
            .tick_sizes
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        ticks.insert(symbol.clone(), tick);
    }

    /// Starts the actor of a symbol restored from a snapshot (before ingest opens).
    pub fn spawn_restored(&self, mut scanner: SymbolScanner) -> Result<SymbolHandle, EngineError> {
        let symbol = scanner.symbol().clone();
        let mut handles = self.handles.write().unwrap_or_else(PoisonError::into_inner);
        if handles.len() >= self.settings.symbols_max {
            return Err(EngineError::SymbolLimit(self.settings.symbols_max));
        }
        scanner.reattach(Arc::clone(&self.analysis));
        let last_open_time_ms = scanner.aggregator().last_open_time_ms();
        let handle = self.spawn_with(scanner);
        handle.health.record_restored(last_open_time_ms);
        handles.insert(symbol, handle.clone());
        Ok(handle)
    }

    fn spawn_with(&self, scanner: SymbolScanner) -> SymbolHandle {
        let shard = self.next_shard.fetch_add(1, Ordering::Relaxed) % self.shards.len();
        let capacity = self.settings.mailbox_capacity;
        let symbol = scanner.symbol().clone();
        let base = scanner.aggregator().base();
        let health = Arc::new(ActorHealth::new(symbol, base, shard, capacity));
        let board = Arc::new(AnalysisBoard::new(AnalysisView::of(scanner.analysis())));
        let heartbeat = Duration::from_millis(self.settings.heartbeat_interval_ms);
        let actor = SymbolActor::new(
            scanner,
            Arc::clone(&health),
            Arc::clone(&board),
            self.events.clone(),
            heartbeat,
            Arc::clone(&self.clock),
            ExitOutlet {
                backlog: ExitBacklog::new(self.settings.exit_backlog_candles_max),
                wakeups: Arc::clone(&self.exit_wakeups),
            },
        );
        let addr = Supervisor::start_in_arbiter(&self.shards[shard], move |ctx| {
            ctx.set_mailbox_capacity(capacity);
            actor
        });
        SymbolHandle {
            addr,
            health,
            board,
        }
    }

    /// Every handle, ordered by symbol.
    pub fn handles(&self) -> Vec<SymbolHandle> {
        let handles = self.handles.read().unwrap_or_else(PoisonError::into_inner);
        let mut list: Vec<SymbolHandle> = handles.values().cloned().collect();
        list.sort_by(|a, b| a.health.symbol().cmp(b.health.symbol()));
        list
    }

    /// Takes `symbol` out: it is no longer routed to, and its actor stops once the last
    /// handle to it is dropped (requests already queued are still answered).
    pub fn remove(&self, symbol: &Symbol) -> Option<SymbolHandle> {
        let mut handles = self.handles.write().unwrap_or_else(PoisonError::into_inner);
        handles.remove(symbol)
    }

    pub fn len(&self) -> usize {
        self.handles
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

//! The persistence actor: on an interval, and once more at shutdown, it copies the state of
//! every symbol actor whose state changed since its last snapshot, encodes the copies in
//! envelopes and writes them to sled in one batch followed by one flush. It runs on its own
//! arbiter, so encoding and disk waits never hold up a symbol actor; a symbol actor only
//! clones its state when asked, in turn with its other messages.
//!
//! Durability bound: after `kill -9`, what changed since the last completed round is lost,
//! i.e. at most `snapshot_interval_ms` plus the time one round takes.

use super::registry::Registry;
use super::symbol::{SymbolHandle, TakeSnapshot};
use crate::clock::SharedClock;
use crate::domain::market::Symbol;
use crate::store::{encode, Store};
use actix::{
    Actor, ActorFutureExt, AsyncContext, AtomicResponse, Context, Handler, Message, WrapFuture,
};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Take one snapshot round now; answers with the number of symbols written.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct SnapshotRound;

/// Write these symbols' changed states now, answered once flushed (the server's
/// `ingest.durability = "ack"`). In turn with the rounds, like them.
#[derive(Message)]
#[rtype(result = "Result<(), crate::store::StoreError>")]
pub struct SnapshotSymbols(pub Vec<Symbol>);

/// The symbols whose state changed since their last written snapshot (what a crash now
/// would lose).
#[derive(Message)]
#[rtype(result = "Vec<Symbol>")]
pub struct UnsavedSymbols;

/// Delete a symbol's snapshot. Handled in turn with the (atomic) rounds, so a round that
/// copied the symbol before it was removed cannot write it back after the delete.
#[derive(Message)]
#[rtype(result = "Result<(), crate::store::StoreError>")]
pub struct ForgetSymbol(pub Symbol);

/// Counters of the persistence actor, read by health endpoints.
#[derive(Debug, Default)]
pub struct PersistenceStats {
    rounds: AtomicU64,
    snapshots_written: AtomicU64,
    failures: AtomicU64,
    last_round_at_ms: AtomicI64,
    last_round_duration_ms: AtomicU64,
    last_round_written: AtomicU64,
    last_round_failed: AtomicBool,
    /// Why the last round failed, cleared by one that succeeds.
    last_error: std::sync::Mutex<Option<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersistenceView {
    pub rounds: u64,
    pub snapshots_written: u64,
    pub failures: u64,
    pub last_round_at_ms: Option<i64>,
    /// How long the last round took, how many snapshots it wrote, and whether it failed.
    pub last_round_duration_ms: Option<u64>,
    pub last_round_written: u64,
    pub last_round_failed: bool,
    pub last_error: Option<String>,
}

impl PersistenceStats {
    fn record_round(&self, at_ms: i64, took: Duration, written: usize, error: Option<String>) {
        self.rounds.fetch_add(1, Ordering::Relaxed);
        self.last_round_at_ms.store(at_ms, Ordering::Relaxed);
        let took_ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX);
        self.last_round_duration_ms
            .store(took_ms, Ordering::Relaxed);
        // A failed round may have written its first batches: they count.
        self.last_round_written
            .store(written as u64, Ordering::Relaxed);
        self.last_round_failed
            .store(error.is_some(), Ordering::Relaxed);
        *self
            .last_error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = error;
    }

    pub fn view(&self) -> PersistenceView {
        let last = self.last_round_at_ms.load(Ordering::Relaxed);
        PersistenceView {
            rounds: self.rounds.load(Ordering::Relaxed),
            snapshots_written: self.snapshots_written.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
            last_round_at_ms: (last != 0).then_some(last),
            last_round_duration_ms: (last != 0)
                .then(|| self.last_round_duration_ms.load(Ordering::Relaxed)),
            last_round_written: self.last_round_written.load(Ordering::Relaxed),
            last_round_failed: self.last_round_failed.load(Ordering::Relaxed),
            last_error: self
                .last_error
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone(),
        }
    }
}

pub struct PersistenceActor {
    registry: Arc<Registry>,
    store: Arc<Store>,
    interval: Duration,
    stats: Arc<PersistenceStats>,
    clock: SharedClock,
    /// The state version last written per symbol; a restored or new actor starts at 0.
    saved_versions: HashMap<Symbol, u64>,
}

impl PersistenceActor {
    pub fn new(
        registry: Arc<Registry>,
        store: Arc<Store>,
        interval: Duration,
        stats: Arc<PersistenceStats>,
        clock: SharedClock,
    ) -> PersistenceActor {
        PersistenceActor {
            registry,
            store,
            interval,
            stats,
            clock,
            saved_versions: HashMap::new(),
        }
    }
}

impl Actor for PersistenceActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(self.interval, |_, ctx| ctx.notify(SnapshotRound));
    }
}

impl PersistenceActor {
    /// The symbols whose state moved since their last written snapshot.
    fn changed_handles(&self) -> Vec<SymbolHandle> {
        self.registry
            .handles()
            .into_iter()
            .filter(|handle| {
                let saved = self.saved_versions.get(handle.health.symbol()).copied();
                handle.health.state_version() != saved.unwrap_or(0)
            })
            .collect()
    }
}

/// Symbols copied, encoded and written per store batch: a round holds at most this many
/// encoded states at once, however many symbols changed (500 changed symbols held together
/// were ~400 MB of transient memory).
const SYMBOLS_PER_BATCH: usize = 16;

/// Copies, encodes and writes each changed state, [`SYMBOLS_PER_BATCH`] at a time, and
/// answers with the versions written; a batch that fails ends the round (the rest is retried
/// next interval).
async fn snapshot_round(
    changed: Vec<SymbolHandle>,
    store: Arc<Store>,
    stats: Arc<PersistenceStats>,
    clock: SharedClock,
) -> Vec<(Symbol, u64)> {
    let started = std::time::Instant::now();
    let mut written = Vec::with_capacity(changed.len());
    let mut failed = None;
    for batch in changed.chunks(SYMBOLS_PER_BATCH) {
        let (values, versions) = encoded_states(batch, &stats).await;
        if values.is_empty() {
            continue;
        }
        if let Err(error) = store.put_symbols(values) {
            stats.failures.fetch_add(1, Ordering::Relaxed);
            tracing::error!(%error, "snapshot batch failed; it is retried next round");
            failed = Some(error.to_string());
            break;
        }
        written.extend(versions);
    }
    stats.record_round(clock.now_ms(), started.elapsed(), written.len(), failed);
    stats
        .snapshots_written
        .fetch_add(written.len() as u64, Ordering::Relaxed);
    written
}

/// Each symbol's state copied from its actor and encoded, with the version copied.
async fn encoded_states(
    handles: &[SymbolHandle],
    stats: &PersistenceStats,
) -> (Vec<(String, Vec<u8>)>, Vec<(Symbol, u64)>) {
    let mut values = Vec::with_capacity(handles.len());
    let mut versions = Vec::with_capacity(handles.len());
    for handle in handles {
        let symbol = handle.health.symbol().clone();
        let Ok(copy) = handle.addr.send(TakeSnapshot).await else {
            tracing::warn!(%symbol, "actor stopped before its snapshot");
            continue;
        };
        match encode(copy.scanner.as_ref()) {
            Ok(bytes) => {
                values.push((symbol.as_str().to_owned(), bytes));
                versions.push((symbol, copy.version));
            }
            Err(error) => {
                stats.failures.fetch_add(1, Ordering::Relaxed);
                tracing::error!(%symbol, %error, "snapshot not written");
            }
        }
    }
    (values, versions)
}

impl Handler<SnapshotRound> for PersistenceActor {
    /// Atomic: one round at a time, so versions are recorded in order.
    type Result = AtomicResponse<Self, usize>;

    fn handle(&mut self, _message: SnapshotRound, _ctx: &mut Self::Context) -> Self::Result {
        let round = snapshot_round(
            self.changed_handles(),
            Arc::clone(&self.store),
            Arc::clone(&self.stats),
            Arc::clone(&self.clock),
        );
        AtomicResponse::new(Box::pin(round.into_actor(self).map(
            |versions, actor, _ctx| {
                let written = versions.len();
                actor.saved_versions.extend(versions);
                written
            },
        )))
    }
}

impl Handler<SnapshotSymbols> for PersistenceActor {
    type Result = AtomicResponse<Self, Result<(), crate::store::StoreError>>;

    fn handle(&mut self, message: SnapshotSymbols, _ctx: &mut Self::Context) -> Self::Result {
        let handles: Vec<SymbolHandle> = self
            .changed_handles()
            .into_iter()
            .filter(|handle| message.0.contains(handle.health.symbol()))
            .collect();
        let (store, stats) = (Arc::clone(&self.store), Arc::clone(&self.stats));
        let write = async move {
            let (values, versions) = encoded_states(&handles, &stats).await;
            if !values.is_empty() {
                store.put_symbols(values)?;
            }
            Ok(versions)
        };
        AtomicResponse::new(Box::pin(write.into_actor(self).map(
            |written: Result<Vec<(Symbol, u64)>, crate::store::StoreError>, actor, _ctx| {
                written.map(|versions| actor.saved_versions.extend(versions))
            },
        )))
    }
}

impl Handler<UnsavedSymbols> for PersistenceActor {
    type Result = actix::MessageResult<UnsavedSymbols>;

    fn handle(&mut self, _message: UnsavedSymbols, _ctx: &mut Self::Context) -> Self::Result {
        let handles = self.changed_handles();
        actix::MessageResult(handles.iter().map(|h| h.health.symbol().clone()).collect())
    }
}

impl Handler<ForgetSymbol> for PersistenceActor {
    type Result = Result<(), crate::store::StoreError>;

    fn handle(&mut self, message: ForgetSymbol, _ctx: &mut Self::Context) -> Self::Result {
        self.saved_versions.remove(&message.0);
        self.store.remove_symbol(message.0.as_str())
    }
}

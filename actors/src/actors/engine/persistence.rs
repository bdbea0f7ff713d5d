//! Persistence hook-up: the persistence actor runs on its own arbiter over the store.

use super::{lock, Engine};
use crate::actors::persistence::{ForgetSymbol, PersistenceActor, PersistenceView, SnapshotRound};
use crate::actors::EngineError;
use crate::domain::market::Symbol;
use crate::store::Store;
use actix::{Actor, Addr};
use std::sync::Arc;
use std::time::Duration;

/// The running persistence actor and the store it writes to.
pub(super) struct Persistence {
    pub(super) actor: Addr<PersistenceActor>,
    pub(super) store: Arc<Store>,
}

impl Engine {
    pub(super) fn start_persistence(&self, store: Arc<Store>) -> Result<(), EngineError> {
        let runtime = lock(&self.inner.runtime);
        let runtime = runtime
            .as_ref()
            .ok_or(EngineError::Startup("the engine is stopped"))?;
        let actor = PersistenceActor::new(
            Arc::clone(&self.inner.registry),
            Arc::clone(&store),
            Duration::from_millis(self.inner.settings.snapshot_interval_ms.max(1)),
            Arc::clone(&self.inner.persistence_stats),
            Arc::clone(&self.inner.clock),
        );
        let actor = PersistenceActor::start_in_arbiter(&runtime.persistence_shard(), |_| actor);
        *lock(&self.inner.persistence) = Some(Persistence { actor, store });
        Ok(())
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
                .map_err(EngineError::PersistenceStopped),
        }
    }

    /// Removes `symbol`: its actor stops taking requests and its candles, analysis and stored
    /// snapshot are dropped. Callers check first that nothing depends on it (open trades).
    pub async fn remove_symbol(&self, symbol: &Symbol) -> Result<(), EngineError> {
        if !self
            .inner
            .ingest_open
            .load(std::sync::atomic::Ordering::Acquire)
        {
            return Err(EngineError::Restoring);
        }
        self.inner
            .registry
            .remove(symbol)
            .ok_or_else(|| EngineError::UnknownSymbol(symbol.clone()))?;
        let actor = lock(&self.inner.persistence)
            .as_ref()
            .map(|persistence| persistence.actor.clone());
        let Some(actor) = actor else {
            return Ok(());
        };
        actor
            .send(ForgetSymbol(symbol.clone()))
            .await
            .map_err(EngineError::PersistenceStopped)??;
        Ok(())
    }

    /// The last round at shutdown, then one flush; the persistence actor is let go.
    pub(super) async fn final_snapshot(&self) {
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
}

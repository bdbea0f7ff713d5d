//! Persistence hook-up: the persistence actor runs on its own arbiter over the store.

use super::{lock, Engine};
use crate::actors::persistence::{
    ForgetSymbol, PersistenceActor, PersistenceView, SnapshotRound, SnapshotSymbols, UnsavedSymbols,
};
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

    /// Writes and flushes the current state of `symbols` (those changed since their last
    /// snapshot) before answering: what they hold now survives a crash.
    pub async fn make_durable(&self, symbols: Vec<Symbol>) -> Result<(), EngineError> {
        let actor = lock(&self.inner.persistence)
            .as_ref()
            .map(|persistence| persistence.actor.clone());
        let Some(actor) = actor else {
            return Ok(());
        };
        Ok(actor
            .send(SnapshotSymbols(symbols))
            .await
            .map_err(EngineError::PersistenceStopped)??)
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

    /// The last round at shutdown, then one flush; the persistence actor is let go. Answers
    /// what was not saved.
    pub(super) async fn final_snapshot(&self) -> super::ShutdownReport {
        let persistence = lock(&self.inner.persistence).take();
        let Some(persistence) = persistence else {
            return super::ShutdownReport::default();
        };
        let mut report = super::ShutdownReport::default();
        match persistence.actor.send(SnapshotRound).await {
            Ok(written) => tracing::info!(written, "final snapshot written"),
            Err(_) => report.problem = Some("the persistence actor stopped".into()),
        }
        report.unsaved_symbols = match persistence.actor.send(UnsavedSymbols).await {
            Ok(unsaved) => unsaved,
            // Nobody can say what was written: every symbol may not be.
            Err(_) => self
                .inner
                .registry
                .handles()
                .iter()
                .map(|h| h.symbol().clone())
                .collect(),
        };
        if !report.unsaved_symbols.is_empty() {
            let last_error = self.inner.persistence_stats.view().last_error;
            report.problem = report.problem.or(last_error);
        }
        let store = persistence.store;
        let saved_all = report.unsaved_symbols.is_empty();
        let flushed = tokio::task::spawn_blocking(move || {
            store.flush()?;
            // Only a stop that saved everything is a clean one (see `LastStop`).
            if saved_all {
                store.mark_clean_stop()?;
            }
            Ok::<(), crate::store::StoreError>(())
        });
        match flushed.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => report.flush_error = Some(error.to_string()),
            Err(error) => report.flush_error = Some(error.to_string()),
        }
        report
    }
}

//! Notifier hook-up: the notifier actor runs on its own arbiter, fed the engine's signals.

use super::{lock, Engine};
use crate::actors::notifier::{
    run_signal_feed, run_trade_feed, NotifierActor, NotifierHandle, NotifierSettings, Transport,
};
use crate::actors::EngineError;
use crate::store::Store;
use actix::Actor;
use std::sync::Arc;

impl Engine {
    /// Loads the channels and the outbox from `store`, starts the notifier and subscribes it
    /// to the engine's signal events (call it on the server's tokio runtime).
    pub fn start_notifier(
        &self,
        store: Arc<Store>,
        settings: NotifierSettings,
        transport: Arc<dyn Transport>,
    ) -> Result<NotifierHandle, EngineError> {
        let actor =
            NotifierActor::restore(store, settings, transport, Arc::clone(&self.inner.clock))?;
        let stats = actor.stats();
        let watched = actor.watched();
        let runtime = lock(&self.inner.runtime);
        let runtime = runtime
            .as_ref()
            .ok_or(EngineError::Startup("the engine is stopped"))?;
        let addr = NotifierActor::start_in_arbiter(&runtime.notifier_shard(), |_| actor);
        let handle = NotifierHandle {
            addr,
            stats,
            watched,
        };
        tokio::spawn(run_signal_feed(self.subscribe_signals(), handle.clone()));
        let _ = self.inner.notifier.set(handle.clone());
        Ok(handle)
    }

    /// The notifier, once started: the exit feed hands it the batches its alerts watch.
    pub fn notifier(&self) -> Option<&NotifierHandle> {
        self.inner.notifier.get()
    }

    /// Forwards the portfolios' trade alert tap to the notifier, if both exist (called once
    /// the portfolios are restored; the notifier was started on a tokio runtime).
    pub(super) fn tap_trades_for_alerts(&self) {
        let (Some(notifier), Some(book)) = (self.notifier(), self.portfolios()) else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!("portfolios restored off the runtime: trade alerts are not evaluated");
            return;
        };
        if let Some(trades) = book.tap_trade_alerts(Arc::clone(&notifier.stats)) {
            runtime.spawn(run_trade_feed(trades, notifier.clone()));
        }
    }
}

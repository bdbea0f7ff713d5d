//! Notifier hook-up: the notifier actor runs on its own arbiter, fed the engine's signals.

use super::{lock, Engine};
use crate::actors::notifier::{
    run_signal_feed, NotifierActor, NotifierHandle, NotifierSettings, Transport,
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
        let runtime = lock(&self.inner.runtime);
        let runtime = runtime
            .as_ref()
            .ok_or(EngineError::Startup("the engine is stopped"))?;
        let addr = NotifierActor::start_in_arbiter(&runtime.notifier_shard(), |_| actor);
        let handle = NotifierHandle { addr, stats };
        tokio::spawn(run_signal_feed(self.subscribe_signals(), handle.clone()));
        Ok(handle)
    }
}

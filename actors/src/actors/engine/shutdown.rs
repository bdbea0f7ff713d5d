//! Shutdown: stop accepting, drain, snapshot, flush, stop the actor system.

use super::{lock, Engine};
use std::sync::atomic::Ordering;

impl Engine {
    /// Stops accepting candles, waits until every mailbox is drained, takes a final snapshot
    /// and flushes the store, then stops the actor system and joins its threads. Calling it
    /// twice is harmless.
    pub async fn shutdown(&self) {
        self.inner.accepting.store(false, Ordering::Release);
        for handle in self.inner.registry.handles() {
            if !handle.drain().await {
                tracing::warn!(symbol = %handle.symbol(), "actor stopped before draining");
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
}

//! Shutdown: stop accepting, drain, snapshot, flush, stop the actor system.

use super::{lock, Engine};
use std::sync::atomic::Ordering;

impl Engine {
    /// Stops accepting candles, waits until every mailbox is drained, takes a final snapshot
    /// and flushes the store, then stops the actor system and joins its threads. Calling it
    /// twice is harmless. Answers what was not saved (see [`ShutdownReport`]).
    pub async fn shutdown(&self) -> ShutdownReport {
        self.inner.accepting.store(false, Ordering::Release);
        for handle in self.inner.registry.handles() {
            if !handle.drain().await {
                tracing::warn!(symbol = %handle.symbol(), "actor stopped before draining");
            }
        }
        let report = self.final_snapshot().await;
        if !report.is_complete() {
            tracing::error!(unsaved = ?report.unsaved_symbols, problem = ?report.problem,
                flush_error = ?report.flush_error, "shutdown did not save everything");
        }
        let runtime = lock(&self.inner.runtime).take();
        if let Some(runtime) = runtime {
            // Joining threads blocks: keep it off the async reactor.
            let joined = tokio::task::spawn_blocking(move || runtime.stop_and_join()).await;
            if joined.is_err() {
                tracing::error!("the actor system thread panicked while stopping");
            }
        }
        report
    }
}

/// What a shutdown could not save: symbols whose candles and analysis since their last
/// snapshot are lost (they come back by re-import or the exchange feed's gap repair), and
/// why. Ledger entries are never among them: each was durable before it was acknowledged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    pub unsaved_symbols: Vec<crate::domain::market::Symbol>,
    /// Why the final snapshot did not write them.
    pub problem: Option<String>,
    /// Why the final flush of the store failed, if it did.
    pub flush_error: Option<String>,
}

impl ShutdownReport {
    pub fn is_complete(&self) -> bool {
        self.unsaved_symbols.is_empty() && self.flush_error.is_none()
    }
}

impl std::fmt::Display for ShutdownReport {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.unsaved_symbols.is_empty() {
            let names: Vec<&str> = self.unsaved_symbols.iter().map(|s| s.as_str()).collect();
            write!(
                formatter,
                "not saved: the candles and analysis of {} symbol(s) since their last snapshot ({}): {}",
                names.len(),
                names.join(", "),
                self.problem.as_deref().unwrap_or("the final snapshot did not write them")
            )?;
        }
        if let Some(error) = &self.flush_error {
            write!(formatter, "; the final flush of the store failed: {error}")?;
        }
        Ok(())
    }
}

//! Restore: stored symbols and portfolios come back before ingest opens.

use super::{lock, Engine};
use crate::actors::portfolio::PortfolioBook;
use crate::actors::EngineError;
use crate::domain::scanner::SymbolScanner;
use crate::store::{Store, StoreProblem};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// What a restore found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreReport {
    pub symbols: usize,
    pub problems: Vec<StoreProblem>,
}

impl Engine {
    /// Restores every symbol snapshot in `store` (blocking: call it off the async reactor),
    /// starts the persistence actor on it, then opens ingest. Snapshots that fail
    /// verification are quarantined, reported here and in [`Engine::store_problems`], and
    /// their symbols start empty; every other symbol is served.
    pub fn restore_from(&self, store: Arc<Store>) -> Result<RestoreReport, EngineError> {
        let loaded = store.load_symbols::<SymbolScanner>()?;
        let (snapshots, mut problems) = (loaded.values, loaded.problems);
        for problem in &problems {
            tracing::error!(tree = %problem.tree, key = %problem.key, problem = %problem.problem,
                "stored snapshot failed verification; quarantined, not served");
        }
        let symbols = snapshots.len();
        for (_key, scanner) in snapshots {
            self.inner.registry.spawn_restored(scanner)?;
        }
        problems.extend(self.restore_portfolios(Arc::clone(&store))?);
        self.start_persistence(store)?;
        lock(&self.inner.store_problems).extend(problems.iter().cloned());
        self.inner.ingest_open.store(true, Ordering::Release);
        tracing::info!(symbols, problems = problems.len(), "state restored");
        Ok(RestoreReport { symbols, problems })
    }

    fn restore_portfolios(&self, store: Arc<Store>) -> Result<Vec<StoreProblem>, EngineError> {
        let shards = lock(&self.inner.runtime)
            .as_ref()
            .map(|runtime| runtime.shards())
            .ok_or(EngineError::Startup("the engine is stopped"))?;
        let timeout = std::time::Duration::from_millis(self.request_timeout_ms());
        let (book, problems) =
            PortfolioBook::restore(store, shards, timeout, self.settings().portfolio_bounds())
                .map_err(EngineError::PortfolioRestore)?;
        let _ = self.inner.portfolios.set(Arc::new(book));
        self.tap_trades_for_alerts();
        Ok(problems)
    }

    /// The paper portfolios; None until the state has been restored from a store.
    pub fn portfolios(&self) -> Option<Arc<PortfolioBook>> {
        self.inner.portfolios.get().cloned()
    }

    /// Stored values that failed verification at start-up.
    pub fn store_problems(&self) -> Vec<StoreProblem> {
        lock(&self.inner.store_problems).clone()
    }
}

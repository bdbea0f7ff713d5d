//! Views: what the actors published, read from atomics and boards. Never waits on an actor.

use super::Engine;
use crate::actors::health::ActorHealthView;
use crate::actors::symbol::{AnalysisView, SymbolSummary};
use crate::actors::EngineError;
use crate::domain::market::{Symbol, Timeframe};
use std::sync::Arc;

impl Engine {
    /// The timeframe `symbol` is ingested at, if it is known.
    pub fn base_timeframe(&self, symbol: &Symbol) -> Option<Timeframe> {
        self.inner
            .registry
            .get(symbol)
            .map(|handle| handle.health.base_timeframe())
    }

    /// Every symbol's published analysis, ordered by symbol.
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
                    first_open_time_ms: view.first_candle_open_time_ms,
                    last_open_time_ms: view.last_candle_open_time_ms,
                }
            })
            .collect()
    }

    pub fn symbol_count(&self) -> usize {
        self.inner.registry.len()
    }
}

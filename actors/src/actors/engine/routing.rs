//! Routing: each request goes to the owning symbol actor through [`SymbolHandle::ask`].
//!
//! [`SymbolHandle::ask`]: crate::actors::SymbolHandle::ask

use super::Engine;
use crate::actors::symbol::{
    CandleSnapshot, IngestCandles, IngestReport, PrependCandles, PrependReport, ReadCandles,
    RescanSignals, TakeExitCandles,
};
use crate::actors::EngineError;
use crate::domain::market::{Candle, Price, Symbol, Timeframe};
use std::sync::atomic::Ordering;

impl Engine {
    /// Applies checked candles of `timeframe` to `symbol`, creating its actor if needed. A full
    /// mailbox is refused at once with [`EngineError::MailboxFull`]: nothing is queued then.
    pub async fn ingest(
        &self,
        symbol: &Symbol,
        timeframe: Timeframe,
        candles: Vec<Candle>,
    ) -> Result<IngestReport, EngineError> {
        self.check_writable()?;
        let handle = self.inner.registry.get_or_spawn(symbol, timeframe)?;
        let request = IngestCandles { timeframe, candles };
        handle.ask(request, self.request_timeout_ms()).await?
    }

    /// Puts older history of `symbol` (per timeframe, each strictly ascending) before what it
    /// holds and rebuilds its analysis; a new symbol is created with `base_if_new` as its base.
    /// Refused like ingest while restoring or shutting down.
    pub async fn prepend(
        &self,
        symbol: &Symbol,
        base_if_new: Timeframe,
        series: Vec<(Timeframe, Vec<Candle>)>,
    ) -> Result<PrependReport, EngineError> {
        self.check_writable()?;
        let handle = self.inner.registry.get_or_spawn(symbol, base_if_new)?;
        let request = PrependCandles { series };
        handle.ask(request, self.request_timeout_ms()).await?
    }

    /// The tick `symbol`'s levels round to when it is created (its exchange's tick; a tick in
    /// `[analysis.tick_sizes]` wins). A symbol already held keeps the tick it has.
    pub fn set_tick_size(&self, symbol: &Symbol, tick: rust_decimal::Decimal) {
        if tick > rust_decimal::Decimal::ZERO {
            self.inner.registry.set_tick_size(symbol, tick);
        }
    }

    /// Candles are taken once restored and until shutdown begins.
    fn check_writable(&self) -> Result<(), EngineError> {
        if !self.inner.accepting.load(Ordering::Acquire) {
            return Err(EngineError::ShuttingDown);
        }
        if !self.inner.ingest_open.load(Ordering::Acquire) {
            return Err(EngineError::Restoring);
        }
        Ok(())
    }

    /// The newest `limit` candles of `timeframe` (the forming one last), oldest first.
    pub async fn read_candles(
        &self,
        symbol: &Symbol,
        timeframe: Timeframe,
        limit: usize,
    ) -> Result<CandleSnapshot, EngineError> {
        let request = ReadCandles { timeframe, limit };
        let handle = self.handle(symbol)?;
        handle.ask(request, self.request_timeout_ms()).await?
    }

    /// The latest price of `symbol`: the close of its newest base candle, forming or closed.
    pub async fn last_price(&self, symbol: &Symbol) -> Result<Price, EngineError> {
        let base = self.handle(symbol)?.health.base_timeframe();
        let snapshot = self.read_candles(symbol, base, 1).await?;
        snapshot
            .forming
            .or_else(|| snapshot.closed.last().copied())
            .map(|candle| candle.close)
            .ok_or_else(|| EngineError::UnknownSymbol(symbol.clone()))
    }

    /// For the exit feed: acknowledges the candles of `symbol` up to `handed_on_open_time_ms`
    /// and answers up to `max` of the next ones in its exit backlog, oldest first.
    pub async fn take_exit_candles(
        &self,
        symbol: &Symbol,
        handed_on_open_time_ms: Option<i64>,
        max: usize,
    ) -> Result<crate::actors::symbol::ExitBatch, EngineError> {
        let request = TakeExitCandles {
            handed_on_open_time_ms,
            max,
        };
        self.handle(symbol)?
            .ask(request, self.request_timeout_ms())
            .await
    }

    /// Re-evaluates signals of `symbol`, or of every symbol; returns the number of symbols
    /// scanned and of signal events (emitted, updated, ended) that caused. A symbol whose
    /// mailbox is full is refused as in ingest.
    pub async fn rescan(&self, symbol: Option<&Symbol>) -> Result<(usize, usize), EngineError> {
        let handles = match symbol {
            Some(symbol) => vec![self.handle(symbol)?],
            None => self.inner.registry.handles(),
        };
        let mut changes = 0;
        for handle in &handles {
            changes += handle.ask(RescanSignals, self.request_timeout_ms()).await?;
        }
        Ok((handles.len(), changes))
    }

    #[cfg(feature = "fault-injection")]
    pub async fn inject_fault(
        &self,
        symbol: &Symbol,
        fault: crate::actors::symbol::Fault,
    ) -> Result<(), EngineError> {
        let handle = self.handle(symbol)?;
        handle
            .addr
            .send(crate::actors::symbol::InjectFault(fault))
            .await
            .map_err(|_| EngineError::ActorStopped(symbol.clone()))
    }
}

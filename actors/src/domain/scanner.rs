//! One symbol's whole pipeline: its base candles aggregated to every higher timeframe, and
//! every closed candle analysed. The symbol actor, `cryptolens analyze` and the backtester
//! drive this same state machine, so streaming and batch runs agree by construction.

use super::analysis::{AnalysisEvents, AnalysisSettings, SymbolAnalysis};
use super::market::{
    Candle, ClosedCandle, IngestOutcome, PrependTally, Symbol, Timeframe, TimeframeAggregator,
};
use super::DomainError;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Serialisable whole: a snapshot restores every ring, indicator, detector, pattern lifecycle
/// and live signal, so the next candle continues exactly where the last one left off. The
/// settings are not part of it; [`SymbolScanner::reattach`] gives them back after a restore.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SymbolScanner {
    aggregator: TimeframeAggregator,
    analysis: SymbolAnalysis,
}

impl SymbolScanner {
    pub fn new(
        symbol: Symbol,
        base: Timeframe,
        ring_capacity: usize,
        settings: Arc<AnalysisSettings>,
    ) -> SymbolScanner {
        SymbolScanner::with_tick_size(symbol, base, ring_capacity, settings, None)
    }

    /// As [`SymbolScanner::new`], with an exchange's tick for levels when the settings name
    /// none for the symbol.
    pub fn with_tick_size(
        symbol: Symbol,
        base: Timeframe,
        ring_capacity: usize,
        settings: Arc<AnalysisSettings>,
        tick_fallback: Option<rust_decimal::Decimal>,
    ) -> SymbolScanner {
        let aggregator = TimeframeAggregator::new(base, ring_capacity);
        let timeframes = aggregator.timeframes();
        let analysis = SymbolAnalysis::with_tick_size(symbol, timeframes, settings, tick_fallback);
        SymbolScanner {
            aggregator,
            analysis,
        }
    }

    /// Hands a restored scanner its settings (they are not stored with it).
    pub fn reattach(&mut self, settings: Arc<AnalysisSettings>) {
        self.analysis.reattach(settings);
    }

    pub fn symbol(&self) -> &Symbol {
        self.analysis.symbol()
    }

    pub fn aggregator(&self) -> &TimeframeAggregator {
        &self.aggregator
    }

    pub fn analysis(&self) -> &SymbolAnalysis {
        &self.analysis
    }

    /// Offers one checked base candle. Candles it closes are appended to `closed` and
    /// analysed; what analysis reports is appended to `events`.
    pub fn on_candle(
        &mut self,
        candle: Candle,
        closed: &mut Vec<ClosedCandle>,
        events: &mut AnalysisEvents,
    ) -> IngestOutcome {
        let start = closed.len();
        let outcome = self.aggregator.on_candle(candle, closed);
        if closed.len() > start {
            self.analysis.on_closed(&closed[start..], events);
        }
        outcome
    }

    /// Puts older history before what is held (rules in `market/aggregator/prepend.rs`), base
    /// timeframe first, all or nothing; when anything was written, analysis is rebuilt by
    /// replaying every held candle (see [`replayed`]).
    pub fn prepend(
        &mut self,
        series: &[(Timeframe, Vec<Candle>)],
    ) -> Result<PrependTally, DomainError> {
        let mut aggregator = self.aggregator.clone();
        let base = aggregator.base();
        let base_first = series
            .iter()
            .filter(|(timeframe, _)| *timeframe == base)
            .chain(series.iter().filter(|(timeframe, _)| *timeframe != base));
        let mut tally = PrependTally::default();
        for (timeframe, candles) in base_first {
            tally.add(&aggregator.prepend(*timeframe, candles)?);
        }
        if tally.changed() {
            let symbol = self.analysis.symbol().clone();
            let settings = Arc::clone(self.analysis.settings());
            let tick = self.analysis.tick_size();
            self.analysis = replayed(&aggregator, symbol, settings, tick);
            self.aggregator = aggregator;
        }
        Ok(tally)
    }

    /// Re-evaluates signals on the current state.
    pub fn reevaluate(&mut self, events: &mut AnalysisEvents) {
        self.analysis.reevaluate(events);
    }

    /// Ends a finite input: the last base candle closes and is analysed (see
    /// [`TimeframeAggregator::finish`]).
    pub fn finish(
        self,
        closed: &mut Vec<ClosedCandle>,
        events: &mut AnalysisEvents,
    ) -> SymbolAnalysis {
        let SymbolScanner {
            aggregator,
            mut analysis,
        } = self;
        let start = closed.len();
        aggregator.finish(closed);
        if closed.len() > start {
            analysis.on_closed(&closed[start..], events);
        }
        analysis
    }
}

/// A fresh analysis fed every closed candle `aggregator` holds, grouped by close time (ties:
/// shorter timeframe first), as ingest would have fed them; the events describe the past and
/// are dropped. Where the base data has gaps, ingest closes a higher bucket only when the next
/// base candle arrives, so a signal's evaluation time may differ from a live run's; the
/// indicators and patterns are the same.
fn replayed(
    aggregator: &TimeframeAggregator,
    symbol: Symbol,
    settings: Arc<AnalysisSettings>,
    tick: Option<rust_decimal::Decimal>,
) -> SymbolAnalysis {
    let timeframes = aggregator.timeframes();
    let mut analysis = SymbolAnalysis::with_tick_size(symbol, timeframes, settings, tick);
    let mut closed: Vec<ClosedCandle> = aggregator
        .timeframes()
        .flat_map(|timeframe| {
            let ring = aggregator
                .closed(timeframe)
                .into_iter()
                .flat_map(|r| r.iter());
            ring.map(move |candle| ClosedCandle {
                timeframe,
                candle: *candle,
            })
        })
        .collect();
    let close_ms =
        |closed: &ClosedCandle| closed.candle.open_time_ms + closed.timeframe.duration_ms();
    // Stable: candles closing together stay in timeframe order.
    closed.sort_by_key(close_ms);
    let mut events = AnalysisEvents::default();
    for instant in closed.chunk_by(|a, b| close_ms(a) == close_ms(b)) {
        analysis.on_closed(instant, &mut events);
        events.clear();
    }
    analysis
}

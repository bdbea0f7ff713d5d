//! One symbol's whole pipeline: its base candles aggregated to every higher timeframe, and
//! every closed candle analysed. The symbol actor, `cryptolens analyze` and the backtester
//! drive this same state machine, so streaming and batch runs agree by construction.

use super::analysis::{AnalysisEvents, AnalysisSettings, SymbolAnalysis};
use super::market::{Candle, ClosedCandle, IngestOutcome, Symbol, Timeframe, TimeframeAggregator};
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
        let aggregator = TimeframeAggregator::new(base, ring_capacity);
        let analysis = SymbolAnalysis::new(symbol, aggregator.timeframes(), settings);
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

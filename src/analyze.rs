//! `cryptolens analyze`: the server's analysis over one candle file, offline (no server, no
//! store), as one JSON document. It drives the same [`SymbolScanner`] the symbol actors do;
//! the only difference is that the file's last candle is final, so it is analysed too.

use crate::import::{read_candle_file, ImportError};
use crate::report::{PatternJson, SignalJson};
use cryptolens_actors::domain::analysis::indicators::{IndicatorValues, INDICATOR_NAMES};
use cryptolens_actors::domain::analysis::{
    AnalysisEvents, AnalysisSettings, Direction, Pattern, PatternEvent, PatternKey, Signal,
    SignalEvent,
};
use cryptolens_actors::domain::market::{Candle, ClosedCandle, Symbol, Timeframe};
use cryptolens_actors::domain::scanner::SymbolScanner;
use cryptolens_actors::domain::DomainError;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

/// The aggregator's rings are not read here; one slot each is enough.
const RING_CAPACITY: usize = 1;

pub struct AnalyzeOptions {
    pub input: PathBuf,
    pub timeframe: Timeframe,
    pub symbol: Symbol,
    pub settings: AnalysisSettings,
}

#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    #[error(transparent)]
    Input(#[from] ImportError),
    #[error("{path}: no candles")]
    Empty { path: PathBuf },
    #[error("{path}: candle {index} (open time {open_time_ms}) is not after the one before it; candles must be in time order without duplicates")]
    NotInTimeOrder {
        path: PathBuf,
        index: usize,
        open_time_ms: i64,
    },
    #[error("invalid analysis settings: {0}")]
    Settings(#[source] DomainError),
}

/// The analysis of one file, ready to print.
pub struct AnalysisReport {
    symbol: Symbol,
    timeframe: Timeframe,
    timestamps: Vec<i64>,
    indicators: Vec<IndicatorValues>,
    patterns: Vec<Pattern>,
    signals: Vec<Signal>,
}

pub fn analyze(options: &AnalyzeOptions) -> Result<AnalysisReport, AnalyzeError> {
    options
        .settings
        .validate()
        .map_err(AnalyzeError::Settings)?;
    let candles = read_candle_file(&options.input, options.timeframe)?;
    check_order(&options.input, &candles)?;
    let mut scanner = SymbolScanner::new(
        options.symbol.clone(),
        options.timeframe,
        RING_CAPACITY,
        Arc::new(options.settings.clone()),
    );
    let mut collector = Collector::new(options.timeframe, candles.len());
    let (mut closed, mut events) = (Vec::new(), AnalysisEvents::default());
    for candle in &candles {
        scanner.on_candle(*candle, &mut closed, &mut events);
        collector.take(&mut closed, &mut events, &scanner);
    }
    let analysis = scanner.finish(&mut closed, &mut events);
    let base = analysis.engine(options.timeframe);
    collector.take_values(&closed, base.and_then(|engine| engine.latest()));
    collector.take_events(&mut events);
    Ok(collector.into_report(options.symbol.clone()))
}

fn check_order(path: &std::path::Path, candles: &[Candle]) -> Result<(), AnalyzeError> {
    if candles.is_empty() {
        return Err(AnalyzeError::Empty {
            path: path.to_owned(),
        });
    }
    match candles
        .windows(2)
        .position(|pair| pair[1].open_time_ms <= pair[0].open_time_ms)
    {
        Some(index) => Err(AnalyzeError::NotInTimeOrder {
            path: path.to_owned(),
            index: index + 1,
            open_time_ms: candles[index + 1].open_time_ms,
        }),
        None => Ok(()),
    }
}

/// Gathers per-candle indicator values of the input timeframe and the final state of every
/// pattern and signal from the scanner's events.
struct Collector {
    timeframe: Timeframe,
    timestamps: Vec<i64>,
    indicators: Vec<IndicatorValues>,
    patterns: Vec<Pattern>,
    pattern_index: HashMap<PatternKey, usize>,
    signals: Vec<Signal>,
    /// A symbol's signal is identified by its direction and creation time.
    signal_index: HashMap<(Direction, i64), usize>,
}

impl Collector {
    fn new(timeframe: Timeframe, candles: usize) -> Collector {
        Collector {
            timeframe,
            timestamps: Vec::with_capacity(candles),
            indicators: Vec::with_capacity(candles),
            patterns: Vec::new(),
            pattern_index: HashMap::new(),
            signals: Vec::new(),
            signal_index: HashMap::new(),
        }
    }

    fn take(
        &mut self,
        closed: &mut Vec<ClosedCandle>,
        events: &mut AnalysisEvents,
        scanner: &SymbolScanner,
    ) {
        let base = scanner.analysis().engine(self.timeframe);
        self.take_values(closed, base.and_then(|engine| engine.latest()));
        closed.clear();
        self.take_events(events);
    }

    /// Records the base timeframe's values if its candle closed in this step.
    fn take_values(
        &mut self,
        closed: &[ClosedCandle],
        latest: Option<(&Candle, &IndicatorValues)>,
    ) {
        let base_closed = closed.iter().any(|c| c.timeframe == self.timeframe);
        if let (true, Some((candle, values))) = (base_closed, latest) {
            self.timestamps.push(candle.open_time_ms);
            self.indicators.push(*values);
        }
    }

    fn take_events(&mut self, events: &mut AnalysisEvents) {
        for event in events.patterns.drain(..) {
            let (PatternEvent::Formed(pattern) | PatternEvent::Changed(pattern)) = event;
            match self.pattern_index.get(&pattern.key()) {
                Some(&index) => self.patterns[index] = pattern,
                None => {
                    self.pattern_index
                        .insert(pattern.key(), self.patterns.len());
                    self.patterns.push(pattern);
                }
            }
        }
        for event in events.signals.drain(..) {
            let (SignalEvent::Emitted(signal)
            | SignalEvent::Updated(signal)
            | SignalEvent::Ended(signal)) = event;
            let key = (signal.direction, signal.created_at_ms);
            match self.signal_index.get(&key) {
                Some(&index) => self.signals[index] = signal,
                None => {
                    self.signal_index.insert(key, self.signals.len());
                    self.signals.push(signal);
                }
            }
        }
    }

    fn into_report(self, symbol: Symbol) -> AnalysisReport {
        AnalysisReport {
            symbol,
            timeframe: self.timeframe,
            timestamps: self.timestamps,
            indicators: self.indicators,
            patterns: self.patterns,
            signals: self.signals,
        }
    }
}

impl Serialize for AnalysisReport {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut document = serializer.serialize_map(Some(7))?;
        document.serialize_entry("symbol", &self.symbol)?;
        document.serialize_entry("timeframe", &self.timeframe)?;
        document.serialize_entry("candles", &self.timestamps.len())?;
        document.serialize_entry("timestamps", &self.timestamps)?;
        document.serialize_entry("indicators", &IndicatorColumns(&self.indicators))?;
        // Each item is shaped as it is written, so the document is never held twice.
        let patterns = Streamed(|| self.patterns.iter().map(|p| PatternJson::new(p, None)));
        document.serialize_entry("patterns", &patterns)?;
        let signals = Streamed(|| self.signals.iter().map(SignalJson::new));
        document.serialize_entry("signals", &signals)?;
        document.end()
    }
}

/// A JSON array written from an iterator made on demand.
struct Streamed<F>(F);

impl<F, I> Serialize for Streamed<F>
where
    F: Fn() -> I,
    I: Iterator,
    I::Item: Serialize,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq((self.0)())
    }
}

/// `{"sma_20": [x|null, ...], ...}`: one array per indicator, aligned with the timestamps,
/// written straight from the rows without an intermediate JSON tree.
struct IndicatorColumns<'a>(&'a [IndicatorValues]);

struct Column<'a> {
    rows: &'a [IndicatorValues],
    index: usize,
}

impl Serialize for IndicatorColumns<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut columns = serializer.serialize_map(Some(INDICATOR_NAMES.len()))?;
        for (index, name) in INDICATOR_NAMES.iter().enumerate() {
            columns.serialize_entry(
                name,
                &Column {
                    rows: self.0,
                    index,
                },
            )?;
        }
        columns.end()
    }
}

impl Serialize for Column<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut values = serializer.serialize_seq(Some(self.rows.len()))?;
        for row in self.rows {
            // JSON has no NaN or infinity: such a value prints as null.
            let value = row.as_array()[self.index].filter(|value| value.is_finite());
            values.serialize_element(&value)?;
        }
        values.end()
    }
}

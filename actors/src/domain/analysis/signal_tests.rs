//! Signals from hand-built candles on three timeframes: emission at confluence 3, updates
//! while live, expiry when confluence drops, a flip when the other side takes over, the
//! higher-timeframe option, and the weighted indicator vote.

use super::indicators::IndicatorValues;
use super::{
    AnalysisEvents, AnalysisSettings, Direction, SignalBook, SignalEvent, SignalHistory,
    SignalSettings, SignalStatus, SymbolAnalysis, TimeframeVote,
};
use crate::domain::market::{ClosedCandle, Price, Symbol, Timeframe};
use crate::domain::test_candles::decimal_candle;
use std::sync::Arc;

const THREE: [Timeframe; 3] = [Timeframe::M5, Timeframe::M15, Timeframe::H1];

/// The same price path on every timeframe: a bullish gap [100.5, 101.5] completes on candle
/// 2, a second bullish gap [102, 102.2] on candle 3 (filled by candle 4), and a bearish gap
/// [101.95, 102.2] on candle 5.
const PATH: [[&str; 4]; 6] = [
    ["100", "100.5", "99.5", "100.2"],
    ["100.2", "102", "100.1", "101.9"],
    ["101.9", "102.5", "101.5", "102.2"],
    ["102.2", "103", "102.2", "102.9"],
    ["102.9", "102.95", "101.9", "102"],
    ["101.9", "101.95", "101.7", "101.8"],
];

fn closed(timeframe: Timeframe, index: usize) -> ClosedCandle {
    let start_ms = index as i64 * timeframe.duration_ms();
    ClosedCandle {
        timeframe,
        candle: decimal_candle(start_ms, PATH[index]),
    }
}

fn analysis(timeframes: &[Timeframe], settings: AnalysisSettings) -> SymbolAnalysis {
    let symbol = Symbol::parse("BTCUSDT").unwrap();
    SymbolAnalysis::new(symbol, timeframes.iter().copied(), Arc::new(settings))
}

/// Closes candle `index` on each of `timeframes` at one instant; returns the signal events.
fn step(analysis: &mut SymbolAnalysis, timeframes: &[Timeframe], index: usize) -> Vec<SignalEvent> {
    let candles: Vec<ClosedCandle> = timeframes.iter().map(|tf| closed(*tf, index)).collect();
    let mut events = AnalysisEvents::default();
    analysis.on_closed(&candles, &mut events);
    events.signals
}

fn kind_of(event: &SignalEvent) -> (&'static str, Direction, SignalStatus) {
    match event {
        SignalEvent::Emitted(signal) => ("emitted", signal.direction, signal.status),
        SignalEvent::Updated(signal) => ("updated", signal.direction, signal.status),
        SignalEvent::Ended(signal) => ("ended", signal.direction, signal.status),
    }
}

/// Runs candles 0..=2 on all three timeframes, the third one last.
fn bullish_signal(timeframes: &[Timeframe], settings: AnalysisSettings) -> SymbolAnalysis {
    let mut analysis = analysis(timeframes, settings);
    step(&mut analysis, timeframes, 0);
    step(&mut analysis, timeframes, 1);
    let two_of_three = step(&mut analysis, &timeframes[..2], 2);
    assert!(two_of_three.is_empty(), "confluence 2 is below the minimum");
    analysis
}

#[test]
fn three_aligned_timeframes_emit_one_bullish_signal_with_its_reasons() {
    let mut analysis = bullish_signal(&THREE, AnalysisSettings::default());
    let events = step(&mut analysis, &THREE[2..], 2);
    assert_eq!(events.len(), 1);
    let SignalEvent::Emitted(signal) = &events[0] else {
        panic!("expected an emission, got {events:?}");
    };
    assert_eq!(
        (
            signal.direction,
            signal.confluence,
            signal.timeframes_with_data
        ),
        (Direction::Bullish, 3, 3)
    );
    assert_eq!(signal.aligned_timeframes, THREE);
    assert_eq!(signal.entry_timeframe, Timeframe::M5);
    assert_eq!(signal.patterns.len(), 3);
    assert_eq!(
        signal.reason_texts(),
        ["bullish on 3 of 3 timeframes: 5m fair value gap, 15m fair value gap, 1h fair value gap"]
    );
    assert!(
        (signal.confidence - 0.2).abs() < 1e-12,
        "no indicator is warm: confluence alone, 0.2 x 3/3; got {}",
        signal.confidence
    );
    assert_eq!(
        signal.created_at_ms,
        3 * Timeframe::H1.duration_ms(),
        "the close of the 1h candle that completed the third gap"
    );
    assert_eq!(analysis.signals().live().count(), 1);
}

#[test]
fn a_live_signal_is_updated_when_its_patterns_change_and_expires_when_confluence_drops() {
    let mut analysis = bullish_signal(&THREE, AnalysisSettings::default());
    step(&mut analysis, &THREE[2..], 2);
    let events = step(&mut analysis, &THREE, 3);
    assert_eq!(
        events.iter().map(kind_of).collect::<Vec<_>>(),
        [("updated", Direction::Bullish, SignalStatus::Live)],
        "the newer gap on each timeframe replaces the older one behind the signal"
    );
    assert_eq!(
        step(&mut analysis, &THREE, 4).len(),
        1,
        "candle 4 fills the newer gaps"
    );
    let events = step(&mut analysis, &THREE[..2], 5);
    assert_eq!(
        events.iter().map(kind_of).collect::<Vec<_>>(),
        [("ended", Direction::Bullish, SignalStatus::Expired)],
        "bearish 2 against bullish 1: no side has confluence 3"
    );
    assert_eq!(analysis.signals().live().count(), 0);
    let events = step(&mut analysis, &THREE[2..], 5);
    assert_eq!(
        events.iter().map(kind_of).collect::<Vec<_>>(),
        [("emitted", Direction::Bearish, SignalStatus::Live)]
    );
    assert_eq!(analysis.signals().ended().count(), 1);
}

#[test]
fn the_opposite_side_reaching_confluence_flips_the_live_signal() {
    let mut analysis = bullish_signal(&THREE, AnalysisSettings::default());
    for index in 2..=4 {
        step(&mut analysis, &THREE, index);
    }
    let events = step(&mut analysis, &THREE, 5);
    assert_eq!(
        events.iter().map(kind_of).collect::<Vec<_>>(),
        [
            ("ended", Direction::Bullish, SignalStatus::Flipped),
            ("emitted", Direction::Bearish, SignalStatus::Live)
        ]
    );
    let live: Vec<_> = analysis
        .signals()
        .live()
        .map(|signal| signal.direction)
        .collect();
    assert_eq!(
        live,
        [Direction::Bearish],
        "one live signal per symbol and direction"
    );
}

#[test]
fn the_higher_timeframe_option_needs_4h_or_1d_among_the_aligned() {
    let settings = AnalysisSettings {
        signals: SignalSettings {
            require_higher_timeframe: true,
            ..SignalSettings::default()
        },
        ..AnalysisSettings::default()
    };
    let mut without = bullish_signal(&THREE, settings.clone());
    assert!(step(&mut without, &THREE[2..], 2).is_empty());
    let with_4h = [Timeframe::M5, Timeframe::M15, Timeframe::H4];
    let mut with = bullish_signal(&with_4h, settings);
    assert_eq!(step(&mut with, &with_4h[2..], 2).len(), 1);
}

/// Evaluates a bullish vote on one timeframe with the given indicator values.
fn confidence_with(values: IndicatorValues, low: &str) -> (f64, Vec<String>) {
    let mut entry = closed(Timeframe::M5, 2);
    entry.candle.low = Price::from_decimal(low.parse().unwrap()).unwrap();
    let mut analysis = analysis(&[Timeframe::M5], AnalysisSettings::default());
    for index in 0..=2 {
        step(&mut analysis, &[Timeframe::M5], index);
    }
    let pattern = analysis
        .engine(Timeframe::M5)
        .and_then(|engine| engine.latest_live());
    let vote = TimeframeVote {
        timeframe: Timeframe::M5,
        pattern,
        candle: &entry.candle,
        values: &values,
    };
    let settings = SignalSettings {
        confluence_min: 1,
        ..SignalSettings::default()
    };
    let mut book = SignalBook::default();
    let mut events = Vec::new();
    book.evaluate(
        analysis.symbol(),
        0,
        [vote].into_iter(),
        &settings,
        &SignalHistory {
            kept: 10,
            max_age_ms: i64::MAX,
        },
        &mut events,
    );
    let signal = book.live().next().expect("a signal at confluence 1");
    (signal.confidence, signal.reason_texts())
}

#[test]
fn the_indicator_vote_adds_each_agreeing_indicator_s_weight() {
    let rsi_only = IndicatorValues {
        rsi_14: Some(25.0),
        ..IndicatorValues::default()
    };
    let (confidence, reasons) = confidence_with(rsi_only, "101.5");
    assert!(
        (confidence - 0.45).abs() < 1e-12,
        "0.2 + RSI 0.25: {confidence}"
    );
    assert_eq!(reasons[1], "RSI 25.0 below 30");
    let everything = IndicatorValues {
        sma_20: Some(102.0),
        sma_50: Some(101.0),
        rsi_14: Some(25.0),
        macd: Some(0.5),
        macd_signal: Some(0.1),
        bb_lower: Some(101.6),
        bb_upper: Some(104.0),
        volume_ratio: Some(2.0),
        ..IndicatorValues::default()
    };
    let (confidence, reasons) = confidence_with(everything, "101.5");
    assert!(
        (confidence - 1.0).abs() < 1e-12,
        "0.2 + (0.2 + 0.25 + 0.2 + 0.15) x 1.25, capped at 1: {confidence}"
    );
    assert_eq!(reasons.len(), 7, "{reasons:?}");
    let no_volume = IndicatorValues {
        volume_ratio: Some(1.0),
        ..everything
    };
    let (confidence, _) = confidence_with(no_volume, "101.7");
    assert!(
        (confidence - 0.85).abs() < 1e-12,
        "no band touch and no volume boost: 0.2 + 0.65 = {confidence}"
    );
}

#[test]
fn after_a_signal_ends_its_direction_waits_out_the_cooldown() {
    let entry = closed(Timeframe::M5, 2);
    let mut analysis = analysis(&[Timeframe::M5], AnalysisSettings::default());
    for index in 0..=2 {
        step(&mut analysis, &[Timeframe::M5], index);
    }
    let pattern = analysis
        .engine(Timeframe::M5)
        .and_then(|engine| engine.latest_live());
    let values = IndicatorValues::default();
    let vote = |pattern| TimeframeVote {
        timeframe: Timeframe::M5,
        pattern,
        candle: &entry.candle,
        values: &values,
    };
    let settings = SignalSettings {
        confluence_min: 1,
        reemit_cooldown_minutes: 30,
        ..SignalSettings::default()
    };
    let history = SignalHistory {
        kept: 10,
        max_age_ms: i64::MAX,
    };
    let mut book = SignalBook::default();
    let at = |book: &mut SignalBook, minute: i64, holds: bool| {
        let mut events = Vec::new();
        let votes = [vote(if holds { pattern } else { None })];
        book.evaluate(
            analysis.symbol(),
            minute * 60_000,
            votes.into_iter(),
            &settings,
            &history,
            &mut events,
        );
        events
            .iter()
            .map(kind_of)
            .map(|(kind, _, _)| kind)
            .collect::<Vec<_>>()
    };
    assert_eq!(at(&mut book, 0, true), ["emitted"]);
    assert_eq!(at(&mut book, 10, false), ["ended"]);
    assert!(
        at(&mut book, 25, true).is_empty(),
        "15 minutes after the end: cooling down"
    );
    assert_eq!(
        at(&mut book, 40, true),
        ["emitted"],
        "30 minutes after the end"
    );
}

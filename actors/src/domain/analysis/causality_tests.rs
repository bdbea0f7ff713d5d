//! Property: analysis is causal. Running on a prefix of the candles gives exactly the first
//! outputs of running on all of them, so no output ever depends on a later candle, and
//! appending candles never changes an earlier gap's anchor, zone or direction.

use super::detectors::{
    FairValueGapDetector, FairValueGapSettings, LiquiditySweepDetector, LiquiditySweepSettings,
    OrderBlockDetector, OrderBlockSettings,
};
use super::indicators::{IndicatorSet, IndicatorValues};
use super::{AnalysisEvents, AnalysisSettings, PatternEvent, SignalEvent};
use crate::domain::market::{Candle, Symbol, Timeframe};
use crate::domain::scanner::SymbolScanner;
use crate::domain::test_candles::candles_strategy;
use proptest::prelude::*;
use std::sync::Arc;

/// The whole pipeline (aggregation to every timeframe, detectors, filters, lifecycle,
/// signals) over `candles`, with the events it reported.
fn scan(candles: &[Candle], settings: &Arc<AnalysisSettings>) -> AnalysisEvents {
    let symbol = Symbol::parse("TESTUSDT").unwrap();
    let mut scanner = SymbolScanner::new(symbol, Timeframe::M1, 1000, settings.clone());
    let (mut closed, mut events) = (Vec::new(), AnalysisEvents::default());
    for candle in candles {
        scanner.on_candle(*candle, &mut closed, &mut events);
    }
    events
}

fn formed(events: &AnalysisEvents) -> Vec<super::Pattern> {
    events
        .patterns
        .iter()
        .filter_map(|event| match event {
            PatternEvent::Formed(pattern) => Some(pattern.clone()),
            PatternEvent::Changed(_) => None,
        })
        .collect()
}

fn indicators(candles: &[Candle]) -> Vec<IndicatorValues> {
    let mut set = IndicatorSet::default();
    candles.iter().map(|candle| set.on_candle(candle)).collect()
}

proptest! {
    #[test]
    fn indicators_on_a_prefix_equal_the_start_of_the_full_run(candles in candles_strategy(), cut in 0_usize..200) {
        let cut = cut.min(candles.len());
        let full = indicators(&candles);
        prop_assert_eq!(indicators(&candles[..cut]), full[..cut].to_vec());
    }

    #[test]
    fn gaps_found_on_a_prefix_are_the_first_gaps_of_the_full_run(candles in candles_strategy(), cut in 0_usize..200, body in any::<bool>()) {
        let cut = cut.min(candles.len());
        let settings = FairValueGapSettings { require_body_direction: body };
        let run = |slice: &[Candle]| {
            let mut detector = FairValueGapDetector::new(settings);
            slice.iter().filter_map(|candle| detector.on_candle(candle)).collect::<Vec<_>>()
        };
        let (prefix, full) = (run(&candles[..cut]), run(&candles));
        prop_assert!(prefix.len() <= full.len());
        prop_assert_eq!(&prefix[..], &full[..prefix.len()]);
        for gap in &full {
            prop_assert!(gap.formed_at_ms > gap.anchor_at_ms, "reported on the close of c3, after c2");
        }
    }

    #[test]
    fn order_blocks_and_sweeps_on_a_prefix_are_the_first_of_the_full_run(candles in candles_strategy(), cut in 0_usize..200) {
        let cut = cut.min(candles.len());
        let blocks = |slice: &[Candle]| {
            let mut detector = OrderBlockDetector::new(OrderBlockSettings::default());
            slice.iter().filter_map(|candle| detector.on_candle(candle)).collect::<Vec<_>>()
        };
        let sweeps = |slice: &[Candle]| {
            let mut detector = LiquiditySweepDetector::new(LiquiditySweepSettings::default());
            slice.iter().flat_map(|candle| detector.on_candle(candle)).flatten().collect::<Vec<_>>()
        };
        let (prefix, full) = (blocks(&candles[..cut]), blocks(&candles));
        prop_assert_eq!(&prefix[..], &full[..prefix.len()]);
        let (prefix, full) = (sweeps(&candles[..cut]), sweeps(&candles));
        prop_assert_eq!(&prefix[..], &full[..prefix.len()]);
        for sweep in &full {
            prop_assert!(sweep.formed_at_ms >= sweep.anchor_at_ms + 4 * 60_000, "a swing is swept only once confirmed");
        }
    }

    #[test]
    fn the_full_pipeline_on_a_prefix_reports_exactly_the_start_of_the_full_run(candles in candles_strategy(), cut in 0_usize..200, raw in any::<bool>()) {
        let cut = cut.min(candles.len());
        let settings = Arc::new(AnalysisSettings { filters_enabled: !raw, ..AnalysisSettings::default() });
        let (prefix, full) = (scan(&candles[..cut], &settings), scan(&candles, &settings));
        prop_assert_eq!(&prefix.patterns[..], &full.patterns[..prefix.patterns.len()]);
        prop_assert_eq!(&prefix.signals[..], &full.signals[..prefix.signals.len()]);
        // a pattern's identity never changes after it formed: every later event about it
        // carries the same anchor, zone and direction
        let identities: std::collections::HashMap<_, _> = formed(&full)
            .into_iter()
            .map(|pattern| (pattern.key(), (pattern.anchor_at_ms, pattern.zone)))
            .collect();
        for event in &full.patterns {
            if let PatternEvent::Changed(pattern) = event {
                prop_assert_eq!(identities.get(&pattern.key()), Some(&(pattern.anchor_at_ms, pattern.zone)));
            }
        }
        for event in &full.signals {
            if let SignalEvent::Emitted(signal) = event {
                prop_assert!(signal.confluence >= settings.signals.confluence_min);
                prop_assert!((0.0..=1.0).contains(&signal.confidence));
            }
        }
    }
}

//! Property: every persisted type survives its envelope, and a restored scanner continues
//! exactly as the original: fed the same later candles, both report the same events and end
//! in equal states. The scanner holds every stored type (candles, rings, aggregation
//! partials, indicator and detector state, patterns with lifecycles and levels, signals).

use super::{decode, encode};
use crate::domain::analysis::{AnalysisEvents, AnalysisSettings};
use crate::domain::market::{Candle, Symbol, Timeframe};
use crate::domain::scanner::SymbolScanner;
use crate::domain::test_candles::candles_strategy;
use proptest::prelude::*;
use std::sync::Arc;

fn feed(scanner: &mut SymbolScanner, candles: &[Candle]) -> AnalysisEvents {
    let (mut closed, mut events) = (Vec::new(), AnalysisEvents::default());
    for candle in candles {
        scanner.on_candle(*candle, &mut closed, &mut events);
    }
    events
}

fn settings(raw: bool, tick: bool) -> Arc<AnalysisSettings> {
    let mut settings = AnalysisSettings {
        filters_enabled: !raw,
        ..AnalysisSettings::default()
    };
    if tick {
        settings
            .tick_sizes
            .insert("TESTUSDT".into(), "0.00001".parse().unwrap());
    }
    settings.signals.confluence_min = 2;
    Arc::new(settings)
}

proptest! {
    #[test]
    fn a_restored_scanner_continues_exactly_like_the_original(
        candles in candles_strategy(), cut in 0_usize..200, raw in any::<bool>(), tick in any::<bool>()
    ) {
        let cut = cut.min(candles.len());
        let settings = settings(raw, tick);
        let symbol = Symbol::parse("TESTUSDT").unwrap();
        let mut original = SymbolScanner::new(symbol, Timeframe::M1, 50, settings.clone());
        feed(&mut original, &candles[..cut]);
        let bytes = encode(&original).unwrap();
        let mut restored: SymbolScanner = decode(&bytes).unwrap();
        restored.reattach(settings);
        prop_assert_eq!(&restored, &original);
        let (after_original, after_restored) =
            (feed(&mut original, &candles[cut..]), feed(&mut restored, &candles[cut..]));
        prop_assert_eq!(after_restored, after_original);
        prop_assert_eq!(restored, original);
    }
}

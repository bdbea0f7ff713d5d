//! Analysis of one symbol on one timeframe: indicators, the three detectors, the zone
//! filters, each pattern's lifecycle and its trading levels, fed one closed candle at a time.
//!
//! Order on each candle: indicators first (levels use this candle's ATR), then the lifecycle
//! of the patterns already tracked, then detection. A pattern formed on a candle is never
//! moved by that same candle.

use super::detectors::{FairValueGapDetector, LiquiditySweepDetector, OrderBlockDetector};
use super::indicators::{IndicatorSet, IndicatorValues};
use super::{
    trading_levels, AnalysisSettings, Direction, ExpiryLimits, ExpiryRule, Lifecycle, Pattern,
    PatternKind, Zone,
};
use crate::domain::market::{Candle, Timeframe, SCALE_DIGITS};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// A change to a pattern, as the engine reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PatternEvent {
    Formed(Pattern),
    /// Its lifecycle moved (touched, filled, invalidated, expired).
    Changed(Pattern),
}

/// A detector's find before filtering.
struct Detection {
    kind: PatternKind,
    direction: Direction,
    anchor_at_ms: i64,
    zone: Zone,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatternEngine {
    timeframe: Timeframe,
    indicators: IndicatorSet,
    last_candle: Option<Candle>,
    last_values: IndicatorValues,
    gaps: FairValueGapDetector,
    blocks: OrderBlockDetector,
    sweeps: LiquiditySweepDetector,
    /// Unresolved patterns, oldest first.
    live: VecDeque<Pattern>,
    /// Resolved patterns, oldest first, bounded by `resolved_patterns_kept`.
    resolved: VecDeque<Pattern>,
    /// Configured tick, or None to use the finest precision seen so far.
    #[serde(with = "rust_decimal::serde::str_option")]
    tick_size: Option<Decimal>,
    decimals_seen_max: u32,
}

impl PatternEngine {
    pub fn new(
        timeframe: Timeframe,
        settings: &AnalysisSettings,
        tick_size: Option<Decimal>,
    ) -> PatternEngine {
        PatternEngine {
            timeframe,
            indicators: IndicatorSet::default(),
            last_candle: None,
            last_values: IndicatorValues::default(),
            gaps: FairValueGapDetector::new(settings.fair_value_gap),
            blocks: OrderBlockDetector::new(settings.order_block),
            sweeps: LiquiditySweepDetector::new(settings.liquidity_sweep),
            live: VecDeque::new(),
            resolved: VecDeque::new(),
            tick_size,
            decimals_seen_max: 0,
        }
    }

    pub fn timeframe(&self) -> Timeframe {
        self.timeframe
    }

    /// The tick levels are rounded to, if one is set (else the finest precision seen).
    pub fn tick_size(&self) -> Option<Decimal> {
        self.tick_size
    }

    /// The last closed candle and its indicator values.
    pub fn latest(&self) -> Option<(&Candle, &IndicatorValues)> {
        self.last_candle
            .as_ref()
            .map(|candle| (candle, &self.last_values))
    }

    /// Unresolved patterns, oldest first.
    pub fn live(&self) -> impl DoubleEndedIterator<Item = &Pattern> {
        self.live.iter()
    }

    /// Recently resolved patterns, oldest first.
    pub fn resolved(&self) -> impl DoubleEndedIterator<Item = &Pattern> {
        self.resolved.iter()
    }

    /// The most recently formed unresolved pattern.
    pub fn latest_live(&self) -> Option<&Pattern> {
        self.live.back()
    }

    pub fn on_candle(
        &mut self,
        candle: &Candle,
        settings: &AnalysisSettings,
        events: &mut Vec<PatternEvent>,
    ) -> IndicatorValues {
        let values = self.indicators.on_candle(candle);
        self.last_candle = Some(*candle);
        self.last_values = values;
        self.decimals_seen_max = self.decimals_seen_max.max(decimals_of(candle));
        self.advance_lifecycles(candle, values.atr_14, settings, events);
        self.forget_old_resolved(candle.open_time_ms, settings);
        let mut detections = [None, None, None, None];
        detections[0] = self.gaps.on_candle(candle).map(|gap| Detection {
            kind: PatternKind::FairValueGap,
            direction: gap.direction,
            anchor_at_ms: gap.anchor_at_ms,
            zone: gap.zone,
        });
        detections[1] = self.blocks.on_candle(candle).map(|block| Detection {
            kind: PatternKind::OrderBlock,
            direction: block.direction,
            anchor_at_ms: block.anchor_at_ms,
            zone: block.zone,
        });
        let [low_sweep, high_sweep] = self.sweeps.on_candle(candle);
        for (slot, sweep) in [(2, low_sweep), (3, high_sweep)] {
            detections[slot] = sweep.map(|sweep| Detection {
                kind: PatternKind::LiquiditySweep,
                direction: sweep.direction,
                anchor_at_ms: sweep.anchor_at_ms,
                zone: sweep.zone,
            });
        }
        for detection in detections.into_iter().flatten() {
            self.track(detection, candle, values.atr_14, settings, events);
        }
        values
    }

    fn advance_lifecycles(
        &mut self,
        candle: &Candle,
        atr: Option<f64>,
        settings: &AnalysisSettings,
        events: &mut Vec<PatternEvent>,
    ) {
        let limits = ExpiryLimits {
            distance_max: match settings.expiry {
                ExpiryRule::Table => None,
                ExpiryRule::Atr { atr_multiple } => atr.map(|atr| atr * atr_multiple),
            },
            ..ExpiryLimits::table(self.timeframe)
        };
        let mut resolved_any = false;
        for pattern in self.live.iter_mut() {
            let moved = pattern.lifecycle.on_candle(
                pattern.direction,
                &pattern.zone,
                pattern.formed_at_ms,
                &limits,
                candle,
            );
            if moved {
                events.push(PatternEvent::Changed(pattern.clone()));
                resolved_any |= !pattern.lifecycle.status.is_live();
            }
        }
        if resolved_any {
            // Copy the few resolved ones out, then one stable in-place compaction.
            let resolved: Vec<Pattern> = self
                .live
                .iter()
                .filter(|pattern| !pattern.lifecycle.status.is_live())
                .cloned()
                .collect();
            self.live
                .retain(|pattern| pattern.lifecycle.status.is_live());
            for pattern in resolved {
                self.keep_resolved(pattern, settings);
            }
        }
    }

    fn track(
        &mut self,
        detection: Detection,
        candle: &Candle,
        atr: Option<f64>,
        settings: &AnalysisSettings,
        events: &mut Vec<PatternEvent>,
    ) {
        if settings.filters_enabled && !self.passes_filters(&detection, candle, settings) {
            return;
        }
        let tick = self
            .tick_size
            .unwrap_or_else(|| Decimal::new(1, self.decimals_seen_max));
        let pattern = Pattern {
            kind: detection.kind,
            direction: detection.direction,
            timeframe: self.timeframe,
            anchor_at_ms: detection.anchor_at_ms,
            formed_at_ms: candle.open_time_ms,
            zone: detection.zone,
            lifecycle: Lifecycle::new(),
            levels: trading_levels(
                detection.kind,
                detection.direction,
                &detection.zone,
                (atr, tick),
                &settings.levels,
            ),
        };
        events.push(PatternEvent::Formed(pattern.clone()));
        self.live.push_back(pattern);
        if self.live.len() > settings.live_patterns_max {
            if let Some(mut oldest) = self.live.pop_front() {
                oldest.lifecycle.expire(candle.open_time_ms);
                events.push(PatternEvent::Changed(oldest.clone()));
                self.keep_resolved(oldest, settings);
            }
        }
    }

    fn passes_filters(
        &self,
        detection: &Detection,
        candle: &Candle,
        settings: &AnalysisSettings,
    ) -> bool {
        let filters = &settings.filters;
        filters.is_large_enough(&detection.zone, candle.close)
            && !self.live.iter().any(|live| {
                live.kind == detection.kind
                    && live.direction == detection.direction
                    && filters.is_duplicate(&detection.zone, &live.zone, self.timeframe)
            })
    }

    /// Retention by age: resolved patterns are in resolution order, so the old ones lead.
    fn forget_old_resolved(&mut self, now_ms: i64, settings: &AnalysisSettings) {
        let oldest_kept_ms = now_ms.saturating_sub(settings.resolved_max_age_ms());
        while self.resolved.front().is_some_and(|pattern| {
            pattern.lifecycle.resolved_at_ms().unwrap_or(i64::MIN) < oldest_kept_ms
        }) {
            self.resolved.pop_front();
        }
    }

    fn keep_resolved(&mut self, pattern: Pattern, settings: &AnalysisSettings) {
        self.resolved.push_back(pattern);
        while self.resolved.len() > settings.resolved_patterns_kept {
            self.resolved.pop_front();
        }
    }
}

/// Decimal places a candle's prices actually use (trailing zeros of the fixed point dropped).
fn decimals_of(candle: &Candle) -> u32 {
    [candle.open, candle.high, candle.low, candle.close]
        .iter()
        .map(|price| {
            let mut raw = price.raw();
            let mut decimals = SCALE_DIGITS;
            while decimals > 0 && raw % 10 == 0 {
                raw /= 10;
                decimals -= 1;
            }
            decimals
        })
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::analysis::PatternStatus;
    use crate::domain::test_candles::decimal_candle;

    fn candle(minute: i64, open: &str, high: &str, low: &str, close: &str) -> Candle {
        decimal_candle(minute * 60_000, [open, high, low, close])
    }

    fn run(settings: &AnalysisSettings, candles: &[Candle]) -> (PatternEngine, Vec<PatternEvent>) {
        let mut engine = PatternEngine::new(Timeframe::M1, settings, None);
        let mut events = Vec::new();
        for candle in candles {
            engine.on_candle(candle, settings, &mut events);
        }
        (engine, events)
    }

    /// A bullish gap [100.5, 101.5] formed at minute 2, then price comes back to fill it.
    fn gap_then_fill() -> Vec<Candle> {
        vec![
            candle(0, "100", "100.5", "99.5", "100.2"),
            candle(1, "100.2", "102", "100.1", "101.9"),
            candle(2, "101.9", "102.5", "101.5", "102.2"),
            candle(3, "102.2", "102.3", "101.2", "101.4"),
            candle(4, "101.4", "101.6", "100.4", "100.6"),
        ]
    }

    #[test]
    fn a_gap_is_tracked_from_formation_through_touch_to_fill() {
        let (engine, events) = run(&AnalysisSettings::default(), &gap_then_fill());
        let statuses: Vec<_> = events
            .iter()
            .map(|event| match event {
                PatternEvent::Formed(pattern) => ("formed", pattern.lifecycle.status),
                PatternEvent::Changed(pattern) => ("changed", pattern.lifecycle.status),
            })
            .collect();
        assert_eq!(
            statuses,
            [
                ("formed", PatternStatus::Active),
                ("changed", PatternStatus::Touched),
                ("changed", PatternStatus::Filled)
            ]
        );
        assert_eq!(engine.live().count(), 0);
        let filled = engine.resolved().next().unwrap();
        assert_eq!(
            (filled.anchor_at_ms, filled.formed_at_ms),
            (60_000, 120_000)
        );
        assert_eq!(filled.levels, None, "ATR(14) is not warm after 5 candles");
    }

    #[test]
    fn the_size_filter_drops_small_zones_unless_filters_are_off() {
        // a gap of 0.01 on a price of 100: 1 basis point, under the 15 bp minimum
        let candles = [
            candle(0, "100", "100.00", "99.9", "99.95"),
            candle(1, "99.95", "100.2", "99.95", "100.15"),
            candle(2, "100.15", "100.3", "100.01", "100.2"),
        ];
        let (filtered, _) = run(&AnalysisSettings::default(), &candles);
        assert_eq!(filtered.live().count(), 0);
        let raw = AnalysisSettings {
            filters_enabled: false,
            ..AnalysisSettings::default()
        };
        let (unfiltered, _) = run(&raw, &candles);
        assert_eq!(unfiltered.live().count(), 1);
    }

    #[test]
    fn an_overlapping_gap_of_the_same_direction_is_a_duplicate() {
        let mut candles = gap_then_fill()[..3].to_vec();
        // back into [100.5, 101.5] without filling it, then a second gap [101.0, 101.3]
        // lying wholly inside the first: 100% of the smaller zone overlaps
        candles.push(candle(3, "101", "101", "100.6", "100.7"));
        candles.push(candle(4, "100.7", "101.6", "100.6", "101.5"));
        candles.push(candle(5, "101.5", "102", "101.3", "101.9"));
        let zones = |settings: &AnalysisSettings| {
            let (engine, _) = run(settings, &candles);
            engine
                .live()
                .map(|pattern| format!("{}..{}", pattern.zone.bottom, pattern.zone.top))
                .collect::<Vec<_>>()
        };
        assert_eq!(zones(&AnalysisSettings::default()), ["100.5..101.5"]);
        let raw = AnalysisSettings {
            filters_enabled: false,
            ..AnalysisSettings::default()
        };
        assert_eq!(zones(&raw), ["100.5..101.5", "101..101.3"]);
    }

    #[test]
    fn tracked_patterns_are_bounded_and_the_oldest_is_expired_first() {
        let settings = AnalysisSettings {
            live_patterns_max: 1,
            filters_enabled: false,
            ..AnalysisSettings::default()
        };
        let mut candles = gap_then_fill()[..3].to_vec();
        candles.push(candle(3, "102.2", "103.5", "102.2", "103.4"));
        candles.push(candle(4, "103.4", "104.5", "103.3", "104.4"));
        let (engine, _) = run(&settings, &candles);
        assert_eq!(engine.live().count(), 1);
        let dropped = engine.resolved().next().unwrap();
        assert_eq!(dropped.formed_at_ms, 120_000);
        assert_eq!(dropped.lifecycle.status, PatternStatus::Expired);
    }

    #[test]
    fn resolved_patterns_are_kept_by_count_and_by_age() {
        let settings = AnalysisSettings {
            resolved_max_age_hours: 1,
            ..AnalysisSettings::default()
        };
        let mut candles = gap_then_fill();
        let (engine, _) = run(&settings, &candles);
        assert_eq!(engine.resolved().count(), 1, "filled at minute 4");
        candles.push(candle(64, "100.6", "100.7", "100.5", "100.6"));
        let (engine, _) = run(&settings, &candles);
        assert_eq!(engine.resolved().count(), 1, "exactly an hour later: kept");
        candles.push(candle(65, "100.6", "100.7", "100.5", "100.6"));
        let (engine, _) = run(&settings, &candles);
        assert_eq!(
            engine.resolved().count(),
            0,
            "older than an hour: forgotten"
        );
    }

    #[test]
    fn the_tick_is_the_finest_precision_seen() {
        assert_eq!(decimals_of(&candle(0, "100", "100.5", "99.25", "100")), 2);
        assert_eq!(decimals_of(&candle(0, "1", "1", "1", "1")), 0);
    }
}

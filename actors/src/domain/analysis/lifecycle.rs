//! Pattern lifecycle: active -> touched (price enters the zone) -> filled (price reaches the
//! far edge) or invalidated (a close a zone-width beyond the far edge, against the pattern) or
//! expired (unresolved after the timeframe's expiry). Only candles after the one that formed
//! the pattern move it; a candle that both invalidates and fills counts as invalidated.
//!
//! Expiry follows the timeframe's table by default. With the ATR rule, an untouched pattern
//! also expires as soon as a close lies more than k x ATR beyond its near edge, away from the
//! zone (price left without returning); the table still bounds every pattern's life.

use super::{Direction, Zone};
use crate::domain::market::{Candle, Timeframe};
use serde::{Deserialize, Serialize};

const HOUR_MS: i64 = 3_600_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PatternStatus {
    Active,
    Touched,
    Filled,
    Invalidated,
    Expired,
}

impl PatternStatus {
    pub fn is_live(self) -> bool {
        matches!(self, PatternStatus::Active | PatternStatus::Touched)
    }
}

/// Default expiry of an unresolved pattern: 1m 4h, 5m 12h, 15m 24h, 30m 48h, 1h 72h,
/// 2h 120h, 4h 168h, 1d 336h.
pub fn default_expiry_ms(timeframe: Timeframe) -> i64 {
    HOUR_MS
        * match timeframe {
            Timeframe::M1 => 4,
            Timeframe::M5 => 12,
            Timeframe::M15 => 24,
            Timeframe::M30 => 48,
            Timeframe::H1 => 72,
            Timeframe::H2 => 120,
            Timeframe::H4 => 168,
            Timeframe::D1 => 336,
        }
}

/// When an unresolved pattern stops being tradable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExpiryLimits {
    /// Age since the forming candle's open after which it expires.
    pub age_ms: i64,
    /// With the ATR rule: k x ATR at this candle, the furthest an untouched pattern's near
    /// edge may lie behind the close.
    pub distance_max: Option<f64>,
}

impl ExpiryLimits {
    pub fn table(timeframe: Timeframe) -> ExpiryLimits {
        ExpiryLimits {
            age_ms: default_expiry_ms(timeframe),
            distance_max: None,
        }
    }
}

/// Where a pattern is in its life, and when each step happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifecycle {
    pub status: PatternStatus,
    pub touched_at_ms: Option<i64>,
    pub filled_at_ms: Option<i64>,
    pub invalidated_at_ms: Option<i64>,
    pub expired_at_ms: Option<i64>,
}

impl Lifecycle {
    pub fn new() -> Lifecycle {
        Lifecycle {
            status: PatternStatus::Active,
            touched_at_ms: None,
            filled_at_ms: None,
            invalidated_at_ms: None,
            expired_at_ms: None,
        }
    }

    /// When it was filled, invalidated or expired; None while unresolved.
    pub fn resolved_at_ms(&self) -> Option<i64> {
        self.filled_at_ms
            .or(self.invalidated_at_ms)
            .or(self.expired_at_ms)
    }

    /// Ends an unresolved pattern as expired, for reasons outside its own zone (the tracker
    /// is full and it is the oldest).
    pub fn expire(&mut self, at_ms: i64) {
        if self.status.is_live() {
            self.status = PatternStatus::Expired;
            self.expired_at_ms = Some(at_ms);
        }
    }

    /// Moves the pattern on one later candle; returns whether the status changed.
    pub fn on_candle(
        &mut self,
        direction: Direction,
        zone: &Zone,
        formed_at_ms: i64,
        limits: &ExpiryLimits,
        candle: &Candle,
    ) -> bool {
        if !self.status.is_live() || candle.open_time_ms <= formed_at_ms {
            return false;
        }
        let before = self.status;
        let at = candle.open_time_ms;
        let entered = zone.is_entered_by(direction, candle);
        let too_old = candle.open_time_ms - formed_at_ms >= limits.age_ms;
        let left_untouched = self.touched_at_ms.is_none()
            && !entered
            && limits
                .distance_max
                .is_some_and(|distance| distance_beyond(direction, zone, candle) > distance);
        if too_old || left_untouched {
            self.status = PatternStatus::Expired;
            self.expired_at_ms = Some(at);
            return true;
        }
        if entered && self.touched_at_ms.is_none() {
            self.touched_at_ms = Some(at);
            self.status = PatternStatus::Touched;
        }
        if closes_a_width_beyond(direction, zone, candle) {
            self.status = PatternStatus::Invalidated;
            self.invalidated_at_ms = Some(at);
        } else if reaches_far_edge(direction, zone, candle) {
            self.status = PatternStatus::Filled;
            self.filled_at_ms = Some(at);
        }
        self.status != before
    }
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle::new()
    }
}

/// How far the close lies beyond the zone's near edge, on the side away from the zone.
fn distance_beyond(direction: Direction, zone: &Zone, candle: &Candle) -> f64 {
    match direction {
        Direction::Bullish => candle.close.to_f64() - zone.top.to_f64(),
        Direction::Bearish => zone.bottom.to_f64() - candle.close.to_f64(),
    }
}

fn reaches_far_edge(direction: Direction, zone: &Zone, candle: &Candle) -> bool {
    match direction {
        Direction::Bullish => candle.low <= zone.bottom,
        Direction::Bearish => candle.high >= zone.top,
    }
}

fn closes_a_width_beyond(direction: Direction, zone: &Zone, candle: &Candle) -> bool {
    let width = zone.top.raw() - zone.bottom.raw();
    match direction {
        Direction::Bullish => candle.close.raw() < zone.bottom.raw() - width,
        Direction::Bearish => candle.close.raw() > zone.top.raw() + width,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::market::{Price, Volume};

    const MINUTE_MS: i64 = 60_000;

    fn candle(minute: i64, high: i64, low: i64, close: i64) -> Candle {
        let price = Price::from_raw;
        Candle {
            open_time_ms: minute * MINUTE_MS,
            open: price(close),
            high: price(high),
            low: price(low),
            close: price(close),
            volume: Volume::ZERO,
        }
    }

    /// A bullish zone [100, 110] formed at minute 0.
    fn step(lifecycle: &mut Lifecycle, candle: &Candle) -> bool {
        step_with(lifecycle, candle, ExpiryLimits::table(Timeframe::M1))
    }

    fn step_with(lifecycle: &mut Lifecycle, candle: &Candle, limits: ExpiryLimits) -> bool {
        let zone = Zone::new(Price::from_raw(100), Price::from_raw(110));
        lifecycle.on_candle(Direction::Bullish, &zone, 0, &limits, candle)
    }

    #[test]
    fn entering_the_zone_touches_it_once() {
        let mut lifecycle = Lifecycle::new();
        assert!(
            !step(&mut lifecycle, &candle(1, 130, 115, 120)),
            "above the zone: still active"
        );
        assert!(step(&mut lifecycle, &candle(2, 120, 108, 115)));
        assert_eq!(
            (lifecycle.status, lifecycle.touched_at_ms),
            (PatternStatus::Touched, Some(2 * MINUTE_MS))
        );
        assert!(!step(&mut lifecycle, &candle(3, 120, 105, 115)));
        assert_eq!(
            lifecycle.touched_at_ms,
            Some(2 * MINUTE_MS),
            "the first touch is kept"
        );
    }

    #[test]
    fn reaching_the_far_edge_fills_it() {
        let mut lifecycle = Lifecycle::new();
        step(&mut lifecycle, &candle(1, 120, 100, 105));
        assert_eq!(
            (lifecycle.status, lifecycle.filled_at_ms),
            (PatternStatus::Filled, Some(MINUTE_MS))
        );
        assert_eq!(
            lifecycle.touched_at_ms,
            Some(MINUTE_MS),
            "a fill is also a touch"
        );
        assert!(
            !step(&mut lifecycle, &candle(2, 200, 50, 60)),
            "a resolved pattern does not move"
        );
    }

    #[test]
    fn a_close_a_width_beyond_the_far_edge_invalidates_it() {
        let mut lifecycle = Lifecycle::new();
        step(&mut lifecycle, &candle(1, 105, 85, 89));
        assert_eq!(
            (lifecycle.status, lifecycle.invalidated_at_ms),
            (PatternStatus::Invalidated, Some(MINUTE_MS))
        );
        let mut just_filled = Lifecycle::new();
        step(&mut just_filled, &candle(1, 105, 85, 90));
        assert_eq!(
            just_filled.status,
            PatternStatus::Filled,
            "exactly one width below is not beyond it"
        );
    }

    #[test]
    fn an_unresolved_pattern_expires_after_its_timeframe_s_expiry() {
        let mut lifecycle = Lifecycle::new();
        let expiry_minutes = default_expiry_ms(Timeframe::M1) / MINUTE_MS;
        assert!(!step(
            &mut lifecycle,
            &candle(expiry_minutes - 1, 130, 120, 125)
        ));
        assert!(step(&mut lifecycle, &candle(expiry_minutes, 130, 120, 125)));
        assert_eq!(
            (lifecycle.status, lifecycle.expired_at_ms),
            (PatternStatus::Expired, Some(expiry_minutes * MINUTE_MS))
        );
    }

    #[test]
    fn with_the_atr_rule_an_untouched_pattern_expires_once_price_runs_k_atr_away() {
        let limits = ExpiryLimits {
            // 20 raw units (prices here are in units of 1e-8)
            distance_max: Some(20e-8),
            ..ExpiryLimits::table(Timeframe::M1)
        };
        let mut lifecycle = Lifecycle::new();
        assert!(
            !step_with(&mut lifecycle, &candle(1, 135, 125, 129), limits),
            "a close 19 above the top is within k x ATR"
        );
        assert!(step_with(&mut lifecycle, &candle(2, 135, 125, 131), limits));
        assert_eq!(
            (lifecycle.status, lifecycle.expired_at_ms),
            (PatternStatus::Expired, Some(2 * MINUTE_MS))
        );
        let mut touched = Lifecycle::new();
        step_with(&mut touched, &candle(1, 120, 109, 115), limits);
        assert!(
            !step_with(&mut touched, &candle(2, 200, 190, 195), limits),
            "a touched pattern is past the ATR rule"
        );
        assert_eq!(touched.status, PatternStatus::Touched);
    }

    #[test]
    fn the_forming_candle_itself_never_moves_it() {
        let mut lifecycle = Lifecycle::new();
        assert!(!step(&mut lifecycle, &candle(0, 120, 50, 60)));
        assert_eq!(lifecycle.status, PatternStatus::Active);
    }

    #[test]
    fn expiry_defaults_follow_the_table() {
        let hours: Vec<i64> = Timeframe::ALL
            .iter()
            .map(|tf| default_expiry_ms(*tf) / HOUR_MS)
            .collect();
        assert_eq!(hours, [4, 12, 24, 48, 72, 120, 168, 336]);
    }
}

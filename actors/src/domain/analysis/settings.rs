//! Every analysis threshold, with the defaults the `[analysis]` section of
//! `config/default.toml` documents.

use super::detectors::{FairValueGapSettings, LiquiditySweepSettings, OrderBlockSettings};
use super::{LevelRules, ZoneFilters};
use crate::domain::DomainError;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnalysisSettings {
    pub fair_value_gap: FairValueGapSettings,
    pub order_block: OrderBlockSettings,
    pub liquidity_sweep: LiquiditySweepSettings,
    /// Minimum zone size and overlap dedupe; `false` reports every raw detection.
    pub filters_enabled: bool,
    pub filters: ZoneFilters,
    pub expiry: ExpiryRule,
    /// Price step per symbol for rounding levels; symbols not listed use the finest
    /// precision their candles have shown so far.
    pub tick_sizes: BTreeMap<String, Decimal>,
    /// Unresolved patterns tracked per timeframe; beyond it the oldest is dropped as expired.
    pub live_patterns_max: usize,
    /// Resolved patterns kept per timeframe (and ended signals per symbol) for the API and
    /// the store: at most this many...
    pub resolved_patterns_kept: usize,
    /// ...and none resolved longer ago than this, in candle time.
    pub resolved_max_age_hours: u64,
    pub signals: SignalSettings,
    /// How far stops and targets must reach to survive a trade's costs.
    pub levels: LevelRules,
}

impl Default for AnalysisSettings {
    fn default() -> Self {
        AnalysisSettings {
            fair_value_gap: FairValueGapSettings::default(),
            order_block: OrderBlockSettings::default(),
            liquidity_sweep: LiquiditySweepSettings::default(),
            filters_enabled: true,
            filters: ZoneFilters::default(),
            expiry: ExpiryRule::Table,
            tick_sizes: BTreeMap::new(),
            live_patterns_max: 200,
            resolved_patterns_kept: 100,
            resolved_max_age_hours: 720,
            signals: SignalSettings::default(),
            levels: LevelRules::default(),
        }
    }
}

/// How unresolved patterns expire: by the timeframe table, or additionally once price has
/// moved `atr_multiple` x ATR(14) away from an untouched zone.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
pub enum ExpiryRule {
    Table,
    Atr { atr_multiple: f64 },
}

/// Signal thresholds and the weights of the confidence score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignalSettings {
    /// Aligned timeframes needed to emit a signal.
    pub confluence_min: usize,
    /// Also require the 4h or the 1d timeframe among the aligned ones.
    pub require_higher_timeframe: bool,
    /// Share of the confidence that comes from confluence (aligned / timeframes with data).
    pub confluence_weight: f64,
    pub trend_weight: f64,
    pub rsi_weight: f64,
    pub macd_weight: f64,
    pub bollinger_weight: f64,
    pub rsi_oversold: f64,
    pub rsi_overbought: f64,
    /// A volume ratio above this multiplies the indicator vote by `volume_boost`.
    pub volume_ratio_min: f64,
    pub volume_boost: f64,
    /// After a signal ends, no new one in its direction for this long (candle time), so a
    /// condition flickering around its threshold does not emit a signal per flicker. 0: off.
    pub reemit_cooldown_minutes: u64,
}

impl Default for SignalSettings {
    fn default() -> Self {
        SignalSettings {
            confluence_min: 3,
            require_higher_timeframe: false,
            confluence_weight: 0.20,
            trend_weight: 0.20,
            rsi_weight: 0.25,
            macd_weight: 0.20,
            bollinger_weight: 0.15,
            rsi_oversold: 30.0,
            rsi_overbought: 70.0,
            volume_ratio_min: 1.5,
            volume_boost: 1.25,
            reemit_cooldown_minutes: 0,
        }
    }
}

impl AnalysisSettings {
    pub fn resolved_max_age_ms(&self) -> i64 {
        i64::try_from(self.resolved_max_age_hours)
            .unwrap_or(i64::MAX)
            .saturating_mul(3_600_000)
    }

    /// Refuses values the detectors cannot work with, naming the setting.
    pub fn validate(&self) -> Result<(), DomainError> {
        let invalid = |field: &str, message: &str| {
            Err(DomainError::InvalidSetting {
                field: format!("analysis.{field}"),
                message: message.into(),
            })
        };
        if self.order_block.body_period < 3 {
            return invalid(
                "order_block.body_period",
                "must be at least 3, the order-block lookback",
            );
        }
        let sweep = &self.liquidity_sweep;
        if sweep.swing_lookaround == 0 {
            return invalid("liquidity_sweep.swing_lookaround", "must be at least 1");
        }
        if sweep.candles_back_min <= sweep.swing_lookaround as u64 {
            return invalid(
                "liquidity_sweep.candles_back_min",
                "must exceed swing_lookaround, so a swing is confirmed before it is swept",
            );
        }
        if sweep.candles_back_max < sweep.candles_back_min {
            return invalid(
                "liquidity_sweep.candles_back_max",
                "must be at least candles_back_min",
            );
        }
        validate_level_rules(&self.levels)?;
        if let ExpiryRule::Atr { atr_multiple } = self.expiry {
            if !(atr_multiple.is_finite() && atr_multiple > 0.0) {
                return invalid("expiry.atr_multiple", "must be a positive number");
            }
        }
        if let Some((symbol, _)) = self
            .tick_sizes
            .iter()
            .find(|(_, tick)| **tick <= Decimal::ZERO)
        {
            return invalid(&format!("tick_sizes.{symbol}"), "must be positive");
        }
        // Levels are prices rounded to the tick: a finer tick than prices can carry would
        // leave a signal without levels.
        if let Some((symbol, _)) = self
            .tick_sizes
            .iter()
            .find(|(_, tick)| tick.normalize().scale() > crate::domain::money::DECIMALS_MAX)
        {
            return invalid(&format!("tick_sizes.{symbol}"), "at most 8 decimal places");
        }
        if self.live_patterns_max == 0 {
            return invalid("live_patterns_max", "must be at least 1");
        }
        if self.signals.confluence_min == 0 {
            return invalid("signals.confluence_min", "must be at least 1");
        }
        Ok(())
    }
}

/// Each ratio of `rules` finite and within its range.
fn validate_level_rules(rules: &LevelRules) -> Result<(), DomainError> {
    let ratios = [
        ("levels.min_stop_atr", rules.min_stop_atr, 100.0),
        ("levels.round_trip_cost", rules.round_trip_cost, 0.1),
        ("levels.max_cost_r", rules.max_cost_r, 10.0),
        (
            "levels.min_target_r_after_costs",
            rules.min_target_r_after_costs,
            100.0,
        ),
    ];
    for (field, value, max) in ratios {
        if !(value.is_finite() && (0.0..=max).contains(&value)) {
            return Err(DomainError::InvalidSetting {
                field: format!("analysis.{field}"),
                message: format!("from 0 to {max}"),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_each_bad_value_names_its_setting() {
        assert_eq!(AnalysisSettings::default().validate(), Ok(()));
        let mut settings = AnalysisSettings::default();
        settings.liquidity_sweep.candles_back_min = 3;
        let error = settings.validate().unwrap_err().to_string();
        assert!(
            error.starts_with("analysis.liquidity_sweep.candles_back_min:"),
            "{error}"
        );
        let settings = AnalysisSettings {
            expiry: ExpiryRule::Atr { atr_multiple: -1.0 },
            ..AnalysisSettings::default()
        };
        assert!(settings
            .validate()
            .unwrap_err()
            .to_string()
            .contains("expiry.atr_multiple"));
    }

    #[test]
    fn level_rules_out_of_range_are_refused_by_name() {
        for (rules, field) in [
            (
                LevelRules {
                    min_stop_atr: -1.0,
                    ..LevelRules::default()
                },
                "min_stop_atr",
            ),
            (
                LevelRules {
                    round_trip_cost: 0.5,
                    ..LevelRules::default()
                },
                "round_trip_cost",
            ),
            (
                LevelRules {
                    max_cost_r: f64::NAN,
                    ..LevelRules::default()
                },
                "max_cost_r",
            ),
        ] {
            let settings = AnalysisSettings {
                levels: rules,
                ..AnalysisSettings::default()
            };
            match settings.validate() {
                Err(DomainError::InvalidSetting { field: named, .. }) => {
                    assert_eq!(named, format!("analysis.levels.{field}"));
                }
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_tick_finer_than_prices_carry_is_refused() {
        let with_tick = |tick: &str| AnalysisSettings {
            tick_sizes: BTreeMap::from([("BTCUSDT".to_owned(), tick.parse().unwrap())]),
            ..AnalysisSettings::default()
        };
        assert_eq!(with_tick("0.00000001").validate(), Ok(()));
        assert_eq!(
            with_tick("0.010000000").validate(),
            Ok(()),
            "trailing zeros"
        );
        let error = with_tick("0.000000001").validate().unwrap_err().to_string();
        assert!(error.starts_with("analysis.tick_sizes.BTCUSDT:"), "{error}");
    }
}

//! Trading levels from ATR(14), in exact decimals rounded to the symbol's tick:
//! - Fair Value Gap: entry at the near edge, stop 0.5 ATR beyond the far edge;
//! - Order Block: entry at the zone midpoint, stop 0.3 ATR beyond the far edge;
//! - Liquidity Sweep: entry at the reclaimed level (the zone's near edge), stop 0.2 ATR
//!   beyond the far edge (the sweep's extreme).
//!
//! Targets sit at 1R, 2R, 3R (sweeps 1.5R, 2.5R, 4R), R being entry-to-stop. Rounding is
//! conservative: stops move away from the entry, targets toward it.
//!
//! Levels that survive costs ([`LevelRules`]): the stop is moved out to at least
//! `min_stop_atr` ATRs from the entry and far enough that a round trip's fees and slippage
//! cost at most `max_cost_r` of the risk; the targets move out together until target 1 pays
//! `min_target_r_after_costs` after those costs. (Measured with `cryptolens study`: tight
//! stops lose most of their edge to fees.)
//!
//! The levels are [`Price`](crate::domain::money::Price)s, the same type the ledger trades at (not the candle's
//! fixed-point `market::Price`).

use super::{Direction, Zone};
use crate::domain::market::Candle;
use crate::domain::market::SCALE_DIGITS;
use crate::domain::money::Price;
use rust_decimal::prelude::RoundingStrategy;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatternKind {
    FairValueGap,
    OrderBlock,
    LiquiditySweep,
}

impl PatternKind {
    /// Stop distance beyond the far edge, in ATRs.
    fn stop_atr(self) -> Decimal {
        match self {
            PatternKind::FairValueGap => Decimal::new(5, 1),
            PatternKind::OrderBlock => Decimal::new(3, 1),
            PatternKind::LiquiditySweep => Decimal::new(2, 1),
        }
    }

    /// Target multiples of the risk.
    fn target_multiples(self) -> [Decimal; 3] {
        match self {
            PatternKind::LiquiditySweep => {
                [Decimal::new(15, 1), Decimal::new(25, 1), Decimal::from(4)]
            }
            _ => [Decimal::ONE, Decimal::TWO, Decimal::from(3)],
        }
    }
}

/// How far levels must reach for a trade to survive its costs. All zero: the structural
/// levels as they are.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LevelRules {
    /// The stop at least this many ATR(14) from the entry.
    pub min_stop_atr: f64,
    /// A round trip's fees and slippage, as a fraction of the entry price (0.003: 0.1% fee
    /// and 5 bps slippage on each side).
    pub round_trip_cost: f64,
    /// The round trip costs at most this share of the risk (the stop moves out until so);
    /// 0: no such bound.
    pub max_cost_r: f64,
    /// Target 1's reward over the risk after the round trip's costs, at least.
    pub min_target_r_after_costs: f64,
}

impl LevelRules {
    /// The structural levels untouched.
    pub const STRUCTURAL: LevelRules = LevelRules {
        min_stop_atr: 0.0,
        round_trip_cost: 0.0,
        max_cost_r: 0.0,
        min_target_r_after_costs: 0.0,
    };

    /// Each target's reward after the round trip's costs, in R.
    pub fn r_after_costs(&self, levels: &TradingLevels) -> [f64; 3] {
        let price =
            |p: Price| rust_decimal::prelude::ToPrimitive::to_f64(&p.get()).unwrap_or(f64::NAN);
        let entry = price(levels.entry);
        let risk = (entry - price(levels.stop)).abs();
        let cost = entry * self.round_trip_cost;
        levels
            .targets
            .map(|target| ((price(target) - entry).abs() - cost) / risk)
    }
}

/// The defaults were chosen by `benches/load/tune_signals.py` on half of the shared candle sets
/// (ETH_BTC 5m, LTC_BTC 5m, UNITTEST_BTC 30m) at 0.1% fees per side, and checked on the other
/// half (TRX_BTC 5m, XLM_BTC 5m, XRP_ETH 1m): expectancy after fees -0.31 R structural, -0.19 R
/// with these, the edge over random pending orders kept (5.2 and 4.5 points). A tighter cost cap
/// (0.15 R) scored better there after fees (-0.13 R) but left no edge over chance: the stop then
/// sits so far out that the pattern no longer matters, only the fee accounting does.
impl Default for LevelRules {
    fn default() -> LevelRules {
        LevelRules {
            min_stop_atr: 0.5,
            round_trip_cost: 0.002,
            max_cost_r: 0.3,
            min_target_r_after_costs: 0.0,
        }
    }
}

/// Stored as decimal text: exact, and readable by formats that cannot self-describe
/// (bincode in the store). The prices carry that representation themselves; the bytes are
/// those of the text struct this replaced (four strings, the targets a tuple of three).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradingLevels {
    pub entry: Price,
    pub stop: Price,
    pub targets: [Price; 3],
    /// Reward of the last target over the risk, to two decimals. A ratio, not money, so a
    /// plain Decimal written as text here.
    #[serde(with = "rust_decimal::serde::str")]
    pub risk_reward: Decimal,
}

/// The smallest price step: configured, or inferred as 10^-d where d is the most decimals
/// any price in the data carries.
pub fn infer_tick_size(candles: &[Candle]) -> Decimal {
    let scale = candles
        .iter()
        .flat_map(|candle| [candle.open, candle.high, candle.low, candle.close])
        .map(|price| price.to_decimal().scale())
        .max()
        .unwrap_or(0);
    Decimal::new(1, scale)
}

/// Levels for a pattern, or None when ATR is unknown, the risk rounds to zero, the
/// arithmetic would overflow, or a level is no valid [`Price`] (a configured tick finer than
/// [`crate::domain::money::DECIMALS_MAX`] places).
pub fn trading_levels(
    kind: PatternKind,
    direction: Direction,
    zone: &Zone,
    (atr, tick): (Option<f64>, Decimal),
    rules: &LevelRules,
) -> Option<TradingLevels> {
    let atr = atr_to_decimal(atr?)?;
    if tick <= Decimal::ZERO {
        return None;
    }
    let (top, bottom) = (zone.top.to_decimal(), zone.bottom.to_decimal());
    let buffer = atr.checked_mul(kind.stop_atr())?;
    let (near, far_with_buffer) = match direction {
        Direction::Bullish => (top, bottom.checked_sub(buffer)?),
        Direction::Bearish => (bottom, top.checked_add(buffer)?),
    };
    let entry = match kind {
        PatternKind::OrderBlock => round_to_tick(
            top.checked_add(bottom)? / Decimal::TWO,
            tick,
            RoundingStrategy::MidpointNearestEven,
        )?,
        _ => near,
    };
    let (away, toward) = match direction {
        Direction::Bullish => (
            RoundingStrategy::ToNegativeInfinity,
            RoundingStrategy::ToNegativeInfinity,
        ),
        Direction::Bearish => (
            RoundingStrategy::ToPositiveInfinity,
            RoundingStrategy::ToPositiveInfinity,
        ),
    };
    let sign = if direction == Direction::Bullish {
        Decimal::ONE
    } else {
        Decimal::NEGATIVE_ONE
    };
    let structural = entry.checked_sub(far_with_buffer)?.abs();
    let wanted = structural.max(min_risk(rules, entry, atr)?);
    let stop = round_to_tick(entry.checked_sub(sign.checked_mul(wanted)?)?, tick, away)?;
    let risk = entry.checked_sub(stop)?.abs();
    if risk.is_zero() {
        return None;
    }
    let mut targets = [Price::ZERO; 3];
    for (target, multiple) in targets
        .iter_mut()
        .zip(target_multiples(kind, rules, entry, risk)?)
    {
        let raw = entry.checked_add(sign.checked_mul(risk.checked_mul(multiple)?)?)?;
        *target = Price::new_checked(round_to_tick(raw, tick, toward)?).ok()?;
    }
    let reward = targets[2].get().checked_sub(entry)?.abs();
    let risk_reward = reward.checked_div(risk)?.round_dp(2);
    Some(TradingLevels {
        entry: Price::new_checked(entry).ok()?,
        stop: Price::new_checked(stop).ok()?,
        targets,
        risk_reward,
    })
}

/// The smallest risk `rules` allow at `entry` with `atr`.
fn min_risk(rules: &LevelRules, entry: Decimal, atr: Decimal) -> Option<Decimal> {
    let ratio = |value: f64| Decimal::try_from(value).ok();
    let by_atr = atr.checked_mul(ratio(rules.min_stop_atr)?)?;
    let by_cost = if rules.max_cost_r > 0.0 {
        entry
            .checked_mul(ratio(rules.round_trip_cost)?)?
            .checked_div(ratio(rules.max_cost_r)?)?
    } else {
        Decimal::ZERO
    };
    Some(by_atr.max(by_cost))
}

/// The kind's target multiples, all moved out by the same amount when target 1 would pay
/// less than `min_target_r_after_costs` after a round trip's costs.
fn target_multiples(
    kind: PatternKind,
    rules: &LevelRules,
    entry: Decimal,
    risk: Decimal,
) -> Option<[Decimal; 3]> {
    let ratio = |value: f64| Decimal::try_from(value).ok();
    let mut multiples = kind.target_multiples();
    let cost_r = entry
        .checked_mul(ratio(rules.round_trip_cost)?)?
        .checked_div(risk)?;
    let shortfall = ratio(rules.min_target_r_after_costs)?
        .checked_add(cost_r)?
        .checked_sub(multiples[0])?;
    if shortfall > Decimal::ZERO {
        for multiple in &mut multiples {
            *multiple = multiple.checked_add(shortfall)?;
        }
    }
    Some(multiples)
}

/// ATR at the candles' own precision (1e-8), through an exact integer: far cheaper than a
/// general float-to-decimal conversion, and no coarser than the prices it is added to.
fn atr_to_decimal(atr: f64) -> Option<Decimal> {
    let units = (atr * 10_f64.powi(SCALE_DIGITS as i32)).round();
    if !(units.is_finite() && units >= 0.0 && units < i64::MAX as f64) {
        return None;
    }
    Some(Decimal::new(units as i64, SCALE_DIGITS))
}

fn round_to_tick(value: Decimal, tick: Decimal, strategy: RoundingStrategy) -> Option<Decimal> {
    // Inferred ticks are powers of ten: rounding to a number of decimals is exact and cheap.
    if tick.mantissa() == 1 {
        return Some(
            value
                .round_dp_with_strategy(tick.scale(), strategy)
                .normalize(),
        );
    }
    let steps = value.checked_div(tick)?.round_dp_with_strategy(0, strategy);
    Some(steps.checked_mul(tick)?.normalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::market;
    use std::str::FromStr;

    fn zone(bottom: &str, top: &str) -> Zone {
        let price = |text| market::Price::from_decimal(Decimal::from_str(text).unwrap()).unwrap();
        Zone::new(price(bottom), price(top))
    }

    fn dec(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    #[test]
    fn bullish_gap_enters_at_the_top_and_stops_half_an_atr_below() {
        let levels = trading_levels(
            PatternKind::FairValueGap,
            Direction::Bullish,
            &zone("100", "110"),
            (Some(4.0), dec("0.01")),
            &LevelRules::STRUCTURAL,
        )
        .unwrap();
        assert_eq!(
            (levels.entry.get(), levels.stop.get()),
            (dec("110"), dec("98"))
        );
        assert_eq!(
            levels.targets.map(Price::get),
            [dec("122"), dec("134"), dec("146")]
        );
        assert_eq!(levels.risk_reward, dec("3"));
    }

    #[test]
    fn bearish_gap_mirrors_it() {
        let levels = trading_levels(
            PatternKind::FairValueGap,
            Direction::Bearish,
            &zone("100", "110"),
            (Some(4.0), dec("0.01")),
            &LevelRules::STRUCTURAL,
        )
        .unwrap();
        assert_eq!(
            (levels.entry.get(), levels.stop.get()),
            (dec("100"), dec("112"))
        );
        assert_eq!(
            levels.targets.map(Price::get),
            [dec("88"), dec("76"), dec("64")]
        );
    }

    const STORED_BEFORE_HEX: &str = "033130350239370331313303313231033132390133";

    #[test]
    fn order_block_enters_at_the_midpoint_with_a_smaller_buffer() {
        let levels = trading_levels(
            PatternKind::OrderBlock,
            Direction::Bullish,
            &zone("100", "110"),
            (Some(10.0), dec("0.01")),
            &LevelRules::STRUCTURAL,
        )
        .unwrap();
        assert_eq!(
            (levels.entry.get(), levels.stop.get()),
            (dec("105"), dec("97"))
        );
        assert_eq!(
            levels.targets.map(Price::get),
            [dec("113"), dec("121"), dec("129")]
        );
        // What the store held for these levels before they were `money::Price`s (commit
        // 32c35cd, the text struct): the same bytes, both ways.
        let config = bincode::config::standard();
        let stored: Vec<u8> = (0..STORED_BEFORE_HEX.len())
            .step_by(2)
            .map(|at| u8::from_str_radix(&STORED_BEFORE_HEX[at..at + 2], 16).unwrap())
            .collect();
        assert_eq!(
            bincode::serde::encode_to_vec(levels, config).unwrap(),
            stored
        );
        let (read, _): (TradingLevels, usize) =
            bincode::serde::decode_from_slice(&stored, config).unwrap();
        assert_eq!(read, levels);
    }

    #[test]
    fn sweep_enters_at_the_reclaimed_level_with_wider_targets() {
        // bullish sweep: wick to 95 below a swing low of 100
        let levels = trading_levels(
            PatternKind::LiquiditySweep,
            Direction::Bullish,
            &zone("95", "100"),
            (Some(5.0), dec("0.01")),
            &LevelRules::STRUCTURAL,
        )
        .unwrap();
        assert_eq!(
            (levels.entry.get(), levels.stop.get()),
            (dec("100"), dec("94"))
        );
        assert_eq!(
            levels.targets.map(Price::get),
            [dec("109"), dec("115"), dec("124")]
        );
        assert_eq!(levels.risk_reward, dec("4"));
    }

    #[test]
    fn rounding_moves_stops_away_and_targets_toward_the_entry() {
        let levels = trading_levels(
            PatternKind::FairValueGap,
            Direction::Bullish,
            &zone("1.000", "1.010"),
            (Some(0.0123), dec("0.001")),
            &LevelRules::STRUCTURAL,
        )
        .unwrap();
        // stop 1.000 - 0.00615 = 0.99385 -> 0.993; risk 0.017; targets 1.027, 1.044, 1.061
        assert_eq!(levels.stop.get(), dec("0.993"));
        assert_eq!(
            levels.targets.map(Price::get),
            [dec("1.027"), dec("1.044"), dec("1.061")]
        );
        let bearish = trading_levels(
            PatternKind::FairValueGap,
            Direction::Bearish,
            &zone("1.000", "1.010"),
            (Some(0.0123), dec("0.001")),
            &LevelRules::STRUCTURAL,
        )
        .unwrap();
        assert_eq!(
            bearish.stop.get(),
            dec("1.017"),
            "1.01615 rounds up, away from the entry"
        );
    }

    #[test]
    fn a_tick_that_is_not_a_power_of_ten_rounds_to_its_multiples() {
        let levels = trading_levels(
            PatternKind::FairValueGap,
            Direction::Bullish,
            &zone("100", "110"),
            (Some(3.0), dec("0.25")),
            &LevelRules::STRUCTURAL,
        )
        .unwrap();
        // stop 100 - 1.5 = 98.5 is a multiple; risk 11.5; targets 121.5, 133, 144.5
        assert_eq!(levels.stop.get(), dec("98.5"));
        assert_eq!(
            levels.targets.map(Price::get),
            [dec("121.5"), dec("133"), dec("144.5")]
        );
        let odd = trading_levels(
            PatternKind::FairValueGap,
            Direction::Bullish,
            &zone("100", "110"),
            (Some(3.1), dec("0.25")),
            &LevelRules::STRUCTURAL,
        )
        .unwrap();
        assert_eq!(
            odd.stop.get(),
            dec("98.25"),
            "98.45 rounds down to the tick below"
        );
    }

    #[test]
    fn unknown_atr_gives_no_levels_and_tick_size_is_inferred_from_precision() {
        assert!(trading_levels(
            PatternKind::FairValueGap,
            Direction::Bullish,
            &zone("1", "2"),
            (None, dec("0.01")),
            &LevelRules::STRUCTURAL
        )
        .is_none());
        let candle = |text: &str| {
            let price = market::Price::from_decimal(dec(text)).unwrap();
            Candle {
                open_time_ms: 0,
                open: price,
                high: price,
                low: price,
                close: price,
                volume: crate::domain::market::Volume::ZERO,
            }
        };
        assert_eq!(
            infer_tick_size(&[candle("0.0016"), candle("0.00162008")]),
            dec("0.00000001")
        );
        assert_eq!(
            infer_tick_size(&[candle("65000.5"), candle("65001")]),
            dec("0.1")
        );
    }

    /// The text struct these levels were stored as before they held `money::Price`s.
    #[derive(serde::Serialize)]
    struct LevelsTextBefore {
        entry: String,
        stop: String,
        targets: [String; 3],
        risk_reward: String,
    }

    #[test]
    fn levels_stored_as_text_before_decode_unchanged_and_encode_the_same_bytes() {
        let config = bincode::config::standard();
        let before = LevelsTextBefore {
            entry: "110".into(),
            stop: "97.50".into(),
            targets: ["122.5".into(), "135".into(), "147.5".into()],
            risk_reward: "3".into(),
        };
        let old_bytes = bincode::serde::encode_to_vec(&before, config).unwrap();
        let (levels, _): (TradingLevels, usize) =
            bincode::serde::decode_from_slice(&old_bytes, config).unwrap();
        assert_eq!(levels.stop.to_string(), "97.50");
        assert_eq!(
            levels.targets.map(Price::get),
            [dec("122.5"), dec("135"), dec("147.5")]
        );
        assert_eq!(levels.risk_reward, dec("3"));
        assert_eq!(
            bincode::serde::encode_to_vec(levels, config).unwrap(),
            old_bytes
        );
        let json = serde_json::to_value(levels).unwrap();
        assert_eq!(
            json["targets"],
            serde_json::json!(["122.5", "135", "147.5"])
        );
        assert_eq!(json["risk_reward"], "3");
    }

    #[test]
    fn a_tick_finer_than_eight_places_gives_no_levels_rather_than_invalid_prices() {
        let levels = trading_levels(
            PatternKind::OrderBlock,
            Direction::Bullish,
            &zone("1.00000001", "1.00000002"),
            (Some(0.00000003), dec("0.000000001")),
            &LevelRules::STRUCTURAL,
        );
        assert_eq!(levels, None, "the midpoint 1.000000015 has nine places");
    }
}

#[cfg(test)]
mod rule_tests {
    use super::*;
    use crate::domain::market;
    use std::str::FromStr;

    fn dec(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn zone(bottom: &str, top: &str) -> Zone {
        let price = |text| market::Price::from_decimal(dec(text)).unwrap();
        Zone::new(price(bottom), price(top))
    }

    fn gap(rules: &LevelRules) -> TradingLevels {
        trading_levels(
            PatternKind::FairValueGap,
            Direction::Bullish,
            &zone("99.9", "100"),
            (Some(0.1), dec("0.01")),
            rules,
        )
        .unwrap()
    }

    #[test]
    fn a_stop_too_tight_for_its_costs_moves_out_and_the_targets_follow() {
        // Structural: entry 100, stop 99.9 - 0.05 = 99.85, risk 0.15: a 0.3% round trip
        // (0.30) would cost 2 R.
        let structural = gap(&LevelRules::STRUCTURAL);
        assert_eq!(structural.stop.get(), dec("99.85"));
        let rules = LevelRules {
            min_stop_atr: 1.0,
            round_trip_cost: 0.003,
            max_cost_r: 0.15,
            min_target_r_after_costs: 1.5,
        };
        let levels = gap(&rules);
        // The cost bound wins: risk >= 0.30 / 0.15 = 2.00 (1 ATR is only 0.1).
        assert_eq!(levels.entry.get(), dec("100"));
        assert_eq!(levels.stop.get(), dec("98"));
        // Cost 0.15 R: target 1 at 1.5 + 0.15 = 1.65 R, the others moved out as much.
        assert_eq!(
            levels.targets.map(Price::get),
            [dec("103.3"), dec("105.3"), dec("107.3")]
        );
        let after = rules.r_after_costs(&levels);
        assert!((after[0] - 1.5).abs() < 1e-9, "{after:?}");
        assert!((after[2] - 3.5).abs() < 1e-9, "{after:?}");
    }

    #[test]
    fn the_atr_bound_applies_without_costs_and_wide_stops_stay() {
        let rules = LevelRules {
            min_stop_atr: 5.0,
            ..LevelRules::STRUCTURAL
        };
        assert_eq!(gap(&rules).stop.get(), dec("99.5"));
        let loose = LevelRules {
            min_stop_atr: 0.5,
            ..LevelRules::STRUCTURAL
        };
        assert_eq!(
            gap(&loose).stop.get(),
            dec("99.85"),
            "already wider than 0.5 ATR"
        );
    }
}

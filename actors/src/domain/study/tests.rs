use super::stats::{Resolution, Tally};
use super::*;
use crate::domain::analysis::{Direction, PatternKind};
use crate::domain::backtest::outcome::{Followed, Outcome, StudyKey};
use crate::domain::market::{Candle, Price, Symbol, Timeframe, Volume};
use rand::{Rng, SeedableRng};

const UNIT: f64 = 100_000_000.0;

#[test]
fn the_wilson_interval_matches_its_textbook_values() {
    let [low, high] = wilson_interval(5, 10).expect("interval");
    assert!(
        (low - 0.236_6).abs() < 1e-4 && (high - 0.763_4).abs() < 1e-4,
        "{low} {high}"
    );
    let [low, high] = wilson_interval(0, 10).expect("interval");
    assert!(low == 0.0 && (high - 0.277_5).abs() < 1e-4, "{high}");
    assert_eq!(wilson_interval(0, 0), None);
}

fn long_trade() -> Followed {
    let key = StudyKey {
        pattern_kind: PatternKind::OrderBlock,
        timeframe: Timeframe::M5,
        direction: Direction::Bullish,
        confluence: 3,
    };
    Followed::new(key, true, (100.0, 99.0, 102.0), i64::MAX, false)
}

#[test]
fn expectancy_counts_reward_over_risk_and_both_sides_fees_in_r() {
    let mut tally = Tally::default();
    let trade = long_trade();
    tally.add(Resolution::Ended(Outcome::Target), &trade, 0.001);
    tally.add(Resolution::Ended(Outcome::Stop), &trade, 0.001);
    tally.add(Resolution::Ended(Outcome::Expired), &trade, 0.001);
    tally.add(Resolution::Unresolved, &trade, 0.001);
    let figures = tally.figures();
    assert_eq!(
        (
            figures.trades,
            figures.resolved,
            figures.hits,
            figures.expired
        ),
        (4, 2, 1, 1)
    );
    assert_eq!(figures.hit_rate, Some(0.5));
    // +2 R and -1 R; fees 0.1% of (100 + 102) and of (100 + 99) on a risk of 1.
    assert!((figures.expectancy_r.unwrap() - 0.5).abs() < 1e-12);
    let after = (2.0 - 0.202 + -1.0 - 0.199) / 2.0;
    assert!((figures.expectancy_r_after_costs.unwrap() - after).abs() < 1e-9);
}

/// A geometric random walk of 5m candles: no pattern in it means anything.
fn random_walk(candles: usize, seed: u64) -> Vec<Candle> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut price = 100.0_f64;
    let raw = |value: f64| Price::from_raw((value * UNIT).round() as i64);
    (0..candles)
        .map(|index| {
            let open = price;
            let mut high = open;
            let mut low = open;
            for _ in 0..5 {
                price *= 1.0 + rng.random_range(-0.001..0.001);
                high = high.max(price);
                low = low.min(price);
            }
            Candle {
                open_time_ms: 1_599_999_900_000 + index as i64 * 300_000,
                open: raw(open),
                high: raw(high),
                low: raw(low),
                close: raw(price),
                volume: Volume::from_raw(rng.random_range(1..1_000) * 100_000_000),
            }
        })
        .collect()
}

#[test]
fn on_a_random_walk_the_signals_show_no_edge_over_chance() {
    let bars = random_walk(20_000, 7);
    let symbol = Symbol::parse("WALK").unwrap();
    let series = Series {
        symbol: &symbol,
        timeframe: Timeframe::M5,
        bars: &bars,
    };
    let report = study(
        series,
        Arc::new(AnalysisSettings::default()),
        &StudySettings::default(),
    );
    let all = &report.rows[0];
    assert_eq!((all.dimension, all.group.as_str()), ("all", "all"));
    assert!(
        all.signals.resolved >= 100,
        "enough signals to judge: {all:?}"
    );
    assert_eq!(
        all.random_entry.trades,
        all.signals.trades * 10,
        "ten random entries per signal"
    );
    let [low, high] = all.signals.hit_rate_ci.expect("an interval");
    let chance = all.random_pending.hit_rate.expect("a rate");
    assert!(
        low <= chance && chance <= high,
        "chance {chance} inside the signals' interval [{low}, {high}]: {all:?}"
    );
    assert!(
        all.edge_points.is_some_and(|edge| edge.abs() < 3.0),
        "{all:?}"
    );
    // At market nothing selects against the entry: on a random walk a target 1.1 R away is
    // reached first about 1 / (1 + 1.1) of the time, the signals' resting entries less often.
    let market = all.random_entry.hit_rate.expect("a rate");
    assert!(market > chance, "{all:?}");
    assert!(report.rows.iter().any(|row| row.dimension == "kind"));
    assert!(report.rows.iter().any(|row| row.dimension == "confidence"));
    let again = study(
        series,
        Arc::new(AnalysisSettings::default()),
        &StudySettings::default(),
    );
    assert_eq!(again, report, "the same seed gives the same baselines");
}

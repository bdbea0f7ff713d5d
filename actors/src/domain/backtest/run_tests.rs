//! The run loops on synthetic series: sma-cross's fills and equity worked by hand, and the
//! look-ahead check (a run cut at any bar decides exactly as the full run did up to it).

use super::strategy::{Costs, EntryRules, ExitSpec, OrderType, SizingRules};
use super::*;
use crate::domain::analysis::AnalysisSettings;
use crate::domain::ledger::{RiskLimits, Side};
use crate::domain::market::{Candle, Price as CandlePrice, Symbol, Timeframe, Volume};
use crate::domain::money::test_values::dec;
use crate::domain::money::{FeeRate, Money};
use crate::domain::test_candles::decimal_candle;
use std::sync::Arc;

fn account(cash: &str, fee: &str) -> Account {
    Account {
        cash: Money::new(dec(cash)),
        fee_rate: FeeRate::new_checked(dec(fee)).expect("fee"),
        slippage_bps: 0,
        limits: RiskLimits::default(),
        money_decimals: None,
    }
}

fn symbol() -> Symbol {
    Symbol::parse("TESTUSDT").expect("symbol")
}

/// Flat bars (open = high = low = close) at one-minute steps.
fn bars(closes: &[&str]) -> Vec<Candle> {
    closes
        .iter()
        .enumerate()
        .map(|(index, close)| decimal_candle(index as i64 * 60_000, [close, close, close, close]))
        .collect()
}

fn run(closes: &[&str], fee: &str) -> BacktestResult {
    let symbol = symbol();
    let bars = bars(closes);
    let series = Series {
        symbol: &symbol,
        timeframe: Timeframe::M1,
        bars: &bars,
    };
    run_sma_cross(series, 1, 2, &account("1000", fee), &mut |_| {}).expect("a run")
}

#[test]
fn a_cross_fills_at_the_next_open_and_reverses_with_whole_units() {
    // fast = close, slow = mean of two. Cross up on bar 3 (3 -> 6): buy at bar 4's open (8);
    // cross down on bar 6 (10 -> 5): close and sell at bar 7's open (4).
    let result = run(&["5", "4", "3", "6", "8", "10", "5", "4", "2"], "0.01");
    assert_eq!(
        result
            .decisions
            .iter()
            .map(|d| d.action.as_ref())
            .collect::<Vec<_>>(),
        ["buy", "sell"]
    );
    let long = &result.trades[0];
    assert_eq!(
        (long.side, long.entry_time, long.exit_time),
        (Side::Long, 4 * 60_000, 7 * 60_000)
    );
    // 1000 / (8 x 1.01) = 123.76 -> 123 units; exit at 4: 123 x (4 - 8) - fees 9.84 + 4.92.
    assert_eq!(long.quantity.get(), dec("123"));
    assert_eq!(long.pnl.get(), dec("-506.76"));
    // Cash 493.24 buys 493.24 / (4 x 1.01) = 122.09 -> 122 short at 4; marked at the last
    // close 2: equity 493.24 - 4.88 fee + 122 x (4 - 2) = 732.36.
    assert_eq!(result.trades.len(), 1);
    assert_eq!(result.open_trades, 1);
    assert_eq!(result.metrics.final_equity.get(), dec("732.36"));
    assert_eq!(result.metrics.bars, 9);
}

#[test]
fn a_decision_on_the_last_bar_never_fills() {
    let result = run(&["5", "4", "3", "6"], "0");
    assert_eq!(result.decisions.len(), 1);
    assert!(result.trades.is_empty());
    assert_eq!(result.open_trades, 0);
    assert_eq!(result.metrics.final_equity.get(), dec("1000"));
}

/// A deterministic random walk of one-minute candles, lively enough to form patterns.
pub(crate) fn random_walk(count: usize, seed: u64) -> Vec<Candle> {
    let mut state = seed;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as i64
    };
    let mut close: i64 = 100_000_000_000; // 1000.00000000
    (0..count)
        .map(|index| {
            let open = close;
            let drift = (next() % 2_001 - 1_000) * 200_000;
            close = (open + drift).max(1_000_000_000);
            let high = open.max(close) + next() % 1_000 * 100_000;
            let low = (open.min(close) - next() % 1_000 * 100_000).max(1);
            Candle {
                open_time_ms: 1_700_000_040_000 + index as i64 * 60_000,
                open: CandlePrice::from_raw(open),
                high: CandlePrice::from_raw(high),
                low: CandlePrice::from_raw(low),
                close: CandlePrice::from_raw(close),
                volume: Volume::from_raw(i128::from(next() % 1_000 + 1) * 100_000_000),
            }
        })
        .collect()
}

pub(crate) fn signal_spec(order: OrderType) -> StrategySpec {
    StrategySpec {
        name: "every-signal".into(),
        description: String::new(),
        entry: EntryRules {
            order,
            ..EntryRules::default()
        },
        sizing: SizingRules::default(),
        exits: ExitSpec {
            trailing_pct: Some(dec("2")),
            time_stop_bars: Some(240),
            ..ExitSpec::default()
        },
        costs: Costs::default(),
    }
}

fn run_signals(bars: &[Candle], spec: &StrategySpec) -> BacktestResult {
    let symbol = symbol();
    let series = Series {
        symbol: &symbol,
        timeframe: Timeframe::M1,
        bars,
    };
    let settings = Arc::new(AnalysisSettings::default());
    run_signal_strategy(
        series,
        spec,
        Money::new(dec("10000")),
        settings,
        &mut |_| {},
    )
    .expect("a run")
}

/// Decisions and closed trades up to `until_ms` (inclusive).
fn up_to(result: &BacktestResult, until_ms: i64) -> (Vec<DecisionRecord>, Vec<TradeRecord>) {
    let decisions = result
        .decisions
        .iter()
        .filter(|d| d.at_ms <= until_ms)
        .cloned()
        .collect();
    let trades = result
        .trades
        .iter()
        .filter(|t| t.exit_time <= until_ms)
        .cloned()
        .collect();
    (decisions, trades)
}

#[test]
fn a_run_cut_at_any_bar_decides_as_the_full_run_did_up_to_the_cut() {
    let bars = random_walk(6_000, 7);
    for order in [OrderType::Pending, OrderType::Market] {
        let spec = signal_spec(order);
        let full = run_signals(&bars, &spec);
        assert!(
            full.trades.len() >= 5,
            "{order:?}: the walk trades ({} trades)",
            full.trades.len()
        );
        assert!(full.trades.iter().any(|t| t.exit_reason == "stop"));
        for cut in [1_500, 2_750, 4_321, 5_999] {
            let cut_run = run_signals(&bars[..cut], &spec);
            let last_close_ms = bars[cut - 1].open_time_ms + 60_000;
            assert_eq!(
                up_to(&cut_run, last_close_ms),
                up_to(&full, last_close_ms),
                "{order:?} cut at {cut}"
            );
        }
    }
    let symbol = symbol();
    let full = run_sma_cross(
        Series {
            symbol: &symbol,
            timeframe: Timeframe::M1,
            bars: &bars,
        },
        10,
        30,
        &account("1000000", "0.001"),
        &mut |_| {},
    )
    .expect("run");
    assert!(full.trades.len() > 50);
    for cut in [100, 2_000, 5_555] {
        let series = Series {
            symbol: &symbol,
            timeframe: Timeframe::M1,
            bars: &bars[..cut],
        };
        let cut_run =
            run_sma_cross(series, 10, 30, &account("1000000", "0.001"), &mut |_| {}).expect("run");
        let last_close_ms = bars[cut - 1].open_time_ms + 60_000;
        assert_eq!(
            up_to(&cut_run, last_close_ms),
            up_to(&full, last_close_ms),
            "sma-cross cut at {cut}"
        );
    }
}

#[test]
fn a_signal_run_is_repeatable_and_its_study_counts_every_signal() {
    let bars = random_walk(4_000, 11);
    let spec = signal_spec(OrderType::Pending);
    let first = run_signals(&bars, &spec);
    let again = run_signals(&bars, &spec);
    assert_eq!(first.trades, again.trades);
    assert_eq!(first.metrics, again.metrics);
    let study = first.study.expect("a study");
    let signals: u64 = study.rows.iter().map(|row| row.signals).sum();
    let entered = first
        .decisions
        .iter()
        .filter(|d| d.action != "skip")
        .count() as u64;
    let skipped_for_levels = first
        .decisions
        .iter()
        .filter(|d| d.reason.ends_with("no levels yet"))
        .count() as u64;
    assert!(signals > 0);
    assert_eq!(
        signals,
        entered
            + first
                .decisions
                .iter()
                .filter(|d| d.action == "skip")
                .count() as u64
            - skipped_for_levels
    );
    for row in &study.rows {
        assert!(row.expired + row.target_first + row.stop_first + row.unresolved <= row.signals);
    }
}

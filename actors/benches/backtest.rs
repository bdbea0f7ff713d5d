//! Backtest throughput on one core, data already loaded (the real `UNITTEST_BTC-1m.csv`
//! repeated forward, or a synthetic walk without ../shared):
//!
//! - `backtest/sma_cross`: the reference strategy (fast 10, slow 20) over 250,000 bars:
//!   both averages, the cross rule, fills through the ledger, equity marked every bar;
//! - `backtest/signal_strategy`: `config/strategies/momentum-market.toml`'s rules over
//!   100,000 1m candles through the whole live pipeline (aggregation to eight timeframes,
//!   indicators, detectors, signals, levels) and the ledger's orders and exits.
//!
//!     cargo bench -p cryptolens-actors --bench backtest
//!
//! `benches/load/backtest_speed.py` puts these beside backtesting.py on the same series.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use cryptolens_actors::domain::analysis::AnalysisSettings;
use cryptolens_actors::domain::backtest::strategy::{
    Costs, EntryRules, ExitSpec, OrderType, SizingRules,
};
use cryptolens_actors::domain::backtest::{
    run_signal_strategy, run_sma_cross, Account, Series, StrategySpec,
};
use cryptolens_actors::domain::ledger::RiskLimits;
use cryptolens_actors::domain::market::{Symbol, Timeframe};
use cryptolens_actors::domain::money::{FeeRate, Money};
use rust_decimal::Decimal;
use std::hint::black_box;
use std::sync::Arc;

#[path = "support/real_candles.rs"]
mod real_candles;

const SMA_BARS: usize = 250_000;
const SIGNAL_CANDLES: usize = 100_000;

fn account() -> Account {
    Account {
        cash: Money::new(Decimal::from(1_000_000)),
        fee_rate: FeeRate::new_checked(Decimal::new(1, 3)).expect("fee"),
        slippage_bps: 0,
        limits: RiskLimits::default(),
        money_decimals: None,
    }
}

fn momentum_market() -> StrategySpec {
    StrategySpec {
        name: "momentum-market".into(),
        description: String::new(),
        entry: EntryRules {
            min_confluence: 3,
            order: OrderType::Market,
            ..EntryRules::default()
        },
        sizing: SizingRules {
            risk_pct: Decimal::new(5, 1),
            ..SizingRules::default()
        },
        exits: ExitSpec {
            targets: 1,
            trailing_pct: Some(Decimal::new(15, 1)),
            time_stop_bars: Some(48),
            ..ExitSpec::default()
        },
        costs: Costs {
            fee_rate: Decimal::new(1, 3),
            slippage_bps: 5,
        },
    }
}

fn bench_backtest(c: &mut Criterion) {
    let symbol = Symbol::parse("BTCUSDT").expect("symbol");
    let bars = real_candles::load_repeated("UNITTEST_BTC-1m.csv", Timeframe::M1, SMA_BARS);
    let mut group = c.benchmark_group("backtest");
    group.sample_size(10);
    group.throughput(Throughput::Elements(SMA_BARS as u64));
    group.bench_function("sma_cross", |b| {
        b.iter(|| {
            let series = Series {
                symbol: &symbol,
                timeframe: Timeframe::M1,
                bars: black_box(&bars),
            };
            let result = run_sma_cross(series, 10, 20, &account(), &mut |_| {}).expect("a run");
            black_box(result.metrics.trade_count)
        })
    });
    let candles = &bars[..SIGNAL_CANDLES];
    let spec = momentum_market();
    let settings = Arc::new(AnalysisSettings::default());
    group.throughput(Throughput::Elements(SIGNAL_CANDLES as u64));
    group.bench_function("signal_strategy", |b| {
        b.iter(|| {
            let series = Series {
                symbol: &symbol,
                timeframe: Timeframe::M1,
                bars: black_box(candles),
            };
            let cash = Money::new(Decimal::from(10_000));
            let result =
                run_signal_strategy(series, &spec, cash, Arc::clone(&settings), &mut |_| {})
                    .expect("a run");
            black_box(result.metrics.trade_count)
        })
    });
    group.finish();
}

criterion_group!(benches, bench_backtest);
criterion_main!(benches);

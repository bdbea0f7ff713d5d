//! The two run loops. Both go bar by bar in time order: the bar closes (the ledger's exits
//! for it, its equity marked at the close), the strategy decides on what it has seen, and
//! what it decided fills at the next bar's open. Nothing reads a bar before it closed, so a
//! run over data cut at any bar takes the same decisions up to the cut as the full run.

use super::broker::{Account, Broker, Decision, Intent};
use super::metrics::{metrics, EquityCurve};
use super::outcome::OutcomeStudy;
use super::result::{trade_records, BacktestResult, DecisionRecord};
use super::signal_trader::SignalTrader;
use super::sma_cross::SmaCross;
use super::strategy::StrategySpec;
use super::BacktestError;
use crate::domain::analysis::indicators::IndicatorValues;
use crate::domain::analysis::{
    AnalysisEvents, AnalysisSettings, Signal, SignalEvent, SymbolAnalysis,
};
use crate::domain::ledger::Side;
use crate::domain::market::{Candle, ClosedCandle, Symbol, Timeframe};
use crate::domain::money::{FeeRate, Money, Price};
use crate::domain::scanner::SymbolScanner;
use std::collections::BTreeSet;
use std::sync::Arc;

/// How often (in bars) a run reports progress.
pub const PROGRESS_EVERY_BARS: usize = 65_536;

/// The series a run trades: its symbol, its bars' timeframe and the bars, in time order.
#[derive(Debug, Clone, Copy)]
pub struct Series<'a> {
    pub symbol: &'a Symbol,
    pub timeframe: Timeframe,
    pub bars: &'a [Candle],
}

/// `sma-cross` over `series`: a cross decides on the bar's close, the reversal fills at the
/// next bar's open. `progress` hears the bars done so far.
pub fn run_sma_cross(
    series: Series,
    fast: usize,
    slow: usize,
    account: &Account,
    progress: &mut dyn FnMut(usize),
) -> Result<BacktestResult, BacktestError> {
    let mut strategy = SmaCross::new(fast, slow)?;
    let first = series.bars.first().ok_or(BacktestError::NoCandles)?;
    let mut broker = Broker::new(series.symbol.clone(), account, first.open_time_ms)?;
    let mut curve = EquityCurve::with_capacity(series.bars.len());
    let mut decisions = Vec::new();
    let bar_ms = series.timeframe.duration_ms();
    let described = strategy.describe();
    for (index, bar) in series.bars.iter().enumerate() {
        broker.fill_at_open(bar)?;
        let close_ms = bar.open_time_ms + bar_ms;
        let close = bar.close.to_f64();
        curve.push(close_ms, broker.equity_f64(close), broker.has_position());
        if let Some(side) = strategy.on_close(close) {
            let (action, words) = match side {
                Side::Long => ("buy", "fast average crossed above the slow one"),
                Side::Short => ("sell", "fast average crossed below the slow one"),
            };
            decisions.push(DecisionRecord {
                at_ms: close_ms,
                action: action.into(),
                reason: words.into(),
            });
            broker.queue(Decision {
                decided_at_ms: close_ms,
                intent: Intent::Reverse(side),
                reason: described.clone(),
            });
        }
        if index % PROGRESS_EVERY_BARS == 0 {
            progress(index);
        }
    }
    progress(series.bars.len());
    let last_close = series.bars.last().map_or(first.close, |bar| bar.close);
    let ending = Ending {
        last_close: Price::from_market(last_close),
        bar_ms,
        time_stopped: BTreeSet::new(),
    };
    finish(broker, account, curve, decisions, ending, None)
}

/// What a run's figures need besides its broker and curve.
struct Ending {
    last_close: Price,
    bar_ms: i64,
    time_stopped: BTreeSet<u64>,
}

fn finish(
    broker: Broker,
    account: &Account,
    curve: EquityCurve,
    decisions: Vec<DecisionRecord>,
    ending: Ending,
    study: Option<OutcomeStudy>,
) -> Result<BacktestResult, BacktestError> {
    let trades = trade_records(broker.portfolio().trades(), &ending.time_stopped)?;
    let final_equity = broker.equity(ending.last_close)?;
    let bar_ms = ending.bar_ms;
    let open_trades = broker.open_trades().count();
    Ok(BacktestResult {
        metrics: metrics(account.cash, final_equity, &curve, bar_ms, &trades),
        trades,
        open_trades,
        decisions,
        curve,
        study: study.map(OutcomeStudy::finish),
    })
}

/// A signal strategy over base candles: the symbol's whole live pipeline (aggregation,
/// indicators, detectors, signals, levels) fed candle by candle, its new signals filtered
/// by `spec`, the orders placed and managed by the ledger.
pub fn run_signal_strategy(
    series: Series,
    spec: &StrategySpec,
    cash: Money,
    settings: Arc<AnalysisSettings>,
    progress: &mut dyn FnMut(usize),
) -> Result<BacktestResult, BacktestError> {
    spec.validate()?;
    let account = spec_account(spec, cash)?;
    let first = series.bars.first().ok_or(BacktestError::NoCandles)?;
    let mut scanner = SymbolScanner::new(series.symbol.clone(), series.timeframe, 1, settings);
    let mut run = SignalRun {
        trader: SignalTrader::new(spec.clone())?,
        symbol: series.symbol,
        slippage_bps: account.slippage_bps,
        broker: Broker::new(series.symbol.clone(), &account, first.open_time_ms)?,
        curve: EquityCurve::with_capacity(series.bars.len()),
        decisions: Vec::new(),
        study: OutcomeStudy::new(spec.entry.expiry_bars),
        time_stopped: BTreeSet::new(),
        base: series.timeframe,
        closed: Vec::new(),
        events: AnalysisEvents::default(),
    };
    for (index, bar) in series.bars.iter().enumerate() {
        scanner.on_candle(*bar, &mut run.closed, &mut run.events);
        run.after_candles(scanner.analysis())?;
        run.fill_at_open(bar)?;
        if index % PROGRESS_EVERY_BARS == 0 {
            progress(index);
        }
    }
    let analysis = scanner.finish(&mut run.closed, &mut run.events);
    run.after_candles(&analysis)?;
    progress(series.bars.len());
    let last_close = series.bars.last().map_or(first.close, |bar| bar.close);
    let SignalRun {
        broker,
        curve,
        decisions,
        time_stopped,
        study,
        ..
    } = run;
    let ending = Ending {
        last_close: Price::from_market(last_close),
        bar_ms: series.timeframe.duration_ms(),
        time_stopped,
    };
    finish(broker, &account, curve, decisions, ending, Some(study))
}

/// The account a strategy's costs and caps describe, with `cash` to start.
pub fn spec_account(spec: &StrategySpec, cash: Money) -> Result<Account, BacktestError> {
    let fee_rate = FeeRate::new_checked(spec.costs.fee_rate)
        .map_err(|error| BacktestError::setting("costs.fee_rate", error.to_string()))?;
    let max_position_notional = spec.sizing.max_position_notional.map(Money::new);
    Ok(Account {
        cash,
        fee_rate,
        slippage_bps: spec.costs.slippage_bps,
        limits: crate::domain::ledger::RiskLimits {
            max_position_notional,
            max_open_positions: spec.sizing.max_open_positions,
            daily_loss_limit: None,
        },
        money_decimals: Some(crate::domain::money::DECIMALS_MAX),
    })
}

struct SignalRun<'a> {
    trader: SignalTrader,
    symbol: &'a Symbol,
    slippage_bps: u32,
    broker: Broker,
    curve: EquityCurve,
    decisions: Vec<DecisionRecord>,
    study: OutcomeStudy,
    time_stopped: BTreeSet<u64>,
    base: Timeframe,
    closed: Vec<ClosedCandle>,
    events: AnalysisEvents,
}

impl SignalRun<'_> {
    /// Handles the candles the last base candle closed, then the signals they produced (the
    /// order of [`SignalTrader`]'s steps).
    fn after_candles(&mut self, analysis: &SymbolAnalysis) -> Result<(), BacktestError> {
        let closed = std::mem::take(&mut self.closed);
        let base = self.base;
        for bar in closed.iter().filter(|closed| closed.timeframe == base) {
            let close_ms = bar.candle.open_time_ms + self.base.duration_ms();
            self.broker.on_closed_bar(&bar.candle, close_ms);
            self.study.on_base_candle(&bar.candle);
            self.time_stops(&bar.candle, close_ms)?;
            let held = self.broker.has_position();
            self.curve.push(
                close_ms,
                self.broker.equity_f64(bar.candle.close.to_f64()),
                held,
            );
        }
        self.closed = closed;
        self.closed.clear();
        let events = std::mem::take(&mut self.events);
        for event in &events.signals {
            if let SignalEvent::Emitted(signal) = event {
                self.study.on_signal(signal);
                let verdict = self
                    .trader
                    .judge(signal, entry_values(analysis, signal).as_ref());
                self.trader.take(&verdict);
                self.decisions.push(verdict.record);
            }
        }
        self.events = events;
        self.events.clear();
        Ok(())
    }

    /// Enters the orders due at `bar`'s open.
    fn fill_at_open(&mut self, bar: &Candle) -> Result<(), BacktestError> {
        let due = self
            .trader
            .due_orders(self.symbol, bar, self.slippage_bps)?;
        for (_, placement) in &due {
            self.broker.place(placement, bar.open_time_ms)?;
        }
        Ok(())
    }

    fn time_stops(&mut self, candle: &Candle, close_ms: i64) -> Result<(), BacktestError> {
        let portfolio = self.broker.portfolio();
        let exits =
            self.trader
                .time_stops(portfolio, self.symbol, candle, close_ms, self.slippage_bps)?;
        for (trade_id, exit) in &exits {
            self.broker.exit(exit, close_ms)?;
            self.time_stopped.insert(*trade_id);
        }
        Ok(())
    }
}

/// The indicators of `signal`'s entry timeframe at its candle (the latest there).
pub fn entry_values(analysis: &SymbolAnalysis, signal: &Signal) -> Option<IndicatorValues> {
    analysis
        .engine(signal.entry_timeframe)
        .and_then(|engine| engine.latest())
        .map(|(_, values)| *values)
}

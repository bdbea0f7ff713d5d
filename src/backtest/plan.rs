//! The run the flags describe, checked whole before any candle is read.

use super::{BacktestArgs, BacktestCliError};
use crate::config::{FlagOverrides, Settings};
use crate::import::timestamp::parse_open_time_ms;
use cryptolens_actors::domain::analysis::AnalysisSettings;
use cryptolens_actors::domain::backtest::sma_cross::SmaCross;
use cryptolens_actors::domain::backtest::{
    run_signal_strategy, run_sma_cross, spec_account, Account, BacktestError, BacktestResult,
    Series, StrategySpec,
};
use cryptolens_actors::domain::ledger::RiskLimits;
use cryptolens_actors::domain::market::{Candle, Symbol, Timeframe, TimeframeAggregator};
use cryptolens_actors::domain::money::{FeeRate, Money};
use figment::providers::{Format, Toml};
use figment::Figment;
use rust_decimal::Decimal;
use std::path::Path;
use std::sync::Arc;

pub const SMA_CROSS: &str = "sma-cross";
const CASH_DEFAULT: i64 = 10_000;

#[derive(Debug, Clone)]
pub enum Choice {
    SmaCross { fast: usize, slow: usize },
    Spec(Box<StrategySpec>),
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub symbol: Symbol,
    pub file_timeframe: Timeframe,
    pub bar_timeframe: Timeframe,
    pub choice: Choice,
    pub account: Account,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub settings: Arc<AnalysisSettings>,
}

impl Plan {
    pub fn from_args(args: &BacktestArgs) -> Result<Plan, BacktestCliError> {
        let symbol = Symbol::parse(&args.symbol)
            .map_err(|e| BacktestCliError::argument("symbol", e.to_string()))?;
        let file_timeframe = timeframe("timeframe", &args.timeframe)?;
        let bar_timeframe = match &args.bar_timeframe {
            Some(text) => timeframe("bar-timeframe", text)?,
            None => file_timeframe,
        };
        if bar_timeframe < file_timeframe {
            return Err(BacktestCliError::argument(
                "bar-timeframe",
                "at least the files' timeframe",
            ));
        }
        let cash = Money::new(
            decimal("cash", args.cash.as_deref())?.unwrap_or(Decimal::from(CASH_DEFAULT)),
        );
        if !cash.is_positive() {
            return Err(BacktestCliError::argument("cash", "more than 0"));
        }
        let commission = decimal("commission", args.commission.as_deref())?;
        let (choice, account) = choice(args, cash, commission)?;
        if bar_timeframe != file_timeframe && !matches!(choice, Choice::SmaCross { .. }) {
            return Err(BacktestCliError::argument(
                "bar-timeframe",
                "only for sma-cross; a strategy file reads every timeframe",
            ));
        }
        let settings = analysis_settings(args.config.as_deref())?;
        Ok(Plan {
            symbol,
            file_timeframe,
            bar_timeframe,
            choice,
            account,
            from_ms: time("from", args.from.as_deref())?,
            to_ms: time("to", args.to.as_deref())?,
            settings,
        })
    }

    /// One line naming the run, for reports.
    pub fn describe(&self) -> String {
        let strategy = match &self.choice {
            Choice::SmaCross { fast, slow } => format!("{SMA_CROSS} fast={fast} slow={slow}"),
            Choice::Spec(spec) => spec.name.clone(),
        };
        format!(
            "{strategy} on {} {}",
            self.symbol,
            self.bar_timeframe.as_str()
        )
    }

    pub fn run(
        &self,
        candles: &[Candle],
        progress: &mut dyn FnMut(usize),
    ) -> Result<BacktestResult, BacktestError> {
        match &self.choice {
            Choice::SmaCross { fast, slow } => self.run_sma_cross(candles, *fast, *slow, progress),
            Choice::Spec(spec) => {
                let series = Series {
                    symbol: &self.symbol,
                    timeframe: self.file_timeframe,
                    bars: candles,
                };
                run_signal_strategy(
                    series,
                    spec,
                    self.account.cash,
                    Arc::clone(&self.settings),
                    progress,
                )
            }
        }
    }

    pub fn run_sma_cross(
        &self,
        candles: &[Candle],
        fast: usize,
        slow: usize,
        progress: &mut dyn FnMut(usize),
    ) -> Result<BacktestResult, BacktestError> {
        let aggregated;
        let bars = if self.bar_timeframe == self.file_timeframe {
            candles
        } else {
            aggregated = aggregate(candles, self.file_timeframe, self.bar_timeframe);
            &aggregated
        };
        let series = Series {
            symbol: &self.symbol,
            timeframe: self.bar_timeframe,
            bars,
        };
        run_sma_cross(series, fast, slow, &self.account, progress)
    }
}

/// `candles` folded into `bars` by the live aggregator (a bucket with no candle does not
/// exist). The bucket the data stops in is the last bar, complete or not, as pandas'
/// `resample` keeps it: its close is the last price the data has.
pub fn aggregate(candles: &[Candle], base: Timeframe, bars: Timeframe) -> Vec<Candle> {
    let mut aggregator = TimeframeAggregator::new(base, 1);
    let mut closed = Vec::new();
    let mut out = Vec::with_capacity(candles.len() / 4 + 1);
    let keep = |closed: &mut Vec<_>, out: &mut Vec<Candle>| {
        for candle in closed.drain(..) {
            let candle: cryptolens_actors::domain::market::ClosedCandle = candle;
            if candle.timeframe == bars {
                out.push(candle.candle);
            }
        }
    };
    for candle in candles {
        aggregator.on_candle(*candle, &mut closed);
        keep(&mut closed, &mut out);
    }
    out.extend(aggregator.forming(bars));
    out
}

fn choice(
    args: &BacktestArgs,
    cash: Money,
    commission: Option<Decimal>,
) -> Result<(Choice, Account), BacktestCliError> {
    if args.strategy == SMA_CROSS {
        return sma_cross_choice(args.fast, args.slow, cash, commission);
    }
    if args.fast.is_some() || args.slow.is_some() || args.grid.is_some() {
        return Err(BacktestCliError::argument(
            "strategy",
            "--fast, --slow and --grid are sma-cross's; a strategy file has its own rules",
        ));
    }
    let path = Path::new(&args.strategy);
    let mut spec = read_strategy(path)?;
    if let Some(rate) = commission {
        spec.costs.fee_rate = rate;
    }
    spec.validate().map_err(|e| BacktestCliError::Strategy {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    let account = spec_account(&spec, cash)?;
    Ok((Choice::Spec(Box::new(spec)), account))
}

/// sma-cross with its periods (backtesting.py's defaults when absent), checked, and its
/// account: exact money, `commission` per side (0 when absent), no slippage, no caps.
pub(super) fn sma_cross_choice(
    fast: Option<usize>,
    slow: Option<usize>,
    cash: Money,
    commission: Option<Decimal>,
) -> Result<(Choice, Account), BacktestCliError> {
    let fast = fast.unwrap_or(SmaCross::FAST_DEFAULT);
    let slow = slow.unwrap_or(SmaCross::SLOW_DEFAULT);
    SmaCross::new(fast, slow).map_err(|e| match e {
        BacktestError::Setting { field, message } => BacktestCliError::argument(field, message),
        other => BacktestCliError::Engine(other),
    })?;
    let fee_rate = fee_rate(commission.unwrap_or(Decimal::ZERO))?;
    let account = Account {
        cash,
        fee_rate,
        slippage_bps: 0,
        limits: RiskLimits::default(),
        money_decimals: None,
    };
    Ok((Choice::SmaCross { fast, slow }, account))
}

/// A strategy file, every field checked by name (unknown fields refused).
pub fn read_strategy(path: &Path) -> Result<StrategySpec, BacktestCliError> {
    let text = std::fs::read_to_string(path).map_err(|e| BacktestCliError::Strategy {
        path: path.to_owned(),
        message: format!("cannot read it ({e}); name a TOML strategy file or sma-cross"),
    })?;
    read_strategy_text(&text).map_err(|message| BacktestCliError::Strategy {
        path: path.to_owned(),
        message,
    })
}

/// A strategy's TOML text, every field checked by name.
pub fn read_strategy_text(text: &str) -> Result<StrategySpec, String> {
    Figment::from(Toml::string(text))
        .extract::<StrategySpec>()
        .map_err(|e| e.to_string())
}

pub(super) fn timeframe(flag: &'static str, text: &str) -> Result<Timeframe, BacktestCliError> {
    text.parse()
        .map_err(|e: cryptolens_actors::domain::DomainError| {
            BacktestCliError::argument(flag, e.to_string())
        })
}

pub(super) fn decimal(
    flag: &'static str,
    text: Option<&str>,
) -> Result<Option<Decimal>, BacktestCliError> {
    text.map(|text| {
        cryptolens_actors::domain::money::parse_decimal(text)
            .map_err(|e| BacktestCliError::argument(flag, format!("{text:?}: {e}")))
    })
    .transpose()
}

pub(super) fn fee_rate(rate: Decimal) -> Result<FeeRate, BacktestCliError> {
    if rate >= Decimal::new(1, 1) {
        return Err(BacktestCliError::argument(
            "commission",
            "a fraction below 0.1 (10%)",
        ));
    }
    FeeRate::new_checked(rate).map_err(|e| BacktestCliError::argument("commission", e.to_string()))
}

/// The analysis settings: defaults, or a config file's `[analysis]`, checked.
pub(super) fn analysis_settings(
    config: Option<&Path>,
) -> Result<Arc<AnalysisSettings>, BacktestCliError> {
    let settings = Settings::load(config, &FlagOverrides::default())
        .map_err(|e| BacktestCliError::argument("config", e.to_string()))?
        .analysis;
    settings
        .validate()
        .map_err(|e| BacktestCliError::argument("config", e.to_string()))?;
    Ok(Arc::new(settings))
}

/// Milliseconds, ISO-8601 (UTC unless it says otherwise), or a date (its midnight, UTC).
pub(super) fn time(
    flag: &'static str,
    text: Option<&str>,
) -> Result<Option<i64>, BacktestCliError> {
    let Some(text) = text else { return Ok(None) };
    if let Ok(date) = chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
        return Ok(date
            .and_hms_opt(0, 0, 0)
            .map(|midnight| midnight.and_utc().timestamp_millis()));
    }
    parse_open_time_ms(text)
        .map(Some)
        .map_err(|message| BacktestCliError::argument(flag, message))
}

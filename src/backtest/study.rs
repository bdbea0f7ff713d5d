//! `cryptolens study`: the signal study over candle files (`domain/study`): every signal
//! taken once at creation, against random entries and random pending orders with the same
//! direction and distances; hit rates with 95% Wilson intervals and expectancy in R before
//! and after fees, overall and by pattern kind, entry timeframe, direction, confluence and
//! confidence. A table, or with `--json` one object.

use super::plan::{analysis_settings, time, timeframe};
use super::BacktestCliError;
use clap::Args;
use cryptolens_actors::domain::backtest::Series;
use cryptolens_actors::domain::market::Symbol;
use cryptolens_actors::domain::study::{serde_name, study, Figures, StudyReport, StudySettings};
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct StudyArgs {
    /// Candle files of one symbol (as `import` reads them); several are merged in time order.
    #[arg(long, required = true, num_args = 1..)]
    pub file: Vec<PathBuf>,
    #[arg(long, default_value = "INPUT")]
    pub symbol: String,
    /// The files' candle timeframe.
    #[arg(long)]
    pub timeframe: String,
    /// Fee per side, in basis points of notional, for the figures after costs.
    #[arg(long, default_value_t = 10)]
    pub fees_bps: u32,
    /// A pending entry not filled within this many entry-timeframe bars expires.
    #[arg(long, default_value_t = 12)]
    pub expiry_bars: u32,
    /// Random trades of each baseline per signal (1 to 1000).
    #[arg(long, default_value_t = 10)]
    pub draws: u32,
    /// Seed of the baselines' random generator.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// First candle open time kept (ms, ISO-8601 or a date, UTC).
    #[arg(long)]
    pub from: Option<String>,
    /// Candles opening at or after this are left out.
    #[arg(long)]
    pub to: Option<String>,
    #[arg(long)]
    pub json: bool,
    /// Also write every signal's outcome to this CSV (kind, timeframe, direction,
    /// confluence, confidence, outcome): the input of `benches/load/calibrate.py`.
    #[arg(long)]
    pub trials_csv: Option<PathBuf>,
    /// A TOML file whose [analysis] section overrides the analysis defaults.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// Fees above this (10%) are surely a unit mistake.
const FEES_BPS_MAX: u32 = 1_000;
const DRAWS_MAX: u32 = 1_000;

pub fn run(args: &StudyArgs) -> Result<(), BacktestCliError> {
    let symbol = Symbol::parse(&args.symbol)
        .map_err(|e| BacktestCliError::argument("symbol", e.to_string()))?;
    let base = timeframe("timeframe", &args.timeframe)?;
    if args.fees_bps > FEES_BPS_MAX {
        return Err(BacktestCliError::argument(
            "fees-bps",
            format!("at most {FEES_BPS_MAX}"),
        ));
    }
    if args.draws == 0 || args.draws > DRAWS_MAX {
        return Err(BacktestCliError::argument(
            "draws",
            format!("1 to {DRAWS_MAX}"),
        ));
    }
    if args.expiry_bars == 0 {
        return Err(BacktestCliError::argument("expiry-bars", "at least 1"));
    }
    let analysis = analysis_settings(args.config.as_deref())?;
    let (from_ms, to_ms) = (
        time("from", args.from.as_deref())?,
        time("to", args.to.as_deref())?,
    );
    let candles = super::input::load(&args.file, base, from_ms, to_ms)?;
    if candles.is_empty() {
        return Err(BacktestCliError::argument(
            "from",
            "no candles in the chosen period",
        ));
    }
    let series = Series {
        symbol: &symbol,
        timeframe: base,
        bars: &candles,
    };
    let settings = StudySettings {
        expiry_bars: args.expiry_bars,
        fee_bps: args.fees_bps,
        draws: args.draws,
        seed: args.seed,
    };
    let report = study(series, analysis, &settings);
    if let Some(path) = &args.trials_csv {
        write_outcomes(path, &report)?;
    }
    let text = if args.json {
        serde_json::to_string(&report).unwrap_or_default() + "\n"
    } else {
        table(&symbol, &report)
    };
    super::output::write_stdout(&text)
}

fn percent(value: Option<f64>) -> String {
    value.map_or("-".to_owned(), |v| format!("{:.1}", v * 100.0))
}

fn interval(figures: &Figures) -> String {
    figures.hit_rate_ci.map_or("-".to_owned(), |[low, high]| {
        format!("{:.0}-{:.0}", low * 100.0, high * 100.0)
    })
}

fn r(value: Option<f64>) -> String {
    value.map_or("-".to_owned(), |v| format!("{v:+.2}"))
}

/// The report as a fixed-width table, one line per group.
fn table(symbol: &Symbol, report: &StudyReport) -> String {
    let mut text = format!(
        "{symbol}: {} candles over {:.1} days, {} signals ({} per day); fees {} bps per side; {} random trades of each kind per signal (seed {})\n",
        report.candles,
        report.days,
        report.signals,
        report.signals_per_day.map_or("-".to_owned(), |v| format!("{v:.1}")),
        report.fee_bps,
        report.draws,
        report.seed,
    );
    let _ = writeln!(
        text,
        "edge: the signals' hit rate minus random pending orders' (the matched baseline), in points"
    );
    let header = [
        "group",
        "signals",
        "resolved",
        "hit%",
        "95% CI",
        "R",
        "R-fees",
        "random hit%",
        "95% CI",
        "R-fees",
        "pending hit%",
        "R-fees",
        "edge pts",
    ];
    line(&mut text, header.map(str::to_owned));
    for row in &report.rows {
        let (s, m, p) = (&row.signals, &row.random_entry, &row.random_pending);
        line(
            &mut text,
            [
                format!("{} {}", row.dimension, row.group),
                s.trades.to_string(),
                s.resolved.to_string(),
                percent(s.hit_rate),
                interval(s),
                r(s.expectancy_r),
                r(s.expectancy_r_after_costs),
                percent(m.hit_rate),
                interval(m),
                r(m.expectancy_r_after_costs),
                percent(p.hit_rate),
                r(p.expectancy_r_after_costs),
                row.edge_points
                    .map_or("-".to_owned(), |v| format!("{v:+.1}")),
            ],
        );
    }
    text
}

/// One line of the table: the signals' columns, the random entries', the random pending
/// orders', the edge.
fn line(text: &mut String, cells: [String; 13]) {
    let [group, signals, resolved, hit, ci, r, r_fees, random_hit, random_ci, random_r, pending_hit, pending_r, edge] =
        cells;
    let _ = writeln!(
        text,
        "{group:<25} {signals:>7} {resolved:>8} {hit:>5} {ci:>7} {r:>5} {r_fees:>6} | {random_hit:>11} {random_ci:>7} {random_r:>6} | {pending_hit:>12} {pending_r:>7} | {edge:>8}",
    );
}

/// Every signal's outcome as CSV, one line each.
fn write_outcomes(path: &std::path::Path, report: &StudyReport) -> Result<(), BacktestCliError> {
    let mut text = String::from("kind,timeframe,direction,confluence,confidence,outcome\n");
    for signal in &report.outcomes {
        let _ = writeln!(
            text,
            "{},{},{},{},{},{}",
            serde_name(&signal.key.pattern_kind),
            signal.key.timeframe,
            serde_name(&signal.key.direction),
            signal.key.confluence,
            signal.confidence,
            signal.outcome
        );
    }
    std::fs::write(path, text).map_err(|source| BacktestCliError::Write {
        path: path.to_owned(),
        source,
    })
}

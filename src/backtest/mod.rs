//! `cryptolens backtest`: a strategy replayed over candle files, offline, through the
//! engine's own domain code ([`cryptolens_actors::domain::backtest`]). Prints a summary, or
//! with `--json` one object; `--report DIR` writes trades.csv, metrics.json, equity.svg and
//! index.html; `--grid` runs every parameter combination in parallel and ranks them.

mod args;
mod chart;
mod error;
mod grid;
mod input;
pub mod jobs;
pub mod learned;
mod many;
mod output;
mod plan;
mod report;
pub mod request;
pub mod study;

pub use args::BacktestArgs;
pub use error::BacktestCliError;
pub use jobs::{BacktestJobError, BacktestJobs};
pub use request::BacktestRequest;

use cryptolens_actors::domain::backtest::BacktestResult;
use indicatif::{ProgressBar, ProgressStyle};

/// Runs the command `args` describes, printing to stdout.
pub fn run(args: &BacktestArgs) -> Result<(), BacktestCliError> {
    if !args.symbol_file.is_empty() {
        let ranked = many::run(args)?;
        return output::print_symbols(&ranked, args.json);
    }
    let plan = plan::Plan::from_args(args)?;
    let candles = input::load(&args.file, plan.file_timeframe, plan.from_ms, plan.to_ms)?;
    if let Some(grid) = &args.grid {
        let ranked = grid::run(&plan, &candles, grid)?;
        return output::print_grid(&ranked, args.json);
    }
    let progress = progress_bar(candles.len() as u64, args.json);
    let result = plan.run(&candles, &mut |done| progress.set_position(done as u64))?;
    progress.finish_and_clear();
    if let Some(dir) = &args.report {
        report::write(dir, &plan, &result)?;
    }
    output::print_result(&plan, &result, args.json)
}

/// A bar on stderr (hidden when stderr is not a terminal, as in tests and pipes).
fn progress_bar(total: u64, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} candles {per_sec} {eta}")
    {
        bar.set_style(style);
    }
    bar
}

/// What `--json` prints and `metrics.json` holds: the figures, then the trades.
pub fn result_document(plan_description: &str, result: &BacktestResult) -> serde_json::Value {
    output::document(plan_description, result)
}

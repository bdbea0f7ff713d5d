use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct BacktestArgs {
    /// Candle files (CSV or JSON, as `import` reads them) of one symbol; several are merged
    /// in time order.
    #[arg(long, required_unless_present = "symbol_file", num_args = 1..)]
    pub file: Vec<PathBuf>,
    /// Several symbols at once, `SYMBOL=FILE` each (repeat the flag): the same strategy on
    /// every one, in parallel on all cores, ranked by return. Instead of --file and --symbol.
    #[arg(long, conflicts_with_all = ["file", "grid", "report"])]
    pub symbol_file: Vec<String>,
    #[arg(long, default_value = "INPUT")]
    pub symbol: String,
    /// The files' candle timeframe.
    #[arg(long)]
    pub timeframe: String,
    /// sma-cross only: trade bars of this higher timeframe, aggregated from the files.
    #[arg(long)]
    pub bar_timeframe: Option<String>,
    /// A strategy file (TOML, see config/strategies/) or `sma-cross`.
    #[arg(long)]
    pub strategy: String,
    #[arg(long)]
    pub fast: Option<usize>,
    #[arg(long)]
    pub slow: Option<usize>,
    /// Starting cash (default 10000).
    #[arg(long)]
    pub cash: Option<String>,
    /// Fee per side as a fraction of notional (backtesting.py's `commission`); overrides a
    /// strategy file's costs.fee_rate.
    #[arg(long)]
    pub commission: Option<String>,
    /// First candle open time kept (ms or ISO-8601, UTC).
    #[arg(long)]
    pub from: Option<String>,
    /// Candles opening at or after this are left out.
    #[arg(long)]
    pub to: Option<String>,
    /// Print one JSON object instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Write trades.csv, metrics.json, equity.svg and index.html into this directory.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// sma-cross parameter grid, e.g. `fast=5..20:5,slow=20..60:10`: every combination with
    /// fast < slow runs in parallel on all cores; results ranked by return.
    #[arg(long)]
    pub grid: Option<String>,
    /// A TOML file whose [analysis] section overrides the analysis defaults.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

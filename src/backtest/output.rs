//! What the command prints: a summary for a person, or with `--json` one object.

use super::grid::Ranked;
use super::plan::Plan;
use super::BacktestCliError;
use cryptolens_actors::domain::backtest::metrics::Metrics;
use cryptolens_actors::domain::backtest::BacktestResult;
use serde_json::{json, Value};
use std::io::Write;

/// The figures (money as decimal strings, ratios as numbers, None as null), then the
/// trades, the number still open at the end, and for signal strategies the outcome study.
pub fn document(description: &str, result: &BacktestResult) -> Value {
    let mut document = serde_json::to_value(&result.metrics).unwrap_or(Value::Null);
    if let Value::Object(fields) = &mut document {
        fields.insert("strategy".into(), json!(description));
        fields.insert("open_trades".into(), json!(result.open_trades));
        fields.insert(
            "trades".into(),
            serde_json::to_value(&result.trades).unwrap_or(Value::Null),
        );
        if let Some(study) = &result.study {
            fields.insert(
                "study".into(),
                serde_json::to_value(study).unwrap_or(Value::Null),
            );
        }
    }
    document
}

pub fn print_result(
    plan: &Plan,
    result: &BacktestResult,
    json: bool,
) -> Result<(), BacktestCliError> {
    let text = if json {
        let mut text =
            serde_json::to_string(&document(&plan.describe(), result)).unwrap_or_default();
        text.push('\n');
        text
    } else {
        summary(plan, result)
    };
    write_stdout(&text)
}

fn summary(plan: &Plan, result: &BacktestResult) -> String {
    let m = &result.metrics;
    let optional = |value: Option<f64>| value.map_or("-".to_owned(), |v| format!("{v:.3}"));
    format!(
        "{}\n  bars {}  trades {} (+{} open)\n  final equity {}  return {:.2}%  max drawdown {:.2}%\n  sharpe {}  sortino {}  win rate {}  profit factor {}  avg R {}  exposure {:.1}%\n",
        plan.describe(),
        m.bars,
        m.trade_count,
        result.open_trades,
        m.final_equity,
        m.return_pct,
        m.max_drawdown_pct,
        optional(m.sharpe),
        optional(m.sortino),
        optional(m.win_rate),
        optional(m.profit_factor),
        optional(m.avg_r),
        m.exposure_pct,
    )
}

pub fn print_grid(ranked: &[Ranked], json: bool) -> Result<(), BacktestCliError> {
    print_ranked(ranked, json, "fast  slow", |run| {
        (format!("{:>4}  {:>4}", run.fast, run.slow), &run.metrics)
    })
}

pub fn print_symbols(
    ranked: &[super::many::SymbolRun],
    json: bool,
) -> Result<(), BacktestCliError> {
    print_ranked(ranked, json, "symbol      ", |run| {
        (format!("{:<12}", run.symbol), &run.metrics)
    })
}

/// Ranked runs: `{"runs": [...]}` with `--json`, else a table whose first columns (`head`)
/// `row` fills, then each run's figures.
fn print_ranked<T: serde::Serialize>(
    runs: &[T],
    json: bool,
    head: &str,
    row: impl Fn(&T) -> (String, &Metrics),
) -> Result<(), BacktestCliError> {
    let text = if json {
        let mut text = serde_json::to_string(&json!({ "runs": runs })).unwrap_or_default();
        text.push('\n');
        text
    } else {
        let mut text = format!("rank  {head}  return%  max_dd%  trades  final_equity\n");
        for (rank, run) in runs.iter().enumerate() {
            let (columns, m) = row(run);
            text.push_str(&format!(
                "{:>4}  {columns}  {:>7.2}  {:>7.2}  {:>6}  {}\n",
                rank + 1,
                m.return_pct,
                m.max_drawdown_pct,
                m.trade_count,
                m.final_equity
            ));
        }
        text
    };
    write_stdout(&text)
}

pub(super) fn write_stdout(text: &str) -> Result<(), BacktestCliError> {
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|source| BacktestCliError::Write {
            path: "stdout".into(),
            source,
        })
}

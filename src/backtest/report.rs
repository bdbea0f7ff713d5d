//! `--report DIR`: trades.csv, metrics.json, equity.svg and index.html, the same bytes for
//! the same inputs (no timestamps of the run, no map iteration order).

use super::chart::equity_svg;
use super::output::document;
use super::plan::Plan;
use super::BacktestCliError;
use cryptolens_actors::domain::backtest::BacktestResult;
use std::fmt::Write as _;
use std::path::Path;

pub fn write(dir: &Path, plan: &Plan, result: &BacktestResult) -> Result<(), BacktestCliError> {
    let fail = |path: &Path| {
        let path = path.to_owned();
        move |source| BacktestCliError::Write { path, source }
    };
    std::fs::create_dir_all(dir).map_err(fail(dir))?;
    let mut metrics = document(&plan.describe(), result);
    if let serde_json::Value::Object(fields) = &mut metrics {
        fields.remove("trades");
    }
    let metrics_text = serde_json::to_string_pretty(&metrics).unwrap_or_default() + "\n";
    let files = [
        ("trades.csv", trades_csv(result)),
        ("metrics.json", metrics_text),
        ("equity.svg", equity_svg(&plan.describe(), &result.curve)),
        ("index.html", index_html(plan, result)),
    ];
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(fail(&path))?;
    }
    Ok(())
}

pub fn trades_csv(result: &BacktestResult) -> String {
    let mut text = String::from(
        "entry_time,exit_time,side,entry_price,exit_price,quantity,pnl,exit_reason,r_multiple\n",
    );
    for t in &result.trades {
        let side = serde_json::to_value(t.side)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let r = t.r_multiple.map_or(String::new(), |r| format!("{r:.4}"));
        let _ = writeln!(
            text,
            "{},{},{side},{},{},{},{},{},{r}",
            t.entry_time,
            t.exit_time,
            t.entry_price.get(),
            t.exit_price.get(),
            t.quantity.get(),
            t.pnl.get(),
            t.exit_reason
        );
    }
    text
}

fn index_html(plan: &Plan, result: &BacktestResult) -> String {
    let m = &result.metrics;
    let optional = |value: Option<f64>| value.map_or("-".to_owned(), |v| format!("{v:.3}"));
    let rows = [
        ("Final equity", m.final_equity.to_string()),
        ("Return", format!("{:.2}%", m.return_pct)),
        ("Max drawdown", format!("{:.2}%", m.max_drawdown_pct)),
        ("Sharpe", optional(m.sharpe)),
        ("Sortino", optional(m.sortino)),
        ("Win rate", optional(m.win_rate)),
        ("Profit factor", optional(m.profit_factor)),
        (
            "Expectancy",
            m.expectancy.map_or("-".into(), |e| e.to_string()),
        ),
        ("Average R", optional(m.avg_r)),
        ("Exposure", format!("{:.1}%", m.exposure_pct)),
        ("Bars", m.bars.to_string()),
        ("Closed trades", m.trade_count.to_string()),
        ("Open at the end", result.open_trades.to_string()),
    ];
    let mut html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Backtest: {0}</title>\n<style>body{{font-family:system-ui,sans-serif;margin:2rem;color:#1b1f24}}table{{border-collapse:collapse}}td,th{{padding:.25rem .75rem;border-bottom:1px solid #ddd;text-align:right}}th:first-child,td:first-child{{text-align:left}}</style></head>\n<body><h1>Backtest: {0}</h1>\n<img src=\"equity.svg\" alt=\"Equity and drawdown\" width=\"960\">\n<h2>Figures</h2><table id=\"metrics\">\n",
        escape(&plan.describe())
    );
    for (name, value) in rows {
        let _ = writeln!(html, "<tr><td>{name}</td><td>{}</td></tr>", escape(&value));
    }
    html.push_str("</table>\n<h2>Trades</h2><p><a href=\"trades.csv\">trades.csv</a></p><table id=\"trades\"><tr><th>Entry (ms)</th><th>Exit (ms)</th><th>Side</th><th>Entry</th><th>Exit</th><th>Quantity</th><th>P&amp;L</th><th>Exit reason</th></tr>\n");
    for line in trades_csv(result).lines().skip(1) {
        let cells: Vec<String> = line
            .split(',')
            .take(8)
            .map(|cell| format!("<td>{}</td>", escape(cell)))
            .collect();
        let _ = writeln!(html, "<tr>{}</tr>", cells.concat());
    }
    html.push_str("</table></body></html>\n");
    html
}

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

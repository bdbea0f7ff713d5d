//! The equity and drawdown chart of a report, as SVG: equity on top, drawdown below, the
//! curve thinned to at most one minimum and maximum per horizontal pixel so a million-bar
//! run stays a small file.

use super::report::escape;
use cryptolens_actors::domain::backtest::metrics::EquityCurve;
use std::fmt::Write as _;

const WIDTH: f64 = 960.0;
const EQUITY_HEIGHT: f64 = 300.0;
const DRAWDOWN_HEIGHT: f64 = 120.0;
const MARGIN: f64 = 60.0;

pub fn equity_svg(title: &str, curve: &EquityCurve) -> String {
    let height = EQUITY_HEIGHT + DRAWDOWN_HEIGHT + 3.0 * MARGIN;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{MARGIN}\" y=\"24\" font-size=\"16\">{}</text>\n",
        escape(title)
    );
    let drawdown: Vec<f64> = curve.drawdown_pct().iter().map(|d| -d).collect();
    let panels = [
        (
            "Equity",
            &curve.equity[..],
            MARGIN,
            EQUITY_HEIGHT,
            "#1f6feb",
        ),
        (
            "Drawdown %",
            &drawdown[..],
            2.0 * MARGIN + EQUITY_HEIGHT,
            DRAWDOWN_HEIGHT,
            "#cf222e",
        ),
    ];
    for (label, values, top, panel_height, colour) in panels {
        panel(&mut svg, label, values, top, panel_height, colour);
    }
    if let (Some(first), Some(last)) = (curve.close_ms.first(), curve.close_ms.last()) {
        let y = height - MARGIN / 2.0;
        let _ = writeln!(
            svg,
            "<text x=\"{MARGIN}\" y=\"{y}\">{}</text>",
            date(*first)
        );
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{y}\" text-anchor=\"end\">{}</text>",
            WIDTH - MARGIN,
            date(*last)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn panel(svg: &mut String, label: &str, values: &[f64], top: f64, height: f64, colour: &str) {
    let finite = values.iter().copied().filter(|v| v.is_finite());
    let (low, high) = finite.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let _ = writeln!(svg, "<rect x=\"{MARGIN}\" y=\"{top}\" width=\"{}\" height=\"{height}\" fill=\"none\" stroke=\"#d0d7de\"/>", WIDTH - 2.0 * MARGIN);
    let _ = writeln!(
        svg,
        "<text x=\"{MARGIN}\" y=\"{}\">{label}</text>",
        top - 6.0
    );
    if values.is_empty() || low > high {
        return;
    }
    let span = if high > low { high - low } else { 1.0 };
    let plot_width = WIDTH - 2.0 * MARGIN;
    let x = |index: usize| MARGIN + index as f64 / (values.len().max(2) - 1) as f64 * plot_width;
    let y = |value: f64| top + (high - value) / span * height;
    let mut points = String::new();
    for index in thinned(values, plot_width as usize) {
        let _ = write!(points, "{:.1},{:.1} ", x(index), y(values[index]));
    }
    let _ = writeln!(
        svg,
        "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.2\" points=\"{}\"/>",
        points.trim_end()
    );
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{high:.2}</text>",
        MARGIN - 4.0,
        top + 10.0
    );
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{low:.2}</text>",
        MARGIN - 4.0,
        top + height
    );
}

/// Indexes keeping each pixel column's first, lowest and highest point, in order.
fn thinned(values: &[f64], columns: usize) -> Vec<usize> {
    if values.len() <= columns * 3 {
        return (0..values.len()).collect();
    }
    let per_column = values.len().div_ceil(columns);
    let mut kept = Vec::with_capacity(columns * 3);
    for start in (0..values.len()).step_by(per_column) {
        let end = (start + per_column).min(values.len());
        let by_value = |a: &usize, b: &usize| values[*a].total_cmp(&values[*b]);
        let lowest = (start..end).min_by(by_value).unwrap_or(start);
        let highest = (start..end).max_by(by_value).unwrap_or(start);
        let mut column = [start, lowest, highest];
        column.sort_unstable();
        for index in column {
            if kept.last() != Some(&index) {
                kept.push(index);
            }
        }
    }
    kept
}

fn date(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(
        || ms.to_string(),
        |t| t.format("%Y-%m-%d %H:%M").to_string(),
    )
}

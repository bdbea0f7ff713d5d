//! `cryptolens backtest` as a trader runs it. `sma-cross` against backtesting.py's own
//! `SmaCross` (goldens from its PyPI package, `fixtures/generate_backtest_golden.py`): the
//! same trades (entry and exit bars, sides, sizes) and the same final equity within 1e-6
//! relative, on its EURUSD and GOOG data and on crypto sets where the averages tie. Then
//! the report files, byte-identical across runs, and bad input refused by flag with exit 2.

use crate::support::{fixtures, shared_candles};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn run_backtest(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cryptolens"))
        .arg("backtest")
        .args(args)
        .output()
        .expect("run backtest")
}

pub fn backtest_json(args: &[&str]) -> Value {
    let mut with_json = args.to_vec();
    with_json.push("--json");
    let output = run_backtest(&with_json);
    assert!(
        output.status.success(),
        "backtest failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("one JSON object")
}

fn decimal(value: &Value) -> f64 {
    value
        .as_str()
        .and_then(|text| text.parse().ok())
        .or_else(|| value.as_f64())
        .expect("a number")
}

/// The golden's input: under fixtures/ or in ../shared (None: skipped off CI).
fn golden_input(golden: &Value) -> Option<PathBuf> {
    let input = golden["input"].as_str().expect("input");
    match input.strip_prefix("shared/data/candles/") {
        Some(name) => shared_candles().map(|dir| dir.join(name)),
        None => Some(Path::new(env!("CARGO_MANIFEST_DIR")).join(input)),
    }
}

fn assert_matches_backtesting_py(name: &str) {
    let path = fixtures().join(format!("golden/backtest/{name}.json"));
    let golden: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("golden")).expect("json");
    let Some(input) = golden_input(&golden) else {
        return;
    };
    let (fast, slow) = (golden["fast"].to_string(), golden["slow"].to_string());
    let commission = golden["commission"].to_string();
    let mut args = vec![
        "--file",
        input.to_str().expect("path"),
        "--timeframe",
        golden["timeframe"].as_str().expect("tf"),
        "--strategy",
        "sma-cross",
        "--fast",
        &fast,
        "--slow",
        &slow,
        "--commission",
        &commission,
    ];
    if let Some(bars) = golden["bar_timeframe"].as_str() {
        args.extend(["--bar-timeframe", bars]);
    }
    let ours = backtest_json(&args);
    let (ours_trades, theirs) = (
        ours["trades"].as_array().expect("trades"),
        golden["trades"].as_array().expect("trades"),
    );
    assert_eq!(ours_trades.len(), theirs.len(), "{name}: trade count");
    for (index, (a, b)) in ours_trades.iter().zip(theirs).enumerate() {
        for field in ["entry_time", "exit_time", "side"] {
            assert_eq!(a[field], b[field], "{name}: trade {index} {field}");
        }
        assert_eq!(
            decimal(&a["quantity"]),
            decimal(&b["quantity"]),
            "{name}: trade {index} quantity"
        );
        for field in ["entry_price", "exit_price"] {
            assert_eq!(
                decimal(&a[field]),
                decimal(&b[field]),
                "{name}: trade {index} {field}"
            );
        }
        let (pnl, expected) = (decimal(&a["pnl"]), decimal(&b["pnl"]));
        assert!(
            (pnl - expected).abs() <= 1e-6 * expected.abs().max(1.0),
            "{name}: trade {index} pnl {pnl} vs {expected}"
        );
    }
    let (equity, expected) = (
        decimal(&ours["final_equity"]),
        decimal(&golden["final_equity"]),
    );
    assert!(
        (equity / expected - 1.0).abs() < 1e-6,
        "{name}: final equity {equity} vs {expected}"
    );
    assert_eq!(ours["bars"], golden["bars"], "{name}: bars");
}

#[test]
fn sma_cross_trades_as_backtesting_py_on_its_own_eurusd_and_goog_data() {
    for name in ["eurusd-1h", "eurusd-1h-no-fee", "goog-1d", "goog-1d-5-30"] {
        assert_matches_backtesting_py(name);
    }
}

#[test]
fn sma_cross_trades_as_backtesting_py_on_crypto_where_the_averages_tie() {
    for name in [
        "eth-btc-1h",
        "trx-btc-1h",
        "trx-btc-5m",
        "xrp-eth-1m",
        "unittest-btc-1m-1h",
    ] {
        assert_matches_backtesting_py(name);
    }
}

fn eurusd() -> String {
    fixtures()
        .join("data/EURUSD-1h.csv")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn the_report_is_byte_identical_across_runs_and_holds_every_trade() {
    let dirs = [
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    ];
    let eurusd = eurusd();
    for dir in &dirs {
        let report = dir.path().join("report");
        let output = run_backtest(&[
            "--file",
            &eurusd,
            "--timeframe",
            "1h",
            "--strategy",
            "sma-cross",
            "--commission",
            "0.002",
            "--report",
            report.to_str().expect("path"),
        ]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let summary = String::from_utf8_lossy(&output.stdout);
        assert!(
            summary.contains("trades 262") && summary.contains("final equity 3526.917959"),
            "{summary}"
        );
    }
    let read = |dir: &tempfile::TempDir, name: &str| {
        std::fs::read(dir.path().join("report").join(name)).expect(name)
    };
    for name in ["trades.csv", "metrics.json", "equity.svg", "index.html"] {
        assert_eq!(
            read(&dirs[0], name),
            read(&dirs[1], name),
            "{name} differs between runs"
        );
    }
    let trades = String::from_utf8(read(&dirs[0], "trades.csv")).expect("utf-8");
    assert_eq!(trades.lines().count(), 263, "a header and 262 trades");
    assert!(trades.starts_with("entry_time,exit_time,side,entry_price,exit_price,quantity,pnl,exit_reason,r_multiple\n1492725600000,1492984800000,short,1.07156,1.08977,9313,"));
    let metrics: Value = serde_json::from_slice(&read(&dirs[0], "metrics.json")).expect("metrics");
    assert_eq!(metrics["trade_count"], 262);
    assert!(metrics.get("trades").is_none());
    let svg = String::from_utf8(read(&dirs[0], "equity.svg")).expect("svg");
    assert!(svg.starts_with("<svg") && svg.matches("<polyline").count() == 2);
    let html = String::from_utf8(read(&dirs[0], "index.html")).expect("html");
    assert!(
        html.contains("<img src=\"equity.svg\"")
            && html
                .lines()
                .filter(|line| line.starts_with("<tr><td>1"))
                .count()
                == 262
    );
}

#[test]
fn a_grid_ranks_every_combination_by_return() {
    let document = backtest_json(&[
        "--file",
        &eurusd(),
        "--timeframe",
        "1h",
        "--strategy",
        "sma-cross",
        "--grid",
        "fast=5..15:5,slow=20..40:10",
    ]);
    let runs = document["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 9);
    let returns: Vec<f64> = runs
        .iter()
        .map(|run| run["return_pct"].as_f64().expect("return"))
        .collect();
    assert!(
        returns.windows(2).all(|pair| pair[0] >= pair[1]),
        "{returns:?}"
    );
    // The (10, 20) run of the grid is the single run's.
    let single = backtest_json(&[
        "--file",
        &eurusd(),
        "--timeframe",
        "1h",
        "--strategy",
        "sma-cross",
    ]);
    let ten_twenty = runs
        .iter()
        .find(|run| run["fast"] == 10 && run["slow"] == 20)
        .expect("10/20");
    assert_eq!(ten_twenty["final_equity"], single["final_equity"]);
}

#[test]
fn bad_input_names_its_flag_and_exits_2() {
    let eurusd = eurusd();
    let strategy = tempfile::NamedTempFile::new().expect("file");
    std::fs::write(strategy.path(), "name = \"x\"\n[entry]\nmin_scroe = 0.5\n").expect("write");
    let strategy_path = strategy.path().to_str().expect("path");
    // Each case: timeframe, strategy, further flags, and words the refusal must contain.
    let cases: [(&str, &str, &[&str], &str); 11] = [
        ("7m", "sma-cross", &[], "--timeframe"),
        ("1h", "sma-cross", &["--fast", "0"], "--fast"),
        ("1h", "sma-cross", &["--commission", "1e-3"], "--commission"),
        ("1h", "sma-cross", &["--cash=-5"], "--cash"),
        ("1h", "sma-cross", &["--from", "yesterday"], "--from"),
        ("1h", "sma-cross", &["--grid", "fast=9,slow=3"], "--grid"),
        (
            "1h",
            "sma-cross",
            &["--bar-timeframe", "5m"],
            "--bar-timeframe",
        ),
        ("1h", strategy_path, &[], "min_scroe"),
        ("1h", "no-such-strategy.toml", &[], "sma-cross"),
        ("1d", "sma-cross", &[], "aligned"),
        ("1h", "sma-cross", &["--from", "2030-01-01"], "no candles"),
    ];
    for (timeframe, strategy, flags, words) in cases {
        let mut args = vec![
            "--file",
            &eurusd,
            "--timeframe",
            timeframe,
            "--strategy",
            strategy,
        ];
        args.extend_from_slice(flags);
        let output = run_backtest(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(words), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?}: nothing on stdout");
    }
}

/// Every example strategy on real crypto data: it trades, its money adds up (with nothing
/// open at the end, final equity = cash + the trades' net P&L), its study counts every
/// signal, and its report is the same bytes twice.
#[test]
fn every_example_strategy_runs_on_real_data_and_its_money_adds_up() {
    let Some(dir) = shared_candles() else { return };
    let file = dir.join("ETH_BTC-5m.csv");
    let file = file.to_str().expect("path");
    let strategies =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/strategies"))
            .expect("dir");
    let mut names: Vec<PathBuf> = strategies
        .filter_map(|entry| Some(entry.ok()?.path()))
        .collect();
    names.sort();
    assert!(names.len() >= 3, "the documented examples");
    for strategy in names {
        let strategy = strategy.to_str().expect("path");
        let result = backtest_json(&[
            "--file",
            file,
            "--timeframe",
            "5m",
            "--symbol",
            "ETHBTC",
            "--strategy",
            strategy,
        ]);
        let trades = result["trades"].as_array().expect("trades");
        assert!(
            !trades.is_empty(),
            "{strategy} trades on 20 days of 5m candles"
        );
        for trade in trades {
            let reason = trade["exit_reason"].as_str().expect("reason");
            assert!(
                ["stop", "strategy", "time_stop"].contains(&reason)
                    || reason.starts_with("target_"),
                "{strategy}: {trade}"
            );
            assert!(
                trade["entry_time"].as_i64() <= trade["exit_time"].as_i64(),
                "{trade}"
            );
        }
        if result["open_trades"] == 0 {
            let pnl: f64 = trades.iter().map(|trade| decimal(&trade["pnl"])).sum();
            let (initial, last) = (
                decimal(&result["initial_cash"]),
                decimal(&result["final_equity"]),
            );
            assert!(
                (initial + pnl - last).abs() < 1e-6,
                "{strategy}: {initial} + {pnl} != {last}"
            );
        }
        let rows = result["study"]["rows"].as_array().expect("study rows");
        for row in rows {
            let accounted = ["expired", "target_first", "stop_first", "unresolved"]
                .iter()
                .map(|k| row[k].as_u64().expect("count"))
                .sum::<u64>();
            assert!(
                accounted <= row["signals"].as_u64().expect("signals"),
                "{row}"
            );
        }
    }
    let reports = [
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    ];
    let strategy =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("config/strategies/order-block-pullback.toml");
    for report in &reports {
        let output = run_backtest(&[
            "--file",
            file,
            "--timeframe",
            "5m",
            "--strategy",
            strategy.to_str().expect("path"),
            "--report",
            report.path().to_str().expect("path"),
        ]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    for name in ["trades.csv", "metrics.json", "equity.svg", "index.html"] {
        let read = |dir: &tempfile::TempDir| std::fs::read(dir.path().join(name)).expect(name);
        assert_eq!(
            read(&reports[0]),
            read(&reports[1]),
            "{name} differs between runs"
        );
    }
}

#[test]
fn files_that_overlap_merge_into_one_series_and_disagreeing_ones_are_refused() {
    let text = std::fs::read_to_string(fixtures().join("data/EURUSD-1h.csv")).expect("fixture");
    let lines: Vec<&str> = text.lines().collect();
    let (header, rows) = (lines[0], &lines[1..]);
    let dir = tempfile::tempdir().expect("dir");
    let write = |name: &str, rows: &[&str]| {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("{header}\n{}\n", rows.join("\n"))).expect("write");
        path.to_string_lossy().into_owned()
    };
    // The later half first, overlapping the earlier by 100 rows.
    let later = write("later.csv", &rows[2_400..]);
    let earlier = write("earlier.csv", &rows[..2_500]);
    let whole = backtest_json(&[
        "--file",
        &eurusd(),
        "--timeframe",
        "1h",
        "--strategy",
        "sma-cross",
    ]);
    let merged = backtest_json(&[
        "--file",
        &later,
        &earlier,
        "--timeframe",
        "1h",
        "--strategy",
        "sma-cross",
    ]);
    assert_eq!(merged["trades"], whole["trades"]);
    assert_eq!(merged["final_equity"], whole["final_equity"]);

    let mut changed: Vec<String> = rows[2_450..2_460]
        .iter()
        .map(|row| row.to_string())
        .collect();
    // Another volume for one hour: both files are valid, they disagree.
    let head = changed[3]
        .rsplit_once(',')
        .map(|(head, _)| head.to_owned())
        .expect("columns");
    changed[3] = format!("{head},123456");
    let changed: Vec<&str> = changed.iter().map(String::as_str).collect();
    let disagreeing = write("disagreeing.csv", &changed);
    let output = run_backtest(&[
        "--file",
        &earlier,
        &disagreeing,
        "--timeframe",
        "1h",
        "--strategy",
        "sma-cross",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("disagreeing.csv") && stderr.contains("appears twice"),
        "{stderr}"
    );
}

/// Several symbols at once: each run is the single-symbol run of its file, ranked by return.
#[test]
fn several_symbols_run_in_parallel_each_as_alone_ranked_by_return() {
    let text = std::fs::read_to_string(eurusd()).expect("fixture");
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    let rows: Vec<&str> = lines.filter(|line| !line.is_empty()).collect();
    let dir = tempfile::tempdir().expect("dir");
    let halves = [("FIRST", &rows[..2_500]), ("SECOND", &rows[2_500..])].map(|(name, part)| {
        let path = dir.path().join(format!("{name}.csv"));
        std::fs::write(&path, format!("{header}\n{}\n", part.join("\n"))).expect("write");
        (name, path.to_string_lossy().into_owned())
    });
    let pairs: Vec<String> = halves
        .iter()
        .map(|(name, path)| format!("{name}={path}"))
        .collect();
    let ranked = backtest_json(&[
        "--symbol-file",
        &pairs[0],
        "--symbol-file",
        &pairs[1],
        "--timeframe",
        "1h",
        "--strategy",
        "sma-cross",
        "--commission",
        "0.002",
    ]);
    let runs = ranked["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 2);
    assert!(decimal(&runs[0]["return_pct"]) >= decimal(&runs[1]["return_pct"]));
    for (name, path) in &halves {
        let alone = backtest_json(&[
            "--file",
            path,
            "--symbol",
            name,
            "--timeframe",
            "1h",
            "--strategy",
            "sma-cross",
            "--commission",
            "0.002",
        ]);
        let run = runs
            .iter()
            .find(|run| run["symbol"] == *name)
            .expect("its run");
        assert_eq!(run["final_equity"], alone["final_equity"], "{name}");
        assert_eq!(run["trade_count"], alone["trade_count"], "{name}");
    }
    for (args, words) in [
        (vec!["--symbol-file", "NOFILE"], "SYMBOL=FILE"),
        (
            vec![
                "--symbol-file",
                &pairs[0],
                "--grid",
                "fast=5..10:5,slow=20..30:10",
            ],
            "--grid",
        ),
    ] {
        let mut args = args;
        args.extend(["--timeframe", "1h", "--strategy", "sma-cross"]);
        let output = run_backtest(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(words), "{args:?}: {stderr}");
    }
}

//! `cryptolens study` on the registry EURUSD hourly candles: every signal against its random
//! baselines, with intervals and costs; repeatable by seed; bad input refused by flag.

use crate::support::fixtures;
use serde_json::Value;
use std::process::{Command, Output};

fn run_study(args: &[&str]) -> Output {
    let file = fixtures().join("data/EURUSD-1h.csv");
    Command::new(env!("CARGO_BIN_EXE_cryptolens"))
        .args(["study", "--file"])
        .arg(file)
        .args(["--timeframe", "1h", "--symbol", "EURUSD"])
        .args(args)
        .output()
        .expect("run study")
}

fn study_json(args: &[&str]) -> Value {
    let mut with_json = args.to_vec();
    with_json.push("--json");
    let output = run_study(&with_json);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    serde_json::from_slice(&output.stdout).expect("one JSON object")
}

fn rate(figures: &Value) -> f64 {
    figures["hit_rate"].as_f64().expect("a hit rate")
}

#[test]
fn the_study_compares_every_signal_with_chance_after_costs() {
    let report = study_json(&[]);
    assert_eq!(report["candles"], 5_000);
    let all = &report["rows"][0];
    assert_eq!(
        (&all["dimension"], &all["group"]),
        (&Value::from("all"), &Value::from("all"))
    );
    let signals = all["signals"]["trades"].as_u64().expect("signals");
    assert_eq!(Some(signals), report["signals"].as_u64());
    assert!(signals > 50, "{all}");
    assert_eq!(all["random_entry"]["trades"], signals * 10);
    assert_eq!(all["random_pending"]["trades"], signals * 10);
    let ours = &all["signals"];
    let [low, high] = [0, 1].map(|i| ours["hit_rate_ci"][i].as_f64().expect("bound"));
    assert!(low < rate(ours) && rate(ours) < high, "{ours}");
    let before = ours["expectancy_r"].as_f64().expect("R");
    let after = ours["expectancy_r_after_costs"]
        .as_f64()
        .expect("R after fees");
    assert!(after < before, "fees cost something: {ours}");
    let edge = all["edge_points"].as_f64().expect("edge");
    assert!((edge - (rate(ours) - rate(&all["random_pending"])) * 100.0).abs() < 1e-9);
    let over_market = all["edge_over_market_points"].as_f64().expect("edge");
    assert!((over_market - (rate(ours) - rate(&all["random_entry"])) * 100.0).abs() < 1e-9);
    for dimension in ["kind", "timeframe", "direction", "confluence", "confidence"] {
        let groups: Vec<&Value> = report["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .filter(|row| row["dimension"] == dimension)
            .collect();
        let total: u64 = groups
            .iter()
            .map(|row| row["signals"]["trades"].as_u64().unwrap_or(0))
            .sum();
        assert_eq!(total, signals, "every signal in one {dimension} group");
    }

    let dir = tempfile::tempdir().expect("dir");
    let csv = dir.path().join("trials.csv");
    let with_trials = study_json(&["--trials-csv", csv.to_str().expect("path")]);
    assert_eq!(with_trials, report, "writing the trials changes nothing");
    let text = std::fs::read_to_string(&csv).expect("trials csv");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("kind,timeframe,direction,confluence,confidence,outcome")
    );
    let trials: Vec<&str> = lines.collect();
    assert_eq!(trials.len() as u64, signals, "one line per signal");
    let hits = trials
        .iter()
        .filter(|line| line.ends_with(",target"))
        .count() as u64;
    assert_eq!(Some(hits), ours["hits"].as_u64());

    let free = study_json(&["--fees-bps", "0"]);
    let free_all = &free["rows"][0]["signals"];
    assert_eq!(
        free_all["expectancy_r"],
        free_all["expectancy_r_after_costs"]
    );
    assert_eq!(study_json(&[]), report, "the same seed, the same report");
    let other = study_json(&["--seed", "2"]);
    assert_eq!(other["rows"][0]["signals"], report["rows"][0]["signals"]);
    assert_ne!(
        other["rows"][0]["random_entry"],
        report["rows"][0]["random_entry"]
    );
}

#[test]
fn the_table_has_a_line_per_group_and_bad_input_names_its_flag() {
    let output = run_study(&[]);
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.starts_with("EURUSD: 5000 candles"), "{text}");
    assert!(
        text.lines().any(|line| line.starts_with("all all ")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|line| line.starts_with("kind order_block")),
        "{text}"
    );
    for (args, flag) in [
        (&["--fees-bps", "5000"][..], "--fees-bps"),
        (&["--draws", "0"][..], "--draws"),
        (&["--expiry-bars", "0"][..], "--expiry-bars"),
        (&["--from", "2030-01-01"][..], "--from"),
        (&["--timeframe", "7m"][..], "--timeframe"),
    ] {
        let output = run_study(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(flag), "{args:?}: {stderr}");
    }
}

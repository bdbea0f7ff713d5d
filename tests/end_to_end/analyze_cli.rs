//! `cryptolens analyze` on the registry EURUSD candles: its indicator columns equal TA-Lib,
//! and with `--raw --fvg-body-filter` its gaps equal smartmoneyconcepts; bad input exits 2.

use crate::golden_fvg::golden_rows;
use crate::golden_indicators::{relative_error, RELATIVE_TOLERANCE};
use crate::support::fixtures;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

pub fn run_analyze(input: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cryptolens"))
        .arg("analyze")
        .arg("--input")
        .arg(input)
        .args(extra)
        .output()
        .expect("run analyze")
}

pub fn analyze_json(input: &Path, extra: &[&str]) -> Value {
    let output = run_analyze(input, extra);
    assert!(
        output.status.success(),
        "analyze failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("one JSON document")
}

fn eurusd() -> std::path::PathBuf {
    fixtures().join("data/EURUSD-1h.csv")
}

#[test]
fn indicator_columns_equal_talib_and_align_with_the_timestamps() {
    let document = analyze_json(&eurusd(), &["--timeframe", "1h"]);
    let golden = std::fs::read_to_string(fixtures().join("golden/indicators/EURUSD-1h.csv"))
        .expect("golden file");
    let mut lines = golden.lines();
    let names: Vec<&str> = lines.next().expect("header").split(',').skip(1).collect();
    let rows: Vec<Vec<&str>> = lines.map(|line| line.split(',').collect()).collect();
    assert_eq!(document["candles"].as_u64(), Some(rows.len() as u64));
    let timestamps = document["timestamps"].as_array().expect("timestamps");
    let closes: Vec<f64> = std::fs::read_to_string(eurusd())
        .expect("candles")
        .lines()
        .skip(1)
        .map(|line| {
            line.split(',')
                .nth(4)
                .and_then(|c| c.parse().ok())
                .expect("close")
        })
        .collect();
    for (index, row) in rows.iter().enumerate() {
        assert_eq!(timestamps[index].as_str(), None);
        assert_eq!(timestamps[index].to_string(), row[0], "row {index} time");
        for (column, name) in names.iter().enumerate() {
            let ours = &document["indicators"][*name][index];
            let expected = row[column + 1].parse::<f64>().ok();
            match (ours.as_f64(), expected) {
                (None, None) => assert!(ours.is_null()),
                (Some(actual), Some(expected)) => {
                    let error = relative_error(name, actual, expected, closes[index]);
                    assert!(
                        error <= RELATIVE_TOLERANCE,
                        "row {index} {name}: {actual} vs TA-Lib {expected}"
                    );
                }
                (actual, expected) => panic!("row {index} {name}: {actual:?} vs {expected:?}"),
            }
        }
    }
}

#[test]
fn raw_gaps_with_the_body_filter_equal_smartmoneyconcepts() {
    let document = analyze_json(
        &eurusd(),
        &["--timeframe", "1h", "--raw", "--fvg-body-filter"],
    );
    let gaps: Vec<&Value> = document["patterns"]
        .as_array()
        .expect("patterns")
        .iter()
        .filter(|p| p["kind"] == "fair_value_gap" && p["timeframe"] == "1h")
        .collect();
    let golden = golden_rows("EURUSD-1h");
    assert_eq!(gaps.len(), golden.len(), "gap count");
    let mut touches_compared = 0;
    for (gap, (anchor, direction, top, bottom, first_touch)) in gaps.iter().zip(&golden) {
        let price = |field: &str| gap[field].as_str().and_then(|t| t.parse::<f64>().ok());
        let sign = if gap["direction"] == "bullish" { 1 } else { -1 };
        assert_eq!(
            (
                gap["anchor_at"].as_i64(),
                sign,
                price("top"),
                price("bottom")
            ),
            (Some(*anchor), *direction, Some(*top), Some(*bottom)),
            "{gap}"
        );
        // A gap that expired untouched stops looking for its touch; every other one has it.
        if gap["status"] == "expired" && gap["touched_at"].is_null() {
            let expired_at = gap["expired_at"].as_i64().expect("expiry time");
            assert!(first_touch.is_none_or(|touch| touch >= expired_at), "{gap}");
        } else {
            assert_eq!(gap["touched_at"].as_i64(), *first_touch, "{gap}");
            touches_compared += 1;
        }
    }
    assert!(
        touches_compared > golden.len() / 2,
        "most gaps resolve before expiry"
    );
}

#[test]
fn every_pattern_and_signal_carries_the_documented_fields() {
    let document = analyze_json(&eurusd(), &["--timeframe", "1h", "--symbol", "EURUSD"]);
    let patterns = document["patterns"].as_array().expect("patterns");
    assert!(!patterns.is_empty());
    for pattern in patterns {
        for field in [
            "kind",
            "direction",
            "anchor_at",
            "formed_at",
            "top",
            "bottom",
            "status",
            "touched_at",
            "filled_at",
            "expired_at",
            "levels",
        ] {
            assert!(pattern.get(field).is_some(), "{field} missing in {pattern}");
        }
        assert!(pattern["anchor_at"].as_i64() <= pattern["formed_at"].as_i64());
    }
    let with_levels = patterns.iter().filter(|p| p["levels"].is_object()).count();
    assert!(
        with_levels > patterns.len() / 2,
        "ATR is warm for most patterns"
    );
    for signal in document["signals"].as_array().expect("signals") {
        assert!(signal["confluence"].as_u64() >= Some(3), "{signal}");
        assert!(!signal["reasons"].as_array().expect("reasons").is_empty());
        assert!(signal["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("EURUSD-")));
    }
}

#[test]
fn bad_input_goes_to_stderr_with_exit_code_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let unordered = dir.path().join("unordered.csv");
    std::fs::write(
        &unordered,
        "timestamp,open,high,low,close,volume\n120000,1,2,1,2,5\n60000,1,2,1,2,5\n",
    )
    .expect("write");
    let broken = dir.path().join("broken.csv");
    std::fs::write(
        &broken,
        "timestamp,open,high,low,close,volume\n60000,1,0.5,1,2,5\n",
    )
    .expect("write");
    let cases: [(&Path, &str, &str); 4] = [
        (&dir.path().join("missing.csv"), "1m", "cannot read"),
        (&unordered, "1m", "candle 1 (open time 60000) is not after"),
        (&broken, "1m", "line 2, field high"),
        (&eurusd(), "7m", "unknown timeframe"),
    ];
    for (input, timeframe, expected) in cases {
        let output = run_analyze(input, &["--timeframe", timeframe]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(expected), "{expected:?} not in {stderr}");
        assert!(output.stdout.is_empty(), "nothing on stdout");
    }
}

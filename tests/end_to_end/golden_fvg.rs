//! With `require_body_direction` on and no filters, the Fair Value Gaps found (direction,
//! zone, first touch) equal `smartmoneyconcepts.smc.fvg(join_consecutive=False)`, whose
//! MitigatedIndex is our first touch. Golden rows: fixtures/generate_fvg_golden.py.

use crate::support::{fixtures, shared_csv_files, stem_and_timeframe};
use cryptolens::import::read_candle_file;
use cryptolens_actors::domain::analysis::detectors::{
    FairValueGap, FairValueGapDetector, FairValueGapSettings,
};
use cryptolens_actors::domain::analysis::Direction;
use cryptolens_actors::domain::market::Candle;
use std::path::Path;

/// (anchor, direction, top, bottom, first touch) as the golden file writes them.
pub type GapRow = (i64, i8, f64, f64, Option<i64>);

/// Detects gaps candle by candle and records each one's first entering candle after it formed.
fn detect_with_first_touch(candles: &[Candle]) -> Vec<GapRow> {
    let mut detector = FairValueGapDetector::new(FairValueGapSettings {
        require_body_direction: true,
    });
    let mut gaps: Vec<(FairValueGap, Option<i64>)> = Vec::new();
    for candle in candles {
        for (gap, touch) in gaps.iter_mut().filter(|(_, touch)| touch.is_none()) {
            if candle.open_time_ms > gap.formed_at_ms
                && gap.zone.is_entered_by(gap.direction, candle)
            {
                *touch = Some(candle.open_time_ms);
            }
        }
        if let Some(gap) = detector.on_candle(candle) {
            gaps.push((gap, None));
        }
    }
    gaps.iter()
        .map(|(gap, touch)| {
            let direction = if gap.direction == Direction::Bullish {
                1
            } else {
                -1
            };
            (
                gap.anchor_at_ms,
                direction,
                gap.zone.top.to_f64(),
                gap.zone.bottom.to_f64(),
                *touch,
            )
        })
        .collect()
}

pub fn golden_rows(stem: &str) -> Vec<GapRow> {
    let text = std::fs::read_to_string(fixtures().join("golden/fvg").join(format!("{stem}.csv")))
        .expect("golden file");
    text.lines()
        .skip(1)
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            let number = |index: usize| cells[index].parse::<f64>().expect("number");
            let touch = cells[4].parse::<i64>().ok();
            (
                cells[0].parse().expect("anchor"),
                cells[1].parse().expect("direction"),
                number(2),
                number(3),
                touch,
            )
        })
        .collect()
}

fn check_against_smc(source: &Path) {
    let (stem, timeframe) = stem_and_timeframe(source);
    let candles = read_candle_file(source, timeframe).expect("valid candles");
    let ours = detect_with_first_touch(&candles);
    let theirs = golden_rows(&stem);
    assert!(!theirs.is_empty(), "{stem}: the reference found gaps");
    assert_eq!(ours.len(), theirs.len(), "{stem}: gap count");
    for (index, (ours, theirs)) in ours.iter().zip(&theirs).enumerate() {
        // Prices are parsed exactly here and as floats there: the same decimal, so the same f64.
        assert_eq!(
            ours, theirs,
            "{stem}: gap {index} differs from smartmoneyconcepts"
        );
    }
    println!("{stem}: {} gaps equal smartmoneyconcepts", ours.len());
}

#[test]
fn fair_value_gaps_equal_smartmoneyconcepts_on_the_registry_eurusd_candles() {
    check_against_smc(&fixtures().join("data/EURUSD-1h.csv"));
}

#[test]
fn fair_value_gaps_equal_smartmoneyconcepts_on_every_shared_candle_file() {
    let Some(files) = shared_csv_files() else {
        return;
    };
    for file in files {
        check_against_smc(&file);
    }
}

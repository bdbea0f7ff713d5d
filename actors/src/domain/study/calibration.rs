//! Calibrated confidence: the probability that a signal reaches target 1 before its stop, by
//! its pattern kind and confidence, read from a table fitted on past outcomes
//! (`config/calibration.json`, made by `benches/load/calibrate.py` from `cryptolens study`).
//! Each kind's steps rise with confidence (an isotonic fit); a signal takes the first step
//! whose bound is at or above its confidence (the last above them all).

use crate::domain::analysis::{PatternKind, Signal};
use crate::domain::backtest::outcome::StudyKey;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationTable {
    pub version: u32,
    /// The candle sets it was fitted on.
    pub fitted_on: Vec<String>,
    pub method: String,
    pub kinds: BTreeMap<PatternKind, Vec<CalibrationStep>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CalibrationStep {
    pub confidence_max: f64,
    pub probability: f64,
    pub samples: u64,
}

/// What a signal shows: its probability, the trades behind it, the table's version.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Calibrated {
    pub probability: f64,
    pub samples: u64,
    pub table_version: u32,
}

impl CalibrationTable {
    /// The table in `text` (JSON), checked: every step's probability in [0, 1] and bounds
    /// rising, so a malformed table is refused at start rather than shown.
    pub fn parse(text: &str) -> Result<CalibrationTable, String> {
        let table: CalibrationTable = serde_json::from_str(text).map_err(|e| e.to_string())?;
        for (kind, steps) in &table.kinds {
            let rising = steps
                .windows(2)
                .all(|pair| pair[0].confidence_max <= pair[1].confidence_max);
            let valid = steps
                .iter()
                .all(|step| (0.0..=1.0).contains(&step.probability));
            if steps.is_empty() || !rising || !valid {
                return Err(format!(
                    "kind {kind:?}: steps must exist, rise and be probabilities"
                ));
            }
        }
        Ok(table)
    }

    /// `signal`'s calibrated probability, when its kind is in the table.
    pub fn for_signal(&self, signal: &Signal) -> Option<Calibrated> {
        let kind = StudyKey::of(signal)?.pattern_kind;
        let steps = self.kinds.get(&kind)?;
        let step = steps
            .iter()
            .find(|step| signal.confidence <= step.confidence_max)
            .or(steps.last())?;
        Some(Calibrated {
            probability: step.probability,
            samples: step.samples,
            table_version: self.version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_table_is_refused_and_steps_are_found_by_bound() {
        let text = r#"{"version": 3, "fitted_on": ["X"], "method": "m", "kinds": {
            "order_block": [{"confidence_max": 0.4, "probability": 0.45, "samples": 10},
                            {"confidence_max": 0.7, "probability": 0.55, "samples": 20}]}}"#;
        let table = CalibrationTable::parse(text).expect("a table");
        let steps = &table.kinds[&PatternKind::OrderBlock];
        let find = |confidence: f64| {
            steps
                .iter()
                .find(|step| confidence <= step.confidence_max)
                .or(steps.last())
                .map(|step| step.probability)
        };
        assert_eq!(find(0.1), Some(0.45));
        assert_eq!(find(0.5), Some(0.55));
        assert_eq!(find(0.9), Some(0.55), "above every bound: the last step");
        let falling = text.replace("0.7", "0.3");
        assert!(CalibrationTable::parse(&falling).is_err());
        let improbable = text.replace("0.55", "1.5");
        assert!(CalibrationTable::parse(&improbable).is_err());
        assert!(CalibrationTable::parse("{}").is_err());
    }
}

//! The calibration table the server ships (`config/calibration.json`, fitted by
//! `benches/load/calibrate.py`): built into the binary and checked at start.

use cryptolens_actors::domain::study::calibration::CalibrationTable;

const SHIPPED: &str = include_str!("../config/calibration.json");

#[derive(Debug, thiserror::Error)]
#[error("config/calibration.json: {0}")]
pub struct CalibrationError(String);

pub fn shipped() -> Result<CalibrationTable, CalibrationError> {
    CalibrationTable::parse(SHIPPED).map_err(CalibrationError)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cryptolens_actors::domain::analysis::PatternKind;

    #[test]
    fn the_shipped_table_parses_and_covers_every_pattern_kind() {
        let table = shipped().expect("the shipped table");
        for kind in [
            PatternKind::FairValueGap,
            PatternKind::OrderBlock,
            PatternKind::LiquiditySweep,
        ] {
            let steps = &table.kinds[&kind];
            assert!(
                steps.iter().map(|s| s.samples).sum::<u64>() >= 30,
                "{kind:?}"
            );
        }
    }
}

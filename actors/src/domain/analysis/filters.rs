//! Pattern filters, in exact integer arithmetic on fixed-point prices:
//! - minimum zone size: top - bottom >= 0.15% of the price (configurable, in basis points);
//! - overlap dedupe: a new zone is a duplicate of a live one of the same kind and direction
//!   when overlap / smaller zone >= the timeframe's threshold (1m 50%, 5m 55%, 15m 60%,
//!   30m 65%, 1h 70%, 2h 75%, 4h 80%, 1d 85%).

use super::Zone;
use crate::domain::market::{Price, Timeframe};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ZoneFilters {
    /// Minimum zone height as basis points of the price (15 = 0.15%).
    pub size_min_basis_points: u32,
    /// Overlap thresholds in percent, for 1m 5m 15m 30m 1h 2h 4h 1d.
    pub overlap_percent: [u32; 8],
}

impl Default for ZoneFilters {
    fn default() -> Self {
        ZoneFilters {
            size_min_basis_points: 15,
            overlap_percent: [50, 55, 60, 65, 70, 75, 80, 85],
        }
    }
}

impl ZoneFilters {
    /// Whether the zone is at least the minimum share of `price` tall.
    pub fn is_large_enough(&self, zone: &Zone, price: Price) -> bool {
        let height = i128::from(zone.top.raw() - zone.bottom.raw());
        height * 10_000 >= i128::from(self.size_min_basis_points) * i128::from(price.raw())
    }

    /// Whether `candidate` overlaps `existing` by at least the timeframe's threshold of the
    /// smaller zone.
    pub fn is_duplicate(&self, candidate: &Zone, existing: &Zone, timeframe: Timeframe) -> bool {
        let overlap = i128::from(
            candidate.top.min(existing.top).raw() - candidate.bottom.max(existing.bottom).raw(),
        );
        if overlap < 0 {
            return false;
        }
        let height = |zone: &Zone| i128::from(zone.top.raw() - zone.bottom.raw());
        let smaller = height(candidate).min(height(existing));
        let threshold = i128::from(self.overlap_percent[timeframe_slot(timeframe)]);
        overlap * 100 >= threshold * smaller
    }
}

fn timeframe_slot(timeframe: Timeframe) -> usize {
    Timeframe::ALL
        .iter()
        .position(|candidate| *candidate == timeframe)
        .unwrap_or(Timeframe::ALL.len() - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(bottom: i64, top: i64) -> Zone {
        Zone::new(Price::from_raw(bottom), Price::from_raw(top))
    }

    #[test]
    fn zones_under_fifteen_basis_points_of_price_are_too_small() {
        let filters = ZoneFilters::default();
        let price = Price::from_raw(100_000);
        assert!(
            filters.is_large_enough(&zone(1_000, 1_150), price),
            "exactly 0.15%"
        );
        assert!(!filters.is_large_enough(&zone(1_000, 1_149), price));
    }

    #[test]
    fn overlap_is_measured_against_the_smaller_zone_with_the_timeframe_s_threshold() {
        let filters = ZoneFilters::default();
        // smaller zone 100 high, overlap 50
        let (existing, candidate) = (zone(0, 1_000), zone(950, 1_050));
        assert!(
            filters.is_duplicate(&candidate, &existing, Timeframe::M1),
            "50% meets the 1m threshold"
        );
        assert!(
            !filters.is_duplicate(&candidate, &existing, Timeframe::M5),
            "but not 5m's 55%"
        );
        let deep = zone(900, 1_000);
        assert!(
            filters.is_duplicate(&deep, &existing, Timeframe::D1),
            "100% meets even 1d's 85%"
        );
    }

    #[test]
    fn disjoint_zones_are_never_duplicates() {
        let filters = ZoneFilters::default();
        assert!(!filters.is_duplicate(&zone(0, 10), &zone(20, 30), Timeframe::M1));
    }

    #[test]
    fn thresholds_follow_the_table() {
        assert_eq!(
            ZoneFilters::default().overlap_percent,
            [50, 55, 60, 65, 70, 75, 80, 85]
        );
        assert_eq!(timeframe_slot(Timeframe::H4), 6);
    }
}

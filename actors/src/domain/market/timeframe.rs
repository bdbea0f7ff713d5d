//! Candle timeframes and their UTC bucket arithmetic.

use crate::domain::DomainError;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

const MINUTE_MS: i64 = 60_000;

/// The eight timeframes the engine aggregates to. Buckets are aligned to the Unix epoch, so a
/// day runs 00:00 to 24:00 UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum Timeframe {
    M1,
    M5,
    M15,
    M30,
    H1,
    H2,
    H4,
    D1,
}

impl Timeframe {
    pub const ALL: [Timeframe; 8] = [
        Timeframe::M1,
        Timeframe::M5,
        Timeframe::M15,
        Timeframe::M30,
        Timeframe::H1,
        Timeframe::H2,
        Timeframe::H4,
        Timeframe::D1,
    ];

    pub const fn duration_ms(self) -> i64 {
        MINUTE_MS
            * match self {
                Timeframe::M1 => 1,
                Timeframe::M5 => 5,
                Timeframe::M15 => 15,
                Timeframe::M30 => 30,
                Timeframe::H1 => 60,
                Timeframe::H2 => 120,
                Timeframe::H4 => 240,
                Timeframe::D1 => 1440,
            }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Timeframe::M1 => "1m",
            Timeframe::M5 => "5m",
            Timeframe::M15 => "15m",
            Timeframe::M30 => "30m",
            Timeframe::H1 => "1h",
            Timeframe::H2 => "2h",
            Timeframe::H4 => "4h",
            Timeframe::D1 => "1d",
        }
    }

    /// Open time of the bucket of this timeframe that contains `time_ms`.
    pub const fn bucket_start_ms(self, time_ms: i64) -> i64 {
        time_ms - time_ms.rem_euclid(self.duration_ms())
    }

    pub const fn is_aligned(self, time_ms: i64) -> bool {
        time_ms.rem_euclid(self.duration_ms()) == 0
    }

    /// The timeframes that candles of `self` aggregate into, shortest first.
    pub fn higher(self) -> impl Iterator<Item = Timeframe> {
        Timeframe::ALL.into_iter().filter(move |candidate| {
            candidate.duration_ms() > self.duration_ms()
                && candidate.duration_ms() % self.duration_ms() == 0
        })
    }
}

impl FromStr for Timeframe {
    type Err = DomainError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Timeframe::ALL
            .into_iter()
            .find(|timeframe| timeframe.as_str() == text)
            .ok_or_else(|| DomainError::UnknownTimeframe(text.to_owned()))
    }
}

impl TryFrom<String> for Timeframe {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<Timeframe> for &'static str {
    fn from(timeframe: Timeframe) -> &'static str {
        timeframe.as_str()
    }
}

impl std::fmt::Display for Timeframe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for timeframe in Timeframe::ALL {
            assert_eq!(timeframe.as_str().parse::<Timeframe>().unwrap(), timeframe);
        }
        assert!("3m".parse::<Timeframe>().is_err());
        assert!("1H".parse::<Timeframe>().is_err());
    }

    #[test]
    fn five_minutes_aggregate_to_fifteen_minutes_through_one_day() {
        let higher: Vec<_> = Timeframe::M5.higher().map(Timeframe::as_str).collect();
        assert_eq!(higher, ["15m", "30m", "1h", "2h", "4h", "1d"]);
        assert_eq!(Timeframe::D1.higher().count(), 0);
        assert_eq!(Timeframe::M1.higher().count(), 7);
    }

    #[test]
    fn buckets_are_utc_aligned() {
        let day_ms = Timeframe::D1.duration_ms();
        assert_eq!(Timeframe::D1.bucket_start_ms(day_ms * 3 + 5), day_ms * 3);
        assert_eq!(
            Timeframe::H4.bucket_start_ms(-1),
            -Timeframe::H4.duration_ms()
        );
        assert!(Timeframe::M5.is_aligned(300_000));
        assert!(!Timeframe::M5.is_aligned(360_000));
    }
}

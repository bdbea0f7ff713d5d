//! OHLCV candles: the unvalidated draft every source produces, and the checked candle.

use super::fixed_point::{FixedPointError, Price, Volume, PRICE_MAX_UNITS, VOLUME_MAX_UNITS};
use super::timeframe::Timeframe;
use crate::domain::DomainError;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// Latest accepted open time: 9999-12-31T23:59:59.999Z.
const OPEN_TIME_MAX_MS: i64 = 253_402_300_799_999;

/// The six fields of a candle, named as the API and the import formats name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CandleField {
    OpenTime,
    Open,
    High,
    Low,
    Close,
    Volume,
}

impl CandleField {
    pub const ALL: [CandleField; 6] = [
        CandleField::OpenTime,
        CandleField::Open,
        CandleField::High,
        CandleField::Low,
        CandleField::Close,
        CandleField::Volume,
    ];

    /// The short key used in `POST /api/candles` bodies.
    pub const fn key(self) -> &'static str {
        match self {
            CandleField::OpenTime => "t",
            CandleField::Open => "o",
            CandleField::High => "h",
            CandleField::Low => "l",
            CandleField::Close => "c",
            CandleField::Volume => "v",
        }
    }
}

impl std::fmt::Display for CandleField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

/// A candle as a source delivered it: exact decimals, not yet checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CandleDraft {
    pub open_time_ms: i64,
    pub open: Decimal,
    pub high: Decimal,
    pub low: Decimal,
    pub close: Decimal,
    pub volume: Decimal,
}

impl CandleDraft {
    /// Parses one decimal field exactly from its text (plain or scientific notation).
    pub fn parse_number(field: CandleField, text: &str) -> Result<Decimal, DomainError> {
        let text = text.trim();
        Decimal::from_str_exact(text)
            .or_else(|_| Decimal::from_scientific(text))
            .map_err(|_| {
                DomainError::candle(
                    field,
                    format!("must be a finite decimal number, got {text:?}"),
                )
            })
    }

    /// Parses an open time given as integer milliseconds.
    pub fn parse_open_time_ms(text: &str) -> Result<i64, DomainError> {
        let text = text.trim();
        i64::from_str(text).map_err(|_| {
            DomainError::candle(
                CandleField::OpenTime,
                format!("must be an integer of milliseconds since the Unix epoch, got {text:?}"),
            )
        })
    }
}

/// A checked candle. Invariants: open time aligned to its timeframe, prices > 0,
/// volume >= 0, low <= min(open, close), high >= max(open, close).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candle {
    pub open_time_ms: i64,
    pub open: Price,
    pub high: Price,
    pub low: Price,
    pub close: Price,
    pub volume: Volume,
}

impl Candle {
    /// Checks every rule and names the first field that breaks one.
    pub fn new_checked(timeframe: Timeframe, draft: &CandleDraft) -> Result<Candle, DomainError> {
        check_open_time(timeframe, draft.open_time_ms)?;
        let open = checked_price(CandleField::Open, draft.open)?;
        let high = checked_price(CandleField::High, draft.high)?;
        let low = checked_price(CandleField::Low, draft.low)?;
        let close = checked_price(CandleField::Close, draft.close)?;
        let volume = checked_volume(draft.volume)?;
        if low > open.min(close) {
            let message = format!("low {low} is above min(open, close) {}", open.min(close));
            return Err(DomainError::candle(CandleField::Low, message));
        }
        if high < open.max(close) {
            let message = format!("high {high} is below max(open, close) {}", open.max(close));
            return Err(DomainError::candle(CandleField::High, message));
        }
        Ok(Candle {
            open_time_ms: draft.open_time_ms,
            open,
            high,
            low,
            close,
            volume,
        })
    }

    /// Folds a later candle of the same bucket into this one (open kept, close taken).
    pub fn merge(self, later: &Candle) -> Candle {
        debug_assert!(
            later.open_time_ms >= self.open_time_ms,
            "Invariant: merge in time order"
        );
        Candle {
            open_time_ms: self.open_time_ms,
            open: self.open,
            high: self.high.max(later.high),
            low: self.low.min(later.low),
            close: later.close,
            volume: self.volume.plus(later.volume),
        }
    }
}

fn check_open_time(timeframe: Timeframe, open_time_ms: i64) -> Result<(), DomainError> {
    if !(0..=OPEN_TIME_MAX_MS).contains(&open_time_ms) {
        let message = format!(
            "open time {open_time_ms} must be between 0 (1970-01-01) and {OPEN_TIME_MAX_MS} (9999-12-31) ms"
        );
        return Err(DomainError::candle(CandleField::OpenTime, message));
    }
    if !timeframe.is_aligned(open_time_ms) {
        let message = format!(
            "open time {open_time_ms} is not aligned to {timeframe} (a multiple of {} ms)",
            timeframe.duration_ms()
        );
        return Err(DomainError::candle(CandleField::OpenTime, message));
    }
    Ok(())
}

fn checked_price(field: CandleField, value: Decimal) -> Result<Price, DomainError> {
    if value <= Decimal::ZERO {
        return Err(DomainError::candle(
            field,
            format!("price {value} must be greater than 0"),
        ));
    }
    Price::from_decimal(value).map_err(|error| {
        DomainError::candle(field, fixed_point_message(error, value, PRICE_MAX_UNITS))
    })
}

fn checked_volume(value: Decimal) -> Result<Volume, DomainError> {
    if value < Decimal::ZERO {
        let message = format!("volume {value} must be 0 or more");
        return Err(DomainError::candle(CandleField::Volume, message));
    }
    Volume::from_decimal(value).map_err(|error| {
        DomainError::candle(
            CandleField::Volume,
            fixed_point_message(error, value, VOLUME_MAX_UNITS),
        )
    })
}

fn fixed_point_message(error: FixedPointError, value: Decimal, max_units: i64) -> String {
    error.describe(value, max_units)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(t: i64, o: &str, h: &str, l: &str, c: &str, v: &str) -> CandleDraft {
        let number = |text| CandleDraft::parse_number(CandleField::Open, text).unwrap();
        CandleDraft {
            open_time_ms: t,
            open: number(o),
            high: number(h),
            low: number(l),
            close: number(c),
            volume: number(v),
        }
    }

    fn refusal(timeframe: Timeframe, candle: CandleDraft) -> (CandleField, String) {
        match Candle::new_checked(timeframe, &candle) {
            Err(DomainError::InvalidCandle { field, message }) => (field, message),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn accepts_a_valid_candle_exactly() {
        let candle = Candle::new_checked(
            Timeframe::M1,
            &draft(
                60_000,
                "0.00162008",
                "0.0017",
                "0.0016",
                "0.00161",
                "108.14853839",
            ),
        )
        .unwrap();
        assert_eq!(candle.open.to_decimal().to_string(), "0.00162008");
        assert_eq!(candle.volume.to_decimal().to_string(), "108.14853839");
    }

    #[test]
    fn open_time_must_be_aligned() {
        let (field, message) = refusal(Timeframe::M5, draft(60_000, "1", "1", "1", "1", "0"));
        assert_eq!(field, CandleField::OpenTime);
        assert!(message.contains("not aligned to 5m"), "{message}");
    }

    #[test]
    fn open_time_must_be_in_range() {
        let (field, message) = refusal(Timeframe::M1, draft(-60_000, "1", "1", "1", "1", "0"));
        assert_eq!(field, CandleField::OpenTime);
        assert!(message.contains("must be between"), "{message}");
    }

    #[test]
    fn each_price_must_be_positive() {
        let cases = [
            (draft(0, "0", "1", "1", "1", "0"), CandleField::Open),
            (draft(0, "1", "-1", "1", "1", "0"), CandleField::High),
            (draft(0, "1", "1", "0", "1", "0"), CandleField::Low),
            (draft(0, "1", "1", "1", "-0.5", "0"), CandleField::Close),
        ];
        for (candle, expected) in cases {
            let (field, message) = refusal(Timeframe::M1, candle);
            assert_eq!(field, expected);
            assert!(message.contains("must be greater than 0"), "{message}");
        }
    }

    #[test]
    fn volume_must_not_be_negative() {
        let (field, message) = refusal(Timeframe::M1, draft(0, "1", "1", "1", "1", "-1"));
        assert_eq!(field, CandleField::Volume);
        assert!(message.contains("0 or more"), "{message}");
        assert!(Candle::new_checked(Timeframe::M1, &draft(0, "1", "1", "1", "1", "0")).is_ok());
    }

    #[test]
    fn low_must_not_exceed_open_or_close() {
        let (field, message) = refusal(Timeframe::M1, draft(0, "2", "3", "2.5", "2.6", "1"));
        assert_eq!(field, CandleField::Low);
        assert!(message.contains("above min(open, close)"), "{message}");
    }

    #[test]
    fn high_must_not_be_below_open_or_close() {
        let (field, message) = refusal(Timeframe::M1, draft(0, "2", "2.5", "1", "2.6", "1"));
        assert_eq!(field, CandleField::High);
        assert!(message.contains("below max(open, close)"), "{message}");
    }

    #[test]
    fn too_many_decimals_and_huge_values_are_refused() {
        let (field, message) = refusal(Timeframe::M1, draft(0, "1.000000001", "2", "1", "1", "1"));
        assert_eq!(field, CandleField::Open);
        assert!(message.contains("more than 8 decimal places"), "{message}");
        let (field, message) = refusal(Timeframe::M1, draft(0, "1", "1e11", "1", "1", "1"));
        assert_eq!(field, CandleField::High);
        assert!(message.contains("out of range"), "{message}");
        let (field, _) = refusal(Timeframe::M1, draft(0, "1", "1", "1", "1", "1e19"));
        assert_eq!(field, CandleField::Volume);
    }

    #[test]
    fn non_finite_and_malformed_numbers_are_refused_at_parse() {
        for text in ["NaN", "inf", "-inf", "", "1,5", "0x10", "1.2.3"] {
            let error = CandleDraft::parse_number(CandleField::Close, text).unwrap_err();
            assert!(
                error
                    .to_string()
                    .starts_with("c: must be a finite decimal number"),
                "{error}"
            );
        }
        assert_eq!(
            CandleDraft::parse_number(CandleField::Close, "1.5e-5")
                .unwrap()
                .to_string(),
            "0.000015"
        );
        assert!(CandleDraft::parse_open_time_ms("12.5").is_err());
    }

    #[test]
    fn merge_keeps_open_and_takes_extremes_close_and_sum() {
        let first =
            Candle::new_checked(Timeframe::M1, &draft(0, "2", "3", "1", "2.5", "1.5")).unwrap();
        let second =
            Candle::new_checked(Timeframe::M1, &draft(60_000, "2.5", "4", "2", "3", "0.25"))
                .unwrap();
        let merged = first.merge(&second);
        assert_eq!(merged.open_time_ms, 0);
        assert_eq!(merged.open.to_decimal().to_string(), "2");
        assert_eq!(merged.high.to_decimal().to_string(), "4");
        assert_eq!(merged.low.to_decimal().to_string(), "1");
        assert_eq!(merged.close.to_decimal().to_string(), "3");
        assert_eq!(merged.volume.to_decimal().to_string(), "1.75");
    }
}

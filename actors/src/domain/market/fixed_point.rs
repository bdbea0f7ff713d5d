//! Exact fixed-point numbers for prices and volumes.
//!
//! Why fixed point rather than `Decimal` in the candle: aggregation compares and adds these on
//! every base candle for every higher timeframe, and integer `max`/`min`/`+` are several times
//! cheaper than `Decimal`'s (see the note on issue 2 for the benchmark). Every value is parsed
//! exactly from its decimal text and converts back to `Decimal` without loss. Exchanges quote
//! at most 8 decimal places, so one shared scale of 1e-8 loses nothing.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Decimal places kept by [`Price`] and [`Volume`].
pub const SCALE_DIGITS: u32 = 8;
const SCALE_FACTOR: i64 = 100_000_000;
/// Largest accepted price, in quote units: well inside `i64` once scaled.
pub const PRICE_MAX_UNITS: i64 = 10_000_000_000;
/// Largest accepted volume of one input candle, in base units; 1440 of them still fit a day.
pub const VOLUME_MAX_UNITS: i64 = 1_000_000_000_000_000_000;

/// A price in units of 1e-8 of the quote currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Price(i64);

/// A traded volume in units of 1e-8 of the base asset: an `i128` so that sums never overflow,
/// held as two 8-byte halves so a candle stays 8-byte aligned (56 bytes, not 64: an `i128`
/// field would pad every candle of every ring). The derived order is the `i128`'s: the signed
/// high half first, then the unsigned low half. Stored and serialised as the `i128` itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Volume {
    high: i64,
    low: u64,
}

/// Why a decimal does not fit the fixed-point scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixedPointError {
    TooManyDecimals,
    OutOfRange,
}

impl FixedPointError {
    pub fn describe(self, value: Decimal, max_units: i64) -> String {
        match self {
            FixedPointError::TooManyDecimals => {
                format!("{value} has more than {SCALE_DIGITS} decimal places")
            }
            FixedPointError::OutOfRange => format!("{value} is out of range (maximum {max_units})"),
        }
    }
}

fn to_raw(value: Decimal) -> Result<i128, FixedPointError> {
    let value = value.normalize();
    if value.scale() > SCALE_DIGITS {
        return Err(FixedPointError::TooManyDecimals);
    }
    let shift = 10_i128.pow(SCALE_DIGITS - value.scale());
    value
        .mantissa()
        .checked_mul(shift)
        .ok_or(FixedPointError::OutOfRange)
}

fn raw_to_decimal(raw: i128) -> Decimal {
    // |raw| <= VOLUME_MAX_UNITS * 1e8 * 1440 < 2^96, the mantissa limit of Decimal.
    Decimal::from_i128_with_scale(raw, SCALE_DIGITS).normalize()
}

impl Price {
    /// Exact conversion; refuses more than 8 decimals and magnitudes above [`PRICE_MAX_UNITS`].
    pub fn from_decimal(value: Decimal) -> Result<Price, FixedPointError> {
        let raw = to_raw(value)?;
        if raw.abs() > i128::from(PRICE_MAX_UNITS) * i128::from(SCALE_FACTOR) {
            return Err(FixedPointError::OutOfRange);
        }
        i64::try_from(raw)
            .map(Price)
            .map_err(|_| FixedPointError::OutOfRange)
    }

    pub const fn from_raw(raw: i64) -> Price {
        Price(raw)
    }

    pub const fn raw(self) -> i64 {
        self.0
    }

    pub fn to_decimal(self) -> Decimal {
        raw_to_decimal(i128::from(self.0))
    }

    /// For indicator maths only; never for money.
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / SCALE_FACTOR as f64
    }
}

impl Volume {
    pub const ZERO: Volume = Volume::from_raw(0);

    /// Exact conversion; refuses more than 8 decimals and magnitudes above [`VOLUME_MAX_UNITS`].
    pub fn from_decimal(value: Decimal) -> Result<Volume, FixedPointError> {
        let raw = to_raw(value)?;
        if raw.abs() > i128::from(VOLUME_MAX_UNITS) * i128::from(SCALE_FACTOR) {
            return Err(FixedPointError::OutOfRange);
        }
        Ok(Volume::from_raw(raw))
    }

    pub const fn from_raw(raw: i128) -> Volume {
        Volume {
            high: (raw >> 64) as i64,
            low: raw as u64,
        }
    }

    pub const fn raw(self) -> i128 {
        ((self.high as i128) << 64) | self.low as i128
    }

    pub fn to_decimal(self) -> Decimal {
        raw_to_decimal(self.raw())
    }

    pub fn to_f64(self) -> f64 {
        self.raw() as f64 / SCALE_FACTOR as f64
    }

    /// Sum of two volumes. Input volumes are capped, so sums of a day's candles cannot overflow
    /// `i128`; saturation is a guard that the invariant makes unreachable.
    pub fn plus(self, other: Volume) -> Volume {
        debug_assert!(
            self.raw().checked_add(other.raw()).is_some(),
            "Invariant: capped volumes never overflow i128"
        );
        Volume::from_raw(self.raw().saturating_add(other.raw()))
    }
}

impl Serialize for Volume {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.raw().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Volume {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Volume, D::Error> {
        i128::deserialize(deserializer).map(Volume::from_raw)
    }
}

impl std::fmt::Display for Price {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.to_decimal().fmt(f)
    }
}

impl std::fmt::Display for Volume {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.to_decimal().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    #[test]
    fn round_trips_eight_decimals_exactly() {
        for text in [
            "0.00010766",
            "0.1",
            "12345.6789",
            "9999999999.99999999",
            "1",
        ] {
            let price = Price::from_decimal(dec(text)).unwrap();
            assert_eq!(price.to_decimal(), dec(text).normalize(), "{text}");
        }
    }

    #[test]
    fn trailing_zeros_beyond_the_scale_are_not_extra_precision() {
        let price = Price::from_decimal(dec("0.0016200800000")).unwrap();
        assert_eq!(price.raw(), 162_008);
    }

    #[test]
    fn refuses_a_ninth_decimal() {
        assert_eq!(
            Price::from_decimal(dec("0.000000001")),
            Err(FixedPointError::TooManyDecimals)
        );
    }

    #[test]
    fn refuses_prices_above_the_maximum() {
        assert_eq!(
            Price::from_decimal(dec("10000000000.00000001")),
            Err(FixedPointError::OutOfRange)
        );
        assert!(Volume::from_decimal(dec("1000000000000000001")).is_err());
        assert!(Volume::from_decimal(dec("1000000000000000000")).is_ok());
    }

    #[test]
    fn volume_halves_keep_the_i128_value_order_and_bytes() {
        let raws = [
            i128::MIN,
            -(1 << 64) - 1,
            -(1 << 64),
            -1,
            0,
            1,
            u64::MAX as i128,
            1 << 64,
            i128::MAX,
        ];
        for (index, raw) in raws.iter().enumerate() {
            let volume = Volume::from_raw(*raw);
            assert_eq!(volume.raw(), *raw);
            let bytes = bincode::serde::encode_to_vec(volume, bincode::config::standard()).unwrap();
            let plain = bincode::serde::encode_to_vec(raw, bincode::config::standard()).unwrap();
            assert_eq!(bytes, plain, "stored as the i128 itself");
            for later in &raws[index + 1..] {
                assert!(volume < Volume::from_raw(*later), "{raw} < {later}");
            }
        }
        assert_eq!(std::mem::size_of::<super::super::Candle>(), 56);
    }
}

//! The one serde representation of the money types: a decimal string.

use rust_decimal::Decimal;
use serde::Deserializer;

/// Reads a decimal: a string or a JSON number from a self-describing format, under the one
/// input grammar (exact, thanks to serde_json's arbitrary precision), a string from a binary
/// one. Binary formats cannot
/// be asked "what comes next", and the store wrote strings (`rust_decimal::serde::str`).
pub(super) fn read_decimal<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Decimal, D::Error> {
    if deserializer.is_human_readable() {
        super::grammar::deserialize_strict(deserializer)
    } else {
        rust_decimal::serde::str::deserialize(deserializer)
    }
}

/// Implements `Serialize` (the decimal's text, exactly as `rust_decimal::serde::str` writes
/// it) and `Deserialize` for a value type with a `get() -> Decimal` accessor. Input from a
/// human-readable format (a request body) goes through the type's checked `TryFrom<Decimal>`.
/// A binary format is the store: its values were checked when they were written, under the
/// rules of their day (older ledgers allowed prices above today's bound, snapshots levels at
/// finer ticks), so reading one back checks only what no rule ever allowed (the type's
/// `from_stored`: a negative quantity, a fee rate outside [0, 1)); refusing more would report
/// a sound ledger as damaged.
macro_rules! decimal_text_serde {
    ($type:ty) => {
        impl serde::Serialize for $type {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                rust_decimal::serde::str::serialize(&self.get(), serializer)
            }
        }

        impl<'de> serde::Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(
                deserializer: D,
            ) -> Result<$type, D::Error> {
                let stored = !deserializer.is_human_readable();
                let value = super::text::read_decimal(deserializer)?;
                if stored {
                    <$type>::from_stored(value).map_err(serde::de::Error::custom)
                } else {
                    <$type>::try_from(value).map_err(serde::de::Error::custom)
                }
            }
        }

        impl std::fmt::Display for $type {
            fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(&self.get(), formatter)
            }
        }

        impl From<$type> for rust_decimal::Decimal {
            fn from(value: $type) -> rust_decimal::Decimal {
                value.get()
            }
        }
    };
}

pub(super) use decimal_text_serde;

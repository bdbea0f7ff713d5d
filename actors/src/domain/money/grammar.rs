//! The one grammar of decimals a client sends: `-?[0-9]+(\.[0-9]+)?`, as a JSON string or a
//! JSON number, holding at most [`DIGITS_MAX`] digits so it is read exactly, never rounded.
//!
//! Not accepted: `_` separators, exponents (`1e1`), a leading `+`, a bare or trailing dot,
//! spaces, `NaN`. How many places a value may have and whether it may be negative are the
//! rules of the value type that receives it (a price, a quantity), each with its own
//! field-level message; the grammar only decides what text is a number.

use rust_decimal::Decimal;
use serde::de::{Deserializer, Error, MapAccess, Visitor};
use std::fmt;

/// The digits a `Decimal` holds exactly (its mantissa is 96 bits: 28 digits always fit).
pub const DIGITS_MAX: usize = 28;

/// The key serde_json's arbitrary-precision numbers arrive under (a one-entry map).
const JSON_NUMBER_KEY: &str = "$serde_json::private::Number";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecimalSyntaxError {
    #[error("{0:?} is not a decimal: digits with an optional dot and more digits (no exponent, `_` or `+`)")]
    Malformed(String),
    #[error("{0:?} has more than 28 digits and cannot be held exactly")]
    TooManyDigits(String),
}

/// Parses `text` under the grammar, exactly.
pub fn parse_decimal(text: &str) -> Result<Decimal, DecimalSyntaxError> {
    let malformed = || DecimalSyntaxError::Malformed(text.to_owned());
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || fraction.is_some_and(|part| !all_digits(part)) {
        return Err(malformed());
    }
    let fraction = fraction.unwrap_or("");
    let significant = whole.trim_start_matches('0').len() + fraction.len();
    if significant > DIGITS_MAX {
        return Err(DecimalSyntaxError::TooManyDigits(text.to_owned()));
    }
    let mut mantissa: i128 = 0;
    for digit in whole.bytes().chain(fraction.bytes()) {
        mantissa = mantissa * 10 + i128::from(digit - b'0');
    }
    if text.starts_with('-') {
        mantissa = -mantissa;
    }
    // At most 28 significant digits: fits the mantissa, and the scale is at most 28.
    Decimal::try_from_i128_with_scale(mantissa, fraction.len() as u32).map_err(|_| malformed())
}

/// Reads a decimal under the grammar from a string or a JSON number (serde_json with
/// `arbitrary_precision` hands numbers over as their text).
pub fn deserialize_strict<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
    deserializer.deserialize_any(StrictVisitor)
}

/// [`deserialize_strict`] for an optional field (absent or `null` is `None`).
pub fn deserialize_strict_option<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Decimal>, D::Error> {
    struct Optional;
    impl<'de> Visitor<'de> for Optional {
        type Value = Option<Decimal>;
        fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
            formatter.write_str("a decimal or null")
        }
        fn visit_none<E: Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, inner: D) -> Result<Self::Value, D::Error> {
            deserialize_strict(inner).map(Some)
        }
    }
    deserializer.deserialize_option(Optional)
}

/// [`deserialize_strict`] for every element of a list.
pub fn deserialize_strict_list<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<Decimal>, D::Error> {
    #[derive(serde::Deserialize)]
    struct Strict(#[serde(deserialize_with = "deserialize_strict")] Decimal);
    let list: Vec<Strict> = serde::Deserialize::deserialize(deserializer)?;
    Ok(list.into_iter().map(|Strict(value)| value).collect())
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Decimal;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a decimal, as a string or a number")
    }

    fn visit_str<E: Error>(self, text: &str) -> Result<Decimal, E> {
        parse_decimal(text).map_err(E::custom)
    }

    fn visit_u64<E: Error>(self, value: u64) -> Result<Decimal, E> {
        Ok(Decimal::from(value))
    }

    fn visit_i64<E: Error>(self, value: i64) -> Result<Decimal, E> {
        Ok(Decimal::from(value))
    }

    fn visit_f64<E: Error>(self, value: f64) -> Result<Decimal, E> {
        Err(E::custom(format!(
            "{value} arrived as a binary floating-point number; send the decimal as a string"
        )))
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Decimal, M::Error> {
        match map.next_key::<String>()? {
            Some(key) if key == JSON_NUMBER_KEY => {
                let text: String = map.next_value()?;
                parse_decimal(&text).map_err(M::Error::custom)
            }
            _ => Err(M::Error::custom("expected a decimal, found an object")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    #[test]
    fn the_grammar_accepts_plain_decimals_and_nothing_else() {
        for (text, value) in [
            ("10", "10"),
            ("0.5", "0.5"),
            ("-1.25", "-1.25"),
            ("007.10", "7.10"),
        ] {
            assert_eq!(
                parse_decimal(text),
                Ok(Decimal::from_str(value).unwrap()),
                "{text}"
            );
        }
        for text in [
            "", "1_0", "1e1", "1E-2", "+1", ".5", "5.", "1.2.3", " 1", "1 ", "NaN", "-", "--1",
            "0x10", "١",
        ] {
            assert!(
                matches!(parse_decimal(text), Err(DecimalSyntaxError::Malformed(_))),
                "{text}"
            );
        }
        let long = "1.".to_owned() + &"1".repeat(28);
        assert!(matches!(
            parse_decimal(&long),
            Err(DecimalSyntaxError::TooManyDigits(_))
        ));
        assert!(
            parse_decimal(&("0000".to_owned() + &"9".repeat(28))).is_ok(),
            "leading zeros are free"
        );
    }

    #[test]
    fn json_strings_and_numbers_are_read_by_the_grammar() {
        #[derive(serde::Deserialize, Debug)]
        struct Body {
            #[serde(deserialize_with = "deserialize_strict")]
            value: Decimal,
            #[serde(default, deserialize_with = "deserialize_strict_option")]
            maybe: Option<Decimal>,
            #[serde(default, deserialize_with = "deserialize_strict_list")]
            list: Vec<Decimal>,
        }
        let body: Body = serde_json::from_str(
            r#"{"value": 1.10000000000000000001, "maybe": null, "list": ["2", 3]}"#,
        )
        .unwrap();
        assert_eq!(
            body.value,
            Decimal::from_str("1.10000000000000000001").unwrap()
        );
        assert_eq!((body.maybe, body.list.len()), (None, 2));
        for refused in [
            r#"{"value": 1e1}"#,
            r#"{"value": "1_0"}"#,
            r#"{"value": {"a": 1}}"#,
            r#"{"value": "1", "list": ["1e2"]}"#,
        ] {
            assert!(serde_json::from_str::<Body>(refused).is_err(), "{refused}");
        }
    }

    /// An independent reader: a regular language check, then the value from its digits with
    /// arbitrary-precision integer arithmetic on the decimal text (via `rust_decimal`'s own
    /// exact string parser, which the grammar does not use).
    fn reference(text: &str) -> Option<Decimal> {
        let body = text.strip_prefix('-').unwrap_or(text);
        let mut parts = body.splitn(2, '.');
        let whole = parts.next()?;
        let fraction = parts.next();
        let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
        if !digits(whole) || !fraction.is_none_or(digits) {
            return None;
        }
        if whole.trim_start_matches('0').len() + fraction.map_or(0, str::len) > 28 {
            return None;
        }
        Decimal::from_str_exact(text).ok()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]
        #[test]
        fn the_grammar_agrees_with_an_independent_reader(text in "[-+0-9._eE ]{0,14}") {
            let ours = parse_decimal(&text).ok();
            prop_assert_eq!(ours, reference(&text), "{:?}", text);
        }

        #[test]
        fn every_decimal_printed_plainly_reads_back_exactly(mantissa in any::<i64>(), scale in 0_u32..=18) {
            let value = Decimal::new(mantissa, scale);
            prop_assert_eq!(parse_decimal(&value.to_string()), Ok(value));
        }
    }
}

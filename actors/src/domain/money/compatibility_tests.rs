//! The one serde representation: decimal strings in JSON (numbers accepted on input, read
//! exactly), and in bincode exactly the bytes `rust_decimal::serde::str` wrote before these
//! types existed, so stored ledgers and snapshots decode unchanged.

use super::{FeeRate, Money, MoneyError, Price, Quantity};
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

/// The shapes the ledger stored before: per-field string annotations and a text newtype.
#[derive(Debug, Serialize, Deserialize)]
struct Before {
    #[serde(with = "rust_decimal::serde::str")]
    quantity: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    price: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    amount: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    fee_rate: Decimal,
    #[serde(with = "rust_decimal::serde::str_option")]
    stop_loss: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option")]
    no_limit: Option<Decimal>,
    take_profits: Vec<DecimalTextBefore>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct DecimalTextBefore(#[serde(with = "rust_decimal::serde::str")] Decimal);

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct After {
    quantity: Quantity,
    price: Price,
    amount: Money,
    fee_rate: FeeRate,
    stop_loss: Option<Price>,
    no_limit: Option<Money>,
    take_profits: Vec<Price>,
}

fn bincode_bytes<T: Serialize>(value: &T) -> Vec<u8> {
    bincode::serde::encode_to_vec(value, bincode::config::standard()).unwrap()
}

fn from_bincode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    bincode::serde::decode_from_slice(bytes, bincode::config::standard())
        .map(|(value, _)| value)
        .map_err(|error| error.to_string())
}

fn before() -> Before {
    Before {
        quantity: dec("0.12345678"),
        price: dec("100.50"),
        amount: dec("-12.407037061200000001"),
        fee_rate: dec("0.001"),
        stop_loss: Some(dec("95")),
        no_limit: None,
        take_profits: vec![
            DecimalTextBefore(dec("110")),
            DecimalTextBefore(dec("120.5")),
        ],
    }
}

#[test]
fn old_bincode_bytes_decode_into_the_value_types_and_encode_back_the_same() {
    let old_bytes = bincode_bytes(&before());
    let after: After = from_bincode(&old_bytes).unwrap();
    assert_eq!(after.quantity.get(), dec("0.12345678"));
    assert_eq!(after.price.to_string(), "100.50", "the scale survives");
    assert_eq!(after.amount.get(), dec("-12.407037061200000001"));
    assert_eq!(after.fee_rate.get(), dec("0.001"));
    assert_eq!(after.stop_loss.map(Price::get), Some(dec("95")));
    assert_eq!(after.no_limit, None);
    let targets: Vec<Decimal> = after.take_profits.iter().map(|p| p.get()).collect();
    assert_eq!(targets, [dec("110"), dec("120.5")]);
    assert_eq!(bincode_bytes(&after), old_bytes, "byte for byte");
    let back: Before = from_bincode(&bincode_bytes(&after)).unwrap();
    assert_eq!(back.amount, dec("-12.407037061200000001"));
}

#[test]
fn a_stored_value_that_breaks_an_invariant_is_refused_not_misread() {
    let mut stored = before();
    stored.quantity = dec("-1");
    let error = from_bincode::<After>(&bincode_bytes(&stored)).unwrap_err();
    assert!(error.contains("must not be negative"), "{error}");
}

#[test]
fn stored_values_beyond_todays_input_bounds_still_decode() {
    // Regression: older ledgers allowed prices above 1e18 and snapshots levels at ticks finer
    // than 8 places; reading them back must not report them as damaged.
    let stored_huge: Vec<u8> = bincode_bytes(&"100000000000000000000".to_owned());
    let stored_fine: Vec<u8> = bincode_bytes(&"0.0000000001".to_owned());
    let read = |bytes: &[u8]| from_bincode::<Price>(bytes).unwrap().get();
    assert_eq!(read(&stored_huge), dec("100000000000000000000"));
    assert_eq!(read(&stored_fine), dec("0.0000000001"));
    assert!(from_bincode::<Quantity>(&stored_huge).is_ok());
    let json = serde_json::from_str::<Price>(r#""100000000000000000000""#);
    assert!(json.is_err(), "input keeps today's bound");
}

#[test]
fn json_writes_strings_and_reads_strings_or_exact_numbers() {
    let after: After = from_bincode(&bincode_bytes(&before())).unwrap();
    let json = serde_json::to_value(&after).unwrap();
    assert_eq!(json["quantity"], "0.12345678");
    assert_eq!(json["price"], "100.50");
    assert_eq!(json["stop_loss"], "95");
    assert_eq!(json["no_limit"], serde_json::Value::Null);
    assert_eq!(json["take_profits"], serde_json::json!(["110", "120.5"]));
    let from_numbers: After = serde_json::from_str(
        r#"{"quantity": 0.12345678, "price": 100.50, "amount": -12.407037061200000001,
            "fee_rate": 0.001, "stop_loss": 95, "no_limit": null, "take_profits": [110, "120.5"]}"#,
    )
    .unwrap();
    assert_eq!(
        from_numbers, after,
        "numbers are read exactly, not through f64"
    );
    assert_eq!(from_numbers.price.to_string(), "100.50");
}

#[test]
fn json_input_that_breaks_an_invariant_names_the_rule() {
    let error = serde_json::from_str::<Quantity>(r#""-1""#)
        .unwrap_err()
        .to_string();
    assert!(error.contains("must not be negative, got -1"), "{error}");
    let error = serde_json::from_str::<Price>("0.000000001")
        .unwrap_err()
        .to_string();
    assert!(error.contains("at most 8 decimals"), "{error}");
    let error = serde_json::from_str::<FeeRate>(r#""1""#)
        .unwrap_err()
        .to_string();
    assert!(error.contains("must be in [0, 1)"), "{error}");
    assert!(serde_json::from_str::<Money>(r#""ten""#).is_err());
    assert_eq!(
        Quantity::try_from(dec("-2")),
        Err(MoneyError::Negative { value: dec("-2") })
    );
}

proptest! {
    #[test]
    fn every_old_price_string_decodes_to_the_same_price(mantissa in -10_000_000_000_000_000_i64..10_000_000_000_000_000, scale in 0_u32..=8) {
        let value = Decimal::new(mantissa, scale);
        let old = bincode_bytes(&DecimalTextBefore(value));
        let price: Price = from_bincode(&old).unwrap();
        prop_assert_eq!(price.get(), value);
        prop_assert_eq!(price.to_string(), value.to_string());
        prop_assert_eq!(bincode_bytes(&price), old);
    }

    #[test]
    fn every_old_amount_string_decodes_to_the_same_money(mantissa in any::<i64>(), scale in 0_u32..=28) {
        let value = Decimal::new(mantissa, scale);
        let old = bincode_bytes(&DecimalTextBefore(value));
        let money: Money = from_bincode(&old).unwrap();
        prop_assert_eq!(money.get(), value);
        prop_assert_eq!(bincode_bytes(&money), old);
    }
}

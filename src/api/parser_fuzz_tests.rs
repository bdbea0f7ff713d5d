//! Every request body parser, fed arbitrary bytes and arbitrary JSON-like text: it answers
//! Ok or a 4xx error, never panics.

use super::json_body::parse_json;
use super::keys::CreateApiKey;
use super::payload::parse_candle_batch;
use super::portfolios::requests::{
    AddToTrade, AmendTrade, CloseTrade, CreatePortfolio, JournalBody, OpenTrade,
};
use super::sessions::{ChangePassword, Login};
use super::signals::ScanRequest;
use super::users::{CreateUser, UpdateUser};
use proptest::prelude::*;
use serde::de::DeserializeOwned;

fn refused_cleanly<T: DeserializeOwned>(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Err(error) = parse_json::<T>(bytes, "body") {
        prop_assert!(error.status().is_client_error(), "{error}");
    }
    Ok(())
}

fn every_parser(bytes: &[u8]) -> Result<(), TestCaseError> {
    refused_cleanly::<Login>(bytes)?;
    refused_cleanly::<ChangePassword>(bytes)?;
    refused_cleanly::<CreateApiKey>(bytes)?;
    refused_cleanly::<CreateUser>(bytes)?;
    refused_cleanly::<UpdateUser>(bytes)?;
    refused_cleanly::<ScanRequest>(bytes)?;
    refused_cleanly::<CreatePortfolio>(bytes)?;
    refused_cleanly::<OpenTrade>(bytes)?;
    refused_cleanly::<AddToTrade>(bytes)?;
    refused_cleanly::<CloseTrade>(bytes)?;
    refused_cleanly::<AmendTrade>(bytes)?;
    refused_cleanly::<JournalBody>(bytes)?;
    if let Err(error) = parse_candle_batch(bytes, 10_000, super::payload::FutureLimit::NONE) {
        prop_assert!(error.status().is_client_error(), "{error}");
    }
    Ok(())
}

/// JSON-ish text built from the bodies' own field names and awkward values, so that the
/// parsers get past the first byte and into their field checks.
fn json_like() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec![
        "username",
        "password",
        "current_password",
        "new_password",
        "name",
        "role",
        "expires_at",
        "disabled",
        "symbol",
        "timeframe",
        "candles",
        "t",
        "o",
        "h",
        "l",
        "c",
        "v",
        "initial_balance",
        "quote_currency",
        "fee_rate",
        "limits",
        "side",
        "quantity",
        "price",
        "stop_loss",
        "take_profits",
        "from_signal",
        "risk_percent",
        "text",
        "tags",
        "is_admin",
        "",
    ]);
    let value = prop::sample::select(vec![
        "null",
        "true",
        "0",
        "-1",
        "1e309",
        "18446744073709551616",
        "\"1.5\"",
        "\"-0\"",
        "\"admin\"",
        "\"1m\"",
        "\"BTCUSDT\"",
        "\"\\u0000\"",
        "[]",
        "{}",
        "[{}]",
        "\"9999999999999999999999999999.1\"",
        "[{\"t\":0,\"o\":\"1\",\"h\":\"2\",\"l\":\"0.5\",\"c\":\"1\",\"v\":\"1\"}]",
    ]);
    prop::collection::vec((key, value), 0..8).prop_map(|pairs| {
        let fields: Vec<String> = pairs
            .iter()
            .map(|(key, value)| format!("\"{key}\":{value}"))
            .collect();
        format!("{{{}}}", fields.join(","))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn no_parser_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        every_parser(&bytes)?;
    }

    #[test]
    fn no_parser_panics_on_json_like_bodies(text in json_like()) {
        every_parser(text.as_bytes())?;
    }

    #[test]
    fn no_parser_panics_on_json_with_a_byte_changed(text in json_like(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut bytes = text.into_bytes();
        let index = at.index(bytes.len());
        bytes[index] = byte;
        every_parser(&bytes)?;
    }
}

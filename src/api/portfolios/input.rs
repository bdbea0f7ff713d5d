//! What portfolio requests carry besides the path, checked at the edge: ids, the
//! `Idempotency-Key` header, bodies and symbols, each refused with its field named.

use super::super::error::ApiError;
use super::super::json_body::{optional_body, parse_json};
use bytes::Bytes;
use cryptolens_actors::actors::portfolio::PortfolioError;
use cryptolens_actors::actors::portfolio::RequestId;
use cryptolens_actors::domain::ledger::check_amount;
use cryptolens_actors::domain::market::Symbol;
use cryptolens_actors::domain::money::{FeeRate, MoneyError, Price, Quantity};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use warp::{Filter, Rejection};

/// Portfolio request bodies are small; anything larger is refused with 413.
pub const BODY_LIMIT_BYTES: u64 = 64 * 1024;
const IDEMPOTENCY_KEY_LENGTH_MAX: usize = 128;

/// What a mutation request reads before its portfolio is looked up.
pub struct MutationInput {
    pub idempotency_key: Option<String>,
    pub body: Bytes,
}

/// The optional `Idempotency-Key` header and the body (at most [`BODY_LIMIT_BYTES`]).
pub fn mutation_input() -> impl Filter<Extract = (MutationInput,), Error = Rejection> + Clone {
    warp::header::optional::<String>("idempotency-key")
        .and(optional_body(BODY_LIMIT_BYTES))
        .map(|idempotency_key, body| MutationInput {
            idempotency_key,
            body,
        })
}

pub use super::super::gate::no_input;

pub fn parse_id(field: &'static str, text: &str) -> Result<u64, ApiError> {
    text.parse::<u64>().map_err(|_| {
        ApiError::invalid_field(
            field,
            format!("{field} must be a positive integer, got {text:?}"),
        )
    })
}

/// An empty (or all-whitespace) body reads as `T::default()`.
pub fn body_or_empty<T: DeserializeOwned + Default>(
    body: &[u8],
    what: &str,
) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    parse_json(body, what)
}

/// The request's identity for idempotency: its checked `Idempotency-Key` and a fingerprint of
/// what it asks (`action`, which names the route and its path ids, and the body bytes), so a
/// key reused for another request is told apart (409).
pub fn request_id(
    key: Option<String>,
    action: &str,
    body: &[u8],
) -> Result<Option<RequestId>, ApiError> {
    let Some(key) = idempotency_key(key)? else {
        return Ok(None);
    };
    let text = format!("{action}\n{}", String::from_utf8_lossy(body));
    Ok(Some(RequestId {
        key,
        fingerprint: crate::auth::secret::sha256_hex(&text),
    }))
}

pub fn idempotency_key(key: Option<String>) -> Result<Option<String>, ApiError> {
    match key {
        Some(key)
            if key.is_empty()
                || key.len() > IDEMPOTENCY_KEY_LENGTH_MAX
                || !key.chars().all(|c| c.is_ascii_graphic()) =>
        {
            Err(ApiError::invalid_field(
                "Idempotency-Key",
                format!("1 to {IDEMPOTENCY_KEY_LENGTH_MAX} visible ASCII characters"),
            ))
        }
        key => Ok(key),
    }
}

pub fn required<T>(value: Option<T>, field: &'static str) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::invalid_field(field, format!("{field} is required")))
}

pub fn parse_symbol(text: &str) -> Result<Symbol, ApiError> {
    Symbol::parse(text).map_err(|error| ApiError::invalid_field("symbol", error.to_string()))
}

/// A quantity or fill price from a request: the ledger's rule first (greater than 0, at
/// most 8 decimals, with its message), then the value type's range; refused naming `field`.
pub fn order_amount<T>(field: &'static str, value: Decimal) -> Result<T, ApiError>
where
    T: TryFrom<Decimal, Error = MoneyError>,
{
    check_amount(field, value).map_err(PortfolioError::Refused)?;
    T::try_from(value).map_err(|error| amount_error(field, error))
}

/// A refused amount naming `field`: 422 beyond its bound, else 400.
fn amount_error(field: &'static str, error: MoneyError) -> ApiError {
    match error {
        MoneyError::OutOfRange { .. } => ApiError::out_of_range(field, error.to_string()),
        other => ApiError::invalid_field(field, other.to_string()),
    }
}

pub fn quantity(field: &'static str, value: Decimal) -> Result<Quantity, ApiError> {
    order_amount(field, value)
}

pub fn price(field: &'static str, value: Decimal) -> Result<Price, ApiError> {
    order_amount(field, value)
}

/// A stop or target level: any price the type holds; which side of the entry it must be on
/// is the ledger's check.
pub fn level(field: &'static str, value: Decimal) -> Result<Price, ApiError> {
    Price::new_checked(value).map_err(|error| amount_error(field, error))
}

pub fn levels(field: &'static str, values: Vec<Decimal>) -> Result<Vec<Price>, ApiError> {
    values
        .into_iter()
        .map(|value| level(field, value))
        .collect()
}

pub fn fee_rate(value: Decimal) -> Result<FeeRate, ApiError> {
    FeeRate::new_checked(value)
        .map_err(|error| ApiError::invalid_field("fee_rate", error.to_string()))
}

/// Journal tags as new requests may write them: letters, digits, `-`, `_` and `.` (the
/// ledger checks their count and length, and keeps reading older tags it stored).
pub fn tags(values: Vec<String>) -> Result<Vec<String>, ApiError> {
    let allowed = |c: char| c.is_alphanumeric() || matches!(c, '-' | '_' | '.');
    match values.iter().find(|tag| !tag.chars().all(allowed)) {
        Some(bad) => Err(ApiError::invalid_field(
            "tags",
            format!("letters, digits, '-', '_' and '.' only, got {bad:?}"),
        )),
        None => Ok(values),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_keys_are_checked_with_their_field() {
        assert_eq!(parse_id("trade_id", "7").ok(), Some(7));
        assert!(parse_id("trade_id", "-1").is_err());
        assert!(idempotency_key(None).is_ok_and(|key| key.is_none()));
        assert!(idempotency_key(Some("a-1".into())).is_ok());
        for bad in ["", "has space", &"k".repeat(129)] {
            assert!(idempotency_key(Some(bad.to_owned())).is_err(), "{bad:?}");
        }
        assert!(required(None::<u8>, "side").is_err());
        assert!(parse_symbol("BTCUSDT").is_ok());
    }
}

//! The candle batch body of `POST /api/candles` and `/api/ws/ingest`, and its validation.

use super::error::{ApiError, FieldError};
use super::json_body::parse_json;
use cryptolens_actors::domain::market::{Candle, CandleDraft, CandleField, Symbol, Timeframe};
use cryptolens_actors::domain::money::deserialize_strict;
use cryptolens_actors::domain::DomainError;
use rust_decimal::Decimal;
use serde::Deserialize;

/// How many refused candles one answer lists.
const LISTED_ERRORS_MAX: usize = 20;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CandleBatchBody {
    symbol: String,
    timeframe: String,
    candles: Vec<CandleBody>,
}

/// Prices and volume are decimal strings or JSON numbers, both read exactly under the one
/// input grammar (`money::parse_decimal`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CandleBody {
    t: i64,
    #[serde(deserialize_with = "deserialize_strict")]
    o: Decimal,
    #[serde(deserialize_with = "deserialize_strict")]
    h: Decimal,
    #[serde(deserialize_with = "deserialize_strict")]
    l: Decimal,
    #[serde(deserialize_with = "deserialize_strict")]
    c: Decimal,
    #[serde(deserialize_with = "deserialize_strict")]
    v: Decimal,
}

/// A batch that passed every check: it is applied whole or not at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandleBatch {
    pub symbol: Symbol,
    pub timeframe: Timeframe,
    pub candles: Vec<Candle>,
}

/// Parses and checks a batch; any refused candle refuses the batch, listing the first ones.
/// A candle opening more than `future.intervals_max` intervals after `future.now_ms` (the
/// server's clock) is refused: no exchange has it yet, so it is a wrong clock or unit.
pub fn parse_candle_batch(
    bytes: &[u8],
    batch_candles_max: usize,
    future: FutureLimit,
) -> Result<CandleBatch, ApiError> {
    let body: CandleBatchBody = parse_json(bytes, "candle batch")?;
    let symbol = Symbol::parse(&body.symbol)
        .map_err(|error| ApiError::invalid_field("symbol", error.to_string()))?;
    let timeframe: Timeframe = body
        .timeframe
        .parse()
        .map_err(|error: DomainError| ApiError::invalid_field("timeframe", error.to_string()))?;
    if body.candles.is_empty() {
        return Err(ApiError::invalid_field(
            "candles",
            "a batch needs at least one candle",
        ));
    }
    if body.candles.len() > batch_candles_max {
        let message = format!(
            "a batch holds at most {batch_candles_max} candles; this one has {}",
            body.candles.len()
        );
        return Err(ApiError::invalid_field("candles", message));
    }
    let candles = check_candles(timeframe, &body.candles, future)?;
    Ok(CandleBatch {
        symbol,
        timeframe,
        candles,
    })
}

/// How far ahead of the server's clock a candle may open.
#[derive(Debug, Clone, Copy)]
pub struct FutureLimit {
    pub now_ms: i64,
    pub intervals_max: i64,
}

impl FutureLimit {
    /// No limit: for parsing tests.
    #[cfg(test)]
    pub const NONE: FutureLimit = FutureLimit {
        now_ms: i64::MAX,
        intervals_max: 0,
    };
}

fn check_candles(
    timeframe: Timeframe,
    bodies: &[CandleBody],
    future: FutureLimit,
) -> Result<Vec<Candle>, ApiError> {
    let now_ms = future.now_ms;
    let ahead_ms = timeframe.duration_ms().saturating_mul(future.intervals_max);
    let latest_open_ms = now_ms.saturating_add(ahead_ms);
    let mut candles = Vec::with_capacity(bodies.len());
    let mut refused = Vec::new();
    let mut refused_count = 0_usize;
    for (index, body) in bodies.iter().enumerate() {
        let draft = CandleDraft {
            open_time_ms: body.t,
            open: body.o,
            high: body.h,
            low: body.l,
            close: body.c,
            volume: body.v,
        };
        let checked = Candle::new_checked(timeframe, &draft).and_then(|candle| {
            if candle.open_time_ms > latest_open_ms {
                return Err(DomainError::InvalidCandle {
                    field: CandleField::OpenTime,
                    message: format!(
                        "opens at {} ms, more than {} {timeframe} interval(s) after the server's \
                         clock ({now_ms} ms); timestamps are milliseconds since 1970 UTC",
                        candle.open_time_ms, future.intervals_max
                    ),
                });
            }
            Ok(candle)
        });
        match checked {
            Ok(candle) => candles.push(candle),
            Err(error) => {
                refused_count += 1;
                if refused.len() < LISTED_ERRORS_MAX {
                    refused.push(candle_field_error(index, error));
                }
            }
        }
    }
    if refused.is_empty() {
        return Ok(candles);
    }
    let first_field = refused.first().map(|error| error.field.clone());
    Err(ApiError::Invalid {
        code: "invalid_candles",
        message: format!(
            "{refused_count} of {} candles are invalid, nothing was applied; first: {}: {}",
            bodies.len(),
            refused[0].field,
            refused[0].message
        ),
        field: first_field,
        details: refused,
    })
}

fn candle_field_error(index: usize, error: DomainError) -> FieldError {
    match error {
        DomainError::InvalidCandle { field, message } => FieldError {
            field: format!("candles[{index}].{field}"),
            message,
        },
        other => FieldError {
            field: format!("candles[{index}]"),
            message: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(body: &str) -> (String, Option<String>, Vec<FieldError>) {
        match parse_candle_batch(body.as_bytes(), 3, FutureLimit::NONE) {
            Err(ApiError::Invalid {
                code,
                field,
                details,
                ..
            }) => (code.to_owned(), field, details),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_candle_more_than_one_interval_ahead_of_the_clock_is_refused() {
        let now_ms = 1_699_999_980_000 + 40_000;
        let limit = FutureLimit {
            now_ms,
            intervals_max: 1,
        };
        let body = |t: i64| {
            format!(
                r#"{{"symbol":"BTCUSDT","timeframe":"1m","candles":[{{"t":{t},"o":"1","h":"1","l":"1","c":"1","v":"1"}}]}}"#
            )
        };
        for ahead_ms in [0, 60_000] {
            let accepted =
                parse_candle_batch(body(now_ms - 40_000 + ahead_ms).as_bytes(), 3, limit);
            assert!(accepted.is_ok(), "{ahead_ms}: {accepted:?}");
        }
        match parse_candle_batch(body(now_ms - 40_000 + 120_000).as_bytes(), 3, limit) {
            Err(ApiError::Invalid { field, .. }) => {
                assert_eq!(field.as_deref(), Some("candles[0].t"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn numbers_and_strings_are_read_exactly() {
        let body = r#"{"symbol":"btc/usdt","timeframe":"1m","candles":[
            {"t":60000,"o":0.1,"h":"0.30000000","l":0.1,"c":0.2,"v":12345678.12345678}]}"#;
        let batch = parse_candle_batch(body.as_bytes(), 3, FutureLimit::NONE).unwrap();
        assert_eq!(batch.symbol.as_str(), "BTCUSDT");
        let candle = batch.candles[0];
        assert_eq!(candle.open.to_decimal().to_string(), "0.1");
        assert_eq!(candle.high.to_decimal().to_string(), "0.3");
        assert_eq!(candle.volume.to_decimal().to_string(), "12345678.12345678");
    }

    #[test]
    fn every_invalid_candle_is_named_by_index_and_field() {
        let body = r#"{"symbol":"BTCUSDT","timeframe":"1m","candles":[
            {"t":60000,"o":1,"h":1,"l":1,"c":1,"v":1},
            {"t":60001,"o":1,"h":1,"l":1,"c":1,"v":1},
            {"t":120000,"o":1,"h":1,"l":2,"c":1,"v":1}]}"#;
        let (code, field, details) = refusal(body);
        assert_eq!(code, "invalid_candles");
        assert_eq!(field.as_deref(), Some("candles[1].t"));
        let fields: Vec<&str> = details.iter().map(|error| error.field.as_str()).collect();
        assert_eq!(fields, ["candles[1].t", "candles[2].l"]);
    }

    #[test]
    fn type_errors_name_their_path() {
        let (code, field, _) = refusal(
            r#"{"symbol":"BTCUSDT","timeframe":"1m","candles":[{"t":0,"o":true,"h":1,"l":1,"c":1,"v":1}]}"#,
        );
        assert_eq!(code, "invalid_json");
        assert_eq!(field.as_deref(), Some("candles[0].o"));
    }

    #[test]
    fn unknown_fields_symbol_timeframe_and_sizes_are_refused() {
        let (_, field, _) =
            refusal(r#"{"symbol":"BTCUSDT","timeframe":"1m","candles":[],"extra":1}"#);
        assert_eq!(field.as_deref(), Some("extra"));
        let (_, field, _) = refusal(r#"{"symbol":"B","timeframe":"1m","candles":[]}"#);
        assert_eq!(field.as_deref(), Some("symbol"));
        let (_, field, _) = refusal(r#"{"symbol":"BTCUSDT","timeframe":"7m","candles":[]}"#);
        assert_eq!(field.as_deref(), Some("timeframe"));
        let (_, field, _) = refusal(r#"{"symbol":"BTCUSDT","timeframe":"1m","candles":[]}"#);
        assert_eq!(field.as_deref(), Some("candles"));
        let one = r#"{"t":0,"o":1,"h":1,"l":1,"c":1,"v":1}"#;
        let four = format!(
            r#"{{"symbol":"BTCUSDT","timeframe":"1m","candles":[{one},{one},{one},{one}]}}"#
        );
        let (_, field, _) = refusal(&four);
        assert_eq!(field.as_deref(), Some("candles"));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        for bytes in [
            &b""[..],
            b"\xff\xfe",
            b"[]",
            b"{",
            b"null",
            b"{\"symbol\":1e999}",
        ] {
            assert!(parse_candle_batch(bytes, 3, FutureLimit::NONE).is_err());
        }
    }
}

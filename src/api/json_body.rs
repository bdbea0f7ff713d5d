//! Request bodies as JSON, refused with the path of the first offending field.

use super::error::ApiError;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use warp::{Filter, Rejection};

/// The body, at most `limit_bytes` (413 beyond). A request without any body (no
/// Content-Length and no Transfer-Encoding, as `curl -X POST` sends it) reads as empty; a
/// chunked body without a length gets 411, so nothing is read unbounded.
pub fn optional_body(
    limit_bytes: u64,
) -> impl Filter<Extract = (Bytes,), Error = Rejection> + Clone {
    let without_body = warp::header::optional::<String>("content-length")
        .and(warp::header::optional::<String>("transfer-encoding"))
        .and_then(
            |length: Option<String>, encoding: Option<String>| async move {
                match (length, encoding) {
                    (None, None) => Ok(Bytes::new()),
                    _ => Err(warp::reject()),
                }
            },
        );
    let with_length = warp::body::content_length_limit(limit_bytes).and(warp::body::bytes());
    without_body.or(with_length).unify()
}

/// Parses `bytes` as `T`; `what` names the expected document in the error message.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let field = if path == "." { None } else { Some(path) };
        ApiError::Invalid {
            code: "invalid_json",
            message: format!("the body is not a valid {what}: {}", error.inner()),
            field,
            details: Vec::new(),
        }
    })
}

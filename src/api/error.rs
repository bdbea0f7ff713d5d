//! The one place where errors become HTTP answers:
//! `{"error":{"code":"...","message":"...","field":...}}` with the matching status.

use crate::auth::AuthError;
use cryptolens_actors::actors::portfolio::PortfolioError;
use cryptolens_actors::actors::EngineError;
use cryptolens_actors::domain::ledger::LedgerError;
use cryptolens_actors::domain::DomainError;
use serde::Serialize;
use std::convert::Infallible;
use warp::http::{header, HeaderValue, StatusCode};
use warp::reply::Response;
use warp::{Rejection, Reply};

/// One refused field, e.g. `candles[3].h`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Errors of the API layer.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Input refused at the edge; `details` lists the first offending fields.
    #[error("{message}")]
    Invalid {
        code: &'static str,
        message: String,
        field: Option<String>,
        details: Vec<FieldError>,
    },
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Portfolio(#[from] PortfolioError),
    #[error("credentials are missing or wrong")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("too many requests; retry in {retry_after_s} s")]
    RateLimited { retry_after_s: u64 },
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// A bug of ours, not the caller's.
    #[error("internal error: {0}")]
    Internal(String),
}

#[derive(Serialize)]
struct ErrorEnvelope<'a> {
    error: ErrorBody<'a>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: String,
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    details: &'a [FieldError],
}

impl ApiError {
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::Invalid {
            code: "invalid_input",
            message: message.into(),
            field: Some(field.into()),
            details: Vec::new(),
        }
    }

    fn status_and_code(&self) -> (StatusCode, &str) {
        match self {
            ApiError::Invalid { code, .. } => (StatusCode::BAD_REQUEST, code),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Engine(error) => engine_status(error),
            ApiError::Portfolio(error) => portfolio_status(error),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::Auth(error) => auth_status(error),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    /// Seconds the client should wait before retrying, if it should.
    fn retry_after_s(&self, default_s: u64) -> Option<u64> {
        match self {
            ApiError::RateLimited { retry_after_s }
            | ApiError::Auth(AuthError::Locked { retry_after_s }) => Some(*retry_after_s),
            ApiError::Auth(AuthError::Hash(crate::auth::password::HashError::Busy)) => Some(1),
            _ if self.is_retryable() => Some(default_s),
            _ => None,
        }
    }

    /// Whether the client should retry later, and so gets a Retry-After header.
    fn is_retryable(&self) -> bool {
        matches!(
            self,
            ApiError::Engine(
                EngineError::MailboxFull { .. }
                    | EngineError::ShuttingDown
                    | EngineError::Restoring
                    | EngineError::Timeout { .. }
            ) | ApiError::Portfolio(PortfolioError::Unavailable | PortfolioError::Durability(_))
        )
    }

    /// The JSON error document, also used for WebSocket answers.
    pub fn to_json(&self) -> serde_json::Value {
        let (_, code) = self.status_and_code();
        let (field, details) = match self {
            ApiError::Invalid { field, details, .. } => (field.as_deref(), details.as_slice()),
            ApiError::Engine(EngineError::Domain(DomainError::InvalidSymbol { .. })) => {
                (Some("symbol"), &[][..])
            }
            ApiError::Portfolio(PortfolioError::Refused(refusal)) => (refusal.field(), &[][..]),
            ApiError::Auth(AuthError::Invalid { field, .. }) => (Some(*field), &[][..]),
            _ => (None, &[][..]),
        };
        let envelope = ErrorEnvelope {
            error: ErrorBody {
                code,
                message: self.to_string(),
                field,
                details,
            },
        };
        serde_json::to_value(envelope).unwrap_or_default()
    }

    pub fn status(&self) -> StatusCode {
        self.status_and_code().0
    }

    pub fn into_response(self, retry_after_s: u64) -> Response {
        self.to_response(retry_after_s)
    }

    /// The error document with its status and headers; `retry_after_s` is the Retry-After
    /// of retryable engine errors (rate limits and lockouts carry their own).
    pub fn to_response(&self, retry_after_s: u64) -> Response {
        let mut response =
            warp::reply::with_status(warp::reply::json(&self.to_json()), self.status())
                .into_response();
        if let Some(retry_after_s) = self.retry_after_s(retry_after_s) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
        }
        if self.status() == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

fn engine_status(error: &EngineError) -> (StatusCode, &'static str) {
    match error {
        EngineError::MailboxFull { .. } => (StatusCode::SERVICE_UNAVAILABLE, "mailbox_full"),
        EngineError::ShuttingDown => (StatusCode::SERVICE_UNAVAILABLE, "shutting_down"),
        EngineError::Restoring => (StatusCode::SERVICE_UNAVAILABLE, "restoring"),
        EngineError::Store(_) => (StatusCode::INTERNAL_SERVER_ERROR, "store_failed"),
        EngineError::SymbolLimit(_) => (StatusCode::SERVICE_UNAVAILABLE, "symbol_limit"),
        EngineError::Timeout { .. } => (StatusCode::GATEWAY_TIMEOUT, "actor_timeout"),
        EngineError::ActorStopped(_) | EngineError::Startup(_) => {
            (StatusCode::INTERNAL_SERVER_ERROR, "actor_unavailable")
        }
        EngineError::UnknownSymbol(_) => (StatusCode::NOT_FOUND, "unknown_symbol"),
        EngineError::TimeframeUnavailable { .. } => {
            (StatusCode::NOT_FOUND, "timeframe_unavailable")
        }
        EngineError::TimeframeMismatch { .. } => (StatusCode::CONFLICT, "timeframe_mismatch"),
        EngineError::Domain(_) => (StatusCode::BAD_REQUEST, "invalid_input"),
    }
}

fn auth_status(error: &AuthError) -> (StatusCode, &'static str) {
    match error {
        AuthError::InvalidCredentials => (StatusCode::UNAUTHORIZED, "unauthorized"),
        AuthError::Locked { .. } => (StatusCode::UNAUTHORIZED, "account_locked"),
        AuthError::Invalid { .. } => (StatusCode::BAD_REQUEST, "invalid_input"),
        AuthError::UnknownUser(_) => (StatusCode::NOT_FOUND, "unknown_user"),
        AuthError::UserExists(_) => (StatusCode::CONFLICT, "user_exists"),
        AuthError::UnknownKey(_) => (StatusCode::NOT_FOUND, "unknown_key"),
        AuthError::Hash(crate::auth::password::HashError::Busy) => {
            (StatusCode::SERVICE_UNAVAILABLE, "auth_busy")
        }
        AuthError::Hash(_) | AuthError::Store(_) | AuthError::Envelope(_) | AuthError::Task(_) => {
            (StatusCode::INTERNAL_SERVER_ERROR, "auth_store_failed")
        }
    }
}

fn portfolio_status(error: &PortfolioError) -> (StatusCode, &'static str) {
    match error {
        PortfolioError::Refused(refusal) => match refusal {
            LedgerError::Invalid { .. } => (StatusCode::BAD_REQUEST, "invalid_input"),
            LedgerError::UnknownTrade(_) => (StatusCode::NOT_FOUND, "unknown_trade"),
            LedgerError::TradeClosed(_) => (StatusCode::CONFLICT, "trade_closed"),
            LedgerError::InsufficientCash { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "insufficient_cash")
            }
            LedgerError::RiskLimit { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "risk_limit"),
            LedgerError::Overflow(_) => (StatusCode::UNPROCESSABLE_ENTITY, "overflow"),
        },
        PortfolioError::Unknown(_) => (StatusCode::NOT_FOUND, "unknown_portfolio"),
        PortfolioError::KeyReused => (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused"),
        PortfolioError::Durability(_) | PortfolioError::Unavailable => {
            (StatusCode::SERVICE_UNAVAILABLE, "portfolio_unavailable")
        }
        PortfolioError::Replay { .. } => (StatusCode::INTERNAL_SERVER_ERROR, "ledger_damaged"),
    }
}

/// A request the gate turned away (no or wrong credentials, wrong role, rate limited).
#[derive(Debug)]
pub struct Denied(pub ApiError);

impl warp::reject::Reject for Denied {}

/// Turns warp's own rejections (no route, wrong method, body too large, ...) into the same
/// JSON error document.
pub async fn recover(rejection: Rejection) -> Result<Response, Infallible> {
    if let Some(Denied(error)) = rejection.find::<Denied>() {
        return Ok(error.to_response(1));
    }
    let (status, code, message) = if rejection.is_not_found() {
        (
            StatusCode::NOT_FOUND,
            "not_found",
            "no such route".to_owned(),
        )
    } else if let Some(error) = rejection.find::<warp::reject::PayloadTooLarge>() {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("{error}: the request body exceeds the configured limit"),
        )
    } else if rejection.find::<warp::reject::LengthRequired>().is_some() {
        (
            StatusCode::LENGTH_REQUIRED,
            "length_required",
            "a Content-Length header is required".to_owned(),
        )
    } else if rejection.find::<warp::reject::MethodNotAllowed>().is_some() {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this route does not accept that method".to_owned(),
        )
    } else if let Some(error) = rejection.find::<warp::cors::CorsForbidden>() {
        (StatusCode::FORBIDDEN, "cors_forbidden", error.to_string())
    } else if let Some(error) = rejection.find::<warp::reject::InvalidHeader>() {
        (StatusCode::BAD_REQUEST, "invalid_header", error.to_string())
    } else if let Some(error) = rejection.find::<warp::reject::MissingHeader>() {
        (StatusCode::BAD_REQUEST, "missing_header", error.to_string())
    } else {
        tracing::error!(?rejection, "unhandled rejection");
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error".to_owned(),
        )
    };
    let body = serde_json::json!({"error": {"code": code, "message": message, "field": null}});
    Ok(warp::reply::with_status(warp::reply::json(&body), status).into_response())
}

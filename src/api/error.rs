//! The one place where errors become HTTP answers:
//! `{"error":{"code":"...","message":"...","field":...}}` with the matching status.

use crate::auth::AuthError;
use cryptolens_actors::actors::notifier::NotifierError;
use cryptolens_actors::actors::portfolio::{DurabilityError, PortfolioError};
use cryptolens_actors::actors::EngineError;
use cryptolens_actors::domain::ledger::LedgerError;
use cryptolens_actors::domain::DomainError;
use cryptolens_actors::store::StoreError;
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
    /// The request conflicts with the state (`code` says how): 409.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
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
    #[error(transparent)]
    Feed(#[from] crate::feed::FeedRequestError),
    #[error(transparent)]
    Notifier(#[from] cryptolens_actors::actors::notifier::NotifierError),
    /// An answer that could not be rendered: a bug of ours, not the caller's.
    #[error("internal error: {0}")]
    Render(#[source] serde_json::Error),
    /// A CSV export that could not be written: a bug of ours too.
    #[error("internal error: {0}")]
    Export(#[from] csv::Error),
    /// Turned away by warp before any handler ran (no route, wrong method, body too
    /// large, ...): `code` names which.
    #[error("{message}")]
    Rejected {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
}

/// How long a client should wait before retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    /// The error knows: a rate limit's or lockout's remaining time.
    Seconds(u64),
    /// The engine or a queue is busy, starting or stopping: the configured back-off
    /// (`ingest.retry_after_s`) applies.
    Backoff,
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

const OUT_OF_RANGE: &str = "out_of_range";

impl ApiError {
    /// A plain request to a route that speaks WebSocket: 426 naming what is missing.
    pub fn upgrade_required() -> ApiError {
        ApiError::Rejected {
            status: StatusCode::UPGRADE_REQUIRED,
            code: "upgrade_required",
            message: "this route speaks WebSocket: send `Connection: Upgrade` and \
                      `Upgrade: websocket`"
                .into(),
        }
    }

    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::Invalid {
            code: "invalid_input",
            message: message.into(),
            field: Some(field.into()),
            details: Vec::new(),
        }
    }

    /// A well-formed amount beyond its bound (a price above 1e12, a notional above 1e15):
    /// 422 `out_of_range`, naming the field.
    pub fn out_of_range(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::Invalid {
            code: OUT_OF_RANGE,
            message: message.into(),
            field: Some(field.into()),
            details: Vec::new(),
        }
    }

    fn status_and_code(&self) -> (StatusCode, &str) {
        if self.is_disk_full() {
            return (StatusCode::INSUFFICIENT_STORAGE, "insufficient_storage");
        }
        match self {
            ApiError::Invalid {
                code: OUT_OF_RANGE, ..
            } => (StatusCode::UNPROCESSABLE_ENTITY, OUT_OF_RANGE),
            ApiError::Invalid { code, .. } => (StatusCode::BAD_REQUEST, code),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict { code, .. } => (StatusCode::CONFLICT, code),
            ApiError::Engine(error) => engine_status(error),
            ApiError::Portfolio(error) => portfolio_status(error),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::Auth(error) => auth_status(error),
            ApiError::Feed(error) => feed_status(error),
            ApiError::Notifier(error) => notifier_status(error),
            ApiError::Render(_) | ApiError::Export(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
            ApiError::Rejected { status, code, .. } => (*status, code),
        }
    }

    /// When the client should retry, if it should: the answer carries it as Retry-After.
    pub fn retry_after(&self) -> Option<RetryAfter> {
        match self {
            ApiError::RateLimited { retry_after_s }
            | ApiError::Auth(AuthError::Locked { retry_after_s }) => {
                Some(RetryAfter::Seconds(*retry_after_s))
            }
            ApiError::Auth(AuthError::Hash(crate::auth::password::HashError::Busy)) => {
                Some(RetryAfter::Backoff)
            }
            ApiError::Engine(error) if error.is_transient() => Some(RetryAfter::Backoff),
            ApiError::Feed(crate::feed::FeedRequestError::Busy(_)) => Some(RetryAfter::Backoff),
            ApiError::Notifier(NotifierError::OutboxFull { .. } | NotifierError::Stopped) => {
                Some(RetryAfter::Backoff)
            }
            ApiError::Portfolio(PortfolioError::Unavailable | PortfolioError::Durability(_)) => {
                Some(RetryAfter::Backoff)
            }
            _ => None,
        }
    }

    /// A write refused because the store's disk is below its reserve.
    fn is_disk_full(&self) -> bool {
        let store = match self {
            ApiError::Portfolio(PortfolioError::Durability(DurabilityError::Store(error))) => {
                error.as_ref()
            }
            ApiError::Auth(AuthError::Store(error))
            | ApiError::Engine(EngineError::Store(error))
            | ApiError::Notifier(NotifierError::Store(error)) => error,
            _ => return false,
        };
        matches!(store, StoreError::DiskFull { .. })
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
            ApiError::Portfolio(PortfolioError::KeyReused) => (Some("Idempotency-Key"), &[][..]),
            ApiError::Portfolio(PortfolioError::StrategyRefused(_)) => (Some("spec"), &[][..]),
            ApiError::Auth(AuthError::Invalid { field, .. }) => (Some(*field), &[][..]),
            ApiError::Feed(crate::feed::FeedRequestError::Feed(
                crate::feed::error::FeedError::UnknownInstrument { .. },
            )) => (Some("symbol"), &[][..]),
            ApiError::Notifier(NotifierError::AlertChannel(_)) => (Some("channel_ids"), &[][..]),
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

    pub fn into_response(self, backoff_s: u64) -> Response {
        self.to_response(backoff_s)
    }

    /// The error document with its status and headers; `backoff_s` is the Retry-After of
    /// errors that leave it to the configured back-off ([`RetryAfter::Backoff`]).
    pub fn to_response(&self, backoff_s: u64) -> Response {
        let mut response =
            warp::reply::with_status(warp::reply::json(&self.to_json()), self.status())
                .into_response();
        let retry_after_s = self.retry_after().map(|retry_after| match retry_after {
            RetryAfter::Seconds(seconds) => seconds,
            RetryAfter::Backoff => backoff_s,
        });
        if let Some(retry_after_s) = retry_after_s {
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
        EngineError::Store(_)
        | EngineError::PortfolioRestore(_)
        | EngineError::PersistenceStopped(_) => (StatusCode::INTERNAL_SERVER_ERROR, "store_failed"),
        EngineError::SymbolLimit(_) => (StatusCode::SERVICE_UNAVAILABLE, "symbol_limit"),
        EngineError::Timeout { .. } => (StatusCode::GATEWAY_TIMEOUT, "actor_timeout"),
        EngineError::ActorStopped(_)
        | EngineError::Startup(_)
        | EngineError::InvalidAnalysis(_)
        | EngineError::SystemThread(_) => (StatusCode::INTERNAL_SERVER_ERROR, "actor_unavailable"),
        EngineError::UnknownSymbol(_) => (StatusCode::NOT_FOUND, "unknown_symbol"),
        EngineError::TimeframeUnavailable { .. } => {
            (StatusCode::NOT_FOUND, "timeframe_unavailable")
        }
        EngineError::TimeframeMismatch { .. } => (StatusCode::CONFLICT, "timeframe_mismatch"),
        EngineError::Domain(_) => (StatusCode::BAD_REQUEST, "invalid_input"),
    }
}

fn feed_status(error: &crate::feed::FeedRequestError) -> (StatusCode, &'static str) {
    use crate::feed::error::FeedError;
    use crate::feed::FeedRequestError;
    match error {
        FeedRequestError::NotFollowed(_) => (StatusCode::NOT_FOUND, "not_followed"),
        FeedRequestError::AlreadyFollowed(_) => (StatusCode::CONFLICT, "already_followed"),
        FeedRequestError::BackfillRunning(_) => (StatusCode::CONFLICT, "backfill_running"),
        FeedRequestError::Busy(_) => (StatusCode::SERVICE_UNAVAILABLE, "feed_busy"),
        FeedRequestError::Feed(FeedError::UnknownInstrument { .. }) => {
            (StatusCode::NOT_FOUND, "unknown_instrument")
        }
        FeedRequestError::Feed(FeedError::ShuttingDown) => {
            (StatusCode::SERVICE_UNAVAILABLE, "shutting_down")
        }
        FeedRequestError::Feed(FeedError::Engine(error)) => engine_status(error),
        FeedRequestError::Feed(_) => (StatusCode::BAD_GATEWAY, "exchange_failed"),
    }
}

fn notifier_status(error: &NotifierError) -> (StatusCode, &'static str) {
    match error {
        NotifierError::NoChannel(_) => (StatusCode::NOT_FOUND, "unknown_channel"),
        NotifierError::TooManyChannels { .. } => (StatusCode::CONFLICT, "channel_limit"),
        NotifierError::Disabled => (StatusCode::CONFLICT, "channel_disabled"),
        NotifierError::NoAlert(_) => (StatusCode::NOT_FOUND, "unknown_alert"),
        NotifierError::TooManyAlerts { .. } => (StatusCode::CONFLICT, "alert_limit"),
        NotifierError::AlertChannel(_) => (StatusCode::BAD_REQUEST, "invalid_input"),
        NotifierError::OutboxFull { .. } | NotifierError::Stopped => {
            (StatusCode::SERVICE_UNAVAILABLE, "notifier_busy")
        }
        NotifierError::Store(_) => (StatusCode::INTERNAL_SERVER_ERROR, "store_failed"),
    }
}

fn auth_status(error: &AuthError) -> (StatusCode, &'static str) {
    match error {
        AuthError::InvalidCredentials => (StatusCode::UNAUTHORIZED, "unauthorized"),
        AuthError::Locked { .. } => (StatusCode::UNAUTHORIZED, "account_locked"),
        AuthError::LastAdmin(_) => (StatusCode::CONFLICT, "last_admin"),
        AuthError::Invalid { .. } => (StatusCode::BAD_REQUEST, "invalid_input"),
        AuthError::UnknownUser(_) => (StatusCode::NOT_FOUND, "unknown_user"),
        AuthError::UserExists(_) => (StatusCode::CONFLICT, "user_exists"),
        AuthError::UnknownKey(_) => (StatusCode::NOT_FOUND, "unknown_key"),
        AuthError::Hash(crate::auth::password::HashError::Busy) => {
            (StatusCode::SERVICE_UNAVAILABLE, "auth_busy")
        }
        AuthError::SecondFactorRequired => (StatusCode::UNAUTHORIZED, "totp_required"),
        AuthError::SecondFactorWrong => (StatusCode::UNAUTHORIZED, "totp_invalid"),
        AuthError::SecondFactorDue => (StatusCode::FORBIDDEN, "totp_enrolment_required"),
        AuthError::TotpEnabled => (StatusCode::CONFLICT, "totp_enabled"),
        AuthError::TotpNotPending => (StatusCode::CONFLICT, "totp_not_pending"),
        AuthError::TotpNotEnabled => (StatusCode::CONFLICT, "totp_not_enabled"),
        AuthError::Hash(_)
        | AuthError::Store(_)
        | AuthError::Envelope(_)
        | AuthError::Task(_)
        | AuthError::Sealing(_)
        | AuthError::SecretFile(_) => (StatusCode::INTERNAL_SERVER_ERROR, "auth_store_failed"),
    }
}

fn portfolio_status(error: &PortfolioError) -> (StatusCode, &'static str) {
    match error {
        PortfolioError::Refused(refusal) => match refusal {
            LedgerError::Invalid { .. } => (StatusCode::BAD_REQUEST, "invalid_input"),
            LedgerError::OutOfRange { .. } => (StatusCode::UNPROCESSABLE_ENTITY, OUT_OF_RANGE),
            LedgerError::UnknownTrade(_) => (StatusCode::NOT_FOUND, "unknown_trade"),
            LedgerError::TradeClosed(_) => (StatusCode::CONFLICT, "trade_closed"),
            LedgerError::NotPending(_) => (StatusCode::CONFLICT, "not_pending"),
            LedgerError::InsufficientCash { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "insufficient_cash")
            }
            LedgerError::RiskLimit { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "risk_limit"),
            LedgerError::Overflow(_) => (StatusCode::UNPROCESSABLE_ENTITY, "overflow"),
        },
        PortfolioError::Unknown(_) => (StatusCode::NOT_FOUND, "unknown_portfolio"),
        PortfolioError::KeyReused => (StatusCode::CONFLICT, "idempotency_key_reused"),
        PortfolioError::LimitReached { .. } => (StatusCode::CONFLICT, "portfolio_limit"),
        PortfolioError::ReadOnly { .. } => (StatusCode::CONFLICT, "portfolio_read_only"),
        PortfolioError::Durability(_) | PortfolioError::Unavailable => {
            (StatusCode::SERVICE_UNAVAILABLE, "portfolio_unavailable")
        }
        PortfolioError::Replay { .. } => (StatusCode::INTERNAL_SERVER_ERROR, "ledger_damaged"),
        PortfolioError::NoStrategy(_) => (StatusCode::NOT_FOUND, "no_strategy"),
        PortfolioError::StrategyRefused(_) => (StatusCode::BAD_REQUEST, "invalid_input"),
    }
}

/// A request the gate turned away (no or wrong credentials, wrong role, rate limited).
#[derive(Debug)]
pub struct Denied(pub ApiError);

impl warp::reject::Reject for Denied {}

/// The one place a rejection becomes an answer: a request the gate turned away renders its
/// error, every warp rejection (no route, wrong method, body too large, ...) becomes an
/// [`ApiError::Rejected`] rendered the same way. `backoff_s` is the configured back-off.
pub fn recover(
    backoff_s: u64,
) -> impl Fn(Rejection) -> std::future::Ready<Result<Response, Infallible>> + Clone {
    move |rejection: Rejection| {
        let response = match rejection.find::<Denied>() {
            Some(Denied(error)) => error.to_response(backoff_s),
            None => rejected(&rejection).to_response(backoff_s),
        };
        std::future::ready(Ok(response))
    }
}

fn rejected(rejection: &Rejection) -> ApiError {
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
    ApiError::Rejected {
        status,
        code,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cryptolens_actors::domain::market::Symbol;
    use futures_util::FutureExt;
    use std::error::Error;

    fn retry_after_header(response: &Response) -> Option<&str> {
        response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
    }

    fn mailbox_full() -> ApiError {
        ApiError::Engine(EngineError::MailboxFull {
            symbol: Symbol::parse("BTCUSDT").unwrap(),
            capacity: 4,
        })
    }

    #[test]
    fn retry_after_comes_from_the_error() {
        assert_eq!(
            ApiError::RateLimited { retry_after_s: 7 }.retry_after(),
            Some(RetryAfter::Seconds(7))
        );
        let locked = ApiError::Auth(AuthError::Locked { retry_after_s: 900 });
        assert_eq!(locked.retry_after(), Some(RetryAfter::Seconds(900)));
        assert_eq!(mailbox_full().retry_after(), Some(RetryAfter::Backoff));
        let unavailable = ApiError::Portfolio(PortfolioError::Unavailable);
        assert_eq!(unavailable.retry_after(), Some(RetryAfter::Backoff));
        assert_eq!(ApiError::NotFound("x".into()).retry_after(), None);
        assert_eq!(ApiError::Unauthorized.retry_after(), None);
    }

    #[test]
    fn the_back_off_applies_only_where_the_error_leaves_it_open() {
        let busy = mailbox_full().to_response(3);
        assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(retry_after_header(&busy), Some("3"));
        let limited = ApiError::RateLimited { retry_after_s: 7 }.to_response(3);
        assert_eq!(retry_after_header(&limited), Some("7"));
        let missing = ApiError::NotFound("no such thing".into()).to_response(3);
        assert_eq!(retry_after_header(&missing), None);
        let unauthorized = ApiError::Unauthorized.into_response(3);
        assert!(unauthorized
            .headers()
            .contains_key(header::WWW_AUTHENTICATE));
    }

    #[test]
    fn recover_renders_rejections_and_denials_as_the_error_document() {
        let recover = recover(5);
        let no_route = recover(warp::reject::not_found())
            .now_or_never()
            .and_then(Result::ok);
        let no_route = no_route.map(|response| response.status());
        assert_eq!(no_route, Some(StatusCode::NOT_FOUND));
        let denied = recover(warp::reject::custom(Denied(mailbox_full())))
            .now_or_never()
            .and_then(Result::ok);
        let denied = denied.as_ref().map(retry_after_header);
        assert_eq!(denied, Some(Some("5")));
        let document = rejected(&warp::reject::not_found()).to_json();
        assert_eq!(document["error"]["code"], "not_found");
        assert_eq!(document["error"]["message"], "no such route");
        assert!(document["error"]["field"].is_null());
    }

    #[test]
    fn a_render_failure_keeps_its_source() {
        let source = serde_json::from_str::<u8>("x").unwrap_err();
        let error = ApiError::Render(source);
        assert!(error.source().is_some());
        assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(error.to_json()["error"]["code"], "internal");
    }
}

//! The warp API: thin filters and handlers over the engine.
//!
//! Each module exposes a `routes(&AppState)` filter that yields a finished `Response`, or,
//! for routes that act for the caller, an [`Answer`] that still needs the caller. The gate
//! (`gate.rs`, over the table in `access.rs`) runs before all of them: a request is
//! authenticated, authorised and rate limited before any handler sees it, and the caller it
//! identified is handed to the answer (`answer.rs`), so no handler identifies it again.

pub mod access;
mod answer;
mod backtests;
mod backup;
pub mod browser_session;
mod candles;
mod dashboard;
pub mod error;
mod gate;
mod health;
mod indicators;
mod instrument;
mod jobs;
pub mod json_body;
mod keys;
mod matrix;
pub mod metrics;
mod notify;
pub mod openapi;
#[cfg(test)]
mod parser_fuzz_tests;
mod patterns;
pub mod payload;
mod portfolios;
mod query;
pub mod rate_limit;
mod sessions;
pub(crate) mod signals;
mod stream;
mod symbols;
mod totp;
mod users;
mod ws;

use answer::Answer;
pub use gate::API_KEY_HEADER;
pub use stream::{run_hub, StreamHub, StreamSettings};
pub use users::users_json;

use crate::auth::Auth;
use crate::config::{IngestSettings, ServerSettings};
use cryptolens_actors::actors::{AnalysisView, Engine};
use cryptolens_actors::domain::market::Symbol;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::watch;
use warp::reply::Response;
use warp::Filter;

/// What every handler may use, cloned into each request.
#[derive(Clone)]
pub struct AppState {
    pub engine: Engine,
    /// The server's one wall clock (the engine's and auth's too); handlers read "now" here.
    pub clock: cryptolens_actors::clock::SharedClock,
    pub ingest: IngestSettings,
    pub body_limit_bytes: u64,
    pub ws_message_limit_bytes: usize,
    /// True once start-up work (demo load, later: restore) is done and until shutdown begins.
    pub ready: Arc<AtomicBool>,
    /// Flips to true when shutdown begins; long-lived WebSocket sessions watch it.
    pub shutting_down: watch::Receiver<bool>,
    pub metrics: Arc<metrics::Metrics>,
    /// The bearer token that may read `/metrics` and `/api/actors`; empty: none.
    pub metrics_token: Arc<str>,
    pub auth: Auth,
    pub limits: Arc<rate_limit::RateLimits>,
    /// Requests without credentials may use viewer routes (`auth.anonymous_viewer`).
    pub anonymous_viewer: bool,
    /// How paper orders fill (`[trading]`).
    pub trading: Arc<crate::trading_settings::TradingSettings>,
    /// `[analysis.levels]`: each signal's targets are shown in R after these costs.
    pub level_rules: cryptolens_actors::domain::analysis::LevelRules,
    /// Each signal's probability of target 1 before its stop (`config/calibration.json`).
    pub calibration: Arc<cryptolens_actors::domain::study::calibration::CalibrationTable>,
    /// The exchange feed: followed symbols, their state and staleness.
    pub feed: crate::feed::FeedHandle,
    /// The store, for its size on disk.
    pub store: Arc<cryptolens_actors::store::Store>,
    /// The dashboard's files.
    pub web: crate::web::WebAssets,
    /// Clients come over HTTPS: session cookies are `Secure`.
    pub secure_cookies: bool,
    /// Live events for `/api/stream`, rendered once for every client.
    pub stream: stream::StreamHub,
    /// Backtests run in the background for `/api/backtests`.
    pub backtests: crate::backtest::BacktestJobs,
    /// Learned scores for `/api/signals` (`[learned_scores]`; None while off or not yet run).
    pub learned: crate::backtest::learned::Published,
    /// Signals to users' channels (`/api/notify`).
    pub notifier: cryptolens_actors::actors::notifier::NotifierHandle,
    /// `notify.allow_private_destinations`: channel URLs may name internal addresses.
    pub notify_allow_private: bool,
}

impl AppState {
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire) && self.engine.is_accepting()
    }
}

/// Every route, with warp's own rejections mapped to the JSON error document; cross-origin
/// requests only from the configured origins; HSTS when clients come over HTTPS.
/// The client's address the listener put in the request (None when served otherwise).
pub fn peer_address(
) -> impl Filter<Extract = (Option<std::net::SocketAddr>,), Error = Infallible> + Clone {
    warp::ext::optional::<crate::listener::PeerAddress>()
        .map(|peer: Option<crate::listener::PeerAddress>| peer.map(|peer| peer.0))
}

pub fn routes(
    state: &AppState,
    server: &ServerSettings,
) -> impl Filter<Extract = (Response,), Error = Infallible> + Clone {
    let table = if server.cors_allowed_origins.is_empty() {
        route_table(state).boxed()
    } else {
        route_table(state)
            .with(cors(&server.cors_allowed_origins))
            .map(warp::Reply::into_response)
            .boxed()
    };
    let table = table
        .recover(error::recover(state.ingest.retry_after_s))
        .unify();
    instrument::instrument(
        table,
        Arc::clone(&state.metrics),
        server.tls_terminated_by_proxy,
    )
}

/// Browsers on `origins` may call the API with credentials in headers (never cookies).
fn cors(origins: &[String]) -> warp::cors::Builder {
    warp::cors()
        .allow_origins(origins.iter().map(String::as_str))
        .allow_methods(["GET", "POST", "PATCH", "DELETE"])
        .allow_headers([
            "authorization",
            "content-type",
            "idempotency-key",
            "x-api-key",
            "x-request-id",
        ])
        .expose_headers(["retry-after", "x-request-id"])
        .max_age(600)
}

fn route_table(state: &AppState) -> impl Filter<Extract = (Response,), Error = Infallible> + Clone {
    gate::gate(state)
        .and(handlers(state))
        .and_then(|admitted: gate::Admitted, answer: Answer| answer.run(admitted))
        .recover(error::recover(state.ingest.retry_after_s))
        .unify()
}

/// Every handler; routes that act for the caller answer [`Answer::ForCaller`], the others
/// are [`Answer::Ready`] as they are.
fn handlers(state: &AppState) -> impl Filter<Extract = (Answer,), Error = warp::Rejection> + Clone {
    health::routes(state)
        .or(dashboard::routes(state))
        .unify()
        .or(symbols::routes(state))
        .unify()
        .or(candles::routes(state))
        .unify()
        .or(ws::routes(state))
        .unify()
        .or(patterns::routes(state))
        .unify()
        .or(signals::routes(state))
        .unify()
        .or(matrix::routes(state))
        .unify()
        .or(indicators::routes(state))
        .unify()
        .or(jobs::routes(state))
        .unify()
        .or(backup::routes(state))
        .unify()
        .map(Answer::Ready)
        // Boxed to keep the filter's type (and the compiler's work on it) bounded.
        .boxed()
        .or(stream::routes(state).boxed())
        .unify()
        .or(portfolios::routes(state))
        .unify()
        .or(backtests::routes(state))
        .unify()
        .or(notify::routes(state))
        .unify()
        .or(metrics::routes(state).map(Answer::Ready))
        .unify()
        .or(sessions::routes(state))
        .unify()
        .or(totp::routes(state))
        .unify()
        .or(keys::routes(state))
        .unify()
        .or(users::routes(state)
            .or(openapi::routes(state))
            .unify()
            .map(Answer::Ready))
        .unify()
}

fn with_state(state: &AppState) -> impl Filter<Extract = (AppState,), Error = Infallible> + Clone {
    let state = state.clone();
    warp::any().map(move || state.clone())
}

/// The published analysis of `symbol` (404 if unknown), or of every symbol.
fn views_for(
    symbol: Option<&Symbol>,
    state: &AppState,
) -> Result<Vec<Arc<AnalysisView>>, error::ApiError> {
    Ok(match symbol {
        Some(symbol) => vec![state.engine.analysis_view(symbol)?],
        None => state.engine.analysis_views(),
    })
}

/// A JSON answer with 201 Created, or the error document.
fn respond_created<T: serde::Serialize>(
    result: Result<T, error::ApiError>,
    state: &AppState,
) -> Response {
    use warp::Reply;
    match result {
        Ok(body) => {
            warp::reply::with_status(warp::reply::json(&body), warp::http::StatusCode::CREATED)
                .into_response()
        }
        Err(error) => error.into_response(state.ingest.retry_after_s),
    }
}

/// A JSON answer, or the error document for `error`.
fn respond<T: serde::Serialize>(result: Result<T, error::ApiError>, state: &AppState) -> Response {
    use warp::Reply;
    match result {
        Ok(body) => warp::reply::json(&body).into_response(),
        Err(error) => error.into_response(state.ingest.retry_after_s),
    }
}

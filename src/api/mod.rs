//! The warp API: thin filters and handlers over the engine.
//!
//! Each module exposes a `routes(&AppState)` filter that yields a finished `Response`, so a
//! later authentication filter can be `and`-ed onto each route without rewriting it.

mod candles;
pub mod error;
mod health;
mod indicators;
mod instrument;
mod json_body;
mod matrix;
pub mod metrics;
mod patterns;
pub mod payload;
mod portfolios;
mod query;
mod signals;
mod ws;

use crate::config::IngestSettings;
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
    pub ingest: IngestSettings,
    pub body_limit_bytes: u64,
    pub ws_message_limit_bytes: usize,
    /// True once start-up work (demo load, later: restore) is done and until shutdown begins.
    pub ready: Arc<AtomicBool>,
    /// Flips to true when shutdown begins; long-lived WebSocket sessions watch it.
    pub shutting_down: watch::Receiver<bool>,
    pub metrics: Arc<metrics::Metrics>,
    /// The bearer token that may read `/metrics`; empty: none.
    pub metrics_token: Arc<str>,
}

impl AppState {
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire) && self.engine.is_accepting()
    }
}

/// Every route, with warp's own rejections mapped to the JSON error document.
pub fn routes(state: &AppState) -> impl Filter<Extract = (Response,), Error = Infallible> + Clone {
    instrument::instrument(route_table(state), Arc::clone(&state.metrics))
}

fn route_table(state: &AppState) -> impl Filter<Extract = (Response,), Error = Infallible> + Clone {
    health::routes(state)
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
        .or(portfolios::routes(state))
        .unify()
        .or(metrics::routes(state))
        .unify()
        .recover(error::recover)
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

/// A JSON answer, or the error document for `error`.
fn respond<T: serde::Serialize>(result: Result<T, error::ApiError>, state: &AppState) -> Response {
    use warp::Reply;
    match result {
        Ok(body) => warp::reply::json(&body).into_response(),
        Err(error) => error.into_response(state.ingest.retry_after_s),
    }
}

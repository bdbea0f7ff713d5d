//! Backtests over the server's own candles: `POST /api/backtests` queues one (202 with its
//! id), `GET /api/backtests/{id}` follows its progress and gives its result, `GET
//! /api/backtests` lists the caller's (an admin's: everyone's). The work is in
//! [`crate::backtest::BacktestJobs`]; this layer only reads, checks and maps errors.

use super::error::ApiError;
use super::gate::{caller_route, no_input};
use super::json_body::{optional_body, parse_json};
use super::{respond, with_state, AppState};
use crate::auth::Principal;
use crate::backtest::{BacktestCliError, BacktestJobError, BacktestRequest};
use bytes::Bytes;
use serde_json::{json, Value};
use warp::http::StatusCode;
use warp::{Filter, Rejection, Reply};

pub const BODY_LIMIT_BYTES: u64 = 16 * 1024;

pub fn routes(
    state: &AppState,
) -> impl Filter<Extract = (super::answer::Answer,), Error = Rejection> + Clone {
    let submit = caller_route(
        warp::path!("api" / "backtests").and(warp::post()),
        optional_body(BODY_LIMIT_BYTES),
        state,
        |caller, body: Bytes, state| async move {
            match submit(&caller, &body, &state).await {
                Ok(view) => {
                    warp::reply::with_status(warp::reply::json(&view), StatusCode::ACCEPTED)
                        .into_response()
                }
                Err(error) => error.into_response(state.ingest.retry_after_s),
            }
        },
    );
    let list = caller_route(
        warp::path!("api" / "backtests").and(warp::get()),
        no_input(),
        state,
        |caller, (), state| async move {
            let jobs = state.backtests.list(visible_to(&caller));
            respond(Ok(json!({"count": jobs.len(), "backtests": jobs})), &state)
        },
    );
    let one = warp::path!("api" / "backtests" / String)
        .and(warp::get())
        .and(super::gate::refuse_anonymous())
        .and(with_state(state))
        .map(|id: String, state: AppState| {
            super::answer::Answer::for_caller(move |caller| async move {
                Ok(respond(view(&caller, &id, &state), &state))
            })
        });
    submit.or(list).unify().or(one).unify()
}

/// An admin sees every job; anyone else their own.
fn visible_to(caller: &Principal) -> Option<&str> {
    (!caller.is_admin()).then_some(&*caller.username)
}

async fn submit(caller: &Principal, body: &[u8], state: &AppState) -> Result<Value, ApiError> {
    let request: BacktestRequest = parse_json(body, "backtest request")?;
    state
        .backtests
        .submit(&caller.username, request, state.engine.clone())
        .await
        .map_err(api_error)
}

fn view(caller: &Principal, id: &str, state: &AppState) -> Result<Value, ApiError> {
    let id: u64 = id
        .parse()
        .map_err(|_| ApiError::invalid_field("id", "a backtest id is a whole number"))?;
    state
        .backtests
        .view(id, visible_to(caller))
        .ok_or_else(|| ApiError::NotFound(format!("backtest {id} does not exist")))
}

fn api_error(error: BacktestJobError) -> ApiError {
    match error {
        BacktestJobError::Invalid(BacktestCliError::Argument { flag, message }) => {
            ApiError::invalid_field(flag, message)
        }
        BacktestJobError::Invalid(other) => ApiError::invalid_field("spec", other.to_string()),
        BacktestJobError::Engine(error) => ApiError::Engine(error),
        BacktestJobError::Busy => ApiError::Rejected {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "backtests_busy",
            message: error.to_string(),
        },
        BacktestJobError::Store(error) => ApiError::Engine(error.into()),
    }
}

//! Two-factor enrolment for the caller: start (a new secret, its otpauth:// URI and recovery
//! codes, in this answer only), confirm with a first code, turn off with a code.

use super::answer::Answer;
use super::error::ApiError;
use super::gate::{caller_route, no_input};
use super::json_body::{optional_body, parse_json};
use super::{respond, respond_created, AppState};
use crate::auth::totp::SecondFactor;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};
use warp::{Filter, Rejection};

const BODY_LIMIT_BYTES: u64 = 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmTotp {
    code: String,
}

pub fn routes(state: &AppState) -> impl Filter<Extract = (Answer,), Error = Rejection> + Clone {
    let begin = caller_route(
        warp::path!("api" / "auth" / "totp").and(warp::post()),
        no_input(),
        state,
        |caller, (), state| async move {
            let enrolment = state.auth.begin_totp(&caller.username).await;
            respond_created(enrolment.map_err(ApiError::from), &state)
        },
    );
    let confirm = caller_route(
        warp::path!("api" / "auth" / "totp" / "confirm").and(warp::post()),
        optional_body(BODY_LIMIT_BYTES),
        state,
        |caller, body: Bytes, state| async move {
            let result = confirm(&caller.username, &body, &state).await;
            respond(result, &state)
        },
    );
    let disable = caller_route(
        warp::path!("api" / "auth" / "totp" / "disable").and(warp::post()),
        optional_body(BODY_LIMIT_BYTES),
        state,
        |caller, body: Bytes, state| async move {
            let result = disable(&caller.username, &body, &state).await;
            respond(result, &state)
        },
    );
    begin.or(confirm).unify().or(disable).unify()
}

async fn confirm(username: &str, body: &[u8], state: &AppState) -> Result<Value, ApiError> {
    let request: ConfirmTotp = parse_json(body, "TOTP confirmation")?;
    state.auth.confirm_totp(username, &request.code).await?;
    Ok(json!({"totp": "enabled"}))
}

async fn disable(username: &str, body: &[u8], state: &AppState) -> Result<Value, ApiError> {
    let factor: SecondFactor = parse_json(body, "TOTP removal")?;
    state.auth.disable_totp(username, &factor).await?;
    Ok(json!({"totp": "off"}))
}

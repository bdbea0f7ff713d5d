//! Login, logout, one's own password, and who one is.

use super::answer::Answer;
use super::error::ApiError;
use super::gate::{caller_route, no_input};
use super::json_body::{optional_body, parse_json};
use super::{respond, with_state, AppState};
use crate::auth::Principal;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};
use warp::{Filter, Rejection};

/// Credentials are small; anything larger is refused with 413 before it is read.
pub const BODY_LIMIT_BYTES: u64 = 4 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    pub current_password: String,
    pub new_password: String,
}

pub fn routes(state: &AppState) -> impl Filter<Extract = (Answer,), Error = Rejection> + Clone {
    let login = warp::path!("api" / "auth" / "login")
        .and(warp::post())
        .and(optional_body(BODY_LIMIT_BYTES))
        .and(with_state(state))
        .then(|body: Bytes, state: AppState| async move {
            Answer::Ready(respond(login(&body, &state).await, &state))
        });
    let logout = caller_route(
        warp::path!("api" / "auth" / "logout").and(warp::post()),
        no_input(),
        state,
        |caller, (), state| async move { respond(logout(&caller, &state).await, &state) },
    );
    let password = caller_route(
        warp::path!("api" / "auth" / "password").and(warp::post()),
        optional_body(BODY_LIMIT_BYTES),
        state,
        |caller, body: Bytes, state| async move {
            respond(change_password(&caller, &body, &state).await, &state)
        },
    );
    let me = caller_route(
        warp::path!("api" / "auth" / "me").and(warp::get()),
        no_input(),
        state,
        |caller, (), state| async move { respond(Ok(me(&caller)), &state) },
    );
    login.or(logout).unify().or(password).unify().or(me).unify()
}

async fn login(body: &[u8], state: &AppState) -> Result<Value, ApiError> {
    let request: Login = parse_json(body, "login")?;
    let session = state
        .auth
        .login(&request.username, request.password)
        .await
        .inspect_err(|_| state.metrics.count_auth_failure())?;
    Ok(json!({
        "token": session.token,
        "token_type": "Bearer",
        "username": session.username,
        "role": session.role,
        "expires_at": session.expires_ms,
    }))
}

async fn logout(caller: &Principal, state: &AppState) -> Result<Value, ApiError> {
    state.auth.logout(caller).await?;
    Ok(json!({"logged_out": true}))
}

/// Who the credentials act for.
fn me(caller: &Principal) -> Value {
    json!({"username": &*caller.username, "role": caller.role})
}

async fn change_password(
    caller: &Principal,
    body: &[u8],
    state: &AppState,
) -> Result<Value, ApiError> {
    let request: ChangePassword = parse_json(body, "password change")?;
    state
        .auth
        .change_password(caller, request.current_password, request.new_password)
        .await?;
    Ok(json!({"changed": true, "sessions_ended": true}))
}

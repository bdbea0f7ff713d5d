//! Login, logout, one's own password, and who one is.

use super::answer::Answer;
use super::error::ApiError;
use super::gate::refuse_anonymous;
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
    let logout = warp::path!("api" / "auth" / "logout")
        .and(warp::post())
        .and(refuse_anonymous())
        .and(with_state(state))
        .map(|state: AppState| {
            Answer::for_caller(move |caller| async move {
                Ok(respond(logout(&caller, &state).await, &state))
            })
        });
    let password = warp::path!("api" / "auth" / "password")
        .and(warp::post())
        .and(refuse_anonymous())
        .and(optional_body(BODY_LIMIT_BYTES))
        .and(with_state(state))
        .map(|body: Bytes, state: AppState| {
            Answer::for_caller(move |caller| async move {
                Ok(respond(
                    change_password(&caller, &body, &state).await,
                    &state,
                ))
            })
        });
    let me = warp::path!("api" / "auth" / "me")
        .and(warp::get())
        .and(refuse_anonymous())
        .and(with_state(state))
        .map(|state: AppState| {
            Answer::for_caller(move |caller| async move { Ok(respond(Ok(me(&caller)), &state)) })
        });
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

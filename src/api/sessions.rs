//! Login, logout, one's own password, and who one is.

use super::answer::Answer;
use super::browser_session::{clear_cookie, csrf_token, set_cookie};
use super::error::ApiError;
use super::gate::{caller_route, credentials, no_input, Credentials};
use super::json_body::{optional_body, parse_json};
use super::{respond, with_state, AppState};
use crate::auth::totp::SecondFactor;
use crate::auth::Principal;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};
use std::net::{IpAddr, SocketAddr};
use warp::http::header::SET_COOKIE;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

/// Credentials are small; anything larger is refused with 413 before it is read.
pub const BODY_LIMIT_BYTES: u64 = 4 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub username: String,
    pub password: String,
    /// A browser login: the token goes into an HttpOnly cookie, never into the answer.
    #[serde(default)]
    pub cookie: bool,
    /// The current code of a user with two-factor sign-in on.
    pub totp_code: Option<String>,
    /// Or one of their unused recovery codes instead.
    pub recovery_code: Option<String>,
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
        .and(crate::api::peer_address())
        .and(with_state(state))
        .then(
            |body: Bytes, peer: Option<SocketAddr>, state: AppState| async move {
                let address = peer.map(|peer| peer.ip());
                Answer::Ready(match login(&body, address, &state).await {
                    Ok(answer) => answer,
                    Err(error) => respond::<Value>(Err(error), &state),
                })
            },
        );
    let logout = caller_route(
        warp::path!("api" / "auth" / "logout").and(warp::post()),
        no_input(),
        state,
        |caller, (), state| async move {
            let mut response = respond(logout(&caller, &state).await, &state);
            if response.status().is_success() {
                response
                    .headers_mut()
                    .insert(SET_COOKIE, clear_cookie(state.secure_cookies));
            }
            response
        },
    );
    let password = caller_route(
        warp::path!("api" / "auth" / "password").and(warp::post()),
        optional_body(BODY_LIMIT_BYTES),
        state,
        |caller, body: Bytes, state| async move {
            respond(change_password(&caller, &body, &state).await, &state)
        },
    );
    login
        .or(logout)
        .unify()
        .or(password)
        .unify()
        .or(who_am_i(state))
        .unify()
}

/// `GET /api/auth/me` for a caller, and `GET /api/auth/session`, which the dashboard asks on
/// load: logged in or not, it is an answer, not an error.
fn who_am_i(state: &AppState) -> impl Filter<Extract = (Answer,), Error = Rejection> + Clone {
    let me = caller_route(
        warp::path!("api" / "auth" / "me").and(warp::get()),
        credentials(),
        state,
        |caller, credentials: Credentials, state| async move {
            let answer = me(&caller, credentials.cookie_session(), &state);
            respond(Ok(answer), &state)
        },
    );
    let session = warp::path!("api" / "auth" / "session")
        .and(warp::get())
        .and(credentials())
        .and(with_state(state))
        .map(|credentials: Credentials, state: AppState| {
            Answer::ForAnyone(Box::new(move |caller| {
                Box::pin(async move {
                    let answer =
                        session_answer(caller.as_ref(), credentials.cookie_session(), &state);
                    Ok(respond(Ok(answer), &state))
                })
            }))
        });
    me.or(session).unify()
}

async fn login(
    body: &[u8],
    address: Option<IpAddr>,
    state: &AppState,
) -> Result<Response, ApiError> {
    let request: Login = parse_json(body, "login")?;
    let factor = SecondFactor {
        totp_code: request.totp_code,
        recovery_code: request.recovery_code,
    };
    let session = state
        .auth
        .login(&request.username, request.password, &factor, address)
        .await
        .inspect_err(|_| state.metrics.count_auth_failure())?;
    if !request.cookie {
        let answer = json!({
            "token": session.token,
            "token_type": "Bearer",
            "username": session.username,
            "role": session.role,
            "expires_at": session.expires_ms,
        });
        return Ok(warp::reply::json(&answer).into_response());
    }
    let answer = json!({
        "username": session.username,
        "role": session.role,
        "expires_at": session.expires_ms,
        "csrf_token": csrf_token(&session.token),
        "totp_enrolment_due": state.auth.second_factor_due(&session.username, session.role),
    });
    let lasts_ms = session
        .expires_ms
        .saturating_sub(state.clock.now_ms())
        .max(0);
    let cookie = set_cookie(
        &session.token,
        u64::try_from(lasts_ms / 1000).unwrap_or(0),
        state.secure_cookies,
    )
    .ok_or_else(|| ApiError::Rejected {
        status: warp::http::StatusCode::INTERNAL_SERVER_ERROR,
        code: "internal",
        message: "the session token does not fit in a cookie".into(),
    })?;
    let mut response = warp::reply::json(&answer).into_response();
    response.headers_mut().insert(SET_COOKIE, cookie);
    Ok(response)
}

async fn logout(caller: &Principal, state: &AppState) -> Result<Value, ApiError> {
    state.auth.logout(caller).await?;
    Ok(json!({"logged_out": true}))
}

/// Whether the request is logged in, and as whom.
fn session_answer(
    caller: Option<&Principal>,
    cookie_session: Option<&str>,
    state: &AppState,
) -> Value {
    match caller {
        Some(caller) => {
            let mut answer = me(caller, cookie_session, state);
            answer["authenticated"] = json!(true);
            answer
        }
        None => json!({"authenticated": false}),
    }
}

/// Who the credentials act for and their two-factor state; with the session cookie, the
/// session's CSRF token too (a page reloaded has lost it).
fn me(caller: &Principal, cookie_session: Option<&str>, state: &AppState) -> Value {
    let auth = &state.auth;
    let mut answer = json!({
        "username": &*caller.username,
        "role": caller.role,
        "totp": auth.totp_state(&caller.username),
        "totp_required": auth.totp_required(caller.role),
        "totp_enrolment_due": caller.second_factor_due,
        "recovery_codes_left": auth.recovery_codes_left(&caller.username),
    });
    if let Some(token) = cookie_session {
        answer["csrf_token"] = json!(csrf_token(token));
    }
    answer
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

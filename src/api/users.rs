//! Users, for admins: list, add, change role, password or disabled flag.

use super::error::ApiError;
use super::json_body::{optional_body, parse_json};
use super::{respond, respond_created, with_state, AppState};
use crate::auth::password::check_policy;
use crate::auth::{Role, UserRecord};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};
use warp::reply::Response;
use warp::{Filter, Rejection};

pub const BODY_LIMIT_BYTES: u64 = 4 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub username: String,
    pub role: Role,
    pub password: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    pub role: Option<Role>,
    pub password: Option<String>,
    pub disabled: Option<bool>,
}

pub fn routes(state: &AppState) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let list = warp::path!("api" / "users")
        .and(warp::get())
        .and(with_state(state))
        .map(|state: AppState| {
            let users: Vec<Value> = state.auth.users().iter().map(user_json).collect();
            respond(Ok(json!({"count": users.len(), "users": users})), &state)
        });
    let create = warp::path!("api" / "users")
        .and(warp::post())
        .and(optional_body(BODY_LIMIT_BYTES))
        .and(with_state(state))
        .then(|body: Bytes, state: AppState| async move {
            respond_created(create(&body, &state).await, &state)
        });
    let update = warp::path!("api" / "users" / String)
        .and(warp::patch())
        .and(optional_body(BODY_LIMIT_BYTES))
        .and(with_state(state))
        .then(
            |username: String, body: Bytes, state: AppState| async move {
                respond(update(&username, &body, &state).await, &state)
            },
        );
    list.or(create).unify().or(update).unify()
}

async fn create(body: &[u8], state: &AppState) -> Result<Value, ApiError> {
    let request: CreateUser = parse_json(body, "user")?;
    let user = state
        .auth
        .add_user(&request.username, request.role, request.password)
        .await?;
    Ok(user_json(&user))
}

/// Applies each given change; the password last, as it ends the user's sessions.
async fn update(username: &str, body: &[u8], state: &AppState) -> Result<Value, ApiError> {
    let request: UpdateUser = parse_json(body, "user change")?;
    state.auth.user(username)?;
    if let Some(password) = &request.password {
        // Checked before any change is made, so a refusal changes nothing.
        check_policy(password)
            .map_err(|error| ApiError::invalid_field("password", error.to_string()))?;
    }
    if let Some(role) = request.role {
        state.auth.set_role(username, role).await?;
    }
    if let Some(disabled) = request.disabled {
        state.auth.set_disabled(username, disabled).await?;
    }
    if let Some(password) = request.password {
        state.auth.set_password(username, password).await?;
    }
    Ok(user_json(&state.auth.user(username)?))
}

/// Users as listed.
pub fn users_json(users: &[UserRecord]) -> Vec<Value> {
    users.iter().map(user_json).collect()
}

/// A user as listed: never the password hash.
fn user_json(user: &UserRecord) -> Value {
    json!({
        "username": user.username,
        "role": user.role,
        "disabled": user.disabled,
        "created_at": user.created_ms,
        "password_changed_at": user.password_changed_ms,
    })
}

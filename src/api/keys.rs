//! API keys: create (the key is in this answer only), list with last use, revoke.

use super::answer::Answer;
use super::error::ApiError;
use super::gate::{caller_route, no_input, refuse_anonymous};
use super::json_body::{optional_body, parse_json};
use super::{respond, respond_created, with_state, AppState};
use crate::auth::{ApiKeyRecord, Principal, Role};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};
use warp::{Filter, Rejection};

pub const BODY_LIMIT_BYTES: u64 = 4 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    pub name: String,
    /// Defaults to the caller's role.
    pub role: Option<Role>,
    /// Milliseconds since the epoch, UTC; none: the key does not expire.
    pub expires_at: Option<i64>,
}

pub fn routes(state: &AppState) -> impl Filter<Extract = (Answer,), Error = Rejection> + Clone {
    let create = caller_route(
        warp::path!("api" / "keys").and(warp::post()),
        optional_body(BODY_LIMIT_BYTES),
        state,
        |caller, body: Bytes, state| async move {
            respond_created(create(&caller, &body, &state).await, &state)
        },
    );
    let list = caller_route(
        warp::path!("api" / "keys").and(warp::get()),
        no_input(),
        state,
        |caller, (), state| async move {
            let keys: Vec<Value> = state.auth.keys_of(&caller).iter().map(key_json).collect();
            respond(Ok(json!({"count": keys.len(), "keys": keys})), &state)
        },
    );
    let revoke = warp::path!("api" / "keys" / String)
        .and(warp::delete())
        .and(refuse_anonymous())
        .and(with_state(state))
        .map(|id: String, state: AppState| {
            Answer::for_caller(move |caller| async move {
                let result = state.auth.revoke_key(&caller, &id).await;
                let result = result.map(|()| json!({"id": id, "revoked": true}));
                Ok(respond(result.map_err(ApiError::from), &state))
            })
        });
    create.or(list).unify().or(revoke).unify()
}

async fn create(caller: &Principal, body: &[u8], state: &AppState) -> Result<Value, ApiError> {
    let request: CreateApiKey = parse_json(body, "API key request")?;
    let role = request.role.unwrap_or(caller.role);
    let created = state
        .auth
        .create_key(caller, request.name, role, request.expires_at)
        .await?;
    let mut answer = key_json(&created.record);
    answer["key"] = json!(created.key);
    Ok(answer)
}

/// A key as listed: never its secret or digest.
fn key_json(record: &ApiKeyRecord) -> Value {
    json!({
        "id": record.id,
        "name": record.name,
        "owner": record.owner,
        "role": record.role,
        "created_at": record.created_ms,
        "expires_at": record.expires_ms,
        "revoked_at": record.revoked_ms,
        "last_used_at": record.last_used_ms,
    })
}

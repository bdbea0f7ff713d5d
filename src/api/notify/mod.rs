//! Notification channels and their deliveries: `POST/GET /api/notify/channels`,
//! `PATCH/DELETE /api/notify/channels/{id}`, `POST /api/notify/channels/{id}/test`,
//! `GET /api/notify/deliveries`, and a user's own alerts ([`alerts`]). Each user sees and changes their own channels (an admin:
//! everyone's); another user's channel is simply not found. The work is the notifier
//! actor's; this layer checks input, asks it and renders.

mod alert_body;
mod alerts;
mod body;
mod render;

use super::answer::Answer;
use super::error::ApiError;
use super::gate::{caller_route, no_input, refuse_anonymous};
use super::json_body::{optional_body, parse_json};
use super::query::QueryParams;
use super::{with_state, AppState};
use crate::auth::Principal;
use body::{
    checked_destination, checked_filter, checked_name, CreateChannelBody, UpdateChannelBody,
};
use bytes::Bytes;
use cryptolens_actors::actors::notifier::{
    ChannelChange, CreateChannel, DeleteChannel, ListChannels, ListDeliveries, TestChannel,
    UpdateChannel,
};
use render::{channel_json, delivery_json};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::future::Future;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

pub const BODY_LIMIT_BYTES: u64 = 16 * 1024;

/// An admin acts on every user's channels; anyone else on their own.
fn owner_of(caller: &Principal) -> Option<String> {
    (!caller.is_admin()).then(|| caller.username.to_string())
}

fn answered(result: Result<(StatusCode, Value), ApiError>, state: &AppState) -> Response {
    match result {
        Ok((status, body)) => {
            warp::reply::with_status(warp::reply::json(&body), status).into_response()
        }
        Err(error) => error.into_response(state.ingest.retry_after_s),
    }
}

/// A route on one channel or alert (`/api/notify/channels/{id}...`, `/api/alerts/{id}`), the
/// caller's input, then `handler(caller, id, input, state)`.
fn channel_route<P, I, T, H, F>(
    path: P,
    input: I,
    state: &AppState,
    handler: H,
) -> impl Filter<Extract = (Answer,), Error = Rejection> + Clone
where
    P: Filter<Extract = (u64,), Error = Rejection> + Clone + Send + Sync + 'static,
    I: Filter<Extract = (T,), Error = Rejection> + Clone + Send + Sync + 'static,
    T: Send + 'static,
    H: Fn(Principal, u64, T, AppState) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<(StatusCode, Value), ApiError>> + Send + 'static,
{
    path.and(refuse_anonymous())
        .and(input)
        .and(with_state(state))
        .map(move |id: u64, input: T, state: AppState| {
            let handler = handler.clone();
            Answer::for_caller(move |caller| async move {
                let result = handler(caller, id, input, state.clone()).await;
                Ok(answered(result, &state))
            })
        })
}

pub fn routes(state: &AppState) -> impl Filter<Extract = (Answer,), Error = Rejection> + Clone {
    let create = caller_route(
        warp::path!("api" / "notify" / "channels").and(warp::post()),
        optional_body(BODY_LIMIT_BYTES),
        state,
        |caller, body: Bytes, state| async move {
            answered(create(&caller, &body, &state).await, &state)
        },
    );
    let list = caller_route(
        warp::path!("api" / "notify" / "channels").and(warp::get()),
        no_input(),
        state,
        |caller, (), state| async move { answered(list(&caller, &state).await, &state) },
    );
    let update = channel_route(
        warp::path!("api" / "notify" / "channels" / u64).and(warp::patch()),
        optional_body(BODY_LIMIT_BYTES),
        state,
        |caller, id, body: Bytes, state| async move { update(&caller, id, &body, &state).await },
    );
    let delete = channel_route(
        warp::path!("api" / "notify" / "channels" / u64).and(warp::delete()),
        no_input(),
        state,
        |caller, id, (), state| async move {
            let owner = owner_of(&caller);
            state.notifier.ask(DeleteChannel { owner, id }).await??;
            Ok((StatusCode::OK, json!({"deleted": id})))
        },
    );
    let test = channel_route(
        warp::path!("api" / "notify" / "channels" / u64 / "test").and(warp::post()),
        no_input(),
        state,
        |caller, id, (), state| async move {
            let owner = owner_of(&caller);
            let delivery = state.notifier.ask(TestChannel { owner, id }).await??;
            Ok((StatusCode::ACCEPTED, delivery_json(&delivery)))
        },
    );
    let deliveries = caller_route(
        warp::path!("api" / "notify" / "deliveries").and(warp::get()),
        warp::query::<HashMap<String, String>>(),
        state,
        |caller, query: HashMap<String, String>, state| async move {
            answered(deliveries(&caller, &query, &state).await, &state)
        },
    );
    create
        .or(list)
        .unify()
        .or(alerts::routes(state))
        .unify()
        .or(update)
        .unify()
        .or(delete)
        .unify()
        .or(test)
        .unify()
        .or(deliveries)
        .unify()
}

async fn create(
    caller: &Principal,
    body: &[u8],
    state: &AppState,
) -> Result<(StatusCode, Value), ApiError> {
    let mut body: CreateChannelBody = parse_json(body, "channel")?;
    let name = checked_name(&body.name)?;
    let filter = checked_filter(std::mem::take(&mut body.filter))?;
    let (destination, secret) = checked_destination(&mut body, state.notify_allow_private).await?;
    let view = state
        .notifier
        .ask(CreateChannel {
            owner: caller.username.to_string(),
            name,
            destination,
            filter,
            enabled: body.enabled,
        })
        .await??;
    let mut rendered = channel_json(&view);
    if let Some(secret) = secret {
        rendered["secret"] = json!(secret);
    }
    Ok((StatusCode::CREATED, rendered))
}

async fn list(caller: &Principal, state: &AppState) -> Result<(StatusCode, Value), ApiError> {
    let views = state
        .notifier
        .ask(ListChannels {
            owner: owner_of(caller),
        })
        .await?;
    let channels: Vec<Value> = views.iter().map(channel_json).collect();
    Ok((
        StatusCode::OK,
        json!({"count": channels.len(), "channels": channels}),
    ))
}

async fn update(
    caller: &Principal,
    id: u64,
    body: &[u8],
    state: &AppState,
) -> Result<(StatusCode, Value), ApiError> {
    let body: UpdateChannelBody = parse_json(body, "channel")?;
    let change = ChannelChange {
        name: body.name.as_deref().map(checked_name).transpose()?,
        destination: None,
        filter: body.filter.map(checked_filter).transpose()?,
        enabled: body.enabled,
    };
    let owner = owner_of(caller);
    let view = state
        .notifier
        .ask(UpdateChannel { owner, id, change })
        .await??;
    Ok((StatusCode::OK, channel_json(&view)))
}

async fn deliveries(
    caller: &Principal,
    query: &HashMap<String, String>,
    state: &AppState,
) -> Result<(StatusCode, Value), ApiError> {
    let params = QueryParams::new(query, &["channel", "limit", "offset"])?;
    let channel = match query.get("channel") {
        None => None,
        Some(_) => Some(params.integer("channel", 1..=usize::MAX, 0)? as u64),
    };
    let limit = params.integer("limit", 1..=500, 50)?;
    let offset = params.integer("offset", 0..=usize::MAX, 0)?;
    let found = state
        .notifier
        .ask(ListDeliveries {
            owner: owner_of(caller),
            channel,
            limit,
            offset,
        })
        .await?;
    let deliveries: Vec<Value> = found.deliveries.iter().map(delivery_json).collect();
    Ok((
        StatusCode::OK,
        json!({"total": found.total, "limit": limit, "offset": offset, "deliveries": deliveries}),
    ))
}

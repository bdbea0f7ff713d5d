//! A trader's own alerts: `POST/GET /api/alerts`, `DELETE /api/alerts/{id}`. Each user sees
//! and removes their own (an admin: everyone's); another user's alert is simply not found. A
//! symbol alert must name a symbol this server tracks and a trade alert a portfolio of the
//! caller's, so an alert never waits on something that cannot come.

use super::alert_body::CreateAlertBody;
use super::body::checked_name;
use super::{answered, channel_route, owner_of, BODY_LIMIT_BYTES};
use crate::api::answer::Answer;
use crate::api::error::ApiError;
use crate::api::gate::{caller_route, no_input};
use crate::api::json_body::{optional_body, parse_json};
use crate::api::AppState;
use crate::auth::Principal;
use bytes::Bytes;
use cryptolens_actors::actors::notifier::{CreateAlert, DeleteAlert, ListAlerts};
use cryptolens_actors::domain::notify::{Alert, AlertCondition};
use serde_json::{json, Value};
use warp::http::StatusCode;
use warp::{Filter, Rejection};

pub fn routes(state: &AppState) -> impl Filter<Extract = (Answer,), Error = Rejection> + Clone {
    let create = caller_route(
        warp::path!("api" / "alerts").and(warp::post()),
        optional_body(BODY_LIMIT_BYTES),
        state,
        |caller, body: Bytes, state| async move {
            answered(create(&caller, &body, &state).await, &state)
        },
    );
    let list = caller_route(
        warp::path!("api" / "alerts").and(warp::get()),
        no_input(),
        state,
        |caller, (), state| async move {
            let listed = state
                .notifier
                .ask(ListAlerts {
                    owner: owner_of(&caller),
                })
                .await
                .map(|alerts| {
                    let alerts: Vec<Value> = alerts.iter().map(alert_json).collect();
                    (
                        StatusCode::OK,
                        json!({"count": alerts.len(), "alerts": alerts}),
                    )
                })
                .map_err(ApiError::from);
            answered(listed, &state)
        },
    );
    let delete = channel_route(
        warp::path!("api" / "alerts" / u64).and(warp::delete()),
        no_input(),
        state,
        |caller, id, (), state| async move {
            let owner = owner_of(&caller);
            state.notifier.ask(DeleteAlert { owner, id }).await??;
            Ok((StatusCode::OK, json!({"deleted": id})))
        },
    );
    create.or(list).unify().or(delete).unify()
}

async fn create(
    caller: &Principal,
    body: &[u8],
    state: &AppState,
) -> Result<(StatusCode, Value), ApiError> {
    let body: CreateAlertBody = parse_json(body, "alert")?;
    let name = checked_name(&body.name)?;
    let condition = body.checked_condition()?;
    check_watched(&condition, caller, state)?;
    let alert = state
        .notifier
        .ask(CreateAlert {
            owner: caller.username.to_string(),
            name,
            condition,
            rearm: body.rearm,
            channel_ids: body.channel_ids,
        })
        .await??;
    Ok((StatusCode::CREATED, alert_json(&alert)))
}

/// The symbol is tracked here; the portfolio is the caller's (an admin's: anyone's).
fn check_watched(
    condition: &AlertCondition,
    caller: &Principal,
    state: &AppState,
) -> Result<(), ApiError> {
    if let Some(symbol) = condition.symbol() {
        if state.engine.base_timeframe(symbol).is_none() {
            return Err(ApiError::invalid_field(
                "symbol",
                format!("{symbol} is not tracked on this server"),
            ));
        }
    }
    if let AlertCondition::Trade { portfolio_id, .. } = condition {
        let owned = state
            .engine
            .portfolios()
            .and_then(|book| book.entry(*portfolio_id))
            .is_some_and(|entry| caller.is_admin() || *entry.owner == *caller.username);
        if !owned {
            return Err(ApiError::invalid_field(
                "portfolio_id",
                format!("no portfolio {portfolio_id} of yours"),
            ));
        }
    }
    Ok(())
}

fn condition_json(condition: &AlertCondition) -> Value {
    match condition {
        AlertCondition::PriceCross {
            symbol,
            direction,
            level,
        } => {
            json!({"symbol": symbol, "direction": direction, "level": level.to_decimal().to_string()})
        }
        AlertCondition::PercentMove {
            symbol,
            direction,
            percent,
            window_minutes,
        } => json!({"symbol": symbol, "direction": direction, "percent": percent.to_string(),
            "window_minutes": window_minutes}),
        AlertCondition::Pattern {
            symbol,
            kind,
            direction,
            timeframe,
        } => json!({"symbol": symbol, "pattern_kind": kind, "direction": direction,
            "timeframe": timeframe}),
        AlertCondition::Trade {
            portfolio_id,
            event,
        } => json!({"portfolio_id": portfolio_id, "event": event}),
    }
}

/// An alert as the API shows it: the fields it was created with, flat, and its record.
pub fn alert_json(alert: &Alert) -> Value {
    let mut rendered = json!({
        "id": alert.id,
        "owner": alert.owner,
        "name": alert.name,
        "kind": alert.condition.kind(),
        "rearm": alert.rearm,
        "channel_ids": alert.channel_ids,
        "created_at_ms": alert.created_at_ms,
        "active": alert.active,
        "fired_count": alert.fired_count,
        "last_fired_at_ms": alert.last_fired_at_ms,
    });
    if let (Some(all), Value::Object(fields)) =
        (rendered.as_object_mut(), condition_json(&alert.condition))
    {
        all.extend(fields);
    }
    rendered
}

//! Liveness, readiness and the operator views of actors and symbols.

use super::{respond, with_state, AppState};
use serde_json::json;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

pub fn routes(state: &AppState) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let live = warp::path!("api" / "health" / "live")
        .and(warp::get())
        .map(|| warp::reply::json(&json!({"status": "live"})).into_response());
    let ready = warp::path!("api" / "health" / "ready")
        .and(warp::get())
        .and(with_state(state))
        .map(readiness);
    let actors = warp::path!("api" / "actors")
        .and(warp::get())
        .and(with_state(state))
        .map(|state: AppState| {
            let actors = state.engine.actor_health();
            respond(Ok(json!({"count": actors.len(), "actors": actors})), &state)
        });
    let symbols = warp::path!("api" / "symbols")
        .and(warp::get())
        .and(with_state(state))
        .map(|state: AppState| {
            let symbols = state.engine.symbols();
            respond(
                Ok(json!({"count": symbols.len(), "symbols": symbols})),
                &state,
            )
        });
    let overall = warp::path!("api" / "health")
        .and(warp::get())
        .and(with_state(state))
        .map(|state: AppState| respond(Ok(overall_health(&state)), &state));
    live.or(ready)
        .unify()
        .or(overall)
        .unify()
        .or(actors)
        .unify()
        .or(symbols)
        .unify()
}

/// An actor whose heartbeat is this many intervals old is stuck.
const HEARTBEAT_INTERVALS_STALE: i64 = 10;

/// `unhealthy` when not ready or a symbol actor has stopped beating; `degraded` when stored
/// values failed verification, snapshot writes failed or actors were restarted; else
/// `healthy`. The details say which, with the age of the last ingest.
fn overall_health(state: &AppState) -> serde_json::Value {
    let now_ms = chrono::Utc::now().timestamp_millis();
    let problems = state.engine.store_problems();
    let persistence = state.engine.persistence();
    let snapshot_failures = persistence.as_ref().map_or(0, |view| view.failures);
    let actors = state.engine.actor_health();
    let stale_after_ms =
        HEARTBEAT_INTERVALS_STALE * state.engine.settings().heartbeat_interval_ms as i64;
    let stuck: Vec<&str> = actors
        .iter()
        .filter(|actor| {
            actor
                .last_heartbeat_ms
                .is_some_and(|at| now_ms - at > stale_after_ms)
        })
        .map(|actor| actor.symbol.as_str())
        .collect();
    let restarts: u64 = actors.iter().map(|actor| actor.restarts).sum();
    let last_ingest_ms = actors
        .iter()
        .filter_map(|actor| actor.last_ingest_at_ms)
        .max();
    let status = if !state.is_ready() || !stuck.is_empty() {
        "unhealthy"
    } else if !problems.is_empty() || snapshot_failures > 0 || restarts > 0 {
        "degraded"
    } else {
        "healthy"
    };
    json!({
        "status": status,
        "ready": state.is_ready(),
        "store": {"problems": problems, "persistence": persistence},
        "actors": {"count": actors.len(), "restarts": restarts, "stuck": stuck},
        "last_ingest_age_ms": last_ingest_ms.map(|at| now_ms - at),
    })
}

fn readiness(state: AppState) -> Response {
    if state.is_ready() {
        return warp::reply::json(&json!({"status": "ready"})).into_response();
    }
    let status = if state.engine.is_accepting() {
        "starting"
    } else {
        "shutting_down"
    };
    warp::reply::with_status(
        warp::reply::json(&json!({"status": status})),
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .into_response()
}

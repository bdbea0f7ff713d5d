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
    live.or(ready)
        .unify()
        .or(actors)
        .unify()
        .or(symbols)
        .unify()
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

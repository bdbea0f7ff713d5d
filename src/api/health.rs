//! Liveness, readiness and the operator view of actors.

use super::{respond, with_state, AppState};
use cryptolens_actors::actors::HealthReports;
use cryptolens_actors::domain::notify::BreakerState;
use cryptolens_actors::store::LastStop;
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
        .map(|state: AppState| respond(Ok(actors(&state)), &state));
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
}

/// Every symbol actor's health, with its exchange feed's state (`stale` included) if it is
/// followed from one.
fn actors(state: &AppState) -> serde_json::Value {
    let now_ms = state.clock.now_ms();
    let actors: Vec<serde_json::Value> = state
        .engine
        .actor_health()
        .into_iter()
        .map(|actor| {
            let feed_state = state.feed.status.state_of(&actor.symbol, now_ms);
            let mut view = serde_json::to_value(&actor).unwrap_or_default();
            view["feed_state"] = json!(feed_state);
            view["stale"] = json!(feed_state == Some(crate::feed::status::FeedState::Stale));
            view
        })
        .collect();
    json!({"count": actors.len(), "actors": actors})
}

/// The verdict of [`HealthReports::verdict`] with the reports it was decided from.
pub(super) fn overall_health(state: &AppState) -> serde_json::Value {
    let now_ms = state.clock.now_ms();
    let problems = state.engine.store_problems();
    let persistence = state.engine.persistence();
    let actors = state.engine.actor_health();
    let stale = state.feed.status.stale(now_ms);
    let verdict = HealthReports {
        ready: state.is_ready(),
        actors: &actors,
        store_problems: problems.len(),
        snapshot_failing: persistence
            .as_ref()
            .is_some_and(|view| view.last_round_failed),
        disk_full: state.store.admit_write().is_err(),
        heartbeat_interval_ms: state.engine.settings().heartbeat_interval_ms,
        stale_symbols: &stale,
    }
    .verdict(now_ms);
    json!({
        "status": verdict.status,
        "ready": state.is_ready(),
        "store": {"problems": problems, "persistence": persistence,
                  "size_bytes": state.store.size_on_disk_bytes().ok(),
                  "disk": disk_json(state), "last_stop": last_stop_json(state)},
        "actors": {"count": actors.len(), "restarts": verdict.restarts, "stuck": verdict.stuck},
        "last_ingest_age_ms": verdict.last_ingest_age_ms,
        "feed": {"followed": state.feed.status.len(), "stale": stale},
        "notify": notify_json(state, now_ms),
    })
}

/// The notifier: running, its counters (store failures among them) and the channels whose
/// breaker is not closed (their destination is failing).
fn notify_json(state: &AppState, now_ms: i64) -> serde_json::Value {
    let failing: Vec<serde_json::Value> = state
        .notifier
        .stats
        .breaker_states(now_ms)
        .into_iter()
        .filter(|(_, breaker)| *breaker != BreakerState::Closed)
        .map(|(channel, breaker)| json!({"channel": channel, "breaker": breaker.as_str()}))
        .collect();
    json!({
        "running": state.notifier.addr.connected(),
        "counts": state.notifier.stats.view(),
        "failing_channels": failing,
    })
}

/// How the process before this one ended and, after an unclean stop, what may be missing.
pub(super) fn last_stop_json(state: &AppState) -> serde_json::Value {
    let last_stop = state.store.last_stop();
    let window_ms = state.engine.settings().snapshot_interval_ms;
    let may_be_missing = (last_stop == LastStop::Unclean).then(|| {
        format!(
            "the previous run did not stop cleanly: candles acknowledged in up to the last \
             {window_ms} ms before it ended (one snapshot interval, plus one round) may be missing; \
             re-import or backfill them. Ledger entries are never missing: each was durable \
             before it was acknowledged"
        )
    });
    json!({"kind": last_stop, "candle_window_ms": window_ms, "may_be_missing": may_be_missing})
}

/// The store's disk: free bytes, the reserve kept, and why writes are refused if they are.
fn disk_json(state: &AppState) -> serde_json::Value {
    let (available_bytes, reserve_bytes) = state.store.disk_space();
    let refused = state
        .store
        .admit_write()
        .err()
        .map(|error| error.to_string());
    json!({"available_bytes": available_bytes, "reserve_bytes": reserve_bytes,
           "full": refused.is_some(), "writes_refused": refused})
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

//! `GET /api/jobs` (admin): the server's background work and how its last run went: the
//! snapshot rounds (interval, runs, last run, its duration, what it wrote, its outcome) and
//! each followed symbol's backfill (running with progress, done, or failed with the error).

use super::{respond, with_state, AppState};
use serde_json::{json, Value};
use warp::reply::Response;
use warp::{Filter, Rejection};

pub fn routes(state: &AppState) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("api" / "jobs")
        .and(warp::get())
        .and(with_state(state))
        .map(|state: AppState| respond(Ok(jobs(&state)), &state))
}

fn jobs(state: &AppState) -> Value {
    let mut jobs = vec![snapshot_rounds(state)];
    jobs.extend(backfills(state));
    json!({"count": jobs.len(), "jobs": jobs})
}

fn snapshot_rounds(state: &AppState) -> Value {
    let view = state.engine.persistence();
    let outcome = view.as_ref().and_then(|view| {
        view.last_round_at_ms.map(|_| {
            if view.last_round_failed {
                "failed"
            } else {
                "ok"
            }
        })
    });
    json!({
        "name": "snapshot_rounds",
        "what": "copies every changed symbol's state to the store",
        "interval_ms": state.engine.settings().snapshot_interval_ms,
        "runs": view.as_ref().map_or(0, |view| view.rounds),
        "last_run_at": view.as_ref().and_then(|view| view.last_round_at_ms),
        "last_duration_ms": view.as_ref().and_then(|view| view.last_round_duration_ms),
        "last_written": view.as_ref().map_or(0, |view| view.last_round_written),
        "last_outcome": outcome,
        "failures": view.as_ref().map_or(0, |view| view.failures),
    })
}

/// Followed symbols with a backfill running or behind them.
fn backfills(state: &AppState) -> Vec<Value> {
    state
        .feed
        .status
        .all()
        .into_iter()
        .filter_map(|(symbol, feed)| {
            let failed = feed
                .error
                .as_deref()
                .filter(|error| error.starts_with("backfill"));
            let outcome = match (&feed.backfill, failed) {
                (Some(_), _) => "running",
                (None, Some(_)) => "failed",
                (None, None) if feed.backfilled > 0 => "ok",
                (None, None) => return None,
            };
            Some(json!({
                "name": "backfill",
                "symbol": symbol,
                "exchange": feed.exchange,
                "last_outcome": outcome,
                "progress": feed.backfill,
                "candles_stored": feed.backfilled,
                "error": failed,
            }))
        })
        .collect()
}

//! `GET /api/matrix`: symbol x timeframe -> bullish / bearish / neutral, the direction of each
//! timeframe's latest unresolved pattern.

use super::{respond, with_state, AppState};
use cryptolens_actors::domain::market::Timeframe;
use serde_json::{json, Map, Value};
use warp::reply::Response;
use warp::{Filter, Rejection};

pub fn routes(state: &AppState) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("api" / "matrix")
        .and(warp::get())
        .and(with_state(state))
        .map(|state: AppState| {
            let rows: Vec<Value> = state
                .engine
                .analysis_views()
                .iter()
                .map(|view| {
                    let cells: Map<String, Value> = view
                        .matrix
                        .iter()
                        .map(|(timeframe, bias)| (timeframe.to_string(), json!(bias)))
                        .collect();
                    json!({"symbol": view.symbol, "timeframes": cells})
                })
                .collect();
            let timeframes: Vec<&str> = Timeframe::ALL.iter().map(|tf| tf.as_str()).collect();
            respond(
                Ok(json!({"timeframes": timeframes, "count": rows.len(), "symbols": rows})),
                &state,
            )
        })
}

//! `GET /api/indicators/{symbol}/{timeframe}`: the indicator values at the last closed candle.

use super::candles::{parse_path_symbol, parse_path_timeframe};
use super::error::ApiError;
use super::{respond, with_state, AppState};
use crate::report::indicators_json;
use serde_json::{json, Value};
use warp::reply::Response;
use warp::{Filter, Rejection};

pub fn routes(state: &AppState) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("api" / "indicators" / String / String)
        .and(warp::get())
        .and(with_state(state))
        .map(|symbol: String, timeframe: String, state: AppState| {
            respond(read_indicators(&symbol, &timeframe, &state), &state)
        })
}

fn read_indicators(symbol: &str, timeframe: &str, state: &AppState) -> Result<Value, ApiError> {
    let symbol = parse_path_symbol(symbol)?;
    let timeframe = parse_path_timeframe(timeframe)?;
    let view = state.engine.analysis_view(&symbol)?;
    let Some(tf_view) = view.timeframe(timeframe) else {
        return Err(ApiError::NotFound(format!(
            "{symbol} has no {timeframe} candles: its base timeframe is {}",
            view.timeframes
                .first()
                .map_or("unknown".to_owned(), |first| first.timeframe.to_string())
        )));
    };
    let (at, values) = match &tf_view.latest {
        Some((candle, values)) => (Some(candle.open_time_ms), Some(indicators_json(values))),
        None => (None, None),
    };
    Ok(json!({
        "symbol": symbol,
        "timeframe": timeframe,
        "candle_open_time": at,
        "indicators": values,
    }))
}

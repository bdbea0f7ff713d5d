//! `POST /api/candles` (ingest a batch) and `GET /api/candles/{symbol}/{timeframe}`.

use super::error::ApiError;
use super::payload::{parse_candle_batch, FutureLimit};
use super::query::QueryParams;
use super::{respond, with_state, AppState};
use crate::config::Durability;
use crate::report::CandleJson;
use bytes::Bytes;
use cryptolens_actors::actors::{CandleSnapshot, IngestReport};
use cryptolens_actors::domain::market::{Symbol, Timeframe};
use cryptolens_actors::domain::DomainError;
use serde::Serialize;
use std::collections::HashMap;
use warp::reply::Response;
use warp::{Filter, Rejection};

pub fn routes(state: &AppState) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let ingest = warp::path!("api" / "candles")
        .and(warp::post())
        .and(warp::body::content_length_limit(state.body_limit_bytes))
        .and(warp::body::bytes())
        .and(with_state(state))
        .then(|body: Bytes, state: AppState| async move {
            let result = ingest_batch(&body, &state)
                .await
                .map(|report| with_durability(&report, &state));
            respond(result, &state)
        });
    let read =
        warp::path!("api" / "candles" / String / String)
            .and(warp::get())
            .and(warp::query::<HashMap<String, String>>())
            .and(with_state(state))
            .then(
                |symbol: String,
                 timeframe: String,
                 query: HashMap<String, String>,
                 state: AppState| async move {
                    let result = read_candles(&symbol, &timeframe, &query, &state).await;
                    respond(result, &state)
                },
            );
    ingest.or(read).unify()
}

/// The ingest answer, saying how durable it is: with `snapshot` the candles are in memory
/// now and on disk with the next snapshot round, so a crash (`kill -9`, power loss) before
/// it loses them; with `ack` they are on disk already.
fn with_durability(report: &IngestReport, state: &AppState) -> serde_json::Value {
    let mut answer = serde_json::to_value(report).unwrap_or_default();
    let crash_window_ms = match state.ingest.durability {
        Durability::Snapshot => state.engine.settings().snapshot_interval_ms,
        Durability::Ack => 0,
    };
    answer["durability"] = serde_json::json!(state.ingest.durability);
    answer["crash_window_ms"] = serde_json::json!(crash_window_ms);
    answer
}

/// Parses a batch and hands it to the symbol's actor; shared with the WebSocket route.
pub async fn ingest_batch(body: &[u8], state: &AppState) -> Result<IngestReport, ApiError> {
    let batch = parse_candle_batch(
        body,
        state.ingest.batch_candles_max,
        FutureLimit {
            now_ms: state.clock.now_ms(),
            intervals_max: state.ingest.future_intervals_max,
        },
    )?;
    let report = state
        .engine
        .ingest(&batch.symbol, batch.timeframe, batch.candles)
        .await?;
    if state.ingest.durability == Durability::Ack {
        // Applied already: a failure here says the batch is not durable; a retry of the
        // same candles is harmless (they replace themselves).
        state.engine.make_durable(vec![batch.symbol]).await?;
    }
    Ok(report)
}

#[derive(Serialize)]
struct CandlePage {
    symbol: Symbol,
    timeframe: Timeframe,
    base_timeframe: Timeframe,
    count: usize,
    candles: Vec<CandleJson>,
}

async fn read_candles(
    symbol: &str,
    timeframe: &str,
    query: &HashMap<String, String>,
    state: &AppState,
) -> Result<CandlePage, ApiError> {
    let symbol = parse_path_symbol(symbol)?;
    let timeframe = parse_path_timeframe(timeframe)?;
    let limit = parse_limit(query, state)?;
    let snapshot = state.engine.read_candles(&symbol, timeframe, limit).await?;
    Ok(page(snapshot))
}

fn page(snapshot: CandleSnapshot) -> CandlePage {
    let closed = snapshot
        .closed
        .iter()
        .map(|candle| CandleJson::new(candle, true));
    let forming = snapshot
        .forming
        .iter()
        .map(|candle| CandleJson::new(candle, false));
    let candles: Vec<CandleJson> = closed.chain(forming).collect();
    CandlePage {
        symbol: snapshot.symbol,
        timeframe: snapshot.timeframe,
        base_timeframe: snapshot.base_timeframe,
        count: candles.len(),
        candles,
    }
}

fn decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

pub fn parse_path_symbol(segment: &str) -> Result<Symbol, ApiError> {
    Symbol::parse(&decode(segment))
        .map_err(|error| ApiError::invalid_field("symbol", error.to_string()))
}

pub fn parse_path_timeframe(segment: &str) -> Result<Timeframe, ApiError> {
    decode(segment)
        .parse()
        .map_err(|error: DomainError| ApiError::invalid_field("timeframe", error.to_string()))
}

fn parse_limit(query: &HashMap<String, String>, state: &AppState) -> Result<usize, ApiError> {
    let max = state.ingest.read_limit_max;
    QueryParams::new(query, &["limit"])?.integer("limit", 1..=max, state.ingest.read_limit_default)
}

//! Symbol management: `GET /api/symbols` (every symbol held, with its exchange feed's state,
//! last candle, lag and history), and for admins `POST /api/symbols` (follow one from an
//! exchange), `DELETE /api/symbols/{symbol}` (stop following and remove it), pause, resume
//! and backfill.

use super::candles::parse_path_symbol;
use super::error::ApiError;
use super::json_body::{optional_body, parse_json};
use super::{respond, with_state, AppState};
use crate::feed::settings::{parse_followed, parse_since_ms};
use crate::feed::status::{FeedState, Progress, SymbolFeed};
use bytes::Bytes;
use cryptolens_actors::actors::SymbolSummary;
use cryptolens_actors::domain::market::{Symbol, Timeframe};
use serde::{Deserialize, Serialize};
use serde_json::json;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

/// A symbol name or a date: a few dozen bytes.
const BODY_LIMIT_BYTES: u64 = 1024;

pub fn routes(state: &AppState) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let list = warp::path!("api" / "symbols")
        .and(warp::get())
        .and(with_state(state))
        .map(|state: AppState| respond(Ok(list(&state)), &state));
    let follow = warp::path!("api" / "symbols")
        .and(warp::post())
        .and(optional_body(BODY_LIMIT_BYTES))
        .and(with_state(state))
        .map(|body: Bytes, state: AppState| accepted(follow(&body, &state), &state));
    let remove = warp::path!("api" / "symbols" / String)
        .and(warp::delete())
        .and(with_state(state))
        .then(|symbol: String, state: AppState| async move {
            let result = remove(&symbol, &state).await;
            respond(result, &state)
        });
    let pause = warp::path!("api" / "symbols" / String / String)
        .and(warp::post())
        .and(optional_body(BODY_LIMIT_BYTES))
        .and(with_state(state))
        .map(
            |symbol: String, action: String, body: Bytes, state: AppState| match action.as_str() {
                "pause" => respond(set_paused(&symbol, true, &state), &state),
                "resume" => respond(set_paused(&symbol, false, &state), &state),
                "backfill" => accepted(backfill(&symbol, &body, &state), &state),
                _ => ApiError::NotFound(format!("no action {action:?} on symbols"))
                    .into_response(state.ingest.retry_after_s),
            },
        );
    list.or(follow).unify().or(remove).unify().or(pause).unify()
}

/// A JSON answer with 202 Accepted (the work goes on in the background), or the error.
fn accepted<T: Serialize>(result: Result<T, ApiError>, state: &AppState) -> Response {
    match result {
        Ok(body) => {
            warp::reply::with_status(warp::reply::json(&body), StatusCode::ACCEPTED).into_response()
        }
        Err(error) => error.into_response(state.ingest.retry_after_s),
    }
}

/// One symbol as listed: what the engine holds and, if it comes from an exchange, its feed.
#[derive(Serialize)]
struct SymbolEntry {
    symbol: Symbol,
    base_timeframe: Option<Timeframe>,
    timeframes: Vec<Timeframe>,
    /// The history held on the base timeframe: oldest and newest candle.
    first_open_time_ms: Option<i64>,
    last_open_time_ms: Option<i64>,
    /// `push` (file, HTTP, WebSocket ingest) or the exchange it is followed from.
    source: String,
    feed: Option<FeedEntry>,
}

#[derive(Serialize)]
struct FeedEntry {
    market_symbol: Option<String>,
    state: FeedState,
    stale: bool,
    progress: Option<Progress>,
    backfill: Option<Progress>,
    backfilled: u64,
    last_closed_open_time_ms: Option<i64>,
    /// How long ago the last closed candle closed.
    lag_ms: Option<i64>,
    gaps_repaired: u64,
    candles_repaired: u64,
    duplicates_dropped: u64,
    error: Option<String>,
}

fn list(state: &AppState) -> serde_json::Value {
    let now_ms = state.clock.now_ms();
    let stale_after = state.feed.status.stale_limit();
    let mut feeds = state.feed.status.all();
    let mut entries: Vec<SymbolEntry> = state
        .engine
        .symbols()
        .into_iter()
        .map(|summary| {
            let feed = feeds.remove(&summary.symbol);
            entry(
                Some(summary.clone()),
                summary.symbol,
                feed,
                now_ms,
                stale_after,
            )
        })
        .collect();
    // Followed symbols still warming have no candles in the engine yet.
    entries.extend(
        feeds
            .into_iter()
            .map(|(symbol, feed)| entry(None, symbol, Some(feed), now_ms, stale_after)),
    );
    entries.sort_by(|a, b| a.symbol.cmp(&b.symbol));
    json!({"count": entries.len(), "symbols": entries,
           "last_stop": super::health::last_stop_json(state)})
}

fn entry(
    summary: Option<SymbolSummary>,
    symbol: Symbol,
    feed: Option<SymbolFeed>,
    now_ms: i64,
    stale_after_intervals: u32,
) -> SymbolEntry {
    let source = feed
        .as_ref()
        .map_or_else(|| "push".to_owned(), |feed| feed.exchange.to_string());
    let feed = feed.map(|feed| {
        let state = feed.state_at(now_ms, stale_after_intervals);
        let close_ms = feed
            .last_closed_open_time_ms
            .map(|open_ms| open_ms + Timeframe::M1.duration_ms());
        FeedEntry {
            market_symbol: feed.market_symbol,
            state,
            stale: state == FeedState::Stale,
            progress: feed.progress,
            backfill: feed.backfill,
            backfilled: feed.backfilled,
            last_closed_open_time_ms: feed.last_closed_open_time_ms,
            lag_ms: close_ms.map(|close_ms| (now_ms - close_ms).max(0)),
            gaps_repaired: feed.gaps_repaired,
            candles_repaired: feed.candles_repaired,
            duplicates_dropped: feed.duplicates_dropped,
            error: feed.error,
        }
    });
    SymbolEntry {
        base_timeframe: summary.as_ref().map(|s| s.base_timeframe),
        timeframes: summary
            .as_ref()
            .map(|s| s.timeframes.clone())
            .unwrap_or_default(),
        first_open_time_ms: summary.as_ref().and_then(|s| s.first_open_time_ms),
        last_open_time_ms: summary.and_then(|s| s.last_open_time_ms),
        symbol,
        source,
        feed,
    }
}

/// `{"symbol": "bybit:ETHUSDT"}` (no prefix: the default exchange).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FollowRequest {
    symbol: String,
}

fn follow(body: &[u8], state: &AppState) -> Result<serde_json::Value, ApiError> {
    let request: FollowRequest = parse_json(body, "symbol to follow")?;
    let followed = parse_followed(&request.symbol, state.feed.default_exchange())
        .map_err(|message| ApiError::invalid_field("symbol", message))?;
    state.feed.follow(&followed)?;
    Ok(
        json!({"symbol": followed.symbol, "exchange": followed.exchange, "state": FeedState::Warming}),
    )
}

/// Stops following `symbol` and removes it: its actor, candles, analysis and stored snapshot.
/// Refused with 409 while a portfolio has an open position or a pending order on it.
async fn remove(text: &str, state: &AppState) -> Result<serde_json::Value, ApiError> {
    let symbol = parse_path_symbol(text)?;
    let held = state.engine.analysis_view(&symbol).is_ok();
    if !held && !state.feed.follows(&symbol) {
        return Err(ApiError::NotFound(format!(
            "{symbol} is neither held nor followed"
        )));
    }
    let holders = portfolios_trading(&symbol, state).await?;
    if !holders.is_empty() {
        return Err(ApiError::Conflict {
            code: "open_positions",
            message: format!(
                "portfolios {holders:?} have open positions or pending orders on {symbol}; close them first"
            ),
        });
    }
    let unfollowed = state.feed.unfollow(&symbol)?;
    if held {
        state.engine.remove_symbol(&symbol).await?;
    }
    Ok(json!({"symbol": symbol, "removed": held, "unfollowed": unfollowed}))
}

/// Ids of the portfolios with an open position or a pending order on `symbol`.
async fn portfolios_trading(symbol: &Symbol, state: &AppState) -> Result<Vec<u64>, ApiError> {
    let Some(book) = state.engine.portfolios() else {
        return Ok(Vec::new());
    };
    let mut holders = Vec::new();
    for entry in book.list() {
        let portfolio = book.portfolio(entry.id).await?;
        let trading = portfolio
            .trades()
            .any(|trade| trade.symbol == *symbol && (trade.is_open() || trade.is_pending()));
        if trading {
            holders.push(entry.id);
        }
    }
    Ok(holders)
}

fn set_paused(text: &str, paused: bool, state: &AppState) -> Result<serde_json::Value, ApiError> {
    let symbol = parse_path_symbol(text)?;
    state.feed.set_paused(&symbol, paused)?;
    Ok(json!({"symbol": symbol, "paused": paused}))
}

/// `{"since": "2024-01-01"}` (a date, an RFC 3339 time or milliseconds).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BackfillRequest {
    since: String,
}

fn backfill(text: &str, body: &[u8], state: &AppState) -> Result<serde_json::Value, ApiError> {
    let symbol = parse_path_symbol(text)?;
    let request: BackfillRequest = parse_json(body, "backfill request")?;
    let since_ms = parse_since_ms(&request.since)
        .map_err(|message| ApiError::invalid_field("since", message))?;
    if !(0..state.clock.now_ms()).contains(&since_ms) {
        return Err(ApiError::invalid_field(
            "since",
            "must be in the past, from 1970 on",
        ));
    }
    state.feed.start_backfill(&symbol, since_ms)?;
    Ok(json!({"symbol": symbol, "since_ms": since_ms, "backfill": "started"}))
}

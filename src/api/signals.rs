//! `GET /api/signals?symbol=&status=` (live first, then recently ended, newest first) and
//! `POST /api/scan` (re-evaluate signals now, for one symbol or all).

use super::error::ApiError;
use super::json_body::{optional_body, parse_json};
use super::query::QueryParams;
use super::{respond, views_for, with_state, AppState};
use crate::report::SignalJson;
use bytes::Bytes;
use cryptolens_actors::actors::{AnalysisView, SignalQuery};
use cryptolens_actors::domain::analysis::Signal;
use cryptolens_actors::domain::market::Symbol;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use warp::reply::Response;
use warp::{Filter, Rejection};

/// A scan request body is a symbol name at most.
const SCAN_BODY_LIMIT_BYTES: u64 = 1024;

pub fn routes(state: &AppState) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let list = warp::path!("api" / "signals")
        .and(warp::get())
        .and(warp::query::<HashMap<String, String>>())
        .and(with_state(state))
        .map(|query: HashMap<String, String>, state: AppState| {
            respond(list_signals(&query, &state), &state)
        });
    let scan = warp::path!("api" / "scan")
        .and(warp::post())
        .and(optional_body(SCAN_BODY_LIMIT_BYTES))
        .and(with_state(state))
        .then(|body: Bytes, state: AppState| async move {
            let result = scan(&body, &state).await;
            respond(result, &state)
        });
    list.or(scan).unify()
}

#[derive(Serialize)]
struct SignalList {
    count: usize,
    signals: Vec<SignalJson>,
}

fn list_signals(query: &HashMap<String, String>, state: &AppState) -> Result<SignalList, ApiError> {
    let params = QueryParams::new(query, &["symbol", "status"])?;
    let query = SignalQuery {
        symbol: params.symbol()?,
        status: params.named("status", "live, expired, flipped")?,
    };
    let views = views_for(query.symbol.as_ref(), state)?;
    let signals = query.run(&views);
    let staleness = Staleness::now(state);
    let newest_close_ms: HashMap<&Symbol, i64> = views
        .iter()
        .map(|view| (&view.symbol, newest_close_ms(view)))
        .collect();
    Ok(SignalList {
        count: signals.len(),
        signals: signals
            .into_iter()
            .map(|signal| {
                let data_ms = newest_close_ms.get(&signal.symbol).copied();
                staleness.json(signal, data_ms.unwrap_or(signal.updated_at_ms))
            })
            .collect(),
    })
}

/// Close time of the symbol's newest closed candle on any timeframe (0 before the first).
fn newest_close_ms(view: &AnalysisView) -> i64 {
    view.timeframes
        .iter()
        .filter_map(|frame| {
            let (candle, _) = frame.latest.as_ref()?;
            Some(candle.open_time_ms + frame.timeframe.duration_ms())
        })
        .max()
        .unwrap_or(0)
}

/// Which signals are not live setups: their feed is stale, or their symbol's newest candle
/// closed before the live window (history ingested late, a backfill, an import of old files).
pub(crate) struct Staleness {
    stale_feeds: Vec<Symbol>,
    live_since_ms: i64,
    /// The learned scores, when on and computed: each signal shows its kind's past.
    learned: Option<std::sync::Arc<cryptolens_actors::domain::backtest::history::LearnedScores>>,
    level_rules: cryptolens_actors::domain::analysis::LevelRules,
    calibration: std::sync::Arc<cryptolens_actors::domain::study::calibration::CalibrationTable>,
}

impl Staleness {
    pub(crate) fn now(state: &AppState) -> Staleness {
        let now_ms = state.clock.now_ms();
        let window_ms =
            i64::try_from(state.ingest.live_window_s.saturating_mul(1000)).unwrap_or(i64::MAX);
        Staleness {
            stale_feeds: state.feed.status.stale(now_ms),
            live_since_ms: now_ms.saturating_sub(window_ms),
            learned: state.learned.read().clone(),
            level_rules: state.level_rules,
            calibration: std::sync::Arc::clone(&state.calibration),
        }
    }

    /// `signal` as JSON, given the close time of the newest candle its symbol has seen.
    pub(crate) fn json(&self, signal: &Signal, newest_close_ms: i64) -> SignalJson {
        SignalJson {
            stale: newest_close_ms < self.live_since_ms
                || self.stale_feeds.contains(&signal.symbol),
            history: self
                .learned
                .as_ref()
                .and_then(|scores| scores.for_signal(signal)),
            probability: self.calibration.for_signal(signal),
            r_after_costs: signal.levels.as_ref().map(|levels| {
                self.level_rules
                    .r_after_costs(levels)
                    .map(|r| (r * 100.0).round() / 100.0)
            }),
            ..SignalJson::new(signal)
        }
    }
}

/// `{}` or `{"symbol": "BTCUSDT"}`; an empty body scans every symbol.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct ScanRequest {
    symbol: Option<String>,
}

async fn scan(body: &[u8], state: &AppState) -> Result<serde_json::Value, ApiError> {
    let request: ScanRequest = if body.iter().all(u8::is_ascii_whitespace) {
        ScanRequest::default()
    } else {
        parse_json(body, "scan request")?
    };
    let symbol = request
        .symbol
        .map(|text| Symbol::parse(&text))
        .transpose()
        .map_err(|error| ApiError::invalid_field("symbol", error.to_string()))?;
    let (symbols, signal_changes) = state.engine.rescan(symbol.as_ref()).await?;
    Ok(json!({"symbols_scanned": symbols, "signal_changes": signal_changes}))
}

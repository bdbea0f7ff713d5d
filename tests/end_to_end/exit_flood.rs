//! Exits under a flood (issue 13, "exit triggers lagged": stops were silently missed when the
//! trigger task fell behind the event broadcast, and one refused exit ended the loop for
//! every later portfolio). 50 portfolios each hold a short whose stop one known candle
//! crosses; 50,000 candles are then posted as fast as the API takes them, with a tiny event
//! broadcast so it overflows. Every honest stop must fill at that candle, at its level or at
//! the gapped open; the one portfolio whose exit is refused (it cannot pay for the close)
//! stays open and is counted, and blocks none of the others.

use crate::support::ServerProcess;
use crate::support::{actor_view, anonymous_client, batch, client, get_json, post_json};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const SYMBOL: &str = "FLOODUSD";
const MINUTE_MS: i64 = 60_000;
const FLAT_MINUTES: i64 = 3;
const FLOOD_CANDLES: i64 = 50_000;
/// The flood candle that crosses every stop: it opens at 1000 (10x) and trades up to 1500.
const KNOWN_INDEX: i64 = 31_337;
const BATCH_CANDLES: i64 = 10_000;
const PORTFOLIOS: usize = 50;
const METRICS_TOKEN: &str = "metrics-0d1e2f3a4b5c6d7e8f90a1b2c3d4e5f6";

fn candle(open_time_ms: i64, open: &str, high: &str, low: &str, close: &str) -> Value {
    json!({"t": open_time_ms, "o": open, "h": high, "l": low, "c": close, "v": "1"})
}

fn flat(open_time_ms: i64) -> Value {
    candle(open_time_ms, "100", "100", "100", "100")
}

fn decimal(value: &Value) -> Decimal {
    value
        .as_str()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(|| panic!("a decimal string, not {value}"))
}

/// The stop of honest portfolio `n` (1..=49): the first 24 below the known candle's open (so
/// it gaps through them and they fill at 1000), the rest inside its range (filled at the stop).
fn honest_stop(n: usize) -> Decimal {
    if n <= 24 {
        Decimal::from(101 + n as i64)
    } else {
        Decimal::from(1000 + 10 * n as i64)
    }
}

async fn post_candles(http: &reqwest::Client, base: &str, candles: Vec<Value>) {
    let body = batch(SYMBOL, "1m", candles);
    let (status, answer) = post_json(http, &format!("{base}/api/candles"), &body).await;
    assert_eq!(status, 200, "{answer}");
}

/// Creates a portfolio holding one short at market with `stop`; answers its id.
async fn short_with_stop(http: &reqwest::Client, base: &str, quantity: &str, stop: Decimal) -> u64 {
    let create = json!({"name": "flood", "initial_balance": "10000", "fee_rate": "0"});
    let (status, created) = post_json(http, &format!("{base}/api/portfolios"), &create).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_u64().expect("id");
    let open = json!({"symbol": SYMBOL, "side": "short", "quantity": quantity,
                      "stop_loss": stop.to_string()});
    let url = format!("{base}/api/portfolios/{id}/trades");
    let (status, opened) = post_json(http, &url, &open).await;
    assert_eq!(status, 201, "{opened}");
    id
}

async fn trade(http: &reqwest::Client, base: &str, id: u64) -> Value {
    let trades = get_json(http, &format!("{base}/api/portfolios/{id}/trades")).await;
    trades["trades"][0].clone()
}

async fn metric(base: &str, name: &str) -> Decimal {
    let text = anonymous_client()
        .get(format!("{base}/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} missing from:\n{text}"))
}

/// Polls until `done` holds for every trade (at most 120 s); answers the trades by portfolio.
async fn wait_for_trades(
    http: &reqwest::Client,
    base: &str,
    ids: &[u64],
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let mut trades = Vec::new();
        for id in ids {
            trades.push(trade(http, base, *id).await);
        }
        if done(&trades) || started.elapsed() > Duration::from_secs(120) {
            return trades;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn fifty_stops_fill_at_their_candle_under_a_flood_and_a_refused_exit_blocks_none() {
    let config =
        format!("[server]\nmetrics_token = \"{METRICS_TOKEN}\"\n[engine]\nevent_capacity = 16\n");
    let server = ServerProcess::start(&config);
    let (http, base) = (client(), server.base_url.clone());
    let first_ms = (chrono::Utc::now().timestamp_millis() / MINUTE_MS + 1) * MINUTE_MS;
    let flat_candles = (0..FLAT_MINUTES)
        .map(|m| flat(first_ms + m * MINUTE_MS))
        .collect();
    post_candles(&http, &base, flat_candles).await;

    // The lowest id is rigged: 90 short at 100 reserves 9,000 of its 10,000, and closing at
    // the gapped 1000 would cost 90,000.
    let rigged = short_with_stop(&http, &base, "90", Decimal::from(105)).await;
    let mut honest = Vec::new();
    for n in 1..PORTFOLIOS {
        honest.push(short_with_stop(&http, &base, "1", honest_stop(n)).await);
    }
    assert!(honest.iter().all(|id| *id > rigged));
    for id in std::iter::once(&rigged).chain(&honest) {
        let opened = trade(&http, &base, *id).await;
        assert_eq!(decimal(&opened["average_entry_price"]), Decimal::from(100));
    }

    let flood_start_ms = first_ms + FLAT_MINUTES * MINUTE_MS;
    let known_ms = flood_start_ms + KNOWN_INDEX * MINUTE_MS;
    let started = Instant::now();
    for batch_start in (0..FLOOD_CANDLES).step_by(BATCH_CANDLES as usize) {
        let candles = (batch_start..batch_start + BATCH_CANDLES)
            .map(|index| {
                let t = flood_start_ms + index * MINUTE_MS;
                if index == KNOWN_INDEX {
                    candle(t, "1000", "1500", "1000", "1000")
                } else {
                    flat(t)
                }
            })
            .collect();
        post_candles(&http, &base, candles).await;
    }
    let ingested = started.elapsed();

    let trades = wait_for_trades(&http, &base, &honest, |trades| {
        trades.iter().all(|trade| trade["status"] == "closed")
    })
    .await;
    eprintln!(
        "exit flood: {FLOOD_CANDLES} candles posted in {ingested:?}, 49 stops filled after {:?}",
        started.elapsed()
    );
    for (n, (id, trade)) in (1..).zip(honest.iter().zip(&trades)) {
        assert_eq!(trade["status"], "closed", "portfolio {id}: {trade}");
        assert_eq!(trade["closed_at"], json!(known_ms + MINUTE_MS), "{trade}");
        let fill = honest_stop(n).max(Decimal::from(1000));
        let expected_pnl = Decimal::from(100) - fill;
        assert_eq!(
            decimal(&trade["realised_pnl"]),
            expected_pnl,
            "portfolio {id}: {trade}"
        );
    }

    let still_open = trade(&http, &base, rigged).await;
    assert_eq!(still_open["status"], "open", "{still_open}");
    assert!(metric(&base, "cryptolens_exit_refusals_total").await >= Decimal::ONE);
    assert_eq!(
        metric(&base, "cryptolens_exit_evaluation_errors_total").await,
        Decimal::ZERO
    );
    assert_eq!(
        metric(&base, "cryptolens_exit_candles_dropped_total").await,
        Decimal::ZERO
    );

    // The last flood candle is still forming: every closed one has been handed on.
    let last_closed_ms = flood_start_ms + (FLOOD_CANDLES - 2) * MINUTE_MS;
    let mut actor = Value::Null;
    for _ in 0..100 {
        actor = actor_view(&http, &base, SYMBOL)
            .await
            .expect("the symbol's actor");
        if actor["exit_last_handed_open_time_ms"] == json!(last_closed_ms) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(actor["exit_backlog_candles"], json!(0), "{actor}");
    assert_eq!(
        actor["exit_last_handed_open_time_ms"],
        json!(last_closed_ms),
        "{actor}"
    );
    assert_eq!(
        metric(&base, "cryptolens_exit_backlog_candles").await,
        Decimal::ZERO
    );
}

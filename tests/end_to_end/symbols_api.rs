//! Symbol management on the real binary against the mock Binance: an admin follows a symbol,
//! pauses and resumes it (it catches up), backfills older history with `cryptolens backfill`
//! (prepended with no gap, analysis rebuilt) and stops following; others are refused, and bad
//! input is answered 4xx naming its field.

use crate::exchange_feed::{
    as_text, feed_config, now_ms, replay, stored, wait_for_newest, wait_for_reconnect,
    wait_for_state, walk, CandleText, DAY_MS, MINUTE_MS,
};
use crate::mock_exchange::binance_server::MockBinance;
use crate::support::ADMIN_KEY;
use crate::support::{add_user, bearer_client, client, get_json, login, send, ServerProcess};
use cryptolens_actors::domain::market::{Candle, Timeframe};
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub(crate) async fn feed_of(server: &ServerProcess, symbol: &str) -> Value {
    let list = get_json(&client(), &server.url("/api/symbols")).await;
    list["symbols"]
        .as_array()
        .and_then(|entries| entries.iter().find(|entry| entry["symbol"] == symbol))
        .cloned()
        .unwrap_or(Value::Null)
}

async fn post(server: &ServerProcess, path: &str, body: Value) -> (u16, Value) {
    send(&client(), "POST", &server.url(path), Some(&body)).await
}

fn expected(series: &[Candle], from_ms: i64, until_ms: i64) -> Vec<CandleText> {
    series
        .iter()
        .filter(|c| (from_ms..=until_ms).contains(&c.open_time_ms))
        .map(as_text)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_follow_pause_resume_backfill_and_unfollow_symbols() {
    let now = now_ms();
    let history_candles = 120;
    let base_from_ms = Timeframe::D1.bucket_start_ms(now - history_candles as i64 * MINUTE_MS);
    let series: BTreeMap<String, Vec<Candle>> = ["BTCUSDT", "ETHUSDT"]
        .iter()
        .enumerate()
        .map(|(index, symbol)| {
            let from_ms = base_from_ms - 125 * DAY_MS;
            (
                symbol.to_string(),
                walk(index as u64 + 31, from_ms, now - 10 * MINUTE_MS),
            )
        })
        .collect();
    let mut cursor_ms = Timeframe::M1.bucket_start_ms(now) - 30 * MINUTE_MS;
    let mock = MockBinance::start(series.clone()).await;
    mock.rest_serves_forming(false);
    mock.publish_until(cursor_ms);
    let server = ServerProcess::start(&feed_config(&mock, &["BTCUSDT"], history_candles));
    wait_for_newest(&server, &["BTCUSDT"], cursor_ms - MINUTE_MS).await;

    add_user(&server.base_url, "watcher", "viewer", "Watcher-Password-9").await;
    let viewer = bearer_client(&login(&server.base_url, "watcher", "Watcher-Password-9").await);
    let body = json!({"symbol": "ETHUSDT"});
    let (status, _) = send(&viewer, "POST", &server.url("/api/symbols"), Some(&body)).await;
    assert_eq!(status, 403, "following is for admins");
    let (status, answer) = post(&server, "/api/symbols", json!({"symbol": "ftx:ETHUSDT"})).await;
    assert_eq!(
        (status, answer["error"]["field"].as_str()),
        (400, Some("symbol"))
    );
    let (status, answer) = post(&server, "/api/symbols", json!({"symbol": "BTCUSDT"})).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (409, Some("already_followed"))
    );

    let connections_before = mock.requests().stream_connections;
    let (status, answer) = post(&server, "/api/symbols", body).await;
    assert_eq!(
        (status, answer["exchange"].as_str()),
        (202, Some("binance")),
        "{answer}"
    );
    wait_for_newest(&server, &["ETHUSDT"], cursor_ms - MINUTE_MS).await;
    let eth = wait_for_state(&server, "ETHUSDT", "live").await;
    assert_eq!(eth["source"], "binance");
    // The feed resubscribes with ETHUSDT added: one new connection replaces the old.
    wait_for_reconnect(&mock, connections_before).await;

    let (status, _) = post(&server, "/api/symbols/BTCUSDT/pause", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(feed_of(&server, "BTCUSDT").await["feed"]["state"], "paused");
    replay(&mock, &mut cursor_ms, 3, 50).await;
    wait_for_newest(&server, &["ETHUSDT"], cursor_ms).await;
    let paused_newest = stored(&server, "BTCUSDT").await.last().map(|c| c.0);
    assert!(
        paused_newest < Some(cursor_ms - MINUTE_MS),
        "a paused symbol takes nothing"
    );
    let (status, _) = post(&server, "/api/symbols/BTCUSDT/resume", json!({})).await;
    assert_eq!(status, 200);
    replay(&mock, &mut cursor_ms, 1, 50).await;
    wait_for_newest(&server, &["BTCUSDT", "ETHUSDT"], cursor_ms).await;

    let path = "/api/symbols/BTCUSDT/backfill";
    let (status, answer) = post(&server, path, json!({"since": "yesterday"})).await;
    assert_eq!(
        (status, answer["error"]["field"].as_str()),
        (400, Some("since"))
    );
    let (status, answer) = post(&server, path, json!({"since": "-5"})).await;
    assert_eq!(
        (status, answer["error"]["field"].as_str()),
        (400, Some("since"))
    );
    let (status, answer) = post(
        &server,
        "/api/symbols/SOLUSDT/backfill",
        json!({"since": "2024-01-01"}),
    )
    .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (404, Some("not_followed"))
    );
    let since_ms = base_from_ms - 2 * DAY_MS;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cryptolens"))
        .args([
            "backfill",
            "--symbols",
            "BTCUSDT",
            "--since",
            &since_ms.to_string(),
        ])
        .args(["--server", &server.base_url, "--api-key", ADMIN_KEY])
        .output()
        .expect("run cryptolens backfill");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("BTCUSDT: "), "{stdout}");
    let after = stored(&server, "BTCUSDT").await;
    let first_ms = after.first().map_or(i64::MAX, |c| c.0);
    assert!(
        first_ms < base_from_ms,
        "older history was prepended: {first_ms}"
    );
    assert_eq!(
        after,
        expected(&series["BTCUSDT"], first_ms, cursor_ms),
        "no gap"
    );
    let entry = feed_of(&server, "BTCUSDT").await;
    assert!(entry["feed"]["backfilled"].as_u64() > Some(0));
    assert_eq!(
        entry["first_open_time_ms"], first_ms,
        "the history span starts there"
    );
    assert_eq!(entry["last_open_time_ms"], cursor_ms);

    // A pending order on BTCUSDT keeps it: 409 until the order is cancelled.
    let (status, portfolio) = post(
        &server,
        "/api/portfolios",
        json!({"name": "p", "initial_balance": "100000"}),
    )
    .await;
    assert_eq!(status, 201, "{portfolio}");
    let trades = format!("/api/portfolios/{}/trades", portfolio["id"]);
    let order = json!({"symbol": "BTCUSDT", "side": "long", "quantity": "0.1", "price": "1", "order": "limit"});
    let (status, placed) = post(&server, &trades, order).await;
    assert_eq!(status, 201, "{placed}");
    let url = server.url("/api/symbols/BTCUSDT");
    let (status, refused) = send(&client(), "DELETE", &url, None).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (409, Some("open_positions"))
    );
    let cancel = format!("{trades}/{}/cancel", placed["trade"]["id"]);
    let (status, cancelled) = send(&client(), "POST", &server.url(&cancel), None).await;
    assert_eq!(status, 200, "{cancelled}");

    let (status, removed) = send(&client(), "DELETE", &url, None).await;
    assert_eq!(
        (status, removed["removed"].as_bool()),
        (200, Some(true)),
        "{removed}"
    );
    assert_eq!(
        feed_of(&server, "BTCUSDT").await,
        Value::Null,
        "gone: no feed, no data"
    );
    let candles = server.url("/api/candles/BTCUSDT/1m");
    let (status, _) = send(&client(), "GET", &candles, None).await;
    assert_eq!(status, 404);
    let (status, _) = send(&client(), "DELETE", &url, None).await;
    assert_eq!(status, 404);
    assert_eq!(
        feed_of(&server, "ETHUSDT").await["feed"]["state"],
        "live",
        "others go on"
    );
}

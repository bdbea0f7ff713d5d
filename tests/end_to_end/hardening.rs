//! Input and account rules on the real binary: candles from the future are refused, the last
//! active admin cannot be disabled or demoted, the ingest WebSocket without an upgrade is
//! 426.

use crate::support::{client, send, serve_command, ServerProcess};
use serde_json::{json, Value};

#[tokio::test]
async fn a_candle_more_than_one_interval_ahead_of_the_server_clock_is_refused_whole() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut command = serve_command(dir.path(), "");
    // The default rule, not the test suite's allowance.
    command.env_remove("CRYPTOLENS_INGEST__FUTURE_INTERVALS_MAX");
    let server = ServerProcess::from_command(command);
    let minute_ms = 60_000;
    let now_ms = chrono::Utc::now().timestamp_millis();
    let this_minute = now_ms - now_ms % minute_ms;
    let candle = |t: i64| json!({"t": t, "o": "1", "h": "2", "l": "1", "c": "2", "v": "3"});
    let day_ahead = json!({"symbol": "BTCUSDT", "timeframe": "1m", "candles": [
        candle(this_minute - minute_ms), candle(this_minute + 24 * 60 * minute_ms)]});
    let (status, answer) = send(
        &client(),
        "POST",
        &server.url("/api/candles"),
        Some(&day_ahead),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"]["field"], "candles[1].t", "{answer}");
    let (_, stored) = send(
        &client(),
        "GET",
        &server.url("/api/candles/BTCUSDT/1m"),
        None,
    )
    .await;
    assert!(
        stored
            .get("candles")
            .is_none_or(|c| c.as_array().is_some_and(Vec::is_empty)),
        "nothing of the batch was applied: {stored}"
    );
    let current = json!({"symbol": "BTCUSDT", "timeframe": "1m", "candles": [
        candle(this_minute - minute_ms), candle(this_minute)]});
    let (status, answer) = send(
        &client(),
        "POST",
        &server.url("/api/candles"),
        Some(&current),
    )
    .await;
    assert_eq!(status, 200, "the forming minute is fine: {answer}");
}

#[tokio::test]
async fn the_last_active_admin_can_be_neither_disabled_nor_demoted() {
    let server = ServerProcess::start("");
    let admin = client();
    for change in [json!({"disabled": true}), json!({"role": "viewer"})] {
        let (status, answer) = send(
            &admin,
            "PATCH",
            &server.url("/api/users/admin"),
            Some(&change),
        )
        .await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (409, Some("last_admin")),
            "{answer}"
        );
    }
    let (_, users) = send(&admin, "GET", &server.url("/api/users"), None).await;
    assert!(
        users.to_string().contains("\"role\":\"admin\""),
        "unchanged: {users}"
    );
    let second = json!({"username": "root2", "role": "admin", "password": "Second-Admin-Pass-9"});
    let (status, _) = send(&admin, "POST", &server.url("/api/users"), Some(&second)).await;
    assert_eq!(status, 201);
    let (status, answer) = send(
        &admin,
        "PATCH",
        &server.url("/api/users/root2"),
        Some(&json!({"role": "trader"})),
    )
    .await;
    assert_eq!(status, 200, "another admin remains: {answer}");
}

#[tokio::test]
async fn the_ingest_websocket_without_an_upgrade_is_426() {
    let server = ServerProcess::start("");
    let (status, answer) = send(&client(), "GET", &server.url("/api/ws/ingest"), None).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (426, Some("upgrade_required"))
    );
}

#[tokio::test]
async fn decimals_outside_the_one_grammar_are_refused_by_field_on_candles_and_orders() {
    let server = ServerProcess::start("");
    let candle = |open: Value| {
        json!({"symbol": "BTCUSDT", "timeframe": "1m",
               "candles": [{"t": 60_000, "o": open, "h": "20", "l": "1", "c": "2", "v": "3"}]})
    };
    let one_e_one: Value = serde_json::from_str("1e1").expect("number");
    for open in [
        json!("1_0"),
        json!("1e1"),
        json!("+10"),
        json!(".5"),
        one_e_one,
    ] {
        let (status, answer) = send(
            &client(),
            "POST",
            &server.url("/api/candles"),
            Some(&candle(open.clone())),
        )
        .await;
        assert_eq!(status, 400, "{open}: {answer}");
        assert!(
            answer.to_string().contains("candles[0].o"),
            "{open}: {answer}"
        );
    }
    let exact: Value = serde_json::from_str("10.12345678").expect("number");
    let (status, answer) = send(
        &client(),
        "POST",
        &server.url("/api/candles"),
        Some(&candle(exact)),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let portfolio = json!({"name": "p", "initial_balance": "1_000"});
    let (status, answer) = send(
        &client(),
        "POST",
        &server.url("/api/portfolios"),
        Some(&portfolio),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer.to_string().contains("initial_balance"), "{answer}");
}

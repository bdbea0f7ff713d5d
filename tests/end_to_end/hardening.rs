//! Input and account rules on the real binary: candles from the future are refused, the last
//! active admin cannot be disabled or demoted, the ingest WebSocket without an upgrade is
//! 426, and hyper's own refusals of malformed request heads are empty.

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

/// The request heads hyper refuses itself, before any of our code runs (a malformed line,
/// a URI or header block over its limits), cannot carry our security headers: hyper has no
/// hook for them. They are empty and close the connection, so there is nothing in them a
/// browser could sniff, frame or run; this pins that down should hyper ever add a body.
#[tokio::test]
async fn answers_hyper_writes_itself_are_empty_and_close_the_connection() {
    let server = ServerProcess::start("");
    let address = server.base_url.trim_start_matches("http://").to_owned();
    let long_uri = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(70_000));
    let big_header = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(500_000)
    );
    for (request, status) in [
        ("GARBAGE\r\n\r\n".to_owned(), "400 Bad Request"),
        (long_uri, "414 URI Too Long"),
        (big_header, "431 Request Header Fields Too Large"),
    ] {
        let answer = tokio::task::spawn_blocking({
            let address = address.clone();
            move || raw_exchange(&address, &request)
        })
        .await
        .expect("exchange");
        let (head, body) = answer.split_once("\r\n\r\n").expect("a head");
        let head = head.to_ascii_lowercase();
        assert!(
            head.starts_with(&format!("http/1.1 {}", status.to_ascii_lowercase())),
            "{head}"
        );
        assert!(head.contains("content-length: 0"), "{head}");
        assert!(head.contains("connection: close"), "{head}");
        assert!(!head.contains("server:"), "{head}");
        assert!(body.is_empty(), "{body:?}");
    }
}

fn raw_exchange(address: &str, request: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .expect("timeout");
    // The server may answer and close before it has read everything sent.
    let _ = stream.write_all(request.as_bytes());
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

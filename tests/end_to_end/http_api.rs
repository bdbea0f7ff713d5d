//! The real binary on an ephemeral port: 50 symbols in and back out, every class of bad
//! candle refused with a field-level 400, oversized bodies 413, and WebSocket ingest.

use crate::support::{
    anonymous_client, batch, candle_json, client, get_json, post_json, ServerProcess, ADMIN_KEY,
    MINUTE_MS,
};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

const SYMBOLS: usize = 50;
const CANDLES_PER_SYMBOL: i64 = 30;

fn symbol_name(index: usize) -> String {
    format!("SYM{index:02}USDT")
}

#[tokio::test]
async fn fifty_symbols_are_ingested_and_read_back() {
    let server = ServerProcess::start("");
    let http = client();
    let posts = (0..SYMBOLS).map(|index| {
        let http = http.clone();
        let url = server.url("/api/candles");
        async move {
            let candles = (0..CANDLES_PER_SYMBOL)
                .map(|minute| candle_json(minute * MINUTE_MS, index as i64 + minute))
                .collect();
            let response = http
                .post(url)
                .json(&batch(&symbol_name(index), "1m", candles))
                .send()
                .await
                .expect("post");
            assert_eq!(response.status(), 200);
            let report: Value = response.json().await.expect("json");
            assert_eq!(report["appended"], CANDLES_PER_SYMBOL);
            // 29 closed 1m candles (the 30th stays open), five 5m buckets, one 15m bucket.
            assert_eq!(report["closed"], 29 + 5 + 1);
        }
    });
    futures_util::future::join_all(posts).await;

    let symbols = get_json(&http, &server.url("/api/symbols")).await;
    assert_eq!(symbols["count"], SYMBOLS);

    for index in [0, 17, 49] {
        let url = server.url(&format!(
            "/api/candles/{}/1m?limit=1000",
            symbol_name(index)
        ));
        let page = get_json(&http, &url).await;
        let candles = page["candles"].as_array().expect("candles");
        assert_eq!(candles.len(), CANDLES_PER_SYMBOL as usize);
        let sent = candle_json(5 * MINUTE_MS, index as i64 + 5);
        let got = &candles[5];
        for key in ["t", "o", "h", "l", "c", "v"] {
            assert_eq!(
                normalise(&got[key]),
                normalise(&sent[key]),
                "{key} of candle 5"
            );
        }
        assert_eq!(
            candles.last().unwrap()["closed"],
            false,
            "the newest 1m candle is still open"
        );
        let url = server.url(&format!("/api/candles/{}/15m", symbol_name(index)));
        let page = get_json(&http, &url).await;
        assert_eq!(page["count"], 2, "30 minutes make two 15m buckets");
        assert_eq!(page["candles"][0]["closed"], true);
    }

    let actors = get_json(&http, &server.url("/api/actors")).await;
    let actors = actors["actors"].as_array().expect("actors");
    assert_eq!(actors.len(), SYMBOLS);
    for actor in actors {
        assert_eq!(actor["candles"]["appended"], CANDLES_PER_SYMBOL);
        assert_eq!(actor["restarts"], 0);
        assert!(actor["processed"].as_u64().unwrap() >= 1);
        assert!(actor["mailbox_capacity"].as_u64().unwrap() > 0);
        assert_eq!(
            actor["last_candle_open_time_ms"],
            (CANDLES_PER_SYMBOL - 1) * MINUTE_MS
        );
        assert!(actor["last_heartbeat_ms"].as_i64().unwrap() > 0);
        assert!(actor.get("lag_ms").is_some() && actor.get("mailbox_len").is_some());
    }
}

/// Numbers as text, trailing zeros dropped, so "102.250" and "102.25" compare equal.
fn normalise(value: &Value) -> String {
    let text = match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

async fn refusal(server: &ServerProcess, body: Value) -> (u16, Value) {
    post_json(&client(), &server.url("/api/candles"), &body).await
}

#[tokio::test]
async fn each_class_of_bad_candle_gets_a_field_level_400_and_nothing_is_applied() {
    let server = ServerProcess::start("");
    let good = candle_json(0, 1);
    let with = |key: &str, value: Value| {
        let mut candle = candle_json(MINUTE_MS, 1);
        candle[key] = value;
        candle
    };
    let cases = [
        (
            with("t", json!(MINUTE_MS + 1)),
            "candles[1].t",
            "not aligned",
        ),
        (with("o", json!("0")), "candles[1].o", "greater than 0"),
        (with("c", json!(-3)), "candles[1].c", "greater than 0"),
        (with("h", json!("NaN")), "candles[1].h", "is not a decimal"),
        (with("h", json!("1_0")), "candles[1].h", "is not a decimal"),
        (with("v", json!("-1")), "candles[1].v", "0 or more"),
        (
            with("l", json!("200")),
            "candles[1].l",
            "above min(open, close)",
        ),
        (
            with("h", json!("100")),
            "candles[1].h",
            "below max(open, close)",
        ),
        (
            with("o", json!("100.123456789")),
            "candles[1].o",
            "more than 8 decimal places",
        ),
        (with("o", json!(true)), "candles[1].o", "invalid type"),
    ];
    for (bad, field, fragment) in cases {
        let (status, body) =
            refusal(&server, batch("BADUSDT", "1m", vec![good.clone(), bad])).await;
        assert_eq!(status, 400, "{field}: {body}");
        assert_eq!(body["error"]["field"], field, "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(fragment), "{field}: {message}");
    }
    let (status, body) = refusal(
        &server,
        json!({"symbol": "?", "timeframe": "1m", "candles": [good]}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (400, Some("symbol"))
    );
    let (status, body) = refusal(
        &server,
        json!({"symbol": "BADUSDT", "timeframe": "3m", "candles": [good]}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (400, Some("timeframe"))
    );
    let (status, body) = refusal(
        &server,
        json!({"symbol": "BADUSDT", "timeframe": "1m", "candles": [good], "x": 1}),
    )
    .await;
    assert_eq!((status, body["error"]["field"].as_str()), (400, Some("x")));
    let too_many: Vec<Value> = (0..10_001)
        .map(|minute| candle_json(minute * MINUTE_MS, 1))
        .collect();
    let (status, body) = refusal(&server, batch("BADUSDT", "1m", too_many)).await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (400, Some("candles"))
    );

    let response = client()
        .get(server.url("/api/candles/BADUSDT/1m"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        404,
        "no refused batch may have created the symbol"
    );
}

#[tokio::test]
async fn an_oversized_body_gets_413_and_a_wrong_timeframe_409() {
    let server = ServerProcess::start("[server]\nbody_limit_bytes = 2048\n");
    let candles: Vec<Value> = (0..100)
        .map(|minute| candle_json(minute * MINUTE_MS, 1))
        .collect();
    let (status, body) = refusal(&server, batch("BIGUSDT", "1m", candles)).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "payload_too_large");

    let (status, _) = refusal(&server, batch("MIXUSDT", "1m", vec![candle_json(0, 1)])).await;
    assert_eq!(status, 200);
    let (status, body) = refusal(&server, batch("MIXUSDT", "5m", vec![candle_json(0, 1)])).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "timeframe_mismatch");
}

#[tokio::test]
async fn duplicates_replacements_and_late_candles_are_reported() {
    let server = ServerProcess::start("");
    let http = client();
    let first: Vec<Value> = (0..5)
        .map(|minute| candle_json(minute * MINUTE_MS, minute))
        .collect();
    http.post(server.url("/api/candles"))
        .json(&batch("ORDUSDT", "1m", first.clone()))
        .send()
        .await
        .unwrap();
    let mut revised_open = candle_json(4 * MINUTE_MS, 4);
    revised_open["v"] = json!("99");
    let changed_closed = candle_json(MINUTE_MS, 40);
    let body = batch(
        "ORDUSDT",
        "1m",
        vec![first[2].clone(), revised_open, changed_closed],
    );
    let (_, report) = post_json(&http, &server.url("/api/candles"), &body).await;
    assert_eq!(
        (report["duplicates"].as_u64(), report["replaced"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(report["rejected_out_of_order"], 1);
    let page = get_json(&http, &server.url("/api/candles/ORDUSDT/1m")).await;
    assert_eq!(page["candles"][4]["v"], "99");
    assert_eq!(
        normalise(&page["candles"][1]["o"]),
        normalise(&first[1]["o"]),
        "closed candle untouched"
    );
}

#[tokio::test]
async fn the_websocket_answers_each_batch_in_order() {
    let server = ServerProcess::start("");
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let url = server.url("/api/ws/ingest").replace("http://", "ws://");
    let mut request = url.into_client_request().expect("request");
    request
        .headers_mut()
        .insert("x-api-key", ADMIN_KEY.parse().expect("header value"));
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connect");
    let good = batch(
        "WSSUSDT",
        "1m",
        (0..3)
            .map(|minute| candle_json(minute * MINUTE_MS, 1))
            .collect(),
    );
    let bad = batch(
        "WSSUSDT",
        "1m",
        vec![json!({"t": 180_000, "o": "1", "h": "1", "l": "2", "c": "1", "v": "1"})],
    );
    for message in [&good, &bad, &json!("not a batch")] {
        socket
            .send(Message::text(message.to_string()))
            .await
            .expect("send");
    }
    let mut answers = Vec::new();
    while answers.len() < 3 {
        match socket.next().await.expect("answer").expect("frame") {
            Message::Text(text) => {
                answers.push(serde_json::from_str::<Value>(&text).expect("json"))
            }
            _ => continue,
        }
    }
    assert_eq!(
        (answers[0]["seq"].as_u64(), answers[0]["status"].as_u64()),
        (Some(1), Some(200))
    );
    assert_eq!(answers[0]["report"]["appended"], 3);
    assert_eq!(
        (
            answers[1]["status"].as_u64(),
            answers[1]["error"]["field"].as_str()
        ),
        (Some(400), Some("candles[0].l"))
    );
    assert_eq!(
        (answers[2]["seq"].as_u64(), answers[2]["status"].as_u64()),
        (Some(3), Some(400))
    );
    let page = get_json(&client(), &server.url("/api/candles/WSSUSDT/1m")).await;
    assert_eq!(page["count"], 3, "the refused message applied nothing");
}

#[tokio::test]
async fn health_endpoints_and_unknown_routes() {
    let server = ServerProcess::start("");
    let http = client();
    let live = http
        .get(server.url("/api/health/live"))
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), 200);
    let ready = get_json(&http, &server.url("/api/health/ready")).await;
    assert_eq!(ready["status"], "ready");
    let missing = http.get(server.url("/api/nothing")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    let bad_limit = http
        .get(server.url("/api/candles/BTCUSDT/1m?limit=abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_limit.status(), 400);
    let unknown = http
        .get(server.url("/api/candles/NOSUCH/1m"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn every_answer_carries_a_request_id_and_the_security_headers() {
    let server = ServerProcess::start("");
    let http = client();
    for path in [
        "/api/health/live",
        "/api/no-such-route",
        "/api/patterns?kind=nope",
    ] {
        let given = http
            .get(server.url(path))
            .header("X-Request-Id", "trace-42")
            .send()
            .await
            .expect("GET");
        assert_eq!(
            given.headers()["x-request-id"],
            "trace-42",
            "{path}: echoed"
        );
        for (name, value) in [
            ("x-content-type-options", "nosniff"),
            ("x-frame-options", "DENY"),
            ("referrer-policy", "no-referrer"),
        ] {
            assert_eq!(given.headers()[name], value, "{path}: {name}");
        }
        assert!(given.headers().contains_key("content-security-policy"));
        assert!(!given.headers().contains_key("server"), "no server banner");
    }
    let fresh = http
        .get(server.url("/api/health/live"))
        .send()
        .await
        .expect("GET");
    let generated = fresh.headers()["x-request-id"]
        .to_str()
        .expect("text")
        .to_owned();
    assert!(
        generated.len() == 32 && generated.bytes().all(|b| b.is_ascii_hexdigit()),
        "{generated}"
    );
    let too_long = "x".repeat(200);
    let replaced = http
        .get(server.url("/api/health/live"))
        .header("X-Request-Id", too_long.as_str())
        .send()
        .await
        .expect("GET");
    assert_eq!(
        replaced.headers()["x-request-id"].len(),
        32,
        "an unusable id is replaced"
    );
}

#[tokio::test]
async fn metrics_need_the_configured_token_and_count_requests_by_route() {
    let token = "metrics-7f3a9c2e41b8d5f06a1c9e3b7d2f4a8c";
    let server = ServerProcess::start(&format!("[server]\nmetrics_token = \"{token}\"\n"));
    let http = client();
    let (status, _) = post_json(
        &http,
        &server.url("/api/candles"),
        &batch(
            "BTCUSDT",
            "1m",
            vec![candle_json(0, 1), candle_json(MINUTE_MS, 2)],
        ),
    )
    .await;
    assert_eq!(status, 200);
    let read = http
        .get(server.url("/api/candles/BTCUSDT/1m"))
        .send()
        .await
        .expect("GET");
    assert_eq!(read.status(), 200);
    let anonymous = anonymous_client();
    for presented in [None, Some("Bearer wrong-token"), Some(token)] {
        let mut request = anonymous.get(server.url("/metrics"));
        if let Some(value) = presented {
            request = request.header("Authorization", value);
        }
        let answer = request.send().await.expect("GET /metrics");
        assert_eq!(answer.status(), 401, "{presented:?}");
        assert_eq!(answer.headers()["www-authenticate"], "Bearer");
    }
    let answer = anonymous
        .get(server.url("/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(answer.status(), 200);
    let text = answer.text().await.expect("text");
    for expected in [
        r#"cryptolens_http_requests_total{method="GET",route="/api/candles/{symbol}/{timeframe}",status="200"} 1"#,
        r#"cryptolens_http_requests_total{method="GET",route="/metrics",status="401"} 3"#,
        "cryptolens_candles_ingested_total 2",
        "cryptolens_symbols 1",
        "cryptolens_http_request_duration_seconds_bucket",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
}

#[tokio::test]
async fn the_websocket_route_without_an_upgrade_answers_426() {
    let server = ServerProcess::start("");
    let response = client()
        .get(server.url("/api/ws/ingest"))
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status().as_u16(), 426);
    let body: serde_json::Value = response.json().await.expect("JSON error");
    assert_eq!(body["error"]["code"], "upgrade_required", "{body}");
    let anonymous = anonymous_client()
        .get(server.url("/api/ws/ingest"))
        .send()
        .await
        .expect("GET");
    assert_eq!(anonymous.status().as_u16(), 401, "credentials first");
}

//! `GET /api/stream` over a real socket: events as they happen, filtered per client and per
//! portfolio owner, credentials re-checked while connected, other origins refused, and a
//! client that never reads disconnected without holding back ingest or the other clients.

use crate::portfolios::{create_portfolio, post};
use crate::support::{
    add_user, batch, bearer_client, candle_json, client, login, metric_value, start_in_process,
    ADMIN_KEY, MINUTE_MS,
};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::Request;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

fn stream_request(base: &str, header: (&str, &str)) -> Request<()> {
    let mut request = format!("{}/api/stream", base.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    let name =
        tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(header.0.as_bytes()).unwrap();
    request
        .headers_mut()
        .insert(name, header.1.parse().unwrap());
    request
}

async fn connect(base: &str, header: (&str, &str)) -> Socket {
    let (socket, _) = tokio_tungstenite::connect_async(stream_request(base, header))
        .await
        .expect("stream upgrade");
    socket
}

async fn subscribe(socket: &mut Socket, filter: Value) {
    let message = json!({"subscribe": filter}).to_string();
    socket.send(Message::text(message)).await.unwrap();
    let answer = next_event(socket, |event| event["type"] != "health").await;
    assert_eq!(answer["type"], "subscribed", "{answer}");
}

/// The next event `wanted` admits, within 10 s; the events it skips are returned too.
async fn next_matching(
    socket: &mut Socket,
    wanted: impl Fn(&Value) -> bool,
) -> (Value, Vec<Value>) {
    let mut skipped = Vec::new();
    let found = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(message) = socket.next().await {
            let Message::Text(text) = message.expect("stream message") else {
                continue;
            };
            let event: Value = serde_json::from_str(&text).expect("JSON event");
            if wanted(&event) {
                return event;
            }
            skipped.push(event);
        }
        panic!("the stream ended; skipped {skipped:?}");
    })
    .await;
    (found.expect("the event within 10 s"), skipped)
}

async fn next_event(socket: &mut Socket, wanted: impl Fn(&Value) -> bool) -> Value {
    next_matching(socket, wanted).await.0
}

fn minute_batch(symbol: &str, minute: i64) -> Value {
    batch(symbol, "1m", vec![candle_json(minute * MINUTE_MS, minute)])
}

#[tokio::test]
async fn each_client_gets_the_candles_it_subscribed_to_as_they_close() {
    let (_dir, _server, base) = start_in_process(|_| {}).await;
    let key = ("x-api-key", ADMIN_KEY);
    let (mut btc, mut eth) = (connect(&base, key).await, connect(&base, key).await);
    subscribe(
        &mut btc,
        json!({"kinds": ["candle"], "symbols": ["BTCUSDT"], "timeframes": ["1m"]}),
    )
    .await;
    subscribe(
        &mut eth,
        json!({"kinds": ["candle", "trade"], "symbols": ["ETHUSDT"]}),
    )
    .await;
    let minute = 28_000_000;
    let posts = [
        ("BTCUSDT", minute),
        ("ETHUSDT", minute),
        ("BTCUSDT", minute + 1),
        ("ETHUSDT", minute + 1),
    ];
    for (symbol, minute) in posts {
        let (status, answer) = post(
            &client(),
            &format!("{base}/api/candles"),
            None,
            minute_batch(symbol, minute),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
    }
    let candle = |minute: i64, closed: bool| {
        json!({"type": "candle", "symbol": "BTCUSDT", "timeframe": "1m",
               "candle": {"t": minute * MINUTE_MS, "o": format!("{}.5", 100 + minute % 50),
                          "h": format!("{}.25", 102 + minute % 50), "l": format!("{}.75", 98 + minute % 50),
                          "c": format!("{}.125", 101 + minute % 50), "v": "12.34567891", "closed": closed}})
    };
    // Each batch: the candles it closed, then the one forming (a chart's live bar).
    for expected in [
        candle(minute, false),
        candle(minute, true),
        candle(minute + 1, false),
    ] {
        assert_eq!(next_event(&mut btc, |_| true).await, expected);
    }
    let first_eth = next_event(&mut eth, |_| true).await;
    assert_eq!(first_eth["symbol"], "ETHUSDT");
    assert_eq!(first_eth["candle"]["t"], minute * MINUTE_MS);

    let bad = json!({"subscribe": {"timeframes": ["7m"]}}).to_string();
    eth.send(Message::text(bad)).await.unwrap();
    let (refused, skipped) = next_matching(&mut eth, |event| event["type"] == "error").await;
    assert_eq!(
        refused["error"]["field"], "subscribe.timeframes",
        "{refused}"
    );
    assert!(
        skipped.iter().all(|event| event["symbol"] == "ETHUSDT"),
        "{skipped:?}"
    );
}

#[tokio::test]
async fn trade_changes_reach_their_owner_once_durable_and_nobody_else() {
    let (_dir, _server, base) = start_in_process(|s| s.stream.health_interval_ms = 200).await;
    add_user(&base, "tess", "trader", "Tess-Password-1").await;
    add_user(&base, "vic", "trader", "Vic-Password-1").await;
    let (tess, vic) = (
        login(&base, "tess", "Tess-Password-1").await,
        login(&base, "vic", "Vic-Password-1").await,
    );
    let mut owner = connect(&base, ("authorization", &format!("Bearer {tess}"))).await;
    let mut other = connect(&base, ("authorization", &format!("Bearer {vic}"))).await;
    subscribe(&mut owner, json!({"kinds": ["trade"]})).await;
    subscribe(&mut other, json!({"kinds": ["trade", "health"]})).await;
    let (status, _) = post(
        &client(),
        &format!("{base}/api/candles"),
        None,
        minute_batch("TESTUSD", 28_000_000),
    )
    .await;
    assert_eq!(status, 200);

    let http = bearer_client(&tess);
    let portfolio = create_portfolio(&http, &base, "10000").await;
    let order = json!({"symbol": "TESTUSD", "side": "long", "quantity": "2"});
    let (status, opened) = post(
        &http,
        &format!("{base}/api/portfolios/{portfolio}/trades"),
        None,
        order,
    )
    .await;
    assert_eq!(status, 201, "{opened}");
    let event = next_event(&mut owner, |_| true).await;
    assert_eq!(event["type"], "trade");
    assert_eq!(event["portfolio_id"], portfolio);
    assert_eq!(event["trade"]["id"], opened["trade"]["id"]);
    assert_eq!(event["trade"]["status"], "open");
    assert_eq!(event["trade"]["quantity"], opened["trade"]["quantity"]);

    // The hub publishes in order: a health event after the trade proves vic was not sent it.
    let (health, before) = next_matching(&mut other, |event| event["type"] == "health").await;
    assert!(before.is_empty(), "another user's trade leaked: {before:?}");
    assert!(health["body"]["status"].is_string(), "{health}");
    let _ = next_event(&mut other, |event| event["type"] == "health").await;
    assert!(metric_value(&base, "cryptolens_stream_clients").await >= Some(2.0));

    // Credentials are re-checked while connected: a disabled user's stream closes.
    let (status, _) = crate::support::send(
        &client(),
        "PATCH",
        &format!("{base}/api/users/vic"),
        Some(&json!({"disabled": true})),
    )
    .await;
    assert_eq!(status, 200);
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(message) = other.next().await {
            if let Ok(Message::Close(frame)) = message {
                return frame;
            }
        }
        None
    })
    .await
    .expect("closed within 10 s")
    .expect("a close frame");
    assert_eq!(u16::from(closed.code), 1008);
    assert!(
        closed.reason.starts_with("credentials no longer valid"),
        "{closed:?}"
    );
}

#[tokio::test]
async fn the_stream_refuses_strangers_other_origins_and_plain_requests() {
    let (_dir, _server, base) = start_in_process(|_| {}).await;
    let ws_base = base.replace("http://", "ws://");
    let anonymous = tokio_tungstenite::connect_async(format!("{ws_base}/api/stream")).await;
    assert_status(anonymous, 401);
    let mut foreign = stream_request(&base, ("x-api-key", ADMIN_KEY));
    foreign
        .headers_mut()
        .insert("origin", "http://evil.example".parse().unwrap());
    assert_status(tokio_tungstenite::connect_async(foreign).await, 403);
    let mut own = stream_request(&base, ("x-api-key", ADMIN_KEY));
    let origin = base.clone();
    own.headers_mut().insert("origin", origin.parse().unwrap());
    assert!(
        tokio_tungstenite::connect_async(own).await.is_ok(),
        "this server's own pages may"
    );
    let plain = client()
        .get(format!("{base}/api/stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 426);
}

fn assert_status<T>(result: Result<T, tokio_tungstenite::tungstenite::Error>, status: u16) {
    match result {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), status);
        }
        Err(other) => panic!("expected HTTP {status}, got {other}"),
        Ok(_) => panic!("expected HTTP {status}, the upgrade succeeded"),
    }
}

/// A client that never reads, with a tiny receive buffer so the server's writes back up.
async fn stalled_client(base: &str) -> Socket {
    let address = base.trim_start_matches("http://").parse().unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let tcp = socket.connect(address).await.unwrap();
    let request = stream_request(base, ("x-api-key", ADMIN_KEY));
    let (socket, _) = tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(tcp))
        .await
        .expect("upgrade");
    socket
}

#[tokio::test]
async fn a_client_that_never_reads_is_dropped_and_holds_back_neither_ingest_nor_others() {
    let (_dir, _server, base) = start_in_process(|s| {
        s.stream.client_queue_events = 16;
        s.stream.slow_client_grace_ms = 200;
    })
    .await;
    let mut stalled = stalled_client(&base).await;
    let mut reader = connect(&base, ("x-api-key", ADMIN_KEY)).await;
    subscribe(
        &mut reader,
        json!({"kinds": ["candle"], "timeframes": ["1m"]}),
    )
    .await;
    let reading = tokio::spawn(async move {
        let mut last_minute = 0;
        while let Some(Ok(message)) = reader.next().await {
            if let Message::Text(text) = message {
                let event: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(
                    event["type"], "candle",
                    "the reader is never dropped: {event}"
                );
                last_minute = event["candle"]["t"].as_i64().unwrap() / MINUTE_MS;
                if last_minute == LAST_MINUTE {
                    break;
                }
            }
        }
        last_minute
    });
    const FIRST_MINUTE: i64 = 28_000_000;
    const LAST_MINUTE: i64 = FIRST_MINUTE + 29_999;
    let http = client();
    for start in (FIRST_MINUTE..=LAST_MINUTE).step_by(500) {
        let candles = (start..start + 500)
            .map(|minute| candle_json(minute * MINUTE_MS, minute))
            .collect();
        let (status, answer) = post(
            &http,
            &format!("{base}/api/candles"),
            None,
            batch("BTCUSDT", "1m", candles),
        )
        .await;
        assert_eq!(
            status, 200,
            "ingest answered while a client reads nothing: {answer}"
        );
    }
    let last = tokio::time::timeout(Duration::from_secs(60), reading)
        .await
        .expect("reader done")
        .unwrap();
    assert_eq!(
        last, LAST_MINUTE,
        "the reading client got every minute up to the last"
    );
    let mut dropped = None;
    for _ in 0..100 {
        dropped = metric_value(&base, "cryptolens_stream_clients_dropped_total").await;
        if dropped == Some(1.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        dropped,
        Some(1.0),
        "the stalled client was dropped, and only it"
    );
    // Read at last: what was buffered, then the reason.
    let reason = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(message) = stalled.next().await {
            match message {
                Ok(Message::Close(frame)) => return frame.map(|f| f.reason.to_string()),
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
        None
    })
    .await
    .expect("the stalled socket ends");
    if let Some(reason) = reason {
        assert!(reason.starts_with("too slow"), "{reason}");
    }
}

//! Idempotency keys on the real binary: every mutating portfolio route answers a repeated
//! key with its first status and body, before and after a restart on the same data dir; a
//! key reused with another body is 409; a refusal stays the key's answer after a restart even
//! once it would succeed (regression, issue 13: it used to be applied then).

use crate::support::{client, get_json, ServerProcess};
use serde_json::{json, Value};

async fn send(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    key: Option<&str>,
    body: &Value,
) -> (u16, Value) {
    let mut request = http.request(method, url).json(body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    let response = request.send().await.expect("a response");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// One keyed request: where, with which key and body.
struct Keyed {
    method: reqwest::Method,
    path: String,
    key: &'static str,
    body: Value,
}

impl Keyed {
    fn post(path: String, key: &'static str, body: Value) -> Keyed {
        Keyed {
            method: reqwest::Method::POST,
            path,
            key,
            body,
        }
    }

    async fn send(&self, http: &reqwest::Client, base: &str) -> (u16, Value) {
        let url = format!("{base}{}", self.path);
        send(http, self.method.clone(), &url, Some(self.key), &self.body).await
    }

    async fn send_other_body(&self, http: &reqwest::Client, base: &str) -> (u16, Value) {
        let mut body = self.body.clone();
        body["name"] = json!("another body");
        let url = format!("{base}{}", self.path);
        send(http, self.method.clone(), &url, Some(self.key), &body).await
    }
}

fn requests(id: u64) -> Vec<Keyed> {
    let trades = format!("/api/portfolios/{id}/trades");
    let trade = |action: &str| format!("{trades}/1{action}");
    vec![
        Keyed::post(
            trades.clone(),
            "open",
            json!({"symbol": "BTCUSDT", "side": "long", "quantity": "5", "price": "100"}),
        ),
        Keyed::post(
            trades.clone(),
            "too-big",
            json!({"symbol": "BTCUSDT", "side": "long", "quantity": "6", "price": "100"}),
        ),
        Keyed {
            method: reqwest::Method::PATCH,
            path: trade(""),
            key: "amend",
            body: json!({"stop_loss": "90"}),
        },
        Keyed::post(
            trade("/journal"),
            "journal",
            json!({"text": "entered", "tags": ["plan"]}),
        ),
        Keyed::post(
            trade("/add"),
            "add",
            json!({"quantity": "1", "price": "100"}),
        ),
        Keyed::post(trade("/close"), "close", json!({"quantity": "1"})),
        Keyed::post(
            trades.clone(),
            "resting",
            json!({"symbol": "BTCUSDT", "side": "long", "quantity": "0.1", "price": "50"}),
        ),
        Keyed::post(format!("{trades}/2/cancel"), "cancel", json!({})),
    ]
}

async fn ledger_count(http: &reqwest::Client, base: &str, id: u64) -> Value {
    get_json(http, &format!("{base}/api/portfolios/{id}/ledger")).await["count"].clone()
}

#[tokio::test]
async fn every_mutating_portfolio_route_answers_a_repeated_key_as_first_even_after_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = ServerProcess::start_in(dir.path(), "");
    let http = client();
    let base = server.base_url.clone();
    let create = Keyed::post(
        "/api/portfolios".into(),
        "create",
        json!({"name": "keys", "initial_balance": "1000"}),
    );
    // The market every order here fills against (only before the restart: replays must not
    // depend on it).
    let market = json!({"symbol": "BTCUSDT", "timeframe": "1m",
        "candles": [{"t": 60_000, "o": "100", "h": "100", "l": "100", "c": "100", "v": "1"}]});
    let posted = send(
        &http,
        reqwest::Method::POST,
        &format!("{base}/api/candles"),
        None,
        &market,
    )
    .await;
    assert_eq!(posted.0, 200, "{}", posted.1);
    let created = create.send(&http, &base).await;
    assert_eq!(created.0, 201, "{}", created.1);
    let id = created.1["id"].as_u64().expect("an id");
    let mut first = vec![created];
    for request in requests(id) {
        let answer = request.send(&http, &base).await;
        assert_eq!(request.send(&http, &base).await, answer, "{}", request.key);
        first.push(answer);
    }
    let statuses: Vec<u16> = first.iter().map(|(status, _)| *status).collect();
    assert_eq!(statuses, [201, 201, 422, 200, 200, 200, 200, 201, 200]);
    assert_eq!(first[2].1["error"]["code"], "insufficient_cash");
    let applied = ledger_count(&http, &base, id).await;
    let free = json!({});
    let closed = send(
        &http,
        reqwest::Method::POST,
        &format!("{base}/api/portfolios/{id}/trades/1/close"),
        None,
        &free,
    )
    .await;
    assert_eq!(
        closed.0, 200,
        "cash freed: the refused open would now succeed"
    );
    let after_close = ledger_count(&http, &base, id).await;
    assert_ne!(after_close, applied);
    assert!(server.signal_and_wait("TERM").success());

    let server = ServerProcess::start_in(dir.path(), "");
    let base = server.base_url.clone();
    assert_eq!(create.send(&http, &base).await, first[0], "create");
    for (request, answer) in requests(id).iter().zip(&first[1..]) {
        assert_eq!(&request.send(&http, &base).await, answer, "{}", request.key);
        let (status, reused) = request.send_other_body(&http, &base).await;
        assert_eq!(status, 409, "{}: {reused}", request.key);
        assert_eq!(reused["error"]["code"], "idempotency_key_reused");
        assert_eq!(reused["error"]["field"], "Idempotency-Key");
    }
    let (status, reused) = create.send_other_body(&http, &base).await;
    assert_eq!(
        (status, &reused["error"]["code"]),
        (409, &json!("idempotency_key_reused"))
    );
    assert_eq!(
        ledger_count(&http, &base, id).await,
        after_close,
        "nothing applied"
    );
    let listed: Value = get_json(&http, &format!("{base}/api/portfolios")).await;
    assert_eq!(listed["count"], 1, "one portfolio created");
}

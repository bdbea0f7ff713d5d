//! Paper portfolios on the real binary: validation, idempotency, trading at market, 100
//! concurrent clients on one portfolio, a restart that replays the ledger, and 20 `kill -9`
//! trials under trading load.

use crate::support::{client, fixtures, get_json, post_candles, ServerProcess};
use cryptolens::import::read_candle_file;
use cryptolens_actors::domain::market::Timeframe;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::Duration;

pub(crate) async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    key: Option<&str>,
    body: Value,
) -> (u16, Value) {
    let mut request = http.request(method, url).json(&body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            (status, response.json().await.unwrap_or(Value::Null))
        }
        Err(_) => (0, Value::Null),
    }
}

pub(crate) async fn post(
    http: &reqwest::Client,
    url: &str,
    key: Option<&str>,
    body: Value,
) -> (u16, Value) {
    call(http, reqwest::Method::POST, url, key, body).await
}

pub(crate) async fn create_portfolio(http: &reqwest::Client, base: &str, balance: &str) -> u64 {
    let (status, body) = post(
        http,
        &format!("{base}/api/portfolios"),
        None,
        json!({"name": "main", "initial_balance": balance}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_u64().expect("id")
}

pub(crate) fn decimal(value: &Value) -> Decimal {
    value
        .as_str()
        .and_then(|text| text.parse().ok())
        .expect("a decimal string")
}

/// The ledger's conservation invariant, read over HTTP: cash = initial + sum, cash >= 0,
/// and each entry continues the previous one.
pub(crate) async fn assert_conserved(http: &reqwest::Client, base: &str, id: u64) -> Value {
    let ledger: Value = get_json(http, &format!("{base}/api/portfolios/{id}/ledger")).await;
    let initial = decimal(&ledger["initial_balance"]);
    let cash = decimal(&ledger["cash"]);
    let mut running = initial;
    for entry in ledger["entries"].as_array().expect("entries") {
        assert_eq!(decimal(&entry["cash_before"]), running, "{entry}");
        running += decimal(&entry["amount"]);
        assert_eq!(decimal(&entry["cash_after"]), running, "{entry}");
        assert!(running >= Decimal::ZERO, "cash never negative");
    }
    assert_eq!(
        running, cash,
        "cash = initial balance + the sum of the ledger"
    );
    ledger
}

#[tokio::test]
async fn each_invalid_request_is_refused_with_its_field_and_changes_nothing() {
    let server = ServerProcess::start("");
    let http = client();
    let id = create_portfolio(&http, &server.base_url, "1000").await;
    set_market(&http, &server.base_url, "BTCUSDT", "100").await;
    let trades = format!("{}/api/portfolios/{id}/trades", server.base_url);
    let open = |change: Value| {
        let mut body =
            json!({"symbol": "BTCUSDT", "side": "long", "quantity": "1", "price": "100"});
        for (key, value) in change.as_object().expect("object") {
            body[key] = value.clone();
        }
        body
    };
    let cases = [
        (open(json!({"quantity": "0"})), 400, "quantity"),
        (open(json!({"quantity": "-1"})), 400, "quantity"),
        (open(json!({"quantity": "0.000000001"})), 400, "quantity"),
        (open(json!({"price": "0"})), 400, "price"),
        (open(json!({"symbol": "??"})), 400, "symbol"),
        (open(json!({"side": "up"})), 400, "side"),
        (open(json!({"stop_loss": "101"})), 400, "stop_loss"),
        (open(json!({"take_profits": ["99"]})), 400, "take_profits"),
        (open(json!({"quantity": "11"})), 422, "quantity"),
        (open(json!({"leverage": 10})), 400, "leverage"),
    ];
    for (body, status, field) in cases {
        let (got, answer) = post(&http, &trades, None, body.clone()).await;
        assert_eq!(
            (got, answer["error"]["field"].as_str()),
            (status, Some(field)),
            "{body} -> {answer}"
        );
    }
    // Regression: amounts read into the money types were refused as JSON syntax errors.
    for change in [
        json!({"quantity": "-1"}),
        json!({"quantity": "0.000000001"}),
        json!({"price": "0"}),
        json!({"stop_loss": "0.000000001"}),
    ] {
        let (_, answer) = post(&http, &trades, None, open(change.clone())).await;
        assert_eq!(
            answer["error"]["code"], "invalid_input",
            "{change} -> {answer}"
        );
    }
    // Well-formed but beyond its bound: 422, naming the field.
    let (status, answer) = post(
        &http,
        &trades,
        None,
        open(json!({"take_profits": ["10000000000000000000"]})),
    )
    .await;
    assert_eq!(
        (
            status,
            answer["error"]["code"].as_str(),
            answer["error"]["field"].as_str()
        ),
        (422, Some("out_of_range"), Some("take_profits"))
    );
    let no_data = open(json!({"symbol": "ETHUSDT", "price": null}));
    let (status, answer) = post(&http, &trades, None, no_data).await;
    assert_eq!(status, 404, "at market needs data for the symbol: {answer}");
    let portfolios = format!("{}/api/portfolios", server.base_url);
    for (body, field) in [
        (
            json!({"name": "x", "initial_balance": "0"}),
            "initial_balance",
        ),
        (
            json!({"name": "x", "initial_balance": "1000000001"}),
            "initial_balance",
        ),
        (json!({"name": "", "initial_balance": "10"}), "name"),
        (
            json!({"name": "x", "initial_balance": "10", "owner": "root"}),
            "owner",
        ),
    ] {
        let (status, answer) = post(&http, &portfolios, None, body).await;
        assert_eq!(
            (status, answer["error"]["field"].as_str()),
            (400, Some(field)),
            "{answer}"
        );
    }
    let ledger = assert_conserved(&http, &server.base_url, id).await;
    assert_eq!(ledger["count"], 0, "no refused request wrote anything");
    let (status, _) = post(&http, &format!("{trades}/1/close"), None, json!({})).await;
    assert_eq!(status, 404, "an unknown trade");
}

#[tokio::test]
async fn an_idempotency_key_returns_the_first_answer_and_applies_nothing_more() {
    let server = ServerProcess::start("");
    let http = client();
    let id = create_portfolio(&http, &server.base_url, "1000").await;
    set_market(&http, &server.base_url, "BTCUSDT", "100").await;
    let trades = format!("{}/api/portfolios/{id}/trades", server.base_url);
    let body = json!({"symbol": "BTCUSDT", "side": "short", "quantity": "0.5", "price": "100"});
    let first = post(&http, &trades, Some("order-1"), body.clone()).await;
    let again = post(&http, &trades, Some("order-1"), body.clone()).await;
    assert_eq!(first.0, 201);
    assert_eq!(again, first, "the same answer, byte for byte");
    let other = json!({"symbol": "BTCUSDT", "side": "short", "quantity": "0.6", "price": "100"});
    let (status, answer) = post(&http, &trades, Some("order-1"), other).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (409, Some("idempotency_key_reused"))
    );
    let ledger = assert_conserved(&http, &server.base_url, id).await;
    assert_eq!(ledger["count"], 1, "applied once");
}

#[tokio::test]
async fn trades_at_market_use_the_symbol_s_latest_price_and_survive_a_restart() {
    let candles =
        read_candle_file(&fixtures().join("data/EURUSD-1h.csv"), Timeframe::H1).expect("candles");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = ServerProcess::start_in(dir.path(), "");
    let http = client();
    post_candles(
        &http,
        &server.base_url,
        "EURUSD",
        Timeframe::H1,
        &candles[..100],
    )
    .await;
    let last_close = candles[99].close.to_string();
    let id = create_portfolio(&http, &server.base_url, "100000").await;
    let trades = format!("{}/api/portfolios/{id}/trades", server.base_url);
    let body = json!({"symbol": "EURUSD", "side": "long", "quantity": "1000"});
    let (status, opened) = post(&http, &trades, None, body).await;
    assert_eq!(status, 201, "{opened}");
    assert_eq!(
        opened["trade"]["average_entry_price"].as_str(),
        Some(last_close.as_str())
    );
    let (status, closed) = post(
        &http,
        &format!("{trades}/1/close"),
        None,
        json!({"quantity": "400"}),
    )
    .await;
    assert_eq!(status, 200, "{closed}");
    let (status, _) = post(
        &http,
        &format!("{trades}/1/journal"),
        None,
        json!({"text": "scaled out", "tags": ["plan"]}),
    )
    .await;
    assert_eq!(status, 200);
    let before = assert_conserved(&http, &server.base_url, id).await;
    let stats_before: Value = get_json(
        &http,
        &format!("{}/api/portfolios/{id}/stats", server.base_url),
    )
    .await;
    assert!(server.signal_and_wait("TERM").success());

    let server = ServerProcess::start_in(dir.path(), "");
    let after = assert_conserved(&http, &server.base_url, id).await;
    assert_eq!(after, before, "the ledger replays to the same state");
    let stats_after: Value = get_json(
        &http,
        &format!("{}/api/portfolios/{id}/stats", server.base_url),
    )
    .await;
    assert_eq!(stats_after["cash"], stats_before["cash"]);
    assert_eq!(stats_after["realised_pnl"], stats_before["realised_pnl"]);
    let trades = format!("{}/api/portfolios/{id}/trades", server.base_url);
    let journal: Value = get_json(&http, &format!("{trades}/1/journal")).await;
    assert_eq!(journal["journal"][0]["text"], "scaled out");
}

#[tokio::test]
async fn a_hundred_concurrent_clients_never_double_spend() {
    let server = ServerProcess::start("");
    let http = client();
    let id = create_portfolio(&http, &server.base_url, "5000").await;
    set_market(&http, &server.base_url, "BTCUSDT", "100").await;
    let trades = format!("{}/api/portfolios/{id}/trades", server.base_url);
    // Each client opens until cash runs out (each open reserves 100.1), closing every third
    // at market.
    let clients = (0..100).map(|client_index| {
        let (http, trades) = (http.clone(), trades.clone());
        tokio::spawn(async move {
            let mut accepted = Vec::new();
            for step in 0..6 {
                let body =
                    json!({"symbol": "BTCUSDT", "side": "long", "quantity": "1", "price": "100"});
                let key = format!("c{client_index}-s{step}");
                let (status, answer) = post(&http, &trades, Some(&key), body).await;
                match status {
                    201 => {
                        let trade = answer["trade"]["id"].as_u64().expect("trade id");
                        accepted.push(answer["ledger_entries"][0].clone());
                        if step % 3 == 2 {
                            let url = format!("{trades}/{trade}/close");
                            let (status, closed) = post(&http, &url, None, json!({})).await;
                            assert_eq!(status, 200, "{closed}");
                            accepted.push(closed["ledger_entries"][0].clone());
                        }
                    }
                    422 => assert_eq!(answer["error"]["code"], "insufficient_cash", "{answer}"),
                    other => panic!("unexpected {other}: {answer}"),
                }
            }
            accepted
        })
    });
    let mut acknowledged = Vec::new();
    for client in clients {
        acknowledged.extend(client.await.expect("client"));
    }
    let ledger = assert_conserved(&http, &server.base_url, id).await;
    let entries = ledger["entries"].as_array().expect("entries");
    assert_eq!(
        entries.len(),
        acknowledged.len(),
        "every acknowledged mutation once, nothing else"
    );
    let stored: HashSet<String> = entries.iter().map(Value::to_string).collect();
    for entry in &acknowledged {
        assert!(
            stored.contains(&entry.to_string()),
            "acknowledged but missing: {entry}"
        );
    }
    assert!(
        decimal(&ledger["cash"]) < Decimal::from(101),
        "cash was spent down to its last open"
    );
    println!(
        "100 clients: {} acknowledged ledger entries, cash {}",
        entries.len(),
        ledger["cash"]
    );
}

#[tokio::test]
async fn twenty_kill_9_trials_keep_every_acknowledged_mutation_and_the_invariants() {
    let dir = tempfile::tempdir().expect("temp dir");
    let http = client();
    let mut total_acknowledged = 0;
    for trial in 0..20_u64 {
        let mut server = ServerProcess::start_in(dir.path(), "");
        // The market the limit orders fill against (posted again: kill -9 may lose it).
        set_market(&http, &server.base_url, "ETHUSDT", "2000").await;
        let id = if trial == 0 {
            create_portfolio(&http, &server.base_url, "1000000").await
        } else {
            1
        };
        let trades = format!("{}/api/portfolios/{id}/trades", server.base_url);
        let load = (0..16).map(|worker| {
            let (http, trades) = (http.clone(), trades.clone());
            tokio::spawn(async move {
                let mut acknowledged = Vec::new();
                for step in 0.. {
                    let key = format!("t{trial}-w{worker}-s{step}");
                    let body = json!({"symbol": "ETHUSDT", "side": "short", "quantity": "0.1", "price": "2000"});
                    let (status, answer) = post(&http, &trades, Some(&key), body.clone()).await;
                    if status != 201 {
                        break; // the server is gone
                    }
                    acknowledged.push((key, body, answer));
                }
                acknowledged
            })
        });
        let load: Vec<_> = load.collect();
        // A pseudo-random moment between 50 and 400 ms into the load.
        let delay_ms = 50 + (trial * 7919) % 350;
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        let killed = std::process::Command::new("kill")
            .args(["-9", &server.child.id().to_string()])
            .status();
        assert!(killed.expect("kill").success());
        let _ = server.child.wait();
        let mut acknowledged = Vec::new();
        for worker in load {
            acknowledged.extend(worker.await.expect("worker"));
        }
        total_acknowledged += acknowledged.len();

        let server = ServerProcess::start_in(dir.path(), "");
        let trades = format!("{}/api/portfolios/{id}/trades", server.base_url);
        assert_conserved(&http, &server.base_url, id).await;
        // Every acknowledged mutation is there: repeating it returns its first answer.
        for (key, body, answer) in &acknowledged {
            let (status, again) = post(&http, &trades, Some(key), body.clone()).await;
            assert_eq!((status, &again), (201, answer), "trial {trial}: {key} lost");
        }
        let ledger = assert_conserved(&http, &server.base_url, id).await;
        let stored: HashSet<String> = ledger["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .map(Value::to_string)
            .collect();
        for (_, _, answer) in &acknowledged {
            assert!(stored.contains(&answer["ledger_entries"][0].to_string()));
        }
        drop(server);
    }
    println!(
        "20 kill -9 trials: {total_acknowledged} acknowledged mutations, all present after restart"
    );
}

/// Posts one-minute candles at `minute`s counted from the next wall-clock minute, so they are
/// newer than trades opened now (a candle older than a trade cannot fill it).
async fn post_flat_minutes(
    http: &reqwest::Client,
    base: &str,
    symbol: &str,
    candles: &[(i64, [&str; 4])],
) {
    let next_minute = chrono::Utc::now().timestamp_millis() / 60_000 + 1;
    let bodies = candles
        .iter()
        .map(|(minute, [o, h, l, c])| {
            let t = (next_minute + minute) * 60_000;
            json!({"t": t, "o": o, "h": h, "l": l, "c": c, "v": "1"})
        })
        .collect();
    let (status, answer) = post(
        http,
        &format!("{base}/api/candles"),
        None,
        crate::support::batch(symbol, "1m", bodies),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
}

/// One flat one-minute candle at `price`: the symbol's market.
async fn set_market(http: &reqwest::Client, base: &str, symbol: &str, price: &str) {
    post_flat_minutes(http, base, symbol, &[(0, [price, price, price, price])]).await;
}

async fn wait_for_trade(http: &reqwest::Client, url: &str, done: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..100 {
        let trades: Value = get_json(http, url).await;
        if done(&trades["trades"][0]) {
            return trades["trades"][0].clone();
        }
        last = trades;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the trade never reached the expected state: {last}");
}

#[tokio::test]
async fn targets_and_stops_trigger_on_live_candles() {
    let server = ServerProcess::start("");
    let http = client();
    let base = &server.base_url;
    post_flat_minutes(&http, base, "TESTUSD", &[(0, ["100", "100", "100", "100"])]).await;
    let id = create_portfolio(&http, base, "100000").await;
    let trades = format!("{base}/api/portfolios/{id}/trades");
    let body = json!({"symbol": "TESTUSD", "side": "long", "quantity": "2", "price": "100",
                      "stop_loss": "95", "take_profits": ["110", "105"]});
    let (status, opened) = post(&http, &trades, None, body).await;
    assert_eq!(status, 201, "{opened}");
    // minute 1 reaches 106; it closes when minute 2 arrives: the 105 target takes half
    post_flat_minutes(
        &http,
        base,
        "TESTUSD",
        &[
            (1, ["100", "106", "99", "104"]),
            (2, ["104", "104", "104", "104"]),
        ],
    )
    .await;
    let partial = wait_for_trade(&http, &trades, |t| t["status"] == "partially_closed").await;
    assert_eq!(
        (
            partial["quantity"].as_str(),
            partial["realised_pnl"].as_str()
        ),
        (Some("1"), Some("5"))
    );
    assert_eq!(partial["take_profits"], json!(["110"]));
    // minute 3 gaps down through the stop: filled at its open, 94, not at 95
    post_flat_minutes(
        &http,
        base,
        "TESTUSD",
        &[(3, ["94", "96", "93", "95"]), (4, ["95", "95", "95", "95"])],
    )
    .await;
    let closed = wait_for_trade(&http, &trades, |t| t["status"] == "closed").await;
    assert_eq!(
        closed["realised_pnl"].as_str(),
        Some("-1"),
        "+5 at the target, -6 at the gapped stop"
    );
    assert_conserved(&http, base, id).await;
}

#[tokio::test]
async fn a_trade_from_a_pattern_uses_its_levels_and_risks_one_percent() {
    let server = ServerProcess::start("");
    let http = client();
    let candles =
        read_candle_file(&fixtures().join("data/EURUSD-1h.csv"), Timeframe::H1).expect("candles");
    post_candles(&http, &server.base_url, "EURUSD", Timeframe::H1, &candles).await;
    let live: Value = get_json(
        &http,
        &format!(
            "{}/api/patterns?symbol=EURUSD&status=live&limit=100",
            server.base_url
        ),
    )
    .await;
    let pattern = live["patterns"]
        .as_array()
        .expect("patterns")
        .iter()
        .find(|p| p["levels"].is_object())
        .expect("a live pattern with levels")
        .clone();
    let id = create_portfolio(&http, &server.base_url, "100000").await;
    let trades = format!("{}/api/portfolios/{id}/trades", server.base_url);
    let body = json!({"symbol": "EURUSD", "from_pattern": pattern["id"]});
    let (status, placed) = post(&http, &trades, Some("from-pattern"), body.clone()).await;
    assert_eq!(status, 201, "{placed}");
    let again = post(&http, &trades, Some("from-pattern"), body).await;
    assert_eq!(
        again,
        (status, placed.clone()),
        "a repeat is answered, not placed again"
    );
    let trade = &placed["trade"];
    // Not filled at the pattern's entry while the market is elsewhere: it rests there.
    assert_eq!(trade["status"], "pending", "{trade}");
    assert_eq!(trade["order"]["price"], pattern["levels"]["entry"]);
    assert_eq!(trade["fills"], json!([]));
    let expected_side = if pattern["direction"] == "bullish" {
        "long"
    } else {
        "short"
    };
    assert_eq!(trade["side"], expected_side);
    assert_eq!(trade["stop_loss"], pattern["levels"]["stop"]);
    assert_eq!(trade["take_profits"], pattern["levels"]["targets"]);
    let entry = decimal(&pattern["levels"]["entry"]);
    let quantity = decimal(&trade["quantity"]);
    let risk = quantity * (entry - decimal(&pattern["levels"]["stop"])).abs();
    let cost = quantity * entry * Decimal::new(1001, 3);
    assert!(
        risk <= Decimal::from(1000),
        "at most 1% of 100000 at risk: {risk}"
    );
    assert!(
        risk > Decimal::from(999) || cost > Decimal::from(99_900),
        "1% at risk, or as much as the cash buys without leverage: risk {risk}, cost {cost}"
    );
    assert_eq!(
        placed["sizing"]["risk_percent"], "1",
        "the answer says how it was sized: {placed}"
    );
    // The resting order holds the cash (sized to all of it); cancelled, it gives it back.
    let cancel = format!("{trades}/{}/cancel", trade["id"]);
    let (status, cancelled) = post(&http, &cancel, None, json!({})).await;
    assert_eq!(status, 200, "{cancelled}");
    // At market on request: filled now at the last close, the pattern's stop and targets kept.
    let body = json!({"symbol": "EURUSD", "from_pattern": pattern["id"], "fill": "market"});
    let (status, taken) = post(&http, &trades, None, body).await;
    let last_close = candles.last().expect("candles").close.to_string();
    match status {
        201 => {
            assert_eq!(taken["trade"]["status"], "open", "{taken}");
            assert_eq!(
                taken["trade"]["average_entry_price"].as_str(),
                Some(last_close.as_str())
            );
            assert_eq!(taken["trade"]["stop_loss"], pattern["levels"]["stop"]);
        }
        _ => assert!(
            status == 400
                && matches!(
                    taken["error"]["field"].as_str(),
                    Some("stop_loss" | "take_profits")
                ),
            "refused only when the market already crossed the stop or a target: {taken}"
        ),
    }
    let unknown = json!({"symbol": "EURUSD", "from_pattern": "1h-0-fvg-bull"});
    assert_eq!(post(&http, &trades, None, unknown).await.0, 404);
}

/// The exits of one candle are logged like any other mutation: a candle reaching both
/// targets closes both shares, in order, and the ledger replays to the same state.
#[tokio::test]
async fn every_exit_one_candle_causes_is_logged_and_replays_after_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = ServerProcess::start_in(dir.path(), "");
    let http = client();
    let base = server.base_url.clone();
    post_flat_minutes(
        &http,
        &base,
        "TESTUSD",
        &[(0, ["100", "100", "100", "100"])],
    )
    .await;
    let id = create_portfolio(&http, &base, "100000").await;
    let trades = format!("{base}/api/portfolios/{id}/trades");
    let body = json!({"symbol": "TESTUSD", "side": "long", "quantity": "2", "price": "100",
                      "stop_loss": "95", "take_profits": ["110", "105"]});
    let (status, opened) = post(&http, &trades, None, body).await;
    assert_eq!(status, 201, "{opened}");
    // minute 1 reaches 111: both targets, the nearest first; it closes when minute 2 arrives
    post_flat_minutes(
        &http,
        &base,
        "TESTUSD",
        &[
            (1, ["100", "111", "99", "108"]),
            (2, ["108", "108", "108", "108"]),
        ],
    )
    .await;
    let closed = wait_for_trade(&http, &trades, |t| t["status"] == "closed").await;
    assert_eq!(
        closed["realised_pnl"].as_str(),
        Some("15"),
        "1 x 5 + 1 x 10"
    );
    assert_eq!(closed["take_profits"], json!([]));
    let before = assert_conserved(&http, &base, id).await;
    let releases: Vec<&str> = before["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|entry| entry["kind"] == "release")
        .filter_map(|entry| entry["amount"].as_str())
        .collect();
    assert_eq!(releases.len(), 2, "one ledger entry per target: {before}");
    assert!(server.signal_and_wait("TERM").success());

    let server = ServerProcess::start_in(dir.path(), "");
    let after = assert_conserved(&http, &server.base_url, id).await;
    assert_eq!(after, before, "the exits replay to the same ledger");
}

/// Each trade action and view has its own route: an unknown one is 404 before any handler,
/// ids that are not numbers are 400 with their field, another portfolio is unknown.
#[tokio::test]
async fn typed_routes_refuse_unknown_actions_views_and_malformed_ids() {
    let server = ServerProcess::start("");
    let http = client();
    let base = &server.base_url;
    let id = create_portfolio(&http, base, "1000").await;
    let portfolio = format!("{base}/api/portfolios/{id}");
    let (status, answer) = post(
        &http,
        &format!("{portfolio}/trades/1/explode"),
        None,
        json!({}),
    )
    .await;
    assert_eq!(
        (status, answer["error"]["message"].as_str()),
        (404, Some("no such route"))
    );
    let response = http
        .get(format!("{portfolio}/secrets"))
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status().as_u16(), 404);
    let response = http
        .get(format!("{portfolio}/trades/1/notes"))
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status().as_u16(), 404);
    for url in [
        format!("{base}/api/portfolios/abc/stats"),
        format!("{base}/api/portfolios/abc"),
        format!("{portfolio}/trades/x/journal"),
    ] {
        let answer: Value = get_json(&http, &url).await;
        let field = answer["error"]["field"].as_str();
        assert!(
            matches!(field, Some("portfolio_id" | "trade_id")),
            "{url}: {answer}"
        );
    }
    let (status, answer) = post(
        &http,
        &format!("{base}/api/portfolios/abc/trades/1/close"),
        None,
        json!({}),
    )
    .await;
    assert_eq!(
        (status, answer["error"]["field"].as_str()),
        (400, Some("portfolio_id"))
    );
    let (status, answer) = post(
        &http,
        &format!("{portfolio}/trades/1/close"),
        None,
        json!({}),
    )
    .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (404, Some("unknown_trade"))
    );
    let answer: Value = get_json(&http, &format!("{base}/api/portfolios/999/stats")).await;
    assert_eq!(answer["error"]["code"], "unknown_portfolio");
}

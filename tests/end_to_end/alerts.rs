//! A trader's own alerts on the real binary, delivered to mock receivers (real HTTP servers
//! on loopback): a price cross and a percent move on pushed candles, fired once or re-armed;
//! a pending order's fill and its stop hit on a paper portfolio; a new order block on the
//! registry's EURUSD candles, every one the server lists seen once; alerts survive a restart
//! with what they fired; bad input and other users' things refused by field.

use crate::mock_receiver::MockReceiver;
use crate::portfolios::create_portfolio;
use crate::support::{add_user, bearer_client, client, login, send, ServerProcess};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

const MINUTE_MS: i64 = 60_000;
/// Loopback receivers allowed; a fast tick; history kept long enough that the patterns API
/// still lists every pattern the EURUSD part forms.
const CONFIG: &str = "[notify]
allow_private_destinations = true
tick_ms = 20
[analysis]
resolved_patterns_kept = 2000
resolved_max_age_hours = 100000
";

async fn created(http: &reqwest::Client, url: &str, body: Value) -> Value {
    let (status, answer) = send(http, "POST", url, Some(&body)).await;
    assert_eq!(status, 201, "{body} -> {answer}");
    answer
}

/// An ntfy channel of the admin's to `receiver`; answers its id.
async fn ntfy_channel(server: &ServerProcess, receiver: &MockReceiver, topic: &str) -> u64 {
    let body =
        json!({"name": topic, "kind": "ntfy", "server_url": receiver.base_url, "topic": topic});
    crate::notifications::create_channel(server, body).await["id"]
        .as_u64()
        .expect("channel id")
}

async fn alert(server: &ServerProcess, body: Value) -> u64 {
    created(&client(), &server.url("/api/alerts"), body).await["id"]
        .as_u64()
        .expect("alert id")
}

async fn alerts(server: &ServerProcess) -> Vec<Value> {
    let (status, answer) = send(&client(), "GET", &server.url("/api/alerts"), None).await;
    assert_eq!(status, 200, "{answer}");
    answer["alerts"].as_array().cloned().unwrap_or_default()
}

async fn alert_by_id(server: &ServerProcess, id: u64) -> Value {
    alerts(server)
        .await
        .into_iter()
        .find(|a| a["id"] == id)
        .unwrap_or(Value::Null)
}

async fn post_minutes(server: &ServerProcess, symbol: &str, first_ms: i64, ohlc: &[[&str; 4]]) {
    let candles: Vec<Value> = ohlc
        .iter()
        .enumerate()
        .map(|(minute, [o, h, l, c])| {
            json!({"t": first_ms + minute as i64 * MINUTE_MS, "o": o, "h": h, "l": l, "c": c, "v": "1"})
        })
        .collect();
    let body = json!({"symbol": symbol, "timeframe": "1m", "candles": candles});
    let (status, answer) = send(&client(), "POST", &server.url("/api/candles"), Some(&body)).await;
    assert_eq!(status, 200, "{answer}");
}

/// The subjects `receiver` got for alert `id` (ntfy: delivery ids `c{channel}-{subject}`),
/// once `count` arrived; asserts none arrived twice.
async fn alert_subjects(receiver: &MockReceiver, id: u64, count: usize) -> Vec<String> {
    let marker = format!("-alert-{id}-");
    let started = Instant::now();
    loop {
        let mine: Vec<(String, usize)> = receiver
            .delivered()
            .into_iter()
            .filter(|(delivery, _)| delivery.contains(&marker))
            .collect();
        for (delivery, times) in &mine {
            assert_eq!(*times, 1, "{delivery} delivered {times} times");
        }
        if mine.len() >= count {
            return mine.into_iter().map(|(delivery, _)| delivery).collect();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "alert {id}: {} of {count} delivered",
            mine.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A price crossing 105 from below on minute 2 and again on minute 5 (after a close back
/// under); a 4% drop within 3 minutes at minute 7.
const MARKET: [[&str; 4]; 9] = [
    ["100", "101", "99", "100"],
    ["100", "104", "99", "103"],
    ["103", "106", "102", "105.5"],
    ["105.5", "106", "103", "104"],
    ["104", "104", "101", "102"],
    ["102", "107", "101", "106"],
    ["106", "106", "104", "105"],
    ["105", "105", "100", "100.5"],
    ["100.5", "101", "100", "100.5"],
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn price_and_move_alerts_fire_once_or_rearm_and_survive_a_restart() {
    let receiver = MockReceiver::start().await;
    let data = tempfile::tempdir().expect("temp dir");
    let server = ServerProcess::start_in(data.path(), CONFIG);
    let first_ms = (chrono::Utc::now().timestamp_millis() / MINUTE_MS + 1) * MINUTE_MS;
    post_minutes(&server, "TESTUSD", first_ms - MINUTE_MS, &[MARKET[0]]).await;
    let channel = ntfy_channel(&server, &receiver, "alerts").await;
    let once = alert(&server, json!({"name": "105 once", "kind": "price_cross", "symbol": "TESTUSD", "direction": "above", "level": "105"})).await;
    let every = alert(&server, json!({"name": "105 every time", "kind": "price_cross", "symbol": "TESTUSD", "direction": "above", "level": "105", "rearm": true, "channel_ids": [channel]})).await;
    let drop = alert(&server, json!({"name": "drop", "kind": "percent_move", "symbol": "TESTUSD", "direction": "down", "percent": "4", "window_minutes": 3})).await;
    post_minutes(&server, "TESTUSD", first_ms, &MARKET).await;
    // The same candles again: nothing new to evaluate.
    post_minutes(&server, "TESTUSD", first_ms, &MARKET).await;

    let at = |minute: i64| first_ms + (minute + 1) * MINUTE_MS;
    let subject = |id: u64, minute: i64| format!("c{channel}-alert-{id}-TESTUSD-{}", at(minute));
    assert_eq!(alert_subjects(&receiver, once, 1).await, [subject(once, 2)]);
    assert_eq!(
        alert_subjects(&receiver, every, 2).await,
        [subject(every, 2), subject(every, 5)]
    );
    assert_eq!(alert_subjects(&receiver, drop, 1).await, [subject(drop, 7)]);
    let message = receiver
        .received()
        .into_iter()
        .find(|r| r.delivery_id() == subject(drop, 7))
        .expect("the move's message");
    let text = String::from_utf8_lossy(&message.body).into_owned();
    // From the highest close in the window (106, minute 5) to 100.5.
    assert!(text.contains("moved down 5.19% within 3 min"), "{text}");
    assert_eq!(message.header("title"), Some("Alert: drop"));

    let listed = alert_by_id(&server, once).await;
    assert_eq!(
        (listed["active"].clone(), listed["fired_count"].clone()),
        (json!(false), json!(1))
    );
    assert_eq!(listed["last_fired_at_ms"], at(2));
    let metrics = client().get(server.url("/metrics")).send().await.unwrap();
    let metrics = metrics.text().await.unwrap();
    assert!(
        metrics.contains("cryptolens_notify_total{outcome=\"alert_fired\"} 4"),
        "{}",
        metrics
            .lines()
            .filter(|l| l.contains("notify_total"))
            .collect::<Vec<_>>()
            .join("\n")
    );

    drop_server_and_restart(server, data.path(), once, every).await;
}

/// After a restart the alerts are as they were (the one-shot spent, the re-armed one armed,
/// its count kept), and the re-armed one keeps firing.
async fn drop_server_and_restart(server: ServerProcess, data: &Path, once: u64, every: u64) {
    drop(server);
    let server = ServerProcess::start_in(data, CONFIG);
    let spent = alert_by_id(&server, once).await;
    assert_eq!(
        (spent["active"].clone(), spent["fired_count"].clone()),
        (json!(false), json!(1))
    );
    let armed = alert_by_id(&server, every).await;
    assert_eq!(
        (armed["active"].clone(), armed["fired_count"].clone()),
        (json!(true), json!(2))
    );
    let (status, answer) = send(
        &client(),
        "DELETE",
        &server.url(&format!("/api/alerts/{once}")),
        None,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(alert_by_id(&server, once).await, Value::Null);
    let (status, _) = send(
        &client(),
        "DELETE",
        &server.url(&format!("/api/alerts/{once}")),
        None,
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_fill_and_a_stop_hit_reach_the_trader() {
    let receiver = MockReceiver::start().await;
    let server = ServerProcess::start(CONFIG);
    let first_ms = (chrono::Utc::now().timestamp_millis() / MINUTE_MS + 1) * MINUTE_MS;
    post_minutes(
        &server,
        "TESTUSD",
        first_ms,
        &[["100", "100", "100", "100"]],
    )
    .await;
    let http = client();
    let portfolio = create_portfolio(&http, &server.base_url, "10000").await;
    let channel = ntfy_channel(&server, &receiver, "trades").await;
    let filled = alert(
        &server,
        json!({"name": "filled", "kind": "trade", "portfolio_id": portfolio, "event": "filled"}),
    )
    .await;
    let stopped = alert(
        &server,
        json!({"name": "stopped", "kind": "trade", "portfolio_id": portfolio, "event": "stop_hit"}),
    )
    .await;
    let order = json!({"symbol": "TESTUSD", "side": "long", "quantity": "10", "price": "95", "stop_loss": "90"});
    created(
        &http,
        &server.url(&format!("/api/portfolios/{portfolio}/trades")),
        order,
    )
    .await;
    // Minute 2 trades down through the limit (fills at 95), minute 4 through the stop.
    post_minutes(
        &server,
        "TESTUSD",
        first_ms + MINUTE_MS,
        &[
            ["100", "101", "96", "99"],
            ["99", "99", "94", "97"],
            ["97", "98", "96", "97"],
            ["96", "96", "89", "89.5"],
            ["89.5", "90", "89", "89.5"],
        ],
    )
    .await;
    let fill = alert_subjects(&receiver, filled, 1).await;
    assert_eq!(
        fill,
        [format!("c{channel}-alert-{filled}-p{portfolio}-t1-Filled")]
    );
    let stop = alert_subjects(&receiver, stopped, 1).await;
    assert_eq!(
        stop,
        [format!(
            "c{channel}-alert-{stopped}-p{portfolio}-t1-StopHit"
        )]
    );
    let bodies: Vec<String> = receiver
        .received()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert!(
        bodies.iter().any(|b| b.contains("filled: 10 at 95")),
        "{bodies:?}"
    );
    assert!(
        bodies.iter().any(|b| b.contains("stopped out at 90")),
        "{bodies:?}"
    );
    let stop_message = receiver
        .received()
        .into_iter()
        .find(|r| r.delivery_id() == stop[0])
        .expect("stop message");
    assert!(
        stop_message
            .header("click")
            .is_some_and(|url| url.ends_with(&format!("/#/portfolio/{portfolio}"))),
        "{:?}",
        stop_message.header("click")
    );
}

/// Alert `id`'s fired count once it has held for two seconds (the exit feed hands the
/// imported candles on after the import returns).
async fn settled_fired_count(server: &ServerProcess, id: u64) -> usize {
    let started = Instant::now();
    let mut last = (u64::MAX, Instant::now());
    loop {
        let count = alert_by_id(server, id).await["fired_count"]
            .as_u64()
            .unwrap_or(0);
        if count != last.0 {
            last = (count, Instant::now());
        } else if count > 0 && last.1.elapsed() > Duration::from_secs(2) {
            return count as usize;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "alert {id} never settled: {count}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_new_order_block_is_seen_once_and_a_one_shot_pattern_alert_once() {
    let receiver = MockReceiver::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let server = ServerProcess::start(CONFIG);
    crate::support::import_eurusd_rows(&server, dir.path(), 0, 100);
    let cutoff_ms = crate::support::all_patterns(&server.base_url, "EURUSD")
        .await
        .values()
        .map(|p| p["formed_at"].as_i64().unwrap())
        .max()
        .unwrap_or(0);
    ntfy_channel(&server, &receiver, "patterns").await;
    let blocks = alert(&server, json!({"name": "blocks", "kind": "pattern", "symbol": "EURUSD", "pattern_kind": "order_block", "rearm": true})).await;
    let gap = alert(&server, json!({"name": "a bearish gap", "kind": "pattern", "symbol": "EURUSD", "pattern_kind": "fair_value_gap", "direction": "bearish", "timeframe": "2h"})).await;
    crate::support::import_eurusd_rows(&server, dir.path(), 100, 400);

    let patterns = crate::support::all_patterns(&server.base_url, "EURUSD").await;
    let occasion = |p: &Value| {
        let direction = if p["direction"] == "bullish" {
            "Bullish"
        } else {
            "Bearish"
        };
        format!(
            "EURUSD-{}-{}-{direction}",
            p["timeframe"].as_str().unwrap(),
            p["formed_at"]
        )
    };
    // Formed clearly after the alert was set: each must have fired it.
    let day_ms = 86_400_000;
    let expected: BTreeSet<String> = patterns
        .values()
        .filter(|p| {
            p["kind"] == "order_block" && p["formed_at"].as_i64().unwrap() > cutoff_ms + day_ms
        })
        .map(occasion)
        .collect();
    assert!(
        expected.len() >= 3,
        "EURUSD forms order blocks: {}",
        expected.len()
    );
    let fired = settled_fired_count(&server, blocks).await;
    let subjects = alert_subjects(&receiver, blocks, fired).await;
    assert_eq!(subjects.len(), fired, "one delivery per firing");
    let seen: BTreeSet<String> = subjects
        .iter()
        .map(|s| {
            s.split_once(&format!("alert-{blocks}-"))
                .unwrap()
                .1
                .to_owned()
        })
        .collect();
    assert!(
        expected.is_subset(&seen),
        "missed: {:?}",
        expected.difference(&seen).collect::<Vec<_>>()
    );
    let all_blocks: BTreeSet<String> = patterns
        .values()
        .filter(|p| p["kind"] == "order_block")
        .map(occasion)
        .collect();
    assert!(
        seen.is_subset(&all_blocks),
        "fired on a pattern the server does not list: {:?}",
        seen.difference(&all_blocks).collect::<Vec<_>>()
    );

    let bearish_2h_gaps = patterns
        .values()
        .filter(|p| p["kind"] == "fair_value_gap" && p["direction"] == "bearish")
        .filter(|p| p["timeframe"] == "2h" && p["formed_at"].as_i64().unwrap() > cutoff_ms)
        .count();
    assert!(
        bearish_2h_gaps >= 2,
        "more than one could fire it: {bearish_2h_gaps}"
    );
    let spent = alert_by_id(&server, gap).await;
    assert_eq!(
        (spent["active"].clone(), spent["fired_count"].clone()),
        (json!(false), json!(1)),
        "{spent}"
    );
    let gap_subject = alert_subjects(&receiver, gap, 1).await;
    assert!(
        gap_subject[0].contains("-EURUSD-2h-") && gap_subject[0].ends_with("-Bearish"),
        "{gap_subject:?}"
    );
}

#[tokio::test]
async fn bad_alerts_are_refused_by_field_and_others_alerts_are_not_found() {
    let server = ServerProcess::start(CONFIG);
    let base = server.base_url.clone();
    post_minutes(
        &server,
        "TESTUSD",
        60 * MINUTE_MS,
        &[["100", "100", "100", "100"]],
    )
    .await;
    let receiver = MockReceiver::start().await;
    let admin_channel = ntfy_channel(&server, &receiver, "admin").await;
    let portfolio = create_portfolio(&client(), &base, "1000").await;
    add_user(&base, "bob", "trader", "Bob-password-123").await;
    let bob = bearer_client(&login(&base, "bob", "Bob-password-123").await);
    let url = server.url("/api/alerts");
    let refused = [
        (
            json!({"name": "x", "kind": "price_cross", "symbol": "NOPEUSD", "direction": "above", "level": "1"}),
            "symbol",
        ),
        (
            json!({"name": "x", "kind": "price_cross", "symbol": "TESTUSD", "direction": "up", "level": "1"}),
            "direction",
        ),
        (
            json!({"name": "x", "kind": "price_cross", "symbol": "TESTUSD", "direction": "above", "level": "1", "percent": "2"}),
            "percent",
        ),
        (
            json!({"name": "x", "kind": "trade", "portfolio_id": portfolio, "event": "filled"}),
            "portfolio_id",
        ),
        (
            json!({"name": "x", "kind": "price_cross", "symbol": "TESTUSD", "direction": "above", "level": "1", "channel_ids": [admin_channel]}),
            "channel_ids",
        ),
        (
            json!({"name": "", "kind": "trade", "portfolio_id": 1, "event": "filled"}),
            "name",
        ),
        (
            json!({"name": "x", "kind": "price_cross", "symbol": "TESTUSD", "direction": "above", "level": "1", "colour": "red"}),
            "",
        ),
    ];
    for (body, field) in refused {
        let (status, answer) = send(&bob, "POST", &url, Some(&body)).await;
        assert_eq!(status, 400, "{body} -> {answer}");
        if !field.is_empty() {
            assert_eq!(answer["error"]["field"], field, "{body} -> {answer}");
        }
    }
    let admins = alert(
        &server,
        json!({"name": "mine", "kind": "trade", "portfolio_id": portfolio, "event": "filled"}),
    )
    .await;
    let (status, listed) = send(&bob, "GET", &url, None).await;
    assert_eq!(
        (status, listed["count"].clone()),
        (200, json!(0)),
        "{listed}"
    );
    let (status, _) = send(
        &bob,
        "DELETE",
        &server.url(&format!("/api/alerts/{admins}")),
        None,
    )
    .await;
    assert_eq!(status, 404, "another user's alert is not found");
    assert_eq!(alerts(&server).await.len(), 1, "and still there");
    let bobs = created(&bob, &url, json!({"name": "bob's", "kind": "percent_move", "symbol": "TESTUSD", "direction": "either", "percent": "1.5", "window_minutes": 30})).await;
    assert_eq!(
        (
            bobs["owner"].clone(),
            bobs["percent"].clone(),
            bobs["active"].clone()
        ),
        (json!("bob"), json!("1.5"), json!(true))
    );
    assert_eq!(alerts(&server).await.len(), 2, "the admin sees everyone's");
}

//! The analysis API on the real server fed real candles: patterns filtered and paged,
//! signals, the matrix, indicators, `POST /api/scan`, field-level refusals, and the pattern
//! and signal events on the broadcast.

use crate::support::{
    batch, client, fixtures, get_json, post_json, start_in_process, ServerProcess,
};
use cryptolens::import::read_candle_file;
use cryptolens_actors::actors::MarketEvent;
use cryptolens_actors::domain::analysis::{PatternEvent, SignalEvent};
use cryptolens_actors::domain::market::{Candle, Timeframe};
use serde_json::{json, Value};

fn eurusd_candles() -> Vec<Candle> {
    read_candle_file(&fixtures().join("data/EURUSD-1h.csv"), Timeframe::H1).expect("candles")
}

async fn post_eurusd(base: &str) {
    let http = client();
    for chunk in eurusd_candles().chunks(5000) {
        let bodies = chunk
            .iter()
            .map(|c| json!({"t": c.open_time_ms, "o": c.open.to_string(), "h": c.high.to_string(),
                            "l": c.low.to_string(), "c": c.close.to_string(), "v": c.volume.to_string()}))
            .collect();
        let (status, answer) = post_json(
            &http,
            &format!("{base}/api/candles"),
            &batch("EURUSD", "1h", bodies),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
    }
}

async fn status_and_field(http: &reqwest::Client, url: &str) -> (u16, Value) {
    let response = http.get(url).send().await.expect("GET");
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("JSON");
    (status, body["error"]["field"].clone())
}

#[tokio::test]
async fn patterns_are_filtered_paged_and_consistent_with_the_matrix() {
    let server = ServerProcess::start("");
    post_eurusd(&server.base_url).await;
    let http = client();
    let all = get_json(&http, &server.url("/api/patterns?limit=1000")).await;
    let total = all["total"].as_u64().expect("total");
    assert!(total > 50, "EURUSD has patterns on its timeframes: {total}");
    let times: Vec<i64> = all["patterns"]
        .as_array()
        .expect("patterns")
        .iter()
        .map(|p| p["formed_at"].as_i64().expect("time"))
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");

    let first = get_json(&http, &server.url("/api/patterns?limit=5")).await;
    let second = get_json(&http, &server.url("/api/patterns?limit=5&offset=5")).await;
    let all_items = all["patterns"].as_array().expect("all");
    assert_eq!(
        first["patterns"].as_array().expect("page")[..],
        all_items[..5]
    );
    assert_eq!(
        second["patterns"].as_array().expect("page")[..],
        all_items[5..10]
    );
    assert_eq!(second["total"], all["total"]);

    let mut kinds_total = 0;
    for kind in ["fair_value_gap", "order_block", "liquidity_sweep"] {
        let page = get_json(
            &http,
            &server.url(&format!(
                "/api/patterns?symbol=EURUSD&kind={kind}&limit=1000"
            )),
        )
        .await;
        assert!(page["patterns"]
            .as_array()
            .expect("patterns")
            .iter()
            .all(|p| p["kind"] == kind));
        kinds_total += page["total"].as_u64().expect("total");
    }
    assert_eq!(kinds_total, total, "the kinds partition the patterns");

    let matrix = get_json(&http, &server.url("/api/matrix")).await;
    let row = &matrix["symbols"][0];
    assert_eq!(row["symbol"], "EURUSD");
    for timeframe in ["1h", "2h", "4h", "1d"] {
        let url =
            format!("/api/patterns?symbol=EURUSD&timeframe={timeframe}&status=live&limit=1000");
        let live = get_json(&http, &server.url(&url)).await;
        let live = live["patterns"].as_array().expect("patterns");
        assert!(live.iter().all(|p| p["timeframe"] == timeframe
            && (p["status"] == "active" || p["status"] == "touched")));
        let cell = &row["timeframes"][timeframe];
        match live.first() {
            None => assert_eq!(cell, "neutral", "{timeframe}"),
            Some(newest) => {
                let newest_directions: Vec<&Value> = live
                    .iter()
                    .filter(|p| p["formed_at"] == newest["formed_at"])
                    .map(|p| &p["direction"])
                    .collect();
                assert!(
                    newest_directions.contains(&cell),
                    "{timeframe}: {cell} vs {newest_directions:?}"
                );
            }
        }
    }

    let indicators = get_json(&http, &server.url("/api/indicators/EURUSD/4h")).await;
    let values = indicators["indicators"].as_object().expect("values");
    assert_eq!(values.len(), 15);
    assert!(values["atr_14"].as_f64().is_some_and(|atr| atr > 0.0));

    let actors = get_json(&http, &server.url("/api/actors")).await;
    let formed = actors["actors"][0]["patterns_formed"]
        .as_u64()
        .expect("count");
    assert!(
        formed >= total,
        "the API keeps the newest resolved ones: {formed} >= {total}"
    );
}

#[tokio::test]
async fn bad_parameters_are_refused_with_the_field_and_unknown_symbols_are_404() {
    // Scans are limited to 1 a minute by default; this test scans several times.
    let server = ServerProcess::start("[rate_limits]\nscan_per_minute = 100\n");
    post_eurusd(&server.base_url).await;
    let http = client();
    let cases = [
        ("/api/patterns?kind=triangle", 400, json!("kind")),
        ("/api/patterns?status=maybe", 400, json!("status")),
        ("/api/patterns?limit=0", 400, json!("limit")),
        ("/api/patterns?offset=-1", 400, json!("offset")),
        ("/api/patterns?timeframe=7m", 400, json!("timeframe")),
        ("/api/patterns?symbol=%3F%3F", 400, json!("symbol")),
        ("/api/patterns?colour=red", 400, json!("colour")),
        ("/api/patterns?symbol=NOPEUSDT", 404, Value::Null),
        ("/api/signals?status=pending", 400, json!("status")),
        ("/api/signals?symbol=NOPEUSDT", 404, Value::Null),
        ("/api/indicators/EURUSD/9m", 400, json!("timeframe")),
        ("/api/indicators/EURUSD/1m", 404, Value::Null),
        ("/api/indicators/NOPEUSDT/1h", 404, Value::Null),
    ];
    for (path, status, field) in cases {
        assert_eq!(
            status_and_field(&http, &server.url(path)).await,
            (status, field),
            "{path}"
        );
    }
    let scan = |body: &'static str| http.post(server.url("/api/scan")).body(body).send();
    let everything = scan("").await.expect("POST");
    assert_eq!(everything.status(), 200);
    let answer: Value = everything.json().await.expect("JSON");
    assert_eq!(answer["symbols_scanned"], 1);
    assert_eq!(
        answer["signal_changes"], 0,
        "nothing changed since the last candle"
    );
    assert_eq!(
        scan(r#"{"symbol":"EURUSD"}"#).await.expect("POST").status(),
        200
    );
    assert_eq!(
        scan(r#"{"symbol":"NOPEUSDT"}"#)
            .await
            .expect("POST")
            .status(),
        404
    );
    assert_eq!(
        scan(r#"{"symbol":"??"}"#).await.expect("POST").status(),
        400
    );
    assert_eq!(
        scan(r#"{"sym":"EURUSD"}"#).await.expect("POST").status(),
        400
    );
}

#[tokio::test]
async fn pattern_and_signal_events_reach_broadcast_subscribers() {
    let (_dir, server, base) =
        start_in_process(|settings| settings.engine.event_capacity = 1_000_000).await;
    let mut events = server.engine().subscribe();
    post_eurusd(&base).await;
    let (mut formed, mut changed, mut signals) = (0, 0, 0);
    loop {
        let event = match events.try_recv() {
            Ok(event) => event,
            Err(tokio::sync::broadcast::error::TryRecvError::Empty) => break,
            Err(error) => panic!("the subscriber lost events: {error}"),
        };
        match event {
            MarketEvent::Pattern { symbol, event } => {
                assert_eq!(symbol.as_str(), "EURUSD");
                match event {
                    PatternEvent::Formed(_) => formed += 1,
                    PatternEvent::Changed(_) => changed += 1,
                }
            }
            MarketEvent::Signal {
                event: SignalEvent::Emitted(_),
                ..
            } => signals += 1,
            _ => {}
        }
    }
    assert!(
        formed > 0 && changed > 0 && signals > 0,
        "{formed} {changed} {signals}"
    );
    server.shutdown().await;
}

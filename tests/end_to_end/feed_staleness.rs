//! Staleness on a server with a manual clock following the mock Binance: when no closed
//! candle has arrived for `exchange.stale_after_intervals` minutes the symbol is `stale` in
//! `/api/symbols` and `/api/actors`, `/api/health` is `degraded`, the metric counts it and its
//! signals say so; the next closed candle makes it live again.

use crate::exchange_feed::{now_ms, walk, DAY_MS, MINUTE_MS};
use crate::mock_exchange::binance_server::MockBinance;
use crate::support::{client, get_json, start_in_process_with, test_start_options};
use cryptolens::auth::ManualClock;
use cryptolens_actors::domain::market::{Candle, Timeframe};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

async fn symbol_entry(base: &str) -> Value {
    let list = get_json(&client(), &format!("{base}/api/symbols")).await;
    list["symbols"][0].clone()
}

async fn wait_for(base: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..300 {
        let entry = symbol_entry(base).await;
        if check(&entry) {
            return entry;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never {what}: {}", symbol_entry(base).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_symbol_turns_stale_everywhere_and_live_again_with_its_next_candle() {
    let now = Timeframe::M1.bucket_start_ms(now_ms());
    let from_ms = Timeframe::D1.bucket_start_ms(now - 60 * MINUTE_MS) - 62 * DAY_MS;
    let series: BTreeMap<String, Vec<Candle>> =
        BTreeMap::from([("BTCUSDT".to_owned(), walk(5, from_ms, now + 10 * MINUTE_MS))]);
    let mock = MockBinance::start(series).await;
    mock.rest_serves_forming(false);
    let mut cursor_ms = now - 5 * MINUTE_MS;
    mock.publish_until(cursor_ms);
    let clock = ManualClock::starting_at(now);
    let options = cryptolens::server::StartOptions {
        clock: Arc::new(clock.clone()),
        ..test_start_options()
    };
    let (rest_url, ws_url) = (mock.rest_url.clone(), mock.ws_url.clone());
    let (_dir, _server, base) = start_in_process_with(
        move |settings| {
            let exchange = &mut settings.exchange;
            exchange.rest_url = rest_url;
            exchange.ws_url = ws_url;
            exchange.symbols = vec!["BTCUSDT".into()];
            exchange.history_candles = 60;
            exchange.stale_after_intervals = 2;
        },
        options,
    )
    .await;
    wait_for(&base, "live", |entry| entry["feed"]["state"] == "live").await;
    mock.wait_for_open_streams(1).await;
    cursor_ms += MINUTE_MS;
    mock.publish_until(cursor_ms);
    wait_for(&base, "the new candle", |entry| {
        entry["feed"]["last_closed_open_time_ms"] == cursor_ms - MINUTE_MS
    })
    .await;
    let health = get_json(&client(), &format!("{base}/api/health")).await;
    assert_eq!(health["status"], "healthy", "{health}");

    clock.advance_ms(2 * MINUTE_MS);
    // Actor heartbeats read the same clock: let one beat at the new time (each second).
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let entry = symbol_entry(&base).await;
    assert_eq!(
        (
            entry["feed"]["state"].clone(),
            entry["feed"]["stale"].clone()
        ),
        ("stale".into(), true.into())
    );
    let health = get_json(&client(), &format!("{base}/api/health")).await;
    assert_eq!(health["status"], "degraded", "{health}");
    assert_eq!(health["feed"]["stale"][0], "BTCUSDT");
    let actors = get_json(&client(), &format!("{base}/api/actors")).await;
    assert_eq!(actors["actors"][0]["stale"], true, "{actors}");
    assert_eq!(
        crate::support::metric_value(&base, "cryptolens_feed_stale_symbols").await,
        Some(1.0)
    );
    let signals = get_json(&client(), &format!("{base}/api/signals?symbol=BTCUSDT")).await;
    let listed = signals["signals"].as_array().cloned().unwrap_or_default();
    assert!(
        listed.iter().all(|signal| signal["stale"] == true),
        "{signals}"
    );

    cursor_ms += MINUTE_MS;
    mock.publish_until(cursor_ms);
    let entry = wait_for(&base, "live again", |entry| {
        entry["feed"]["state"] == "live"
    })
    .await;
    assert_eq!(entry["feed"]["stale"], false);
    assert_eq!(
        crate::support::metric_value(&base, "cryptolens_feed_stale_symbols").await,
        Some(0.0)
    );
    let health = get_json(&client(), &format!("{base}/api/health")).await;
    assert_eq!(health["status"], "healthy", "{health}");
}

//! One clock: a server started with a manual clock reads it everywhere time is read (actor
//! heartbeats and ingest times, health ages, ledger times), and nothing reads the system
//! clock behind its back. Regression: five different clock reads, only auth's injectable.

use crate::support::{
    actor_view, client, get_json, post_json, post_minute, start_in_process_with, test_start_options,
};
use cryptolens::auth::ManualClock;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// 2030-01-01T00:00:00Z: far from the system clock, so a stray system read shows.
const START_MS: i64 = 1_893_456_000_000;
const FIVE_MINUTES_MS: i64 = 300_000;

/// Polls `/api/actors` until `symbol`'s last heartbeat reads `expected_ms` (or 5 s pass).
async fn heartbeat_reaches(http: &reqwest::Client, base: &str, symbol: &str, expected_ms: i64) {
    let mut seen = None;
    for _ in 0..500 {
        seen = actor_view(http, base, symbol)
            .await
            .and_then(|actor| actor["last_heartbeat_ms"].as_i64());
        if seen == Some(expected_ms) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{symbol}'s heartbeat never read {expected_ms}; last seen {seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_time_the_server_reads_comes_from_its_one_clock() {
    let clock = ManualClock::starting_at(START_MS);
    let options = cryptolens::server::StartOptions {
        clock: Arc::new(clock.clone()),
        ..test_start_options()
    };
    let (_dir, server, base) = start_in_process_with(
        |settings| settings.engine.heartbeat_interval_ms = 20,
        options,
    )
    .await;
    let http = client();
    assert_eq!(post_minute(&http, &base, "AAAUSDT", 0).await.status(), 200);
    heartbeat_reaches(&http, &base, "AAAUSDT", START_MS).await;
    let actor = actor_view(&http, &base, "AAAUSDT").await.expect("an actor");
    assert_eq!(actor["last_ingest_at_ms"], START_MS, "{actor}");
    let health = get_json(&http, &format!("{base}/api/health")).await;
    assert_eq!(health["last_ingest_age_ms"], 0, "{health}");

    clock.advance_ms(FIVE_MINUTES_MS);
    let later_ms = START_MS + FIVE_MINUTES_MS;
    let health = get_json(&http, &format!("{base}/api/health")).await;
    assert_eq!(health["last_ingest_age_ms"], FIVE_MINUTES_MS, "{health}");
    heartbeat_reaches(&http, &base, "AAAUSDT", later_ms).await;

    let spec = json!({"name": "clocked", "initial_balance": "1000"});
    let (status, portfolio) = post_json(&http, &format!("{base}/api/portfolios"), &spec).await;
    assert_eq!(status, 201, "{portfolio}");
    assert_eq!(portfolio["created_at"], later_ms, "{portfolio}");
    let id = portfolio["id"].as_u64().expect("an id");
    let open = json!({"symbol": "AAAUSDT", "side": "long", "quantity": "1", "price": "100"});
    let url = format!("{base}/api/portfolios/{id}/trades");
    let (status, opened) = post_json(&http, &url, &open).await;
    assert_eq!(status, 201, "{opened}");
    assert_eq!(opened["trade"]["opened_at"], later_ms, "{opened}");
    assert_eq!(opened["ledger_entries"][0]["at"], later_ms, "{opened}");
    server.shutdown().await;
}

//! Old data is history: a signal whose newest candle closed before `ingest.live_window_s` is
//! listed with `"stale": true`, on a server whose clock the test controls.

use crate::support::{
    client, fixtures, get_json, post_candles, start_in_process_with, test_start_options,
};
use cryptolens::auth::ManualClock;
use cryptolens_actors::domain::market::Timeframe;
use serde_json::Value;
use std::sync::Arc;

const HOUR_MS: i64 = 3_600_000;

async fn signals(base: &str) -> Vec<Value> {
    let list = get_json(&client(), &format!("{base}/api/signals?symbol=EURUSD")).await;
    list["signals"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signals_older_than_the_live_window_are_stale_and_turn_stale_as_the_clock_moves_on() {
    let path = fixtures().join("data/EURUSD-1h.csv");
    let candles = cryptolens::import::read_candle_file(&path, Timeframe::H1).expect("fixture");
    let candles = &candles[..3_000];
    let last_close_ms = candles[candles.len() - 1].open_time_ms + HOUR_MS;
    let clock = ManualClock::starting_at(last_close_ms + 60_000);
    let options = cryptolens::server::StartOptions {
        clock: Arc::new(clock.clone()),
        ..test_start_options()
    };
    let (_dir, _server, base) =
        start_in_process_with(|settings| settings.ingest.live_window_s = 2 * 3600, options).await;
    for chunk in candles.chunks(1_000) {
        post_candles(&client(), &base, "EURUSD", Timeframe::H1, chunk).await;
    }

    // The newest candle closed a minute ago: every signal, live or ended, is current.
    let listed = signals(&base).await;
    assert!(listed.len() >= 2, "{listed:?}");
    assert!(
        listed.iter().all(|signal| signal["stale"] == false),
        "{listed:?}"
    );

    // The last candle posted is still forming (no later one closed it), so the newest closed
    // one ended an hour before it. Within the two-hour window nothing changes; past it, the
    // same signals are history.
    clock.advance_ms(HOUR_MS / 2);
    let within = signals(&base).await;
    assert!(
        within.iter().all(|signal| signal["stale"] == false),
        "{within:?}"
    );
    clock.advance_ms(HOUR_MS);
    let later = signals(&base).await;
    assert_eq!(later.len(), listed.len());
    assert!(
        later.iter().all(|signal| signal["stale"] == true),
        "{later:?}"
    );
}

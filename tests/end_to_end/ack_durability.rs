//! `ingest.durability = "ack"` on the real binary: ten `kill -9` trials under candle ingest
//! lose no acknowledged candle (with the default, up to one snapshot interval is lost).

use crate::portfolios::post;
use crate::support::{batch, candle_json, client, get_json, ServerProcess};
use serde_json::Value;
use std::time::{Duration, Instant};

const CONFIG: &str = "[ingest]\ndurability = \"ack\"\n";
const BATCH: i64 = 50;

/// Posts consecutive batches of `symbol` from minute `from` until the server is gone;
/// answers the open time of the last candle acknowledged, and the candles acknowledged.
async fn ingest_until_killed(base: String, symbol: &'static str, from: i64) -> (Option<i64>, i64) {
    let http = client();
    let (mut last, mut acknowledged) = (None, 0);
    for start in (from..).step_by(BATCH as usize) {
        let candles: Vec<Value> = (start..start + BATCH)
            .map(|minute| candle_json(1_699_999_980_000 + minute * 60_000, minute))
            .collect();
        let body = batch(symbol, "1m", candles);
        // The kill ends a request midway: that is the end, not a failure.
        let (status, answer) = post(&http, &format!("{base}/api/candles"), None, body).await;
        if status != 200 {
            break;
        }
        assert_eq!(answer["crash_window_ms"], 0, "{answer}");
        last = Some(1_699_999_980_000 + (start + BATCH - 1) * 60_000);
        acknowledged += BATCH;
    }
    (last, acknowledged)
}

async fn newest(base: &str, symbol: &str) -> Option<i64> {
    let symbols = get_json(&client(), &format!("{base}/api/symbols")).await;
    symbols["symbols"]
        .as_array()?
        .iter()
        .find(|entry| entry["symbol"] == symbol)?["last_open_time_ms"]
        .as_i64()
}

#[tokio::test]
async fn ten_kill_9_trials_lose_no_candle_acknowledged_with_ack_durability() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut total, mut took) = (0, Duration::ZERO);
    let mut next = [0_i64, 0];
    for trial in 0..10_u64 {
        let mut server = ServerProcess::start_in(dir.path(), CONFIG);
        let started = Instant::now();
        let workers: Vec<_> = ["ETHUSDT", "BTCUSDT"]
            .into_iter()
            .zip(next)
            .map(|(symbol, from)| {
                tokio::spawn(ingest_until_killed(server.base_url.clone(), symbol, from))
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(150 + (trial * 7919) % 400)).await;
        let killed = std::process::Command::new("kill")
            .args(["-9", &server.child.id().to_string()])
            .status();
        assert!(killed.expect("kill").success());
        let _ = server.child.wait();
        took += started.elapsed();
        let server = ServerProcess::start_in(dir.path(), CONFIG);
        for (index, worker) in workers.into_iter().enumerate() {
            let symbol = ["ETHUSDT", "BTCUSDT"][index];
            let (last, acknowledged) = worker.await.expect("worker");
            total += acknowledged;
            let held = newest(&server.base_url, symbol).await;
            assert!(
                held >= last,
                "trial {trial}: {symbol} holds up to {held:?}, acknowledged {last:?}"
            );
            next[index] = held.map_or(0, |at| (at - 1_699_999_980_000) / 60_000 + 1);
        }
    }
    println!(
        "10 kill -9 trials with ingest.durability = \"ack\": {total} acknowledged candles, none lost; \
         {:.0} candles/s acknowledged (2 clients, batches of {BATCH})",
        total as f64 / took.as_secs_f64()
    );
}

//! Streaming equals batch: candles posted to the real server in random batch sizes leave
//! exactly the patterns, signals and indicators that `cryptolens analyze` computes over the
//! same candles in one pass.

use crate::analyze_cli::analyze_json;
use crate::support::{
    all_patterns, client, fixtures, get_json, post_candles, shared_candles, ServerProcess,
};
use cryptolens::import::read_candle_file;
use cryptolens_actors::domain::market::{Candle, Timeframe};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// Keeps every resolved pattern and ended signal, so the server's history is complete.
/// Every resolved pattern kept, and years-old candles taken as live (`analyze` has no clock,
/// so its signals are never stale).
const KEEP_EVERYTHING: &str =
    "[analysis]\nresolved_patterns_kept = 1000000\nresolved_max_age_hours = 1000000\n\
     [ingest]\nlive_window_s = 4000000000\n";

/// The largest n such that candle n follows candle n-1 inside the same bucket of every higher
/// timeframe: posting candles[..=n] then closes candles[..n] and nothing else, which is what
/// `analyze` over candles[..n] analyses.
fn cut_point(candles: &[Candle], timeframe: Timeframe) -> usize {
    let next_higher = timeframe.higher().next().expect("a higher timeframe");
    (1..candles.len())
        .rev()
        .find(|&n| {
            let (previous, next) = (candles[n - 1].open_time_ms, candles[n].open_time_ms);
            next_higher.is_aligned(previous) && next - previous == timeframe.duration_ms()
        })
        .expect("a cut point")
}

fn write_csv(path: &Path, candles: &[Candle]) {
    let mut text = String::from("timestamp,open,high,low,close,volume\n");
    for c in candles {
        text += &format!(
            "{},{},{},{},{},{}\n",
            c.open_time_ms, c.open, c.high, c.low, c.close, c.volume
        );
    }
    std::fs::write(path, text).expect("write csv");
}

/// Posts `candles` in batches of pseudo-random sizes 1..=700 (a fixed LCG, so failures replay).
async fn post_in_random_batches(
    base: &str,
    symbol: &str,
    timeframe: Timeframe,
    candles: &[Candle],
) {
    let http = client();
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut start = 0;
    while start < candles.len() {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        let size = 1 + (state >> 33) as usize % 700;
        let end = (start + size).min(candles.len());
        post_candles(&http, base, symbol, timeframe, &candles[start..end]).await;
        start = end;
    }
}

fn by_id(items: &Value) -> BTreeMap<String, Value> {
    items
        .as_array()
        .expect("array")
        .iter()
        .map(|item| (item["id"].as_str().expect("id").to_owned(), item.clone()))
        .collect()
}

async fn check_streaming_equals_batch(file: &Path, symbol: &str, timeframe: Timeframe) {
    let candles = read_candle_file(file, timeframe).expect("candles");
    let n = cut_point(&candles, timeframe);
    let dir = tempfile::tempdir().expect("temp dir");
    let analysed = dir.path().join("analysed.csv");
    write_csv(&analysed, &candles[..n]);
    let batch_run = analyze_json(
        &analysed,
        &["--timeframe", timeframe.as_str(), "--symbol", symbol],
    );

    let server = ServerProcess::start(KEEP_EVERYTHING);
    post_in_random_batches(&server.base_url, symbol, timeframe, &candles[..=n]).await;

    let streamed = all_patterns(&server.base_url, symbol).await;
    let expected = by_id(&batch_run["patterns"]);
    assert!(!expected.is_empty());
    assert_eq!(streamed.len(), expected.len(), "{symbol}: pattern count");
    assert_eq!(streamed, expected, "{symbol}: patterns");

    let http = client();
    let mut signals = get_json(&http, &server.url(&format!("/api/signals?symbol={symbol}"))).await;
    for signal in signals["signals"].as_array_mut().expect("signals") {
        // The API adds each target's R after costs and the calibrated probability to the
        // analysis both share.
        let with_levels = signal["levels"].is_object();
        let fields = signal.as_object_mut().expect("a signal object");
        let after_costs = fields.remove("r_after_costs");
        let calibrated = fields.remove("probability");
        assert_eq!(after_costs.is_some(), with_levels, "{signal}");
        assert!(
            calibrated.is_some_and(|p| p["samples"].as_u64() > Some(0)),
            "{signal}"
        );
    }
    assert_eq!(
        by_id(&signals["signals"]),
        by_id(&batch_run["signals"]),
        "{symbol}: signals"
    );

    let url = server.url(&format!("/api/indicators/{symbol}/{timeframe}"));
    let indicators = get_json(&http, &url).await;
    assert_eq!(
        indicators["candle_open_time"],
        json!(candles[n - 1].open_time_ms)
    );
    for (name, value) in indicators["indicators"].as_object().expect("indicators") {
        assert_eq!(
            value,
            &batch_run["indicators"][name][n - 1],
            "{symbol}: {name}"
        );
    }
    println!(
        "{symbol}: {} candles streamed, {} patterns and {} signals equal the batch run",
        n + 1,
        expected.len(),
        batch_run["signals"].as_array().map_or(0, Vec::len)
    );
}

#[tokio::test]
async fn streaming_the_registry_eurusd_candles_equals_analyze() {
    let file = fixtures().join("data/EURUSD-1h.csv");
    check_streaming_equals_batch(&file, "EURUSD", Timeframe::H1).await;
}

#[tokio::test]
async fn streaming_real_binance_candles_equals_analyze() {
    let Some(dir) = shared_candles() else { return };
    check_streaming_equals_batch(&dir.join("ETH_BTC-5m.csv"), "ETHBTC", Timeframe::M5).await;
    check_streaming_equals_batch(&dir.join("XRP_ETH-1m.csv"), "XRPETH", Timeframe::M1).await;
}

//! Persistence on the real binary: a SIGTERM restart serves identical state and continues
//! exactly like a run that never stopped; `kill -9` under ingest loses at most the documented
//! bound; damaged snapshots are detected, quarantined and reported while the rest is served;
//! a second server on the same data dir is refused at once.

use crate::support::{
    all_patterns, client, fixtures, get_json, post_candles, serve_command, shared_candles,
    ServerProcess,
};
use cryptolens::import::read_candle_file;
use cryptolens_actors::domain::market::{Candle, Timeframe};
use cryptolens_actors::store::Store;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Candles held back to feed after the restart.
const CONTINUATION: usize = 300;

struct Feed {
    symbol: &'static str,
    timeframe: Timeframe,
    candles: Vec<Candle>,
}

fn feeds() -> Vec<Feed> {
    let eurusd = fixtures().join("data/EURUSD-1h.csv");
    let mut feeds = vec![Feed {
        symbol: "EURUSD",
        timeframe: Timeframe::H1,
        candles: read_candle_file(&eurusd, Timeframe::H1).expect("candles"),
    }];
    if let Some(dir) = shared_candles() {
        for (symbol, file) in [("ETHBTC", "ETH_BTC-5m.csv"), ("XRPETH", "XRP_ETH-1m.csv")] {
            let timeframe = if file.ends_with("1m.csv") {
                Timeframe::M1
            } else {
                Timeframe::M5
            };
            let candles = read_candle_file(&dir.join(file), timeframe).expect("candles");
            feeds.push(Feed {
                symbol,
                timeframe,
                candles,
            });
        }
    }
    feeds
}

async fn post_all(base: &str, feed: &Feed, candles: &[Candle]) {
    let http = client();
    for chunk in candles.chunks(2000) {
        post_candles(&http, base, feed.symbol, feed.timeframe, chunk).await;
    }
}

/// Everything the API says about the feeds' symbols, keyed by request.
async fn capture(base: &str, feeds: &[Feed]) -> BTreeMap<String, Value> {
    let http = client();
    let mut seen = BTreeMap::new();
    for feed in feeds {
        let symbol = feed.symbol;
        let timeframes = std::iter::once(feed.timeframe).chain(feed.timeframe.higher());
        for timeframe in timeframes {
            for path in [
                format!("/api/candles/{symbol}/{timeframe}?limit=1000"),
                format!("/api/indicators/{symbol}/{timeframe}"),
            ] {
                seen.insert(
                    path.clone(),
                    get_json(&http, &format!("{base}{path}")).await,
                );
            }
        }
        let patterns = all_patterns(base, symbol).await;
        seen.insert(
            format!("patterns {symbol}"),
            serde_json::to_value(patterns).expect("json"),
        );
        let path = format!("/api/signals?symbol={symbol}");
        seen.insert(
            path.clone(),
            get_json(&http, &format!("{base}{path}")).await,
        );
    }
    seen.insert(
        "/api/matrix".into(),
        get_json(&http, &format!("{base}/api/matrix")).await,
    );
    seen
}

fn assert_same(before: &BTreeMap<String, Value>, after: &BTreeMap<String, Value>, what: &str) {
    assert_eq!(before.len(), after.len());
    for (request, value) in before {
        assert_eq!(Some(value), after.get(request), "{what}: {request}");
    }
}

#[tokio::test]
async fn a_sigterm_restart_serves_identical_state_and_continues_like_an_uninterrupted_run() {
    let feeds = feeds();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut first = ServerProcess::start_in(dir.path(), "");
    for feed in &feeds {
        post_all(
            &first.base_url,
            feed,
            &feed.candles[..feed.candles.len() - CONTINUATION],
        )
        .await;
    }
    let before = capture(&first.base_url, &feeds).await;
    assert!(first.signal_and_wait("TERM").success());

    let restarted = ServerProcess::start_in(dir.path(), "");
    let after = capture(&restarted.base_url, &feeds).await;
    assert_same(&before, &after, "after restart");

    let uninterrupted = ServerProcess::start("");
    for feed in &feeds {
        let split = feed.candles.len() - CONTINUATION;
        post_all(&uninterrupted.base_url, feed, &feed.candles[..split]).await;
        post_all(&uninterrupted.base_url, feed, &feed.candles[split..]).await;
        post_all(&restarted.base_url, feed, &feed.candles[split..]).await;
    }
    let continued = capture(&restarted.base_url, &feeds).await;
    let reference = capture(&uninterrupted.base_url, &feeds).await;
    assert_same(&reference, &continued, "continued after restart");
    println!(
        "{} symbols: {} responses identical after restart and after {CONTINUATION} more candles each",
        feeds.len(),
        before.len()
    );
}

fn store_check(data_dir: &Path) -> (Option<i32>, Value) {
    store_command("check", data_dir)
}

fn store_command(command: &str, data_dir: &Path) -> (Option<i32>, Value) {
    let output = Command::new(env!("CARGO_BIN_EXE_cryptolens"))
        .args(["store", command, "--data-dir"])
        .arg(data_dir)
        .output()
        .expect("run store check");
    let report = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    (output.status.code(), report)
}

#[tokio::test]
async fn damaged_snapshots_are_detected_reported_and_the_rest_is_served() {
    let candles =
        read_candle_file(&fixtures().join("data/EURUSD-1h.csv"), Timeframe::H1).expect("candles");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = ServerProcess::start_in(dir.path(), "");
    let http = client();
    for symbol in ["EURUSD", "GBPUSD", "USDJPY"] {
        post_candles(
            &http,
            &server.base_url,
            symbol,
            Timeframe::H1,
            &candles[..3000],
        )
        .await;
    }
    let candles_before = get_json(&http, &server.url("/api/candles/EURUSD/4h?limit=1000")).await;
    assert!(server.signal_and_wait("TERM").success());
    assert_eq!(
        store_check(dir.path()).0,
        Some(0),
        "a sound store checks clean"
    );
    let (code, compacted) = store_command("compact", dir.path());
    assert_eq!(code, Some(0), "{compacted}");
    // A store this small is at sled's floor (it preallocates): no smaller, but no bigger.
    let (before, after) = (
        compacted["before_bytes"].as_u64().expect("before"),
        compacted["after_bytes"].as_u64().expect("after"),
    );
    assert!(after <= before + before / 10, "{compacted}");
    assert_eq!(
        store_check(dir.path()).0,
        Some(0),
        "compaction keeps it sound"
    );

    {
        let store = Store::open(&dir.path().join("store")).expect("open the stopped store");
        let mut flipped = store.raw_symbol("GBPUSD").expect("read").expect("stored");
        let middle = flipped.len() / 2;
        flipped[middle] ^= 0x5a;
        store.put_raw_symbol("GBPUSD", &flipped).expect("write");
        let whole = store.raw_symbol("USDJPY").expect("read").expect("stored");
        store
            .put_raw_symbol("USDJPY", &whole[..whole.len() / 3])
            .expect("write");
    }
    let (code, report) = store_check(dir.path());
    assert_eq!(code, Some(1), "damage is a failing check: {report}");
    let damaged: Vec<&str> = report["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|problem| problem["key"].as_str().expect("key"))
        .collect();
    assert_eq!(damaged, ["GBPUSD", "USDJPY"]);
    assert!(report.to_string().contains("checksum mismatch"), "{report}");
    assert!(report.to_string().contains("truncated"), "{report}");

    let server = ServerProcess::start_in(dir.path(), "");
    let health = get_json(&http, &server.url("/api/health")).await;
    assert_eq!(health["status"], "degraded", "{health}");
    assert_eq!(
        health["store"]["problems"].as_array().map(Vec::len),
        Some(2),
        "{health}"
    );
    let symbols = get_json(&http, &server.url("/api/symbols")).await;
    assert_eq!(
        symbols["count"], 1,
        "only the sound symbol is served: {symbols}"
    );
    let candles_after = get_json(&http, &server.url("/api/candles/EURUSD/4h?limit=1000")).await;
    assert_eq!(candles_after, candles_before);
    let response = http
        .get(server.url("/api/candles/GBPUSD/1h"))
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), 404, "a damaged snapshot is never served");
    post_candles(
        &http,
        &server.base_url,
        "GBPUSD",
        Timeframe::H1,
        &candles[..10],
    )
    .await;
}

#[tokio::test]
async fn a_second_server_on_the_same_data_dir_is_refused_at_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let _first = ServerProcess::start_in(dir.path(), "");
    let started = Instant::now();
    let second = serve_command(dir.path(), "")
        .output()
        .expect("run a second server");
    assert!(started.elapsed() < Duration::from_secs(10), "no hang");
    assert_eq!(second.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("in use by another cryptolens process"),
        "{stderr}"
    );
}

#[tokio::test]
async fn kill_9_under_ingest_loses_at_most_the_snapshot_interval() {
    const INTERVAL_MS: u64 = 300;
    /// One snapshot round of three symbols, with room for a loaded CI machine.
    const ROUND_SLACK_MS: u64 = 1200;
    let candles =
        read_candle_file(&fixtures().join("data/EURUSD-1h.csv"), Timeframe::H1).expect("candles");
    let dir = tempfile::tempdir().expect("temp dir");
    let config = format!("[engine]\nsnapshot_interval_ms = {INTERVAL_MS}\n");
    let mut server = ServerProcess::start_in(dir.path(), &config);
    let symbols = ["AAAUSD", "BBBUSD", "CCCUSD"];
    let started = Instant::now();
    let base = server.base_url.clone();
    // Each symbol acknowledges batches of 2 candles; (time since start, last candle) per ack.
    let ingest = symbols.map(|symbol| {
        let (base, candles) = (base.clone(), candles.clone());
        tokio::spawn(async move {
            let http = client();
            let mut acks = Vec::new();
            for chunk in candles.chunks(2) {
                let body = crate::support::batch(
                    symbol,
                    "1h",
                    chunk.iter().map(crate::support::candle_body).collect(),
                );
                let sent = http
                    .post(format!("{base}/api/candles"))
                    .json(&body)
                    .send()
                    .await;
                match sent {
                    Ok(response) if response.status() == 200 => {
                        let last = chunk.last().map(|c| c.open_time_ms).unwrap_or_default();
                        acks.push((started.elapsed(), last));
                    }
                    _ => break,
                }
            }
            acks
        })
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let status = Command::new("kill")
        .args(["-9", &server.child.id().to_string()])
        .status();
    assert!(status.expect("kill").success());
    let killed_at = started.elapsed();
    let _ = server.child.wait();
    let mut acks = Vec::new();
    for task in ingest {
        acks.push(task.await.expect("ingest task"));
    }

    let server = ServerProcess::start_in(dir.path(), &config);
    let http = client();
    let health = get_json(&http, &server.url("/api/health")).await;
    assert_eq!(
        health["status"], "healthy",
        "the store opens clean: {health}"
    );
    let bound = Duration::from_millis(INTERVAL_MS + ROUND_SLACK_MS);
    for (symbol, acks) in symbols.iter().zip(&acks) {
        assert!(
            acks.len() > 5,
            "{symbol} was under load ({} batches)",
            acks.len()
        );
        let view = get_json(
            &http,
            &server.url(&format!("/api/candles/{symbol}/1h?limit=1000")),
        )
        .await;
        let restored_last = view["candles"]
            .as_array()
            .and_then(|candles| candles.last())
            .and_then(|candle| candle["t"].as_i64());
        let safe = acks
            .iter()
            .filter(|(at, _)| *at + bound <= killed_at)
            .map(|(_, last)| *last)
            .max();
        let acked_last = acks.last().map(|(_, last)| *last);
        if let Some(safe) = safe {
            let restored = restored_last.expect("candles restored");
            assert!(
                restored >= safe,
                "{symbol}: lost more than the bound ({restored} < {safe})"
            );
        }
        assert!(
            restored_last <= acked_last,
            "{symbol}: nothing unacknowledged appears"
        );
        let lost = acks
            .iter()
            .filter(|(_, last)| Some(*last) > restored_last)
            .count();
        println!(
            "{symbol}: {} batches acknowledged before kill -9 at {killed_at:?}; {lost} of them (2 candles each) lost",
            acks.len()
        );
        // What is restored is exactly what was sent, in order.
        for candle in view["candles"].as_array().expect("candles") {
            let time = candle["t"].as_i64().expect("time");
            let sent = candles
                .iter()
                .find(|c| c.open_time_ms == time)
                .expect("a sent candle");
            assert_eq!(candle["c"].as_str(), Some(sent.close.to_string().as_str()));
        }
    }
}

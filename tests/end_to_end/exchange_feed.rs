//! The real binary following a mock Binance (`mock_exchange/binance_server.rs`): it warms
//! every timeframe from REST, streams 1m klines, and through every scripted fault (dropped
//! connections, a 10-minute outage, skipped, duplicated and reordered klines, a malformed
//! frame, 429 with Retry-After) ends with exactly the mock's series stored and the same
//! indicators as a run that saw the clean series. A second test warms 20 symbols and reports
//! how long it took until every indicator on every timeframe was defined.
//!
//! The mock's "published up to" cursor is a virtual clock behind the wall clock: the tests
//! replay minutes faster than they pass, in the past, where every kline is closed.

use crate::mock_exchange::binance_server::{Fault, MockBinance};
use crate::mock_exchange::published::Publisher;
use crate::support::{client, get_json, ServerProcess};
use cryptolens_actors::domain::market::{Candle, Price, Timeframe, Volume};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

pub(crate) const MINUTE_MS: i64 = 60_000;
pub(crate) const DAY_MS: i64 = 1_440 * MINUTE_MS;
/// 0.01 at eight decimal places: prices on Binance's tick.
const TICK_RAW: i64 = 1_000_000;

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as i64)
}

/// 1m candles from `from_ms` to `to_ms`, a deterministic walk around 30,000.
pub(crate) fn walk(seed: u64, from_ms: i64, to_ms: i64) -> Vec<Candle> {
    let mut state = seed | 1;
    let mut close = 3_000_000 * TICK_RAW / 100;
    let mut candles = Vec::new();
    let mut open_time_ms = Timeframe::M1.bucket_start_ms(from_ms);
    while open_time_ms <= to_ms {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let open = close;
        close = (open + ((state % 201) as i64 - 100) * TICK_RAW).max(100 * TICK_RAW);
        let wick = ((state >> 20) % 50) as i64 * TICK_RAW;
        candles.push(Candle {
            open_time_ms,
            open: Price::from_raw(open),
            high: Price::from_raw(open.max(close) + wick),
            low: Price::from_raw(open.min(close) - wick / 2),
            close: Price::from_raw(close),
            volume: Volume::from_raw(((state >> 32) % 1_000_000) as i128 * 1_000 + 1_000),
        });
        open_time_ms += MINUTE_MS;
    }
    candles
}

pub(crate) fn feed_config(mock: &MockBinance, symbols: &[&str], history_candles: usize) -> String {
    feed_config_for(
        "binance",
        (&mock.rest_url, &mock.ws_url),
        symbols,
        history_candles,
    )
}

/// A server following `symbols` on exchange `kind` at `(rest_url, ws_url)`, reconnecting fast.
pub(crate) fn feed_config_for(
    kind: &str,
    (rest_url, ws_url): (&str, &str),
    symbols: &[&str],
    history_candles: usize,
) -> String {
    let symbols: Vec<String> = symbols.iter().map(|s| format!("{s:?}")).collect();
    format!(
        "[engine]\nring_capacity = 3000\n[ingest]\nread_limit_max = 5000\n\
         [exchange]\nkind = {kind:?}\nrest_url = {rest_url:?}\nws_url = {ws_url:?}\n\
         symbols = [{symbols}]\nhistory_candles = {history_candles}\n\
         reconnect_min_ms = 100\nreconnect_max_ms = 1000\n",
        symbols = symbols.join(", "),
    )
}

/// `(t, o, h, l, c, v)` as the API writes a candle.
pub(crate) type CandleText = (i64, String, String, String, String, String);

pub(crate) fn as_text(candle: &Candle) -> CandleText {
    (
        candle.open_time_ms,
        candle.open.to_string(),
        candle.high.to_string(),
        candle.low.to_string(),
        candle.close.to_string(),
        candle.volume.to_string(),
    )
}

/// Every 1m candle the server holds for `symbol` (closed and forming), oldest first.
pub(crate) async fn stored(server: &ServerProcess, symbol: &str) -> Vec<CandleText> {
    let url = server.url(&format!("/api/candles/{symbol}/1m?limit=5000"));
    let page = get_json(&client(), &url).await;
    let text = |candle: &Value, key: &str| candle[key].as_str().unwrap_or_default().to_owned();
    page["candles"]
        .as_array()
        .map(|candles| {
            candles
                .iter()
                .map(|c| {
                    let t = c["t"].as_i64().unwrap_or_default();
                    (
                        t,
                        text(c, "o"),
                        text(c, "h"),
                        text(c, "l"),
                        text(c, "c"),
                        text(c, "v"),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Waits (at most 60 s) until every symbol's newest 1m candle opens at `newest_ms`.
pub(crate) async fn wait_for_newest(server: &ServerProcess, symbols: &[&str], newest_ms: i64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut caught_up = true;
        for symbol in symbols {
            let candles = stored(server, symbol).await;
            caught_up &= candles.last().map(|c| c.0) == Some(newest_ms);
        }
        if caught_up {
            return;
        }
        if Instant::now() > deadline {
            let list = get_json(&client(), &server.url("/api/symbols")).await;
            let mut newest = Vec::new();
            for symbol in symbols {
                newest.push(stored(server, symbol).await.last().map(|c| c.0));
            }
            panic!("the feed never reached {newest_ms}: newest {newest:?}, {list}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits (at most 30 s) until `symbol`'s feed is in `state`; answers its entry.
pub(crate) async fn wait_for_state(server: &ServerProcess, symbol: &str, state: &str) -> Value {
    for _ in 0..300 {
        let entry = crate::symbols_api::feed_of(server, symbol).await;
        if entry["feed"]["state"] == state {
            return entry;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "{symbol} never became {state}: {}",
        crate::symbols_api::feed_of(server, symbol).await
    );
}

/// Every timeframe's indicators of `symbol`, by timeframe.
pub(crate) async fn indicators(
    server: &ServerProcess,
    symbol: &str,
) -> BTreeMap<&'static str, Value> {
    let mut all = BTreeMap::new();
    for timeframe in Timeframe::ALL {
        let url = server.url(&format!("/api/indicators/{symbol}/{}", timeframe.as_str()));
        all.insert(timeframe.as_str(), get_json(&client(), &url).await);
    }
    all
}

pub(crate) fn every_indicator_defined(by_timeframe: &BTreeMap<&'static str, Value>) -> bool {
    by_timeframe.values().all(|answer| {
        answer["indicators"]
            .as_object()
            .is_some_and(|values| values.values().all(|value| !value.is_null()))
    })
}

pub(crate) async fn feed_totals(server: &ServerProcess) -> (u64, u64) {
    let list = get_json(&client(), &server.url("/api/symbols")).await;
    let entries = list["symbols"].as_array().cloned().unwrap_or_default();
    let sum = |key: &str| {
        entries
            .iter()
            .map(|entry| entry["feed"][key].as_u64().unwrap_or(0))
            .sum()
    };
    (sum("gaps_repaired"), sum("duplicates_dropped"))
}

/// Waits (at most 10 s) until a stream connection newer than the first `connections` is the
/// only one open.
pub(crate) async fn wait_for_reconnect(mock: &MockBinance, connections: u64) {
    for _ in 0..200 {
        if mock.requests().stream_connections > connections && mock.open_streams() == 1 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the feed did not reconnect: {:?}", mock.requests());
}

/// Moves the cursor of `mock` `minutes` minutes, one at a time, pausing `pause_ms` after each.
pub(crate) async fn replay(mock: &MockBinance, cursor_ms: &mut i64, minutes: i64, pause_ms: u64) {
    replay_all(&[mock], cursor_ms, minutes, pause_ms).await;
}

/// Moves the cursor of every mock `minutes` minutes, one at a time, pausing `pause_ms` after
/// each.
pub(crate) async fn replay_all(
    mocks: &[&dyn Publisher],
    cursor_ms: &mut i64,
    minutes: i64,
    pause_ms: u64,
) {
    for _ in 0..minutes {
        *cursor_ms += MINUTE_MS;
        for mock in mocks {
            mock.publish_until(*cursor_ms);
        }
        tokio::time::sleep(Duration::from_millis(pause_ms)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_every_fault_the_stored_series_equals_the_exchanges_and_so_do_the_indicators() {
    let symbols = ["BTCUSDT", "ETHUSDT"];
    let now = now_ms();
    let history_candles = 120;
    let base_from_ms = Timeframe::D1.bucket_start_ms(now - history_candles as i64 * MINUTE_MS);
    let series: BTreeMap<String, Vec<Candle>> = symbols
        .iter()
        .enumerate()
        .map(|(index, symbol)| {
            let from_ms = base_from_ms - (history_candles as i64 + 1) * DAY_MS;
            (
                symbol.to_string(),
                walk(index as u64 + 7, from_ms, now - 10 * MINUTE_MS),
            )
        })
        .collect();
    let mut cursor_ms = Timeframe::M1.bucket_start_ms(now) - 100 * MINUTE_MS;
    let final_ms = cursor_ms + 80 * MINUTE_MS;
    let mock = MockBinance::start(series.clone()).await;
    mock.rest_serves_forming(false);
    mock.publish_until(cursor_ms);
    let faulty = ServerProcess::start(&feed_config(&mock, &symbols, history_candles));
    wait_for_newest(&faulty, &symbols, cursor_ms - MINUTE_MS).await;
    mock.wait_for_open_streams(1).await;

    replay(&mock, &mut cursor_ms, 10, 40).await;
    mock.fault(Fault::DropConnections);
    replay(&mock, &mut cursor_ms, 10, 40).await;
    for fault in [
        Fault::SkipKline,
        Fault::DuplicateKline,
        Fault::ReorderKlines,
        Fault::MalformedFrame,
    ] {
        mock.fault(fault);
        replay(&mock, &mut cursor_ms, 5, 40).await;
    }
    // A reconnect whose catch-up is refused with 429 first.
    mock.fault(Fault::TooManyRequests {
        requests: 2,
        retry_after_s: 1,
    });
    mock.fault(Fault::DropConnections);
    replay(&mock, &mut cursor_ms, 5, 40).await;
    // Ten minutes pass while the exchange is down.
    mock.fault(Fault::Outage(Duration::from_millis(1_500)));
    replay(&mock, &mut cursor_ms, 10, 120).await;
    replay(&mock, &mut cursor_ms, 20, 40).await;
    // Binance ends every connection after 24 hours: to the feed, one more close.
    let connections = mock.requests().stream_connections;
    mock.fault(Fault::DropConnections);
    // The stream is back before the last minutes, so the last forming kline arrives by it.
    wait_for_reconnect(&mock, connections).await;
    replay(&mock, &mut cursor_ms, 5, 40).await;
    assert_eq!(cursor_ms, final_ms);
    // The stream shows the forming candle as the open one: the newest held opens at the cursor.
    wait_for_newest(&faulty, &symbols, final_ms).await;

    for symbol in symbols {
        let expected: Vec<CandleText> = series[symbol]
            .iter()
            .filter(|c| (base_from_ms..=final_ms).contains(&c.open_time_ms))
            .map(as_text)
            .collect();
        assert_eq!(
            stored(&faulty, symbol).await,
            expected,
            "{symbol}: no gap, no duplicate"
        );
    }
    let (gaps_repaired, duplicates_dropped) = feed_totals(&faulty).await;
    assert!(
        // The skipped kline is a hole repaired; the duplicated one is dropped (a reordered
        // pair may be two symbols' klines, which is no reorder for either).
        gaps_repaired >= 1 && duplicates_dropped >= 1,
        "{gaps_repaired} {duplicates_dropped}"
    );
    assert!(
        crate::support::metric_value(&faulty.base_url, "cryptolens_feed_malformed_frames_total")
            .await
            >= Some(1.0)
    );
    assert!(
        crate::support::metric_value(&faulty.base_url, "cryptolens_feed_reconnects_total").await
            >= Some(3.0)
    );
    assert!(mock.requests().refused >= 2, "429 and 503 were served");

    let clean_mock = MockBinance::start(series).await;
    clean_mock.rest_serves_forming(false);
    // All but the last minute from REST, the last minute from the stream, as in the faulty run.
    clean_mock.publish_until(final_ms - MINUTE_MS);
    let clean = ServerProcess::start(&feed_config(&clean_mock, &symbols, history_candles));
    for symbol in symbols {
        // The 1m history is stored first, the higher timeframes' after it: live is warm.
        wait_for_state(&clean, symbol, "live").await;
    }
    clean_mock.wait_for_open_streams(1).await;
    clean_mock.publish_until(final_ms);
    wait_for_newest(&clean, &symbols, final_ms).await;
    for symbol in symbols {
        assert_eq!(stored(&clean, symbol).await, stored(&faulty, symbol).await);
        let clean_indicators = indicators(&clean, symbol).await;
        assert!(
            every_indicator_defined(&clean_indicators),
            "{symbol}: {clean_indicators:?}"
        );
        assert_eq!(
            indicators(&faulty, symbol).await,
            clean_indicators,
            "{symbol}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_symbols_warm_with_every_indicator_defined_on_every_timeframe() {
    let symbols: Vec<String> = (0..20).map(|index| format!("C{index:02}USDT")).collect();
    let names: Vec<&str> = symbols.iter().map(String::as_str).collect();
    let now = now_ms();
    let history_candles = 60;
    let from_ms = Timeframe::D1.bucket_start_ms(now - history_candles as i64 * MINUTE_MS)
        - (history_candles as i64 + 1) * DAY_MS;
    let cursor_ms = Timeframe::M1.bucket_start_ms(now) - 5 * MINUTE_MS;
    let series: BTreeMap<String, Vec<Candle>> = symbols
        .iter()
        .enumerate()
        .map(|(index, symbol)| (symbol.clone(), walk(index as u64 + 100, from_ms, cursor_ms)))
        .collect();
    let mock = MockBinance::start(series).await;
    mock.rest_serves_forming(false);
    mock.publish_until(cursor_ms);
    let started = Instant::now();
    let server = ServerProcess::start(&feed_config(&mock, &names, history_candles));
    let deadline = started + Duration::from_secs(120);
    let mut pending: Vec<&str> = names.clone();
    while !pending.is_empty() {
        let mut still = Vec::new();
        for symbol in pending {
            if !every_indicator_defined(&indicators(&server, symbol).await) {
                still.push(symbol);
            }
        }
        pending = still;
        assert!(
            Instant::now() < deadline,
            "not warm after 120 s: {pending:?}"
        );
        if !pending.is_empty() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let warm_ms = started.elapsed().as_millis();
    println!("start-to-warm, 20 symbols x 8 timeframes: {warm_ms} ms");
    let requests = mock.requests();
    assert!(
        requests.klines >= 20 * 8,
        "every timeframe fetched: {requests:?}"
    );
}

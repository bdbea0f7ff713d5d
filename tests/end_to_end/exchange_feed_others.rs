//! The real binary following a mock Bybit (`mock_exchange/bybit_server.rs`) and a mock Kraken
//! (`mock_exchange/kraken_server.rs`), as `exchange_feed.rs` follows a mock Binance: it warms
//! every timeframe from REST, streams ~20 virtual minutes of 1m klines through a dropped
//! connection (and, on Bybit, a skipped kline), and ends with exactly the mock's series stored
//! over the window the exchange can serve, and every indicator on every timeframe defined.
//! A third test follows Binance and Bybit at once.
//!
//! The mocks' cursor is a virtual clock behind the wall clock, as in `exchange_feed.rs`: REST
//! leaves the forming candle out so REST and stream agree on what is closed.

use crate::exchange_feed::{
    every_indicator_defined, feed_config_for, feed_totals, indicators, now_ms, replay_all, stored,
    wait_for_newest, walk, CandleText, DAY_MS, MINUTE_MS,
};
use crate::mock_exchange::binance_server::MockBinance;
use crate::mock_exchange::bybit_server::{Fault, MockBybit};
use crate::mock_exchange::kraken_server::MockKraken;
use crate::support::{client, get_json, ServerProcess};
use cryptolens_actors::domain::market::{Candle, Timeframe};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const HISTORY_CANDLES: usize = 120;
/// Enough that the 1m history (from the UTC day start this many minutes back) always spans
/// more than Kraken's 720 entries, whatever the time of day.
const KRAKEN_HISTORY_CANDLES: usize = 800;
/// Kraken's OHLC answers only its newest 720 entries, whatever `since` asks.
const KRAKEN_OHLC_ENTRIES_MAX: i64 = 720;

/// The series the mocks serve and the times a run moves through.
struct Market {
    series: BTreeMap<String, Vec<Candle>>,
    /// Where the feed's 1m history begins: the UTC day start `HISTORY_CANDLES` minutes back.
    base_from_ms: i64,
    /// The mocks' cursor when the server starts.
    start_cursor_ms: i64,
}

/// Candles of `symbols` from far enough back for `history_candles` daily candles, up to a few
/// minutes ago; the cursor starts 30 minutes back, so 20 replayed minutes stay in the past.
fn market(symbols: &[&str], seed: u64, history_candles: usize) -> Market {
    let now = now_ms();
    let history_ms = history_candles as i64 * MINUTE_MS;
    let base_from_ms = Timeframe::D1.bucket_start_ms(now - history_ms);
    let from_ms = base_from_ms - (history_candles as i64 + 1) * DAY_MS;
    let series = symbols
        .iter()
        .zip(seed..)
        .map(|(symbol, seed)| (symbol.to_string(), walk(seed, from_ms, now - 5 * MINUTE_MS)))
        .collect();
    Market {
        series,
        base_from_ms,
        start_cursor_ms: Timeframe::M1.bucket_start_ms(now) - 30 * MINUTE_MS,
    }
}

/// The mock's 1m candles of `symbol` opening in `[from_ms, to_ms)`, as the API writes them.
fn expected(market: &Market, symbol: &str, from_ms: i64, to_ms: i64) -> Vec<CandleText> {
    market.series[symbol]
        .iter()
        .filter(|candle| (from_ms..to_ms).contains(&candle.open_time_ms))
        .map(crate::exchange_feed::as_text)
        .collect()
}

/// Waits (at most 60 s) until every symbol's feed has closed the minute before `cursor_ms`
/// and shows the minute at `cursor_ms` forming: the stream has delivered all it published.
/// (`exchange_feed::wait_for_newest` waits for one newest candle exactly; here a Kraken
/// snapshot shows the forming minute as soon as the stream is up, so the bound is what counts.)
async fn wait_for_cursor(server: &ServerProcess, symbols: &[&str], cursor_ms: i64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let list = get_json(&client(), &server.url("/api/symbols")).await;
        let entries = list["symbols"].as_array().cloned().unwrap_or_default();
        let at_cursor = |symbol: &&str| {
            entries.iter().any(|entry| {
                entry["symbol"] == *symbol
                    && entry["feed"]["last_closed_open_time_ms"] == cursor_ms - MINUTE_MS
                    && entry["last_open_time_ms"] == cursor_ms
            })
        };
        if symbols.iter().all(at_cursor) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the feed never reached {cursor_ms}: {list}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every timeframe's stored candles follow one another with no missing bucket.
async fn assert_no_gap_on_any_timeframe(server: &ServerProcess, symbol: &str) {
    for timeframe in Timeframe::ALL {
        let url = format!("/api/candles/{symbol}/{}?limit=5000", timeframe.as_str());
        let page = get_json(&client(), &server.url(&url)).await;
        let open_times: Vec<i64> = page["candles"]
            .as_array()
            .map(|candles| candles.iter().filter_map(|c| c["t"].as_i64()).collect())
            .unwrap_or_default();
        let gaps: Vec<&[i64]> = open_times
            .windows(2)
            .filter(|pair| pair[1] - pair[0] != timeframe.duration_ms())
            .collect();
        assert!(
            !open_times.is_empty() && gaps.is_empty(),
            "{symbol} {timeframe:?}: gaps {gaps:?}"
        );
    }
}

async fn assert_every_indicator_defined(server: &ServerProcess, symbol: &str) {
    let by_timeframe = indicators(server, symbol).await;
    assert!(
        every_indicator_defined(&by_timeframe),
        "{symbol}: {by_timeframe:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bybit_through_a_drop_and_a_skipped_kline_stores_exactly_its_series() {
    let symbols = ["BTCUSDT", "ETHUSDT"];
    let market = market(&symbols, 21, HISTORY_CANDLES);
    let mut cursor_ms = market.start_cursor_ms;
    let mock = MockBybit::start(market.series.clone()).await;
    mock.rest_serves_forming(false);
    mock.publish_until(cursor_ms);
    let urls = (mock.rest_url.as_str(), mock.ws_url.as_str());
    let server = ServerProcess::start(&feed_config_for("bybit", urls, &symbols, HISTORY_CANDLES));
    wait_for_newest(&server, &symbols, cursor_ms - MINUTE_MS).await;
    mock.wait_for_open_streams(1).await;

    replay_all(&[&mock], &mut cursor_ms, 5, 40).await;
    mock.fault(Fault::DropConnections);
    replay_all(&[&mock], &mut cursor_ms, 5, 40).await;
    mock.fault(Fault::SkipKline);
    replay_all(&[&mock], &mut cursor_ms, 10, 40).await;
    wait_for_cursor(&server, &symbols, cursor_ms).await;

    for symbol in symbols {
        assert_eq!(
            stored(&server, symbol).await,
            expected(&market, symbol, market.base_from_ms, cursor_ms + MINUTE_MS),
            "{symbol}: no gap, no duplicate"
        );
        assert_no_gap_on_any_timeframe(&server, symbol).await;
        assert_every_indicator_defined(&server, symbol).await;
    }
    let (gaps_repaired, _) = feed_totals(&server).await;
    assert!(gaps_repaired >= 1, "the skipped kline was repaired");
    assert!(
        crate::support::metric_value(&server.base_url, "cryptolens_feed_reconnects_total").await
            >= Some(1.0)
    );
    assert!(mock.requests().stream_connections >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kraken_through_a_drop_stores_exactly_its_series_from_its_first_served_minute() {
    let symbols = ["BTCUSDT", "ETHUSDT"];
    let market = market(&symbols, 31, KRAKEN_HISTORY_CANDLES);
    let mut cursor_ms = market.start_cursor_ms;
    let mock = MockKraken::start(market.series.clone()).await;
    mock.rest_serves_forming(false);
    mock.publish_until(cursor_ms);
    let urls = (mock.rest_url.as_str(), mock.ws_url.as_str());
    let server = ServerProcess::start(&feed_config_for(
        "kraken",
        urls,
        &symbols,
        KRAKEN_HISTORY_CANDLES,
    ));
    // The snapshot on subscribing shows the forming minute at once.
    wait_for_cursor(&server, &symbols, cursor_ms).await;
    mock.wait_for_open_streams(1).await;

    replay_all(&[&mock], &mut cursor_ms, 10, 40).await;
    mock.fault(Fault::DropConnections);
    replay_all(&[&mock], &mut cursor_ms, 10, 40).await;
    wait_for_cursor(&server, &symbols, cursor_ms).await;

    // Kraken serves only its newest 720 1m entries, whatever `since` asks: the 1m history
    // the feed wants begins at the UTC day start more than 720 minutes back, so what it gets
    // begins 720 minutes before the cursor the warm-up saw, and nothing before that can be
    // fetched. The feed starts its 1m series at the first boundary in there of the largest
    // timeframe it can (720 minutes always hold a 4h boundary), so those buckets are built
    // from complete minutes, and the higher timeframes' own history reaches up to it. What is
    // true: the stored series is the exchange's from its first stored minute on, no gap.
    let served_from_ms = market.start_cursor_ms - KRAKEN_OHLC_ENTRIES_MAX * MINUTE_MS;
    assert!(
        served_from_ms > market.base_from_ms,
        "the 720-entry limit is in play"
    );
    for symbol in symbols {
        let stored = stored(&server, symbol).await;
        let first_ms = stored.first().map_or(0, |candle| candle.0);
        assert!(
            (served_from_ms..market.start_cursor_ms).contains(&first_ms)
                && Timeframe::H4.is_aligned(first_ms),
            "{symbol}: 1m begins at {first_ms}, served from {served_from_ms}"
        );
        assert_eq!(
            stored,
            expected(&market, symbol, first_ms, cursor_ms + MINUTE_MS),
            "{symbol}: no gap, no duplicate"
        );
        assert_no_gap_on_any_timeframe(&server, symbol).await;
        // Kraken has no 2h: the feed fetched 1h and folded it, so 2h is defined too.
        assert_every_indicator_defined(&server, symbol).await;
    }
    assert!(
        crate::support::metric_value(&server.base_url, "cryptolens_feed_reconnects_total").await
            >= Some(1.0)
    );
    assert!(mock.requests().stream_connections >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binance_and_bybit_at_once_each_store_their_own_series() {
    let market = market(&["BTCUSDT", "ETHUSDT"], 41, HISTORY_CANDLES);
    let mut cursor_ms = market.start_cursor_ms;
    let only = |symbol: &str| BTreeMap::from([(symbol.to_owned(), market.series[symbol].clone())]);
    let binance = MockBinance::start(only("BTCUSDT")).await;
    let bybit = MockBybit::start(only("ETHUSDT")).await;
    binance.rest_serves_forming(false);
    bybit.rest_serves_forming(false);
    binance.publish_until(cursor_ms);
    bybit.publish_until(cursor_ms);
    let urls = (binance.rest_url.as_str(), binance.ws_url.as_str());
    let config = feed_config_for(
        "binance",
        urls,
        &["BTCUSDT", "bybit:ETHUSDT"],
        HISTORY_CANDLES,
    ) + &format!(
        "[exchange.bybit]\nrest_url = {:?}\nws_url = {:?}\n",
        bybit.rest_url, bybit.ws_url
    );
    let server = ServerProcess::start(&config);
    let symbols = ["BTCUSDT", "ETHUSDT"];
    wait_for_newest(&server, &symbols, cursor_ms - MINUTE_MS).await;
    binance.wait_for_open_streams(1).await;
    bybit.wait_for_open_streams(1).await;

    replay_all(&[&binance, &bybit], &mut cursor_ms, 10, 40).await;
    wait_for_cursor(&server, &symbols, cursor_ms).await;

    for symbol in symbols {
        assert_eq!(
            stored(&server, symbol).await,
            expected(&market, symbol, market.base_from_ms, cursor_ms + MINUTE_MS),
            "{symbol}"
        );
        assert_no_gap_on_any_timeframe(&server, symbol).await;
        assert_every_indicator_defined(&server, symbol).await;
    }
    assert_eq!(binance.requests().stream_connections, 1);
    assert_eq!(bybit.requests().stream_connections, 1);
    assert!(
        bybit.requests().klines >= 8,
        "every timeframe fetched from Bybit"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_flags_choose_the_exchange_with_its_own_urls_and_the_symbols() {
    let market = market(&["ETHUSDT"], 41, HISTORY_CANDLES);
    let cursor_ms = market.start_cursor_ms;
    let mock = MockBybit::start(market.series.clone()).await;
    mock.rest_serves_forming(false);
    mock.publish_until(cursor_ms);
    // The default exchange stays Binance at an address nobody serves; the flag switches to
    // Bybit, whose URLs come from its own sub-table, and to the symbols named.
    let config = format!(
        "[engine]\nring_capacity = 3000\n[ingest]\nread_limit_max = 5000\n\
         [exchange]\nrest_url = \"http://127.0.0.1:9\"\nws_url = \"ws://127.0.0.1:9\"\n\
         history_candles = {HISTORY_CANDLES}\nsymbols = [\"BTCUSDT\"]\n\
         [exchange.bybit]\nrest_url = {rest:?}\nws_url = {ws:?}\n",
        rest = mock.rest_url,
        ws = mock.ws_url,
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let args = ["--exchange", "bybit", "--symbols", "ETHUSDT"];
    let server = ServerProcess::start_with_args(dir.path(), &config, &args);
    wait_for_newest(&server, &["ETHUSDT"], cursor_ms - MINUTE_MS).await;
    let list = get_json(&client(), &server.url("/api/symbols")).await;
    assert_eq!(list["count"], 1, "only the flag's symbols: {list}");
    assert_eq!(list["symbols"][0]["source"], "bybit");
    let expected = expected(&market, "ETHUSDT", market.base_from_ms, cursor_ms);
    assert_eq!(stored(&server, "ETHUSDT").await, expected);
}

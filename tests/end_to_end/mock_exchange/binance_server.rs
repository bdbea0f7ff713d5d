//! A mock Binance spot server on 127.0.0.1: REST `exchangeInfo` and `klines`, and the
//! combined kline stream, serving an in-memory 1m series per symbol up to a "published up
//! to" cursor the test moves, with faults the test scripts.
//!
//! ```ignore
//! let mock = MockBinance::start(series).await;      // nothing published yet
//! mock.publish_until(t);                            // candles opening at or before t exist
//! mock.fault(Fault::TooManyRequests { requests: 1, retry_after_s: 2 });
//! let counts = mock.requests();
//! ```
//!
//! The cursor and what it publishes are `published.rs`'s, shared with the Bybit and Kraken
//! mocks. Moving the cursor streams `"x":false` for a candle that became forming and
//! `"x":true` for one that became closed. REST serves published candles, the forming one
//! included as Binance does, unless `rest_serves_forming(false)`.
//!
//! Binance behaviour followed (docs: see `render.rs`): `startTime`/`endTime` bound open
//! times inclusively; with a start the first `limit` klines from it, else the last `limit`
//! up to the end (or now); `limit` defaults to 500 and is capped at 1000 (the mock caps
//! rather than refuses above 1000: Binance's answer there is not documented); errors are
//! HTTP 400 with `{"code":-11xx,"msg":...}`; rate limiting is HTTP 429 with `Retry-After`
//! in seconds and code -1003.
#![allow(dead_code)] // an API for the feed tests; this file's tests use most of it.

pub use super::published::Fault;
use super::published::{split_symbol, Outgoing, PublishedSeries, Publisher, MINUTE_MS};
use super::render::{binance_instruments, binance_klines, binance_stream_frame};
use super::stream_hub::{run_session, serve, FixedSymbols, StreamEvent, StreamHub};
use cryptolens_actors::domain::market::{Candle, Timeframe};
use parking_lot::Mutex;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use warp::filters::ws::Ws;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Reply};

const KLINES_LIMIT_DEFAULT: usize = 500;
const KLINES_LIMIT_MAX: usize = 1000;

/// What the mock has been asked, counted since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestCounts {
    pub exchange_info: u64,
    pub klines: u64,
    /// Stream connections accepted (upgraded).
    pub stream_connections: u64,
    /// Requests and upgrades answered 429 or 503.
    pub refused: u64,
}

pub struct MockBinance {
    /// `http://127.0.0.1:<port>`: the feed's Binance REST base.
    pub rest_url: String,
    /// `ws://127.0.0.1:<port>`: the feed's Binance WebSocket base.
    pub ws_url: String,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

#[derive(Default)]
struct Counters {
    exchange_info: AtomicU64,
    klines: AtomicU64,
    refused: AtomicU64,
}

struct Shared {
    market: Mutex<Market>,
    streams: StreamHub,
    counters: Counters,
}

struct Market {
    published: PublishedSeries,
    throttle: Option<(u32, u64)>,
    outage_until: Option<Instant>,
}

impl MockBinance {
    /// Serves `series` (1m candles per symbol such as `BTCUSDT`, any order) with nothing
    /// published yet. Base and quote come from the symbol's known quote suffix; every
    /// symbol trades with tick 0.01 and step 0.00001.
    pub async fn start(series: BTreeMap<String, Vec<Candle>>) -> MockBinance {
        let shared = Arc::new(Shared {
            market: Mutex::new(Market {
                published: PublishedSeries::new(series),
                throttle: None,
                outage_until: None,
            }),
            streams: StreamHub::default(),
            counters: Counters::default(),
        });
        let (addr, server) = serve(routes(&shared)).await;
        MockBinance {
            rest_url: format!("http://{addr}"),
            ws_url: format!("ws://{addr}"),
            shared,
            server,
        }
    }

    /// Publishes every candle opening at or before `until_ms` and streams what changed.
    /// The cursor never moves back.
    pub fn publish_until(&self, until_ms: i64) {
        let mut market = self.shared.market.lock();
        let outgoing = market.published.publish_until(until_ms, |_| true);
        self.shared
            .streams
            .send(outgoing.into_iter().map(stream_event));
    }

    /// See [`PublishedSeries::rest_serves_forming`].
    pub fn rest_serves_forming(&self, serves: bool) {
        self.shared
            .market
            .lock()
            .published
            .rest_serves_forming(serves);
    }

    pub fn published_until_ms(&self) -> i64 {
        self.shared.market.lock().published.published_until_ms()
    }

    pub fn fault(&self, fault: Fault) {
        let mut market = self.shared.market.lock();
        match fault {
            Fault::DropConnections => self.shared.streams.drop_connections(),
            Fault::Outage(duration) => {
                market.outage_until = Some(Instant::now() + duration);
                self.shared.streams.drop_connections();
            }
            Fault::TooManyRequests {
                requests,
                retry_after_s,
            } => market.throttle = Some((requests, retry_after_s)),
            stream_fault => market.published.queue_stream_fault(stream_fault),
        }
    }

    pub fn requests(&self) -> RequestCounts {
        let counters = &self.shared.counters;
        RequestCounts {
            exchange_info: counters.exchange_info.load(Ordering::SeqCst),
            klines: counters.klines.load(Ordering::SeqCst),
            stream_connections: self.shared.streams.connections(),
            refused: counters.refused.load(Ordering::SeqCst),
        }
    }

    /// Stream connections open now.
    pub fn open_streams(&self) -> u64 {
        self.shared.streams.open_streams()
    }

    /// Waits (up to 5 s) until `count` stream connections are open.
    pub async fn wait_for_open_streams(&self, count: u64) {
        self.shared.streams.wait_for_open_streams(count).await;
    }
}

impl Publisher for MockBinance {
    fn publish_until(&self, until_ms: i64) {
        MockBinance::publish_until(self, until_ms);
    }
}

impl Drop for MockBinance {
    fn drop(&mut self) {
        self.shared.streams.drop_connections();
        self.server.abort();
    }
}

fn stream_event(outgoing: Outgoing) -> StreamEvent {
    match outgoing {
        Outgoing::Kline(change) => StreamEvent::Frame {
            text: binance_stream_frame(&change.symbol, &change.candle, change.closed()),
            symbol: change.symbol,
        },
        Outgoing::Malformed { symbol } => StreamEvent::Frame {
            symbol,
            text: r#"{"stream":"broken","data":{"e":"kline","#.to_owned(),
        },
    }
}

impl Market {
    /// Some(503 response) during an outage.
    fn outage(&self) -> Option<Response> {
        self.outage_until
            .is_some_and(|until| Instant::now() < until)
            .then(|| {
                let msg = "Internal error; unable to process your request. Please try again.";
                binance_error(StatusCode::SERVICE_UNAVAILABLE, -1001, msg)
            })
    }

    /// Some(response) when a REST request is refused: an outage (503) or throttling (429).
    fn refusal(&mut self) -> Option<Response> {
        if let Some(outage) = self.outage() {
            return Some(outage);
        }
        let (left, retry_after_s) = self.throttle?;
        self.throttle = (left > 1).then_some((left - 1, retry_after_s));
        let mut response = binance_error(
            StatusCode::TOO_MANY_REQUESTS,
            -1003,
            "Too much request weight used; current limit is 6000 request weight per 1 MINUTE.",
        );
        response
            .headers_mut()
            .insert("Retry-After", warp::http::HeaderValue::from(retry_after_s));
        Some(response)
    }
}

fn binance_error(status: StatusCode, code: i64, msg: &str) -> Response {
    let body = serde_json::json!({"code": code, "msg": msg});
    warp::reply::with_status(warp::reply::json(&body), status).into_response()
}

type Query = HashMap<String, String>;

fn routes(
    shared: &Arc<Shared>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let with_shared = {
        let shared = shared.clone();
        warp::any().map(move || shared.clone())
    };
    let exchange_info = warp::path!("api" / "v3" / "exchangeInfo")
        .and(warp::get())
        .and(with_shared.clone())
        .map(|shared: Arc<Shared>| exchange_info(&shared));
    let klines = warp::path!("api" / "v3" / "klines")
        .and(warp::get())
        .and(warp::query::<Query>())
        .and(with_shared.clone())
        .map(|query: Query, shared: Arc<Shared>| klines(&query, &shared));
    let stream = warp::path!("stream")
        .and(warp::ws())
        .and(warp::query::<Query>())
        .and(with_shared)
        .map(|ws: Ws, query: Query, shared: Arc<Shared>| upgrade(ws, &query, shared));
    exchange_info.or(klines).unify().or(stream).unify()
}

fn exchange_info(shared: &Shared) -> Response {
    shared.counters.exchange_info.fetch_add(1, Ordering::SeqCst);
    let mut market = shared.market.lock();
    if let Some(refusal) = market.refusal() {
        shared.counters.refused.fetch_add(1, Ordering::SeqCst);
        return refusal;
    }
    let specs: Vec<(&str, &str, &str, &str, &str)> = market
        .published
        .symbols()
        .map(|symbol| {
            let (base, quote) = split_symbol(symbol);
            (symbol, base, quote, "0.01", "0.00001")
        })
        .collect();
    warp::reply::with_header(
        binance_instruments(&specs),
        "content-type",
        "application/json",
    )
    .into_response()
}

fn klines(query: &Query, shared: &Shared) -> Response {
    shared.counters.klines.fetch_add(1, Ordering::SeqCst);
    let mut market = shared.market.lock();
    if let Some(refusal) = market.refusal() {
        shared.counters.refused.fetch_add(1, Ordering::SeqCst);
        return refusal;
    }
    let bad_request = |code, msg: &str| binance_error(StatusCode::BAD_REQUEST, code, msg);
    let Some(symbol) = query.get("symbol").filter(|symbol| !symbol.is_empty()) else {
        return bad_request(
            -1102,
            "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
        );
    };
    if !market.published.contains(symbol) {
        return bad_request(-1121, "Invalid symbol.");
    }
    let Some(timeframe) = query
        .get("interval")
        .and_then(|text| text.parse::<Timeframe>().ok())
    else {
        return bad_request(-1120, "Invalid interval.");
    };
    let number = |name: &str| query.get(name).map(|text| text.parse::<i64>());
    let (Ok(start_ms), Ok(end_ms), Ok(limit)) = (
        number("startTime").transpose(),
        number("endTime").transpose(),
        number("limit").transpose(),
    ) else {
        return bad_request(-1100, "Illegal characters found in a parameter.");
    };
    let limit = limit.map_or(KLINES_LIMIT_DEFAULT, |limit| {
        limit.clamp(1, KLINES_LIMIT_MAX as i64) as usize
    });
    // Nothing before `startTime` is answered: fold from there.
    let from_ms = start_ms.unwrap_or(i64::MIN);
    let candles = market.published.published_from(symbol, timeframe, from_ms);
    let page = select_page(&candles, start_ms, end_ms, limit);
    warp::reply::with_header(
        binance_klines(page, timeframe),
        "content-type",
        "application/json",
    )
    .into_response()
}

/// Binance's selection: open times within `[start, end]`; the first `limit` from a start,
/// else the last `limit` up to the end.
fn select_page(
    candles: &[Candle],
    start_ms: Option<i64>,
    end_ms: Option<i64>,
    limit: usize,
) -> &[Candle] {
    let from = start_ms.map_or(0, |start| {
        candles.partition_point(|c| c.open_time_ms < start)
    });
    let to = end_ms.map_or(candles.len(), |end| {
        candles.partition_point(|c| c.open_time_ms <= end)
    });
    let window = candles.get(from..to.max(from)).unwrap_or_default();
    if start_ms.is_some() {
        &window[..window.len().min(limit)]
    } else {
        &window[window.len().saturating_sub(limit)..]
    }
}

fn upgrade(ws: Ws, query: &Query, shared: Arc<Shared>) -> Response {
    if let Some(refusal) = shared.market.lock().outage() {
        shared.counters.refused.fetch_add(1, Ordering::SeqCst);
        return refusal;
    }
    let symbols: BTreeSet<String> = query
        .get("streams")
        .map(String::as_str)
        .unwrap_or_default()
        .split('/')
        .filter_map(|stream| stream.strip_suffix("@kline_1m"))
        .map(str::to_uppercase)
        .collect();
    let events = shared.streams.accept();
    ws.on_upgrade(move |socket| async move {
        run_session(socket, FixedSymbols(symbols), events).await;
        shared.streams.closed();
    })
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::super::test_client::{
        self, get, minute, next_text, open_times, series, Client, T0_MS,
    };
    use super::*;
    use cryptolens::feed::binance::Binance;
    use cryptolens::feed::format::ExchangeFormat;
    use rust_decimal::Decimal;

    async fn klines(mock: &MockBinance, query: &str) -> Vec<Candle> {
        let (status, _, body) = get(&format!("{}/api/v3/klines?{query}", mock.rest_url)).await;
        assert_eq!(status, 200, "{body}");
        let timeframe = query
            .split('&')
            .find_map(|pair| pair.strip_prefix("interval="))
            .unwrap()
            .parse()
            .unwrap();
        Binance.parse_klines(&body, timeframe).unwrap()
    }

    async fn connect(mock: &MockBinance, streams: &str) -> Client {
        test_client::connect(&format!("{}/stream?streams={streams}", mock.ws_url)).await
    }

    async fn next_kline(client: &mut Client) -> (String, i64, bool) {
        test_client::next_kline(&Binance, client).await
    }

    #[tokio::test]
    async fn rest_serves_instruments_and_published_klines_as_binance_selects_them() {
        let mock = MockBinance::start(series(300)).await;
        let (status, _, body) = get(&Binance.instruments_url(&mock.rest_url)).await;
        assert_eq!(status, 200);
        let instruments = Binance.parse_instruments(&body).unwrap();
        let names: Vec<(&str, &str, &str)> = instruments
            .iter()
            .map(|i| {
                (
                    i.symbol.as_str(),
                    i.base_asset.as_str(),
                    i.quote_asset.as_str(),
                )
            })
            .collect();
        assert_eq!(
            names,
            [("BTCUSDT", "BTC", "USDT"), ("ETHBTC", "ETH", "BTC")]
        );

        mock.publish_until(T0_MS + 99 * MINUTE_MS + 30_000); // minute 99 forming
        let all = klines(&mock, "symbol=BTCUSDT&interval=1m&limit=1000").await;
        assert_eq!(open_times(&all), (0..=99).collect::<Vec<_>>());
        assert_eq!(all[7], minute(0, 7));
        let start = T0_MS + 10 * MINUTE_MS;
        let page = klines(
            &mock,
            &format!("symbol=BTCUSDT&interval=1m&startTime={start}&limit=3"),
        )
        .await;
        assert_eq!(open_times(&page), [10, 11, 12]);
        let end = T0_MS + 20 * MINUTE_MS;
        let page = klines(
            &mock,
            &format!("symbol=BTCUSDT&interval=1m&endTime={end}&limit=3"),
        )
        .await;
        assert_eq!(open_times(&page), [18, 19, 20]);
        let page = klines(
            &mock,
            &format!("symbol=BTCUSDT&interval=1m&startTime={start}&endTime={end}"),
        )
        .await;
        assert_eq!(open_times(&page), (10..=20).collect::<Vec<_>>());
        let latest = klines(&mock, "symbol=BTCUSDT&interval=1m&limit=2").await;
        assert_eq!(open_times(&latest), [98, 99]);
        assert_eq!(mock.requests().klines, 5);
        assert_eq!(mock.requests().exchange_info, 1);
    }

    #[tokio::test]
    async fn rest_aggregates_to_the_asked_interval_up_to_the_cursor() {
        let mock = MockBinance::start(series(300)).await;
        mock.publish_until(T0_MS + 12 * MINUTE_MS);
        let five = klines(&mock, "symbol=ETHBTC&interval=5m").await;
        assert_eq!(open_times(&five), [0, 5, 10]);
        let first = (1..5).fold(minute(1, 0), |bucket, n| bucket.merge(&minute(1, n)));
        assert_eq!(five[0], first);
        assert_eq!(
            five[2].close,
            minute(1, 12).close,
            "the forming bucket holds minutes 10-12"
        );
        assert_eq!(five[2].volume.to_decimal(), Decimal::from(11 + 12 + 13));
        mock.publish_until(T0_MS + 130 * MINUTE_MS);
        let two_hours = klines(&mock, "symbol=ETHBTC&interval=2h").await;
        assert_eq!(open_times(&two_hours), [0, 120]);
    }

    #[tokio::test]
    async fn rest_refuses_bad_parameters_as_binance_does() {
        let mock = MockBinance::start(series(10)).await;
        for (query, code) in [
            ("interval=1m", -1102),
            ("symbol=DOGEUSDT&interval=1m", -1121),
            ("symbol=BTCUSDT&interval=3m", -1120),
            ("symbol=BTCUSDT&interval=1m&startTime=soon", -1100),
        ] {
            let (status, _, body) = get(&format!("{}/api/v3/klines?{query}", mock.rest_url)).await;
            assert_eq!(status, 400, "{query}");
            let error: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(error["code"], code, "{query}: {body}");
        }
    }

    #[tokio::test]
    async fn too_many_requests_then_an_outage_are_refused_for_their_span() {
        let mock = MockBinance::start(series(10)).await;
        mock.fault(Fault::TooManyRequests {
            requests: 2,
            retry_after_s: 7,
        });
        let url = format!("{}/api/v3/klines?symbol=BTCUSDT&interval=1m", mock.rest_url);
        for _ in 0..2 {
            let (status, retry_after, body) = get(&url).await;
            assert_eq!((status, retry_after.as_deref()), (429, Some("7")));
            assert!(body.contains("-1003"), "{body}");
        }
        assert_eq!(get(&url).await.0, 200);
        mock.fault(Fault::Outage(Duration::from_millis(300)));
        assert_eq!(get(&url).await.0, 503);
        let refused = tokio_tungstenite::connect_async(format!(
            "{}/stream?streams=btcusdt@kline_1m",
            mock.ws_url
        ))
        .await;
        assert!(refused.is_err(), "upgrades are refused during an outage");
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert_eq!(get(&url).await.0, 200);
        let counts = mock.requests();
        assert_eq!(
            (counts.klines, counts.refused, counts.stream_connections),
            (5, 4, 0)
        );
    }

    #[tokio::test]
    async fn the_stream_sends_forming_then_closed_klines_of_its_symbols_only() {
        let mock = MockBinance::start(series(10)).await;
        mock.publish_until(T0_MS + 30_000); // minute 0 forming, before anyone connects
        let mut client = connect(&mock, "btcusdt@kline_1m").await;
        mock.wait_for_open_streams(1).await;
        mock.publish_until(T0_MS + MINUTE_MS + 10_000);
        assert_eq!(
            next_kline(&mut client).await,
            ("BTCUSDT".to_owned(), 0, true)
        );
        assert_eq!(
            next_kline(&mut client).await,
            ("BTCUSDT".to_owned(), 1, false)
        );
        mock.publish_until(T0_MS + 4 * MINUTE_MS);
        for expected in [(1, true), (2, true), (3, true), (4, false)] {
            let (symbol, index, closed) = next_kline(&mut client).await;
            assert_eq!(
                (symbol.as_str(), index, closed),
                ("BTCUSDT", expected.0, expected.1)
            );
        }
    }

    #[tokio::test]
    async fn stream_faults_skip_duplicate_reorder_corrupt_and_drop() {
        let one_symbol = BTreeMap::from([(
            "BTCUSDT".to_owned(),
            (0..10).map(|n| minute(0, n)).collect(),
        )]);
        let mock = MockBinance::start(one_symbol).await;
        mock.publish_until(T0_MS + 30_000);
        let mut client = connect(&mock, "btcusdt@kline_1m").await;
        mock.wait_for_open_streams(1).await;
        for fault in [
            Fault::SkipKline,
            Fault::DuplicateKline,
            Fault::ReorderKlines,
            Fault::MalformedFrame,
        ] {
            mock.fault(fault);
        }
        // Minutes 0-2 close and 3 forms: 0 skipped, 1 twice, 2 after 3, garbage before 3.
        mock.publish_until(T0_MS + 3 * MINUTE_MS + 30_000);
        assert_eq!(next_kline(&mut client).await.1, 1);
        assert_eq!(next_kline(&mut client).await.1, 1);
        let garbage = next_text(&mut client).await.unwrap();
        assert!(Binance.parse_stream_frame(&garbage).is_err(), "{garbage}");
        assert_eq!(
            next_kline(&mut client).await,
            ("BTCUSDT".to_owned(), 3, false)
        );
        assert_eq!(
            next_kline(&mut client).await,
            ("BTCUSDT".to_owned(), 2, true)
        );
        mock.fault(Fault::DropConnections);
        assert_eq!(next_text(&mut client).await, None);
        mock.wait_for_open_streams(0).await;
        let mut again = connect(&mock, "btcusdt@kline_1m").await;
        mock.wait_for_open_streams(1).await;
        mock.publish_until(T0_MS + 4 * MINUTE_MS);
        assert_eq!(
            next_kline(&mut again).await,
            ("BTCUSDT".to_owned(), 3, true)
        );
        assert_eq!(
            next_kline(&mut again).await,
            ("BTCUSDT".to_owned(), 4, false)
        );
        assert_eq!(mock.requests().stream_connections, 2);
    }
}

//! A mock Bybit v5 spot server on 127.0.0.1: REST instruments and klines, and the public spot
//! stream, serving the series of `published.rs` up to its cursor, with scripted faults.
//!
//! ```ignore
//! let mock = MockBybit::start(series).await;   // rest_url and ws_url as the feed wants them
//! mock.publish_until(t);
//! mock.fault(Fault::SkipKline);
//! ```
//!
//! Bybit behaviour followed:
//! - <https://bybit-exchange.github.io/docs/v5/market/instrument>: `GET
//!   /v5/market/instruments-info?category=spot`, every answer HTTP 200 with `retCode` 0 or
//!   an error code (10001 for a bad parameter) and `retMsg`.
//! - <https://bybit-exchange.github.io/docs/v5/market/kline>: `GET /v5/market/kline` with
//!   `category`, `symbol`, `interval` (`1 3 5 15 30 60 120 240 360 720 D W M`), optional
//!   `start`/`end` (ms, bounding open times inclusively) and `limit` (`[1, 1000]`, default
//!   200); the list is sorted newest first. Where more klines fall in the window than
//!   `limit`, the newest `limit` are answered (the page ends at `end`, or now). The mock
//!   builds klines at our timeframes only: 3, 360, 720, W and M are refused as unknown
//!   (Bybit serves them; the feed never asks).
//! - <https://bybit-exchange.github.io/docs/v5/ws/connect>: `/v5/public/spot`; the client
//!   sends `{"op":"subscribe","args":[...]}` (at most 10 args on spot) and is answered
//!   `{"success":true,"ret_msg":"subscribe","conn_id":...,"req_id":...,"op":"subscribe"}`;
//!   `{"op":"ping"}` is answered with spot's pong, `"op":"ping"` with `"ret_msg":"pong"`.
//! - <https://bybit-exchange.github.io/docs/v5/websocket/public/kline>: `kline.1.<SYMBOL>`
//!   pushes, `confirm` false while the kline forms and true once it closed. Nothing is pushed
//!   for a topic before it is subscribed: what publishes in between is only on REST.
#![allow(dead_code)] // an API for the feed tests; this file's tests use most of it.

pub use super::published::Fault;
use super::published::{split_symbol, Outgoing, PublishedSeries, Publisher};
use super::render::{bybit_instruments, bybit_klines, bybit_stream_frame};
use super::stream_hub::{run_session, serve, Session, StreamEvent, StreamHub};
use cryptolens_actors::domain::market::{Candle, Timeframe};
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use warp::filters::ws::Ws;
use warp::reply::Response;
use warp::{Filter, Reply};

const KLINES_LIMIT_DEFAULT: usize = 200;
const KLINES_LIMIT_MAX: usize = 1000;
/// "Each subscription request can contain at most 10 args" (spot).
const ARGS_PER_SUBSCRIBE_MAX: usize = 10;
/// Bybit's code for a request parameter it refuses.
const PARAMS_ERROR: i64 = 10001;

/// What the mock has been asked, counted since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestCounts {
    pub instruments: u64,
    pub klines: u64,
    pub stream_connections: u64,
}

pub struct MockBybit {
    /// `http://127.0.0.1:<port>`: the feed's Bybit REST base.
    pub rest_url: String,
    /// `ws://127.0.0.1:<port>`: the feed's Bybit WebSocket base (it appends `/v5/public/spot`).
    pub ws_url: String,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

struct Shared {
    published: Mutex<PublishedSeries>,
    streams: StreamHub,
    instruments: AtomicU64,
    klines: AtomicU64,
}

impl MockBybit {
    /// Serves `series` (1m candles per symbol such as `BTCUSDT`) with nothing published yet;
    /// every symbol trades with tick 0.01 and step 0.00001.
    pub async fn start(series: BTreeMap<String, Vec<Candle>>) -> MockBybit {
        let shared = Arc::new(Shared {
            published: Mutex::new(PublishedSeries::new(series)),
            streams: StreamHub::default(),
            instruments: AtomicU64::new(0),
            klines: AtomicU64::new(0),
        });
        let (addr, server) = serve(routes(&shared)).await;
        MockBybit {
            rest_url: format!("http://{addr}"),
            ws_url: format!("ws://{addr}"),
            shared,
            server,
        }
    }

    /// Publishes every candle opening at or before `until_ms` and pushes what changed.
    pub fn publish_until(&self, until_ms: i64) {
        let outgoing = self
            .shared
            .published
            .lock()
            .publish_until(until_ms, |_| true);
        self.shared
            .streams
            .send(outgoing.into_iter().map(stream_event));
    }

    /// See [`PublishedSeries::rest_serves_forming`].
    pub fn rest_serves_forming(&self, serves: bool) {
        self.shared.published.lock().rest_serves_forming(serves);
    }

    /// `DropConnections` and the stream faults; REST faults are Binance's only.
    pub fn fault(&self, fault: Fault) {
        match fault {
            Fault::DropConnections => self.shared.streams.drop_connections(),
            Fault::Outage(_) | Fault::TooManyRequests { .. } => {
                panic!("{fault:?} is not modelled on the Bybit mock")
            }
            stream_fault => self
                .shared
                .published
                .lock()
                .queue_stream_fault(stream_fault),
        }
    }

    pub fn requests(&self) -> RequestCounts {
        RequestCounts {
            instruments: self.shared.instruments.load(Ordering::SeqCst),
            klines: self.shared.klines.load(Ordering::SeqCst),
            stream_connections: self.shared.streams.connections(),
        }
    }

    pub fn open_streams(&self) -> u64 {
        self.shared.streams.open_streams()
    }

    /// Waits (up to 5 s) until `count` stream connections are open.
    pub async fn wait_for_open_streams(&self, count: u64) {
        self.shared.streams.wait_for_open_streams(count).await;
    }
}

impl Publisher for MockBybit {
    fn publish_until(&self, until_ms: i64) {
        MockBybit::publish_until(self, until_ms);
    }
}

impl Drop for MockBybit {
    fn drop(&mut self) {
        self.shared.streams.drop_connections();
        self.server.abort();
    }
}

fn stream_event(outgoing: Outgoing) -> StreamEvent {
    match outgoing {
        Outgoing::Kline(change) => StreamEvent::Frame {
            text: bybit_stream_frame(&change.symbol, &change.candle, change.closed()),
            symbol: change.symbol,
        },
        Outgoing::Malformed { symbol } => StreamEvent::Frame {
            symbol,
            text: r#"{"topic":"kline.1.","data":[{"start":"#.to_owned(),
        },
    }
}

/// A Bybit error answer: HTTP 200, a non-zero `retCode`.
fn bybit_error(ret_code: i64, ret_msg: &str) -> Response {
    let body = json!({
        "retCode": ret_code, "retMsg": ret_msg, "result": {},
        "retExtInfo": {}, "time": 1_700_000_000_000_i64
    });
    warp::reply::json(&body).into_response()
}

fn json_reply(body: String) -> Response {
    warp::reply::with_header(body, "content-type", "application/json").into_response()
}

type Query = HashMap<String, String>;

fn routes(
    shared: &Arc<Shared>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let with_shared = {
        let shared = shared.clone();
        warp::any().map(move || shared.clone())
    };
    let instruments = warp::path!("v5" / "market" / "instruments-info")
        .and(warp::get())
        .and(warp::query::<Query>())
        .and(with_shared.clone())
        .map(|query: Query, shared: Arc<Shared>| instruments(&query, &shared));
    let klines = warp::path!("v5" / "market" / "kline")
        .and(warp::get())
        .and(warp::query::<Query>())
        .and(with_shared.clone())
        .map(|query: Query, shared: Arc<Shared>| klines(&query, &shared));
    let stream = warp::path!("v5" / "public" / "spot")
        .and(warp::ws())
        .and(with_shared)
        .map(|ws: Ws, shared: Arc<Shared>| upgrade(ws, shared));
    instruments.or(klines).unify().or(stream).unify()
}

/// The mock is a spot exchange: any other category is refused.
fn category_refused(query: &Query) -> Option<Response> {
    (query.get("category").map(String::as_str) != Some("spot"))
        .then(|| bybit_error(PARAMS_ERROR, "Illegal category"))
}

fn instruments(query: &Query, shared: &Shared) -> Response {
    shared.instruments.fetch_add(1, Ordering::SeqCst);
    if let Some(refused) = category_refused(query) {
        return refused;
    }
    let published = shared.published.lock();
    let specs: Vec<(&str, &str, &str, &str, &str)> = published
        .symbols()
        .filter(|symbol| query.get("symbol").is_none_or(|asked| asked == symbol))
        .map(|symbol| {
            let (base, quote) = split_symbol(symbol);
            (symbol, base, quote, "0.01", "0.00001")
        })
        .collect();
    json_reply(bybit_instruments(&specs))
}

/// Bybit's interval name to ours: minutes, or `D`.
fn timeframe_of(interval: &str) -> Option<Timeframe> {
    Timeframe::ALL
        .into_iter()
        .find(|timeframe| match timeframe {
            Timeframe::D1 => interval == "D",
            other => interval == (other.duration_ms() / 60_000).to_string(),
        })
}

fn klines(query: &Query, shared: &Shared) -> Response {
    shared.klines.fetch_add(1, Ordering::SeqCst);
    if let Some(refused) = category_refused(query) {
        return refused;
    }
    let published = shared.published.lock();
    let Some(symbol) = query.get("symbol").filter(|s| published.contains(s)) else {
        return bybit_error(PARAMS_ERROR, "Not supported symbols");
    };
    let Some(timeframe) = query.get("interval").and_then(|i| timeframe_of(i)) else {
        return bybit_error(PARAMS_ERROR, "Invalid period!");
    };
    let number = |name: &str| query.get(name).map(|text| text.parse::<i64>());
    let (Ok(start_ms), Ok(end_ms), Ok(limit)) = (
        number("start").transpose(),
        number("end").transpose(),
        number("limit").transpose(),
    ) else {
        return bybit_error(PARAMS_ERROR, "params error: parameter is not a number");
    };
    let limit = limit.map_or(KLINES_LIMIT_DEFAULT, |limit| {
        limit.clamp(1, KLINES_LIMIT_MAX as i64) as usize
    });
    // Nothing before `start` is answered: fold from there.
    let candles = published.published_from(symbol, timeframe, start_ms.unwrap_or(i64::MIN));
    let page = select_page(&candles, start_ms, end_ms, limit);
    json_reply(bybit_klines(symbol, page, timeframe))
}

/// Open times within `[start, end]`, the newest `limit` of them (oldest first here; the
/// renderer writes them newest first).
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
    &window[window.len().saturating_sub(limit)..]
}

fn upgrade(ws: Ws, shared: Arc<Shared>) -> Response {
    let events = shared.streams.accept();
    let connection = shared.streams.connections();
    let symbols: BTreeSet<String> = shared
        .published
        .lock()
        .symbols()
        .map(str::to_owned)
        .collect();
    ws.on_upgrade(move |socket| async move {
        let session = BybitSession {
            conn_id: format!("mock-bybit-{connection}"),
            listed: symbols,
            topics: BTreeSet::new(),
        };
        run_session(socket, session, events).await;
        shared.streams.closed();
    })
    .into_response()
}

/// One spot connection: the kline topics it subscribed.
struct BybitSession {
    conn_id: String,
    /// Symbols the mock lists; a topic naming another is refused.
    listed: BTreeSet<String>,
    /// Market symbols of the subscribed `kline.1.<SYMBOL>` topics.
    topics: BTreeSet<String>,
}

impl BybitSession {
    fn answer(&self, op: &str, request: &Value, success: bool, ret_msg: &str) -> String {
        json!({
            "success": success, "ret_msg": ret_msg, "conn_id": self.conn_id,
            "req_id": request["req_id"].as_str().unwrap_or_default(), "op": op
        })
        .to_string()
    }

    fn subscribe(&mut self, request: &Value) -> String {
        let args: Vec<&str> = request["args"]
            .as_array()
            .map(|args| args.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if args.len() > ARGS_PER_SUBSCRIBE_MAX {
            return self.answer("subscribe", request, false, "args size >10");
        }
        let symbols: Option<Vec<&str>> = args
            .iter()
            .map(|arg| {
                arg.strip_prefix("kline.1.")
                    .filter(|symbol| self.listed.contains(*symbol))
            })
            .collect();
        match symbols {
            Some(symbols) if !symbols.is_empty() => {
                self.topics.extend(symbols.into_iter().map(str::to_owned));
                self.answer("subscribe", request, true, "subscribe")
            }
            _ => {
                let msg = format!("Invalid topic :{}", Value::from(args.clone()));
                self.answer("subscribe", request, false, &msg)
            }
        }
    }
}

impl Session for BybitSession {
    fn on_text(&mut self, text: &str) -> Vec<String> {
        let Ok(request) = serde_json::from_str::<Value>(text) else {
            return vec![self.answer("", &Value::Null, false, "Invalid request")];
        };
        match request["op"].as_str().unwrap_or_default() {
            "subscribe" => vec![self.subscribe(&request)],
            "ping" => vec![self.answer("ping", &request, true, "pong")],
            other => vec![self.answer(other, &request, false, "Invalid op")],
        }
    }

    fn follows(&self, symbol: &str) -> bool {
        self.topics.contains(symbol)
    }
}

#[cfg(test)]
mod tests {
    use super::super::published::MINUTE_MS;
    use super::super::test_client::{
        self, get, minute, next_kline, next_text, open_times, send_text, series, Client, T0_MS,
    };
    use super::*;
    use cryptolens::feed::bybit::Bybit;
    use cryptolens::feed::format::{ExchangeFormat, StreamFrame};

    async fn klines(mock: &MockBybit, query: &str) -> Vec<Candle> {
        let url = format!("{}/v5/market/kline?category=spot&{query}", mock.rest_url);
        let (status, _, body) = get(&url).await;
        assert_eq!(status, 200, "{body}");
        let interval = query
            .split('&')
            .find_map(|pair| pair.strip_prefix("interval="))
            .unwrap();
        Bybit
            .parse_klines(&body, timeframe_of(interval).unwrap())
            .unwrap()
    }

    async fn connect(mock: &MockBybit) -> Client {
        test_client::connect(&format!("{}/v5/public/spot", mock.ws_url)).await
    }

    async fn answer(client: &mut Client, request: &str) -> Value {
        send_text(client, request).await;
        let text = next_text(client).await.expect("an answer");
        serde_json::from_str(&text).unwrap()
    }

    #[tokio::test]
    async fn rest_serves_instruments_and_the_newest_klines_of_a_window_newest_first() {
        let mock = MockBybit::start(series(1300)).await;
        let url = Bybit.instruments_url(&mock.rest_url);
        let instruments = Bybit.parse_instruments(&get(&url).await.2).unwrap();
        let names: Vec<(&str, &str)> = instruments
            .iter()
            .map(|i| (i.base_asset.as_str(), i.quote_asset.as_str()))
            .collect();
        assert_eq!(names, [("BTC", "USDT"), ("ETH", "BTC")]);

        mock.publish_until(T0_MS + 1199 * MINUTE_MS + 30_000); // minute 1199 forming
        let newest = klines(&mock, "symbol=BTCUSDT&interval=1").await;
        assert_eq!(
            open_times(&newest),
            (1000..=1199).collect::<Vec<_>>(),
            "default 200"
        );
        let (start, end) = (T0_MS + 10 * MINUTE_MS, T0_MS + 20 * MINUTE_MS);
        let window = format!("symbol=BTCUSDT&interval=1&start={start}&end={end}");
        let page = klines(&mock, &window).await;
        assert_eq!(open_times(&page), (10..=20).collect::<Vec<_>>());
        assert_eq!(page[3], minute(0, 13));
        let page = klines(&mock, &format!("{window}&limit=3")).await;
        assert_eq!(
            open_times(&page),
            [18, 19, 20],
            "the newest 3 of the window"
        );
        let page = klines(&mock, &format!("symbol=ETHBTC&interval=1&start={start}")).await;
        assert_eq!(open_times(&page), (1000..=1199).collect::<Vec<_>>());
        let all = klines(&mock, "symbol=ETHBTC&interval=1&limit=5000").await;
        assert_eq!(all.len(), 1000, "at most 1000");
        let hours = klines(&mock, "symbol=ETHBTC&interval=60").await;
        assert_eq!(
            open_times(&hours),
            (0..20).map(|h| h * 60).collect::<Vec<_>>()
        );
        mock.rest_serves_forming(false);
        let closed = klines(&mock, "symbol=BTCUSDT&interval=1&limit=1").await;
        assert_eq!(open_times(&closed), [1198]);
        assert_eq!(
            (mock.requests().instruments, mock.requests().klines),
            (1, 7)
        );
    }

    #[tokio::test]
    async fn rest_refuses_bad_parameters_with_a_ret_code() {
        let mock = MockBybit::start(series(10)).await;
        for (query, ret_msg) in [
            (
                "category=linear&symbol=BTCUSDT&interval=1",
                "Illegal category",
            ),
            (
                "category=spot&symbol=DOGEUSDT&interval=1",
                "Not supported symbols",
            ),
            ("category=spot&symbol=BTCUSDT&interval=2", "Invalid period!"),
            (
                "category=spot&symbol=BTCUSDT&interval=1&start=soon",
                "params error",
            ),
        ] {
            let (status, _, body) =
                get(&format!("{}/v5/market/kline?{query}", mock.rest_url)).await;
            assert_eq!(status, 200, "Bybit answers errors with HTTP 200: {query}");
            let error: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(error["retCode"], PARAMS_ERROR, "{query}: {body}");
            assert!(
                error["retMsg"].as_str().unwrap().starts_with(ret_msg),
                "{body}"
            );
            assert!(Bybit.parse_klines(&body, Timeframe::M1).is_err());
        }
    }

    #[tokio::test]
    async fn the_stream_answers_subscribe_and_ping_then_pushes_subscribed_klines_only() {
        let mock = MockBybit::start(series(10)).await;
        mock.publish_until(T0_MS + 30_000);
        let mut client = connect(&mock).await;
        mock.wait_for_open_streams(1).await;
        mock.publish_until(T0_MS + MINUTE_MS + 30_000); // before subscribing: not pushed
        let ack = answer(
            &mut client,
            r#"{"req_id":"7","op":"subscribe","args":["kline.1.BTCUSDT"]}"#,
        )
        .await;
        assert_eq!(
            (&ack["success"], &ack["ret_msg"], &ack["op"], &ack["req_id"]),
            (
                &json!(true),
                &json!("subscribe"),
                &json!("subscribe"),
                &json!("7")
            )
        );
        assert_eq!(
            Bybit.parse_stream_frame(&ack.to_string()).unwrap(),
            StreamFrame::Control
        );
        let pong = answer(&mut client, r#"{"op":"ping"}"#).await;
        assert_eq!(
            (&pong["ret_msg"], &pong["op"]),
            (&json!("pong"), &json!("ping"))
        );
        assert_eq!(
            Bybit.parse_stream_frame(&pong.to_string()).unwrap(),
            StreamFrame::Control
        );
        let too_many: Vec<String> = (0..11).map(|n| format!("kline.1.X{n}USDT")).collect();
        let refused = answer(
            &mut client,
            &json!({"op": "subscribe", "args": too_many}).to_string(),
        )
        .await;
        assert_eq!(refused["success"], false);
        assert!(
            Bybit.parse_stream_frame(&refused.to_string()).is_err(),
            "{refused}"
        );
        mock.publish_until(T0_MS + 3 * MINUTE_MS);
        for expected in [(1, true), (2, true), (3, false)] {
            assert_eq!(
                next_kline(&Bybit, &mut client).await,
                ("BTCUSDT".to_owned(), expected.0, expected.1)
            );
        }
    }

    #[tokio::test]
    async fn skipped_klines_and_dropped_connections() {
        let mock = MockBybit::start(series(10)).await;
        mock.publish_until(T0_MS + 30_000);
        let mut client = connect(&mock).await;
        answer(
            &mut client,
            r#"{"op":"subscribe","args":["kline.1.BTCUSDT","kline.1.ETHBTC"]}"#,
        )
        .await;
        mock.fault(Fault::SkipKline);
        mock.publish_until(T0_MS + MINUTE_MS + 30_000);
        let pushed = [
            next_kline(&Bybit, &mut client).await,
            next_kline(&Bybit, &mut client).await,
            next_kline(&Bybit, &mut client).await,
        ];
        let expected = [
            ("ETHBTC", 0, true),
            ("BTCUSDT", 1, false),
            ("ETHBTC", 1, false),
        ];
        let expected = expected.map(|(symbol, index, closed)| (symbol.to_owned(), index, closed));
        assert_eq!(pushed, expected, "BTCUSDT's close of minute 0 was skipped");
        mock.fault(Fault::DropConnections);
        assert_eq!(next_text(&mut client).await, None);
        mock.wait_for_open_streams(0).await;
        let mut again = connect(&mock).await;
        answer(
            &mut again,
            r#"{"op":"subscribe","args":["kline.1.ETHBTC"]}"#,
        )
        .await;
        mock.publish_until(T0_MS + 2 * MINUTE_MS);
        assert_eq!(
            next_kline(&Bybit, &mut again).await,
            ("ETHBTC".to_owned(), 1, true)
        );
        assert_eq!(
            next_kline(&Bybit, &mut again).await,
            ("ETHBTC".to_owned(), 2, false)
        );
        assert_eq!(mock.requests().stream_connections, 2);
    }
}

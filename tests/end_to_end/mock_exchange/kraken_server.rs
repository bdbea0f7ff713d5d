//! A mock Kraken spot server on 127.0.0.1: REST asset pairs and OHLC, and WebSocket v2's
//! `ohlc` channel, serving the series of `published.rs` up to its cursor, with scripted
//! faults.
//!
//! ```ignore
//! let mock = MockKraken::start(series).await;   // our symbols: BTCUSDT is XBTUSDT, BTC/USDT
//! mock.publish_until(t);
//! mock.fault(Fault::DropConnections);
//! ```
//!
//! Kraken behaviour followed:
//! - <https://docs.kraken.com/api/docs/rest-api/get-tradable-asset-pairs>: `GET
//!   /0/public/AssetPairs`, pairs under Kraken's keys (`render.rs`). Every answer is HTTP 200
//!   with an `error` array, empty on success.
//! - <https://docs.kraken.com/api/docs/rest-api/get-ohlc-data>: `GET
//!   /0/public/OHLC?pair=&interval=&since=`, `pair` by altname or key, `interval` in minutes
//!   (`1 5 15 30 60 240 1440 10080 21600`, default 1), `since` in seconds. It "returns up to
//!   720 of the most recent entries": older data is not served whatever `since` asks. Of
//!   those, entries opening after `since` are answered (the docs do not say whether `since`
//!   is inclusive; the feed asks one second early and drops what it did not ask for). The
//!   last entry is the one still forming when REST serves it (`rest_serves_forming`), and
//!   `last` is the newest committed entry's time, the `since` to poll new committed data
//!   with. The mock builds entries at our timeframes only: 10080 and 21600 are refused like
//!   an unknown interval (`EGeneral:Invalid arguments`); the feed never asks for them.
//! - <https://docs.kraken.com/api/docs/websocket-v2/ohlc>, `.../ping`, `.../heartbeat`,
//!   `.../status`: the connection opens with a `status` message; `subscribe` to `ohlc` is
//!   acknowledged once per symbol, then a `snapshot` of the symbol's recent candles is sent,
//!   then `update`s as the candle changes; `{"method":"ping"}` is answered with `pong`;
//!   `heartbeat` comes about once a second when nothing else is sent. There is no closed
//!   flag: a closing candle sends nothing (its last update was sent while it formed), and
//!   the feed closes it when the next interval's first update arrives. The mock streams 1m
//!   only and refuses another `interval`.
#![allow(dead_code)] // an API for the feed tests; this file's tests use most of it.

pub use super::published::Fault;
use super::published::{
    split_symbol, KlineChange, Outgoing, Publication, PublishedSeries, Publisher,
};
use super::render::{kraken_instruments, kraken_klines, kraken_pair_key, kraken_stream_frame};
use super::stream_hub::{run_session, serve, Session, StreamEvent, StreamHub};
use cryptolens_actors::domain::market::{Candle, Timeframe};
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use warp::filters::ws::Ws;
use warp::reply::Response;
use warp::{Filter, Reply};

/// "Returns up to 720 of the most recent entries".
const OHLC_ENTRIES_MAX: usize = 720;
/// Candles in an `ohlc` snapshot. The docs do not say how many; the feed must take any.
const SNAPSHOT_CANDLES: usize = 12;
const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(1);

/// What the mock has been asked, counted since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestCounts {
    pub asset_pairs: u64,
    pub ohlc: u64,
    pub stream_connections: u64,
}

pub struct MockKraken {
    /// `http://127.0.0.1:<port>`: the feed's Kraken REST base.
    pub rest_url: String,
    /// `ws://127.0.0.1:<port>/v2`: the feed's Kraken WebSocket URL (as `wss://ws.kraken.com/v2`).
    pub ws_url: String,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

struct Shared {
    published: Mutex<PublishedSeries>,
    streams: StreamHub,
    asset_pairs: AtomicU64,
    ohlc: AtomicU64,
}

/// Kraken's names of one of our symbols.
struct PairNames {
    /// The `AssetPairs` key (`XBTUSDT`, `XXBTZUSD`).
    key: String,
    /// REST's other accepted name (`XBTUSDT`, `XBTUSD`).
    altname: String,
    /// WebSocket v2's (`BTC/USDT`).
    ws: String,
}

fn pair_names(symbol: &str) -> PairNames {
    let (base, quote) = split_symbol(symbol);
    let rename = |asset: &str| match asset {
        "BTC" => "XBT".to_owned(),
        "DOGE" => "XDG".to_owned(),
        other => other.to_owned(),
    };
    PairNames {
        key: kraken_pair_key(base, quote),
        altname: format!("{}{}", rename(base), rename(quote)),
        ws: format!("{base}/{quote}"),
    }
}

impl MockKraken {
    /// Serves `series` (1m candles per our symbol such as `BTCUSDT`) with nothing published
    /// yet; every pair trades with tick 0.01 and step 0.00001.
    pub async fn start(series: BTreeMap<String, Vec<Candle>>) -> MockKraken {
        let shared = Arc::new(Shared {
            published: Mutex::new(PublishedSeries::new(series)),
            streams: StreamHub::default(),
            asset_pairs: AtomicU64::new(0),
            ohlc: AtomicU64::new(0),
        });
        let (addr, server) = serve(routes(&shared)).await;
        MockKraken {
            rest_url: format!("http://{addr}"),
            ws_url: format!("ws://{addr}/v2"),
            shared,
            server,
        }
    }

    /// Publishes every candle opening at or before `until_ms` and sends an update for each
    /// candle that began (or began and ended within the move).
    pub fn publish_until(&self, until_ms: i64) {
        let began = |change: &KlineChange| change.before == Publication::Unpublished;
        let outgoing = self.shared.published.lock().publish_until(until_ms, began);
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
                panic!("{fault:?} is not modelled on the Kraken mock")
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
            asset_pairs: self.shared.asset_pairs.load(Ordering::SeqCst),
            ohlc: self.shared.ohlc.load(Ordering::SeqCst),
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

impl Publisher for MockKraken {
    fn publish_until(&self, until_ms: i64) {
        MockKraken::publish_until(self, until_ms);
    }
}

impl Drop for MockKraken {
    fn drop(&mut self) {
        self.shared.streams.drop_connections();
        self.server.abort();
    }
}

fn stream_event(outgoing: Outgoing) -> StreamEvent {
    match outgoing {
        Outgoing::Kline(change) => {
            let ws = pair_names(&change.symbol).ws;
            StreamEvent::Frame {
                text: kraken_stream_frame(&ws, &change.candle, change.closed()),
                symbol: ws,
            }
        }
        Outgoing::Malformed { symbol } => StreamEvent::Frame {
            symbol: pair_names(&symbol).ws,
            text: r#"{"channel":"ohlc","type":"update","data":[{"#.to_owned(),
        },
    }
}

fn kraken_error(message: &str) -> Response {
    warp::reply::json(&json!({ "error": [message] })).into_response()
}

fn json_reply(body: String) -> Response {
    warp::reply::with_header(body, "content-type", "application/json").into_response()
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

type Query = HashMap<String, String>;

fn routes(
    shared: &Arc<Shared>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let with_shared = {
        let shared = shared.clone();
        warp::any().map(move || shared.clone())
    };
    let asset_pairs = warp::path!("0" / "public" / "AssetPairs")
        .and(warp::get())
        .and(with_shared.clone())
        .map(|shared: Arc<Shared>| asset_pairs(&shared));
    let ohlc = warp::path!("0" / "public" / "OHLC")
        .and(warp::get())
        .and(warp::query::<Query>())
        .and(with_shared.clone())
        .map(|query: Query, shared: Arc<Shared>| ohlc(&query, &shared));
    let stream = warp::path!("v2")
        .and(warp::ws())
        .and(with_shared)
        .map(|ws: Ws, shared: Arc<Shared>| upgrade(ws, shared));
    asset_pairs.or(ohlc).unify().or(stream).unify()
}

fn asset_pairs(shared: &Shared) -> Response {
    shared.asset_pairs.fetch_add(1, Ordering::SeqCst);
    let published = shared.published.lock();
    let specs: Vec<(&str, &str, &str, &str, &str)> = published
        .symbols()
        .map(|symbol| {
            let (base, quote) = split_symbol(symbol);
            (symbol, base, quote, "0.01", "0.00001")
        })
        .collect();
    json_reply(kraken_instruments(&specs))
}

fn ohlc(query: &Query, shared: &Shared) -> Response {
    shared.ohlc.fetch_add(1, Ordering::SeqCst);
    let published = shared.published.lock();
    let asked = query.get("pair").map(String::as_str).unwrap_or_default();
    let Some((symbol, names)) = published
        .symbols()
        .map(|symbol| (symbol, pair_names(symbol)))
        .find(|(_, names)| names.key == asked || names.altname == asked)
    else {
        return kraken_error("EQuery:Unknown asset pair");
    };
    let minutes = query
        .get("interval")
        .map_or(Ok(1), |text| text.parse::<i64>());
    let timeframe = minutes.ok().and_then(|minutes| {
        Timeframe::ALL
            .into_iter()
            .filter(|timeframe| *timeframe != Timeframe::H2)
            .find(|timeframe| timeframe.duration_ms() == minutes * 60_000)
    });
    let since_s = query.get("since").map(|text| text.parse::<i64>());
    let (Some(timeframe), Ok(since_s)) = (timeframe, since_s.transpose()) else {
        return kraken_error("EGeneral:Invalid arguments");
    };
    // Only the newest 720 entries are ever answered: fold no more than those.
    let step_ms = timeframe.duration_ms();
    let newest_bucket_ms = timeframe.bucket_start_ms(published.rest_newest_ms());
    let from_ms = newest_bucket_ms - (OHLC_ENTRIES_MAX as i64 - 1) * step_ms;
    let candles = published.published_from(symbol, timeframe, from_ms);
    let newest = &candles[candles.len().saturating_sub(OHLC_ENTRIES_MAX)..];
    let first = since_s.map_or(0, |since_s| {
        newest.partition_point(|c| c.open_time_ms / 1000 <= since_s)
    });
    let committed_s = committed_s(&published, timeframe, &candles);
    let body = kraken_klines(&names.key, &newest[first..], timeframe);
    json_reply(with_last(&body, committed_s))
}

/// The open time, in seconds, of the newest committed (closed) entry.
fn committed_s(published: &PublishedSeries, timeframe: Timeframe, candles: &[Candle]) -> i64 {
    let cursor_ms = published.published_until_ms();
    candles
        .iter()
        .rev()
        .find(|c| c.open_time_ms + timeframe.duration_ms() <= cursor_ms)
        .map_or(0, |candle| candle.open_time_ms / 1000)
}

/// The rendered answer with `last` set to `last_s` (the renderer takes the newest entry's).
fn with_last(body: &str, last_s: i64) -> String {
    let mut answer: Value = serde_json::from_str(body).unwrap();
    answer["result"]["last"] = Value::from(last_s);
    answer.to_string()
}

fn upgrade(ws: Ws, shared: Arc<Shared>) -> Response {
    let events = shared.streams.accept();
    let connection_id = shared.streams.connections();
    ws.on_upgrade(move |socket| async move {
        let session = KrakenSession {
            connection_id,
            shared: shared.clone(),
            symbols: BTreeSet::new(),
        };
        run_session(socket, session, events).await;
        shared.streams.closed();
    })
    .into_response()
}

/// One v2 connection: the WebSocket symbols (`BTC/USDT`) subscribed to `ohlc`.
struct KrakenSession {
    connection_id: u64,
    shared: Arc<Shared>,
    symbols: BTreeSet<String>,
}

impl KrakenSession {
    fn subscribe(&mut self, request: &Value) -> Vec<String> {
        let params = &request["params"];
        let asked: Vec<&str> = params["symbol"]
            .as_array()
            .map(|symbols| symbols.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let interval = params["interval"].as_i64().unwrap_or(1);
        let answer = |symbol: &str, error: Option<String>| {
            let mut answer = json!({
                "method": "subscribe", "success": error.is_none(),
                "time_in": now_rfc3339(), "time_out": now_rfc3339()
            });
            match error {
                None => {
                    answer["result"] = json!({"channel": "ohlc", "interval": interval,
                                              "snapshot": true, "symbol": symbol})
                }
                Some(error) => {
                    answer["error"] = error.into();
                    answer["symbol"] = symbol.into();
                }
            }
            if !request["req_id"].is_null() {
                answer["req_id"] = request["req_id"].clone();
            }
            answer.to_string()
        };
        if params["channel"] != "ohlc" || interval != 1 {
            let error = "Subscription not modelled by the mock (ohlc at interval 1 only)";
            return vec![answer("", Some(error.to_owned()))];
        }
        let published = self.shared.published.lock();
        let mut frames = Vec::new();
        for symbol in asked {
            let Some(ours) = published.symbols().find(|s| pair_names(s).ws == symbol) else {
                frames.push(answer(
                    symbol,
                    Some(format!("Currency pair not supported {symbol}")),
                ));
                continue;
            };
            frames.push(answer(symbol, None));
            frames.push(snapshot(
                symbol,
                published.newest_minutes(ours, SNAPSHOT_CANDLES),
            ));
            self.symbols.insert(symbol.to_owned());
        }
        frames
    }
}

/// An `ohlc` snapshot: the candles' `data` entries as updates carry them, in one message.
fn snapshot(ws_symbol: &str, candles: &[Candle]) -> String {
    let data: Vec<Value> = candles
        .iter()
        .map(|candle| {
            let update: Value =
                serde_json::from_str(&kraken_stream_frame(ws_symbol, candle, false)).unwrap();
            update["data"][0].clone()
        })
        .collect();
    json!({"channel": "ohlc", "type": "snapshot", "timestamp": now_rfc3339(), "data": data})
        .to_string()
}

impl Session for KrakenSession {
    fn greeting(&mut self) -> Vec<String> {
        vec![json!({
            "channel": "status", "type": "update",
            "data": [{"api_version": "v2", "connection_id": self.connection_id,
                      "system": "online", "version": "2.0.10"}]
        })
        .to_string()]
    }

    fn on_text(&mut self, text: &str) -> Vec<String> {
        let request: Value = serde_json::from_str(text).unwrap_or_default();
        match request["method"].as_str().unwrap_or_default() {
            "subscribe" => self.subscribe(&request),
            "ping" => {
                let mut pong = json!({"method": "pong", "time_in": now_rfc3339(),
                                      "time_out": now_rfc3339()});
                if !request["req_id"].is_null() {
                    pong["req_id"] = request["req_id"].clone();
                }
                vec![pong.to_string()]
            }
            _ => vec![json!({"error": "Malformed request", "success": false,
                             "time_in": now_rfc3339(), "time_out": now_rfc3339()})
            .to_string()],
        }
    }

    fn follows(&self, symbol: &str) -> bool {
        self.symbols.contains(symbol)
    }

    fn heartbeat(&self) -> Option<(Duration, String)> {
        Some((
            HEARTBEAT_INTERVAL,
            json!({"channel": "heartbeat"}).to_string(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::super::published::MINUTE_MS;
    use super::super::test_client::{
        self, get, minute, next_klines, next_text, open_times, send_text, series_of, Client, T0_MS,
    };
    use super::*;
    use cryptolens::feed::format::{ExchangeFormat, KlinePage, StreamFrame};
    use cryptolens::feed::kraken::Kraken;

    fn btc_eth(minutes: i64) -> BTreeMap<String, Vec<Candle>> {
        series_of(&["BTCUSDT", "ETHUSD"], minutes)
    }

    async fn ohlc(mock: &MockKraken, query: &str) -> Value {
        let (status, _, body) = get(&format!("{}/0/public/OHLC?{query}", mock.rest_url)).await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    fn parsed(answer: &Value, timeframe: Timeframe) -> Vec<Candle> {
        Kraken.parse_klines(&answer.to_string(), timeframe).unwrap()
    }

    async fn connect(mock: &MockKraken) -> Client {
        test_client::connect(&mock.ws_url).await
    }

    /// The next message that is not a heartbeat.
    async fn next_message(client: &mut Client) -> Value {
        loop {
            let text = next_text(client).await.expect("an open stream");
            let message: Value = serde_json::from_str(&text).unwrap();
            if message["channel"] != "heartbeat" {
                return message;
            }
        }
    }

    #[tokio::test]
    async fn rest_lists_pairs_and_serves_only_the_newest_720_entries_after_since() {
        let mock = MockKraken::start(btc_eth(1000)).await;
        let url = Kraken.instruments_url(&mock.rest_url);
        let instruments = Kraken.parse_instruments(&get(&url).await.2).unwrap();
        let names: Vec<(&str, &str, &str)> = instruments
            .iter()
            .map(|i| {
                (
                    i.symbol.as_str(),
                    i.rest_symbol.as_str(),
                    i.market_symbol.as_str(),
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                ("BTCUSDT", "XBTUSDT", "BTC/USDT"),
                ("ETHUSD", "ETHUSD", "ETH/USD")
            ]
        );

        mock.publish_until(T0_MS + 899 * MINUTE_MS + 30_000); // minute 899 forming
        let t0_s = T0_MS / 1000;
        let all = ohlc(&mock, &format!("pair=XBTUSDT&interval=1&since={t0_s}")).await;
        assert_eq!(
            open_times(&parsed(&all, Timeframe::M1)),
            (180..=899).collect::<Vec<_>>()
        );
        assert_eq!(
            all["result"]["last"],
            t0_s + 898 * 60,
            "the newest committed entry"
        );
        let since_s = t0_s + 850 * 60;
        let recent = ohlc(&mock, &format!("pair=XETHZUSD&since={since_s}")).await;
        let recent = parsed(&recent, Timeframe::M1);
        assert_eq!(
            open_times(&recent),
            (851..=899).collect::<Vec<_>>(),
            "by key, after since"
        );
        assert_eq!(recent[0], minute(1, 851));
        let hours = ohlc(&mock, "pair=ETHUSD&interval=60").await;
        assert_eq!(
            open_times(&parsed(&hours, Timeframe::H1)),
            (0..15).map(|h| h * 60).collect::<Vec<_>>()
        );
        mock.rest_serves_forming(false);
        let closed = ohlc(&mock, &format!("pair=XBTUSDT&since={since_s}")).await;
        assert_eq!(
            open_times(&parsed(&closed, Timeframe::M1)).last(),
            Some(&898)
        );
        assert_eq!(closed["result"]["last"], t0_s + 898 * 60);
        let page = KlinePage {
            timeframe: Timeframe::M1,
            start_ms: T0_MS,
            end_ms: T0_MS + 719 * MINUTE_MS,
            limit: 720,
        };
        let url = Kraken.klines_url(&mock.rest_url, &instruments[0], &page);
        let first_page = Kraken.parse_kline_page(&get(&url).await.2, &page).unwrap();
        assert_eq!(
            open_times(&first_page),
            (179..=719).collect::<Vec<_>>(),
            "older is gone"
        );
    }

    #[tokio::test]
    async fn rest_refuses_unknown_pairs_and_intervals_in_its_error_array() {
        let mock = MockKraken::start(btc_eth(10)).await;
        for (query, error) in [
            ("pair=DOGEUSD&interval=1", "EQuery:Unknown asset pair"),
            ("pair=XBTUSDT&interval=120", "EGeneral:Invalid arguments"),
            (
                "pair=XBTUSDT&interval=1&since=soon",
                "EGeneral:Invalid arguments",
            ),
        ] {
            let answer = ohlc(&mock, query).await;
            assert_eq!(answer["error"], json!([error]), "{query}");
            assert!(Kraken
                .parse_klines(&answer.to_string(), Timeframe::M1)
                .is_err());
        }
    }

    #[tokio::test]
    async fn the_stream_greets_acks_each_symbol_sends_a_snapshot_then_updates_and_pongs() {
        let mock = MockKraken::start(btc_eth(40)).await;
        mock.publish_until(T0_MS + 20 * MINUTE_MS + 30_000); // minute 20 forming
        let mut client = connect(&mock).await;
        let status = next_message(&mut client).await;
        assert_eq!(
            (&status["channel"], &status["data"][0]["system"]),
            (&json!("status"), &json!("online"))
        );
        let request = r#"{"method":"subscribe","params":{"channel":"ohlc","symbol":["BTC/USDT","ETH/USD"],"interval":1},"req_id":4}"#;
        send_text(&mut client, request).await;
        for symbol in ["BTC/USDT", "ETH/USD"] {
            let ack = next_message(&mut client).await;
            assert_eq!(
                (&ack["success"], &ack["result"]["symbol"], &ack["req_id"]),
                (&json!(true), &json!(symbol), &json!(4))
            );
            assert_eq!(
                Kraken.parse_stream_frame(&ack.to_string()).unwrap(),
                StreamFrame::Control
            );
            let snapshot = next_message(&mut client).await;
            assert_eq!(snapshot["type"], "snapshot");
            let klines = match Kraken.parse_stream_frame(&snapshot.to_string()).unwrap() {
                StreamFrame::Klines(klines) => klines,
                StreamFrame::Control => panic!("a snapshot holds klines"),
            };
            let minutes: Vec<i64> = klines
                .iter()
                .map(|k| (k.kline.candle.open_time_ms - T0_MS) / MINUTE_MS)
                .collect();
            assert_eq!(
                minutes,
                (9..=20).collect::<Vec<_>>(),
                "{symbol}: the newest, forming included"
            );
        }
        send_text(&mut client, r#"{"method":"ping","req_id":9}"#).await;
        let pong = next_message(&mut client).await;
        assert_eq!(
            (&pong["method"], &pong["req_id"]),
            (&json!("pong"), &json!(9))
        );
        // Minute 20 closes (nothing sent), 21 and 22 begin and end within the move, 23 forms.
        mock.publish_until(T0_MS + 23 * MINUTE_MS);
        let mut updates = Vec::new();
        for _ in 0..6 {
            updates.extend(next_klines(&Kraken, &mut client).await);
        }
        let expected: Vec<(String, i64, bool)> = [21, 22, 23]
            .into_iter()
            .flat_map(|n| {
                [
                    ("BTC/USDT".to_owned(), n, false),
                    ("ETH/USD".to_owned(), n, false),
                ]
            })
            .collect();
        assert_eq!(
            updates, expected,
            "no closed flag: every kline reads as not closed"
        );
    }

    #[tokio::test]
    async fn heartbeats_when_quiet_skipped_updates_and_dropped_connections() {
        let mock = MockKraken::start(series_of(&["ETHUSD"], 10)).await;
        let mut client = connect(&mock).await;
        next_text(&mut client).await; // status
        let beat = next_text(&mut client).await.unwrap();
        assert_eq!(
            Kraken.parse_stream_frame(&beat).unwrap(),
            StreamFrame::Control,
            "{beat}"
        );
        assert!(beat.contains("heartbeat"), "{beat}");
        mock.fault(Fault::DropConnections);
        assert_eq!(next_text(&mut client).await, None);
        mock.wait_for_open_streams(0).await;
        let mut again = connect(&mock).await;
        next_text(&mut again).await;
        send_text(&mut again, r#"{"method":"subscribe","params":{"channel":"ohlc","symbol":["ETH/USD"],"interval":1}}"#).await;
        next_message(&mut again).await; // ack
        next_message(&mut again).await; // snapshot (empty: nothing published)
        mock.fault(Fault::SkipKline);
        mock.publish_until(T0_MS + MINUTE_MS);
        let updates = next_klines(&Kraken, &mut again).await;
        assert_eq!(
            updates,
            [("ETH/USD".to_owned(), 1, false)],
            "minute 0's update was skipped"
        );
        assert_eq!(mock.requests().stream_connections, 2);
    }
}

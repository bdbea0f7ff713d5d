//! Bybit v5 spot public market data: instruments, klines and the kline stream.
//!
//! Formats as documented at
//! - <https://bybit-exchange.github.io/docs/v5/market/instrument>
//! - <https://bybit-exchange.github.io/docs/v5/market/kline>
//! - <https://bybit-exchange.github.io/docs/v5/websocket/public/kline>
//! - <https://bybit-exchange.github.io/docs/v5/ws/connect> (subscribe, ping and pong)

use super::format::{
    ExchangeFormat, ExchangeKind, FormatError, Instrument, KlineFields, KlinePage, MarketKline,
    StreamFrame, StreamKline,
};
use cryptolens_actors::domain::market::{Candle, Symbol, Timeframe};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::time::Duration;

/// The intervals Bybit serves that are ours (it also has 3, 360, 720, W and M).
const TIMEFRAMES: [Timeframe; 8] = Timeframe::ALL;
/// `limit` of `GET /v5/market/kline`: `[1, 1000]`, default 200.
const KLINES_PER_REQUEST_MAX: usize = 1000;
/// "Each subscription request can contain at most 10 args" on the spot stream.
const TOPICS_PER_SUBSCRIBE_MAX: usize = 10;
/// "We recommend you to send the ping heartbeat packet every 20 seconds to maintain the
/// WebSocket connection" (connect page).
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(20);

pub struct Bybit;

/// Every REST answer: `retCode` 0 or an error with `retMsg`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    ret_code: i64,
    #[serde(default)]
    ret_msg: String,
    /// Read once the answer says it is not an error (an error's result may be `{}`).
    result: Option<Box<RawValue>>,
}

#[derive(Deserialize)]
struct InstrumentList {
    list: Vec<InstrumentInfo>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InstrumentInfo {
    symbol: String,
    base_coin: String,
    quote_coin: String,
    status: String,
    price_filter: PriceFilter,
    lot_size_filter: LotSizeFilter,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PriceFilter {
    tick_size: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LotSizeFilter {
    base_precision: String,
}

/// `list` of `["startTime", "open", "high", "low", "close", "volume", "turnover"]`, all
/// strings, newest first.
#[derive(Deserialize)]
struct KlineList {
    list: Vec<Vec<String>>,
}

/// Anything the public stream sends: a topic push, or an answer to an `op`.
#[derive(Deserialize)]
struct StreamMessage {
    topic: Option<String>,
    /// Read once the channel or topic says what it holds.
    data: Option<Box<RawValue>>,
    op: Option<String>,
    success: Option<bool>,
    ret_msg: Option<String>,
}

#[derive(Deserialize)]
struct StreamKlineBody {
    start: i64,
    interval: String,
    open: String,
    close: String,
    high: String,
    low: String,
    volume: String,
    confirm: bool,
}

fn refuse(message: impl Into<String>) -> FormatError {
    FormatError::new(ExchangeKind::Bybit, message)
}

/// Bybit's name of an interval: minutes, or `D` for a day.
const fn interval_of(timeframe: Timeframe) -> &'static str {
    match timeframe {
        Timeframe::M1 => "1",
        Timeframe::M5 => "5",
        Timeframe::M15 => "15",
        Timeframe::M30 => "30",
        Timeframe::H1 => "60",
        Timeframe::H2 => "120",
        Timeframe::H4 => "240",
        Timeframe::D1 => "D",
    }
}

fn timeframe_of(interval: &str) -> Result<Timeframe, FormatError> {
    TIMEFRAMES
        .into_iter()
        .find(|timeframe| interval_of(*timeframe) == interval)
        .ok_or_else(|| refuse(format!("kline interval {interval:?} is not one we read")))
}

/// The result of a REST answer, or its `retMsg` as the error.
fn result_of<T: serde::de::DeserializeOwned>(body: &str, what: &str) -> Result<T, FormatError> {
    let answer: Answer =
        serde_json::from_str(body).map_err(|error| refuse(format!("malformed {what}: {error}")))?;
    if answer.ret_code != 0 {
        return Err(refuse(format!(
            "{what}: retCode {}: {}",
            answer.ret_code, answer.ret_msg
        )));
    }
    let result = answer
        .result
        .ok_or_else(|| refuse(format!("{what}: retCode 0 without a result")))?;
    serde_json::from_str(result.get())
        .map_err(|error| refuse(format!("malformed {what} result: {error}")))
}

fn decimal(what: &str, symbol: &str, text: &str) -> Result<Decimal, FormatError> {
    Decimal::from_str_exact(text.trim())
        .map_err(|_| refuse(format!("{symbol}: {what} {text:?} is not a decimal")))
}

impl InstrumentInfo {
    /// None when our symbol rules cannot name it; such a market cannot be configured, so it
    /// is left out rather than failing the list.
    fn to_instrument(&self) -> Option<Result<Instrument, FormatError>> {
        let symbol = Symbol::parse(&self.symbol).ok()?;
        let sizes =
            decimal("tickSize", &self.symbol, &self.price_filter.tick_size).and_then(|tick_size| {
                let step_size = &self.lot_size_filter.base_precision;
                Ok((
                    tick_size,
                    decimal("basePrecision", &self.symbol, step_size)?,
                ))
            });
        Some(sizes.map(|(tick_size, step_size)| Instrument {
            market_symbol: self.symbol.clone(),
            rest_symbol: self.symbol.clone(),
            symbol,
            base_asset: self.base_coin.clone(),
            quote_asset: self.quote_coin.clone(),
            tick_size,
            step_size,
            trading: self.status == "Trading",
        }))
    }
}

fn rest_kline(kline: &[String], timeframe: Timeframe) -> Result<Candle, FormatError> {
    let [start, open, high, low, close, volume, ..] = kline else {
        return Err(refuse(format!(
            "kline has {} entries, expected 7: {kline:?}",
            kline.len()
        )));
    };
    let open_time_ms = start
        .parse()
        .map_err(|_| refuse(format!("kline startTime {start:?} is not integer ms")))?;
    KlineFields {
        open_time_ms,
        open,
        high,
        low,
        close,
        volume,
    }
    .to_candle(ExchangeKind::Bybit, timeframe)
}

impl StreamMessage {
    /// Answers to `subscribe` and `ping` (spot answers a ping with `"op":"ping"` and
    /// `"ret_msg":"pong"`; other categories with `"op":"pong"`).
    fn into_answer(self) -> Result<StreamFrame, FormatError> {
        let op = self.op.unwrap_or_default();
        let ret_msg = self.ret_msg.unwrap_or_default();
        if self.success == Some(false) {
            return Err(refuse(format!("{op} refused: {ret_msg}")));
        }
        let known = matches!(op.as_str(), "subscribe" | "unsubscribe" | "ping" | "pong");
        if known || ret_msg == "pong" {
            Ok(StreamFrame::Control)
        } else {
            Err(refuse("stream frame is neither a topic push nor an answer"))
        }
    }
}

/// `kline.{interval}.{symbol}` to the symbol; None for other topics, an error for a kline
/// topic naming no symbol.
fn kline_topic_symbol(topic: &str) -> Option<Result<&str, FormatError>> {
    let rest = topic.strip_prefix("kline.")?;
    Some(
        rest.split_once('.')
            .map(|(_, symbol)| symbol)
            .filter(|symbol| !symbol.is_empty())
            .ok_or_else(|| refuse(format!("kline topic {topic:?} names no symbol"))),
    )
}

fn stream_klines(symbol: &str, data: Vec<StreamKlineBody>) -> Result<StreamFrame, FormatError> {
    let klines = data
        .into_iter()
        .map(|kline| {
            let candle = KlineFields {
                open_time_ms: kline.start,
                open: &kline.open,
                high: &kline.high,
                low: &kline.low,
                close: &kline.close,
                volume: &kline.volume,
            }
            .to_candle(ExchangeKind::Bybit, timeframe_of(&kline.interval)?)?;
            Ok(MarketKline {
                market_symbol: symbol.to_owned(),
                kline: StreamKline {
                    candle,
                    closed: kline.confirm,
                },
            })
        })
        .collect::<Result<Vec<_>, FormatError>>()?;
    Ok(StreamFrame::Klines(klines))
}

impl ExchangeFormat for Bybit {
    fn kind(&self) -> ExchangeKind {
        ExchangeKind::Bybit
    }

    fn instruments_url(&self, rest_base: &str) -> String {
        format!(
            "{}/v5/market/instruments-info?category=spot",
            rest_base.trim_end_matches('/')
        )
    }

    fn parse_instruments(&self, body: &str) -> Result<Vec<Instrument>, FormatError> {
        let result: InstrumentList = result_of(body, "instruments-info")?;
        result
            .list
            .iter()
            .filter_map(InstrumentInfo::to_instrument)
            .collect()
    }

    fn timeframes(&self) -> &'static [Timeframe] {
        &TIMEFRAMES
    }

    fn klines_per_request_max(&self) -> usize {
        KLINES_PER_REQUEST_MAX
    }

    /// `start` and `end` bound the open times, both inclusive. When more than `limit` klines
    /// fall in between, Bybit answers the newest `limit`: the feed's pages span at most
    /// `limit` intervals, so none is skipped.
    fn klines_url(&self, rest_base: &str, instrument: &Instrument, page: &KlinePage) -> String {
        format!(
            "{}/v5/market/kline?category=spot&symbol={}&interval={}&start={}&end={}&limit={}",
            rest_base.trim_end_matches('/'),
            instrument.rest_symbol,
            interval_of(page.timeframe),
            page.start_ms,
            page.end_ms,
            page.limit.clamp(1, KLINES_PER_REQUEST_MAX),
        )
    }

    fn parse_klines(&self, body: &str, timeframe: Timeframe) -> Result<Vec<Candle>, FormatError> {
        let result: KlineList = result_of(body, "kline")?;
        // Bybit sends newest first; the feed wants oldest first.
        result
            .list
            .iter()
            .rev()
            .map(|kline| rest_kline(kline, timeframe))
            .collect()
    }

    fn stream_url(&self, ws_base: &str, _instruments: &[Instrument]) -> String {
        format!("{}/v5/public/spot", ws_base.trim_end_matches('/'))
    }

    fn subscribe_frames(&self, instruments: &[Instrument]) -> Vec<String> {
        let topics: Vec<String> = instruments
            .iter()
            .map(|instrument| format!("kline.1.{}", instrument.market_symbol))
            .collect();
        topics
            .chunks(TOPICS_PER_SUBSCRIBE_MAX)
            .map(|args| {
                format!(
                    r#"{{"op":"subscribe","args":{}}}"#,
                    Value::from(args.to_vec())
                )
            })
            .collect()
    }

    fn keepalive(&self) -> Option<(String, Duration)> {
        Some((r#"{"op":"ping"}"#.to_owned(), KEEPALIVE_INTERVAL))
    }

    fn parse_stream_frame(&self, text: &str) -> Result<StreamFrame, FormatError> {
        let message: StreamMessage = serde_json::from_str(text)
            .map_err(|error| refuse(format!("malformed stream frame: {error}")))?;
        let Some(topic) = message.topic.as_deref() else {
            return message.into_answer();
        };
        // Only kline topics are subscribed; any other push is nothing for the feed.
        let Some(symbol) = kline_topic_symbol(topic) else {
            return Ok(StreamFrame::Control);
        };
        let symbol = symbol?.to_owned();
        let data = message
            .data
            .ok_or_else(|| refuse(format!("{topic} push without data")))?;
        let data: Vec<StreamKlineBody> = serde_json::from_str(data.get())
            .map_err(|error| refuse(format!("malformed {topic} data: {error}")))?;
        stream_klines(&symbol, data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spot response example of the instruments-info page, plus a second instrument
    /// not trading and a field of Bybit's own added.
    const INSTRUMENTS: &str = r#"{
        "retCode": 0,
        "retMsg": "OK",
        "result": {
            "category": "spot",
            "list": [
                {
                    "symbol": "BTCUSDT",
                    "baseCoin": "BTC",
                    "quoteCoin": "USDT",
                    "innovation": "0",
                    "status": "Trading",
                    "marginTrading": "both",
                    "stTag": "0",
                    "lotSizeFilter": {
                        "basePrecision": "0.000001",
                        "quotePrecision": "0.00000001",
                        "minOrderQty": "0.000048",
                        "maxOrderQty": "71.73956243",
                        "minOrderAmt": "1",
                        "maxOrderAmt": "2000000"
                    },
                    "priceFilter": {
                        "tickSize": "0.01"
                    },
                    "riskParameters": {
                        "priceLimitRatioX": "0.01",
                        "priceLimitRatioY": "0.02"
                    }
                },
                {
                    "symbol": "ETHBTC", "baseCoin": "ETH", "quoteCoin": "BTC", "status": "PreLaunch",
                    "someNewField": {"nested": [1, 2]},
                    "lotSizeFilter": {"basePrecision": "0.0001"},
                    "priceFilter": {"tickSize": "0.000001"}
                }
            ]
        },
        "retExtInfo": {},
        "time": 1701151255089
    }"#;

    /// The response example of the kline page: three hourly klines, newest first.
    const KLINES: &str = r#"{
        "retCode": 0,
        "retMsg": "OK",
        "result": {
            "symbol": "BTCUSD",
            "category": "inverse",
            "list": [
                ["1670608800000", "17071", "17073", "17027", "17055.5", "268611", "15.74462667"],
                ["1670605200000", "17071.5", "17071.5", "17061", "17071", "4177", "0.24469757"],
                ["1670601600000", "17086.5", "17088", "16978", "17071.5", "6356", "0.37288112"]
            ]
        },
        "retExtInfo": {},
        "time": 1672025956592
    }"#;

    /// The push example of the public kline page.
    const KLINE_PUSH: &str = r#"{
        "topic": "kline.5.BTCUSDT",
        "data": [
            {
                "start": 1672324800000,
                "end": 1672325099999,
                "interval": "5",
                "open": "16649.5",
                "close": "16677",
                "high": "16677",
                "low": "16608",
                "volume": "2.081",
                "turnover": "34666.4005",
                "confirm": false,
                "timestamp": 1672324988882
            }
        ],
        "ts": 1672324988882,
        "type": "snapshot"
    }"#;

    fn instruments() -> Vec<Instrument> {
        Bybit.parse_instruments(INSTRUMENTS).unwrap()
    }

    #[test]
    fn instruments_read_symbol_coins_status_and_sizes() {
        let instruments = instruments();
        assert_eq!(instruments.len(), 2);
        let btc = &instruments[0];
        assert_eq!(btc.symbol.as_str(), "BTCUSDT");
        assert_eq!(
            (btc.market_symbol.as_str(), btc.rest_symbol.as_str()),
            ("BTCUSDT", "BTCUSDT")
        );
        assert_eq!(
            (btc.base_asset.as_str(), btc.quote_asset.as_str()),
            ("BTC", "USDT")
        );
        assert_eq!(btc.tick_size.to_string(), "0.01");
        assert_eq!(btc.step_size.to_string(), "0.000001");
        assert!(btc.trading);
        assert!(!instruments[1].trading, "PreLaunch is not trading");
        assert_eq!(instruments[1].step_size.to_string(), "0.0001");
    }

    #[test]
    fn a_non_zero_ret_code_is_an_error_with_its_message() {
        let body =
            r#"{"retCode":10001,"retMsg":"Illegal category","result":{},"retExtInfo":{},"time":1}"#;
        let error = Bybit.parse_instruments(body).unwrap_err();
        assert_eq!(
            error.to_string(),
            "bybit: instruments-info: retCode 10001: Illegal category"
        );
        let error = Bybit.parse_klines(body, Timeframe::M1).unwrap_err();
        assert_eq!(error.message, "kline: retCode 10001: Illegal category");
        assert!(Bybit
            .parse_instruments(r#"{"retCode":0,"result":{"list":[{}]}}"#)
            .is_err());
    }

    #[test]
    fn urls_follow_the_documented_endpoints() {
        assert_eq!(
            Bybit.instruments_url("https://api.bybit.com"),
            "https://api.bybit.com/v5/market/instruments-info?category=spot"
        );
        let page = KlinePage {
            timeframe: Timeframe::D1,
            start_ms: 1_670_544_000_000,
            end_ms: 1_670_630_400_000,
            limit: 1000,
        };
        assert_eq!(
            Bybit.klines_url("https://api.bybit.com/", &instruments()[0], &page),
            "https://api.bybit.com/v5/market/kline?category=spot&symbol=BTCUSDT&interval=D\
             &start=1670544000000&end=1670630400000&limit=1000"
        );
        let page = KlinePage {
            timeframe: Timeframe::H2,
            limit: 0,
            ..page
        };
        let url = Bybit.klines_url("https://api.bybit.com", &instruments()[0], &page);
        assert!(
            url.contains("&interval=120&") && url.ends_with("&limit=1"),
            "{url}"
        );
        assert_eq!(
            Bybit.stream_url("wss://stream.bybit.com", &instruments()),
            "wss://stream.bybit.com/v5/public/spot"
        );
        let (ping, every) = Bybit.keepalive().unwrap();
        assert_eq!(
            (ping.as_str(), every),
            (r#"{"op":"ping"}"#, Duration::from_secs(20))
        );
        assert!(Bybit.marks_closed_klines());
    }

    #[test]
    fn subscriptions_carry_at_most_ten_topics_each() {
        let one = instruments()[0].clone();
        let many: Vec<Instrument> = (0..23)
            .map(|n| Instrument {
                market_symbol: format!("COIN{n}USDT"),
                ..one.clone()
            })
            .collect();
        let frames = Bybit.subscribe_frames(&many);
        assert_eq!(frames.len(), 3);
        let topics: Vec<Vec<String>> = frames
            .iter()
            .map(|frame| {
                let value: serde_json::Value = serde_json::from_str(frame).unwrap();
                assert_eq!(value["op"], "subscribe");
                serde_json::from_value(value["args"].clone()).unwrap()
            })
            .collect();
        assert_eq!(topics.iter().map(Vec::len).collect::<Vec<_>>(), [10, 10, 3]);
        assert_eq!(topics[0][0], "kline.1.COIN0USDT");
        assert_eq!(topics[2][2], "kline.1.COIN22USDT");
        assert_eq!(
            Bybit.subscribe_frames(&[one]),
            [r#"{"op":"subscribe","args":["kline.1.BTCUSDT"]}"#]
        );
    }

    #[test]
    fn klines_newest_first_are_returned_oldest_first() {
        let candles = Bybit.parse_klines(KLINES, Timeframe::H1).unwrap();
        let open_times: Vec<i64> = candles.iter().map(|candle| candle.open_time_ms).collect();
        assert_eq!(
            open_times,
            [1_670_601_600_000, 1_670_605_200_000, 1_670_608_800_000]
        );
        let oldest = candles[0];
        assert_eq!(oldest.open.to_decimal().to_string(), "17086.5");
        assert_eq!(oldest.high.to_decimal().to_string(), "17088");
        assert_eq!(oldest.low.to_decimal().to_string(), "16978");
        assert_eq!(oldest.close.to_decimal().to_string(), "17071.5");
        assert_eq!(oldest.volume.to_decimal().to_string(), "6356");
    }

    #[test]
    fn a_page_with_one_bad_kline_is_an_error() {
        let high_below_low = KLINES.replace(
            r#""17071.5", "17071.5", "17061", "17071""#,
            r#""17071.5", "17061", "17071.5", "17071""#,
        );
        let error = Bybit
            .parse_klines(&high_below_low, Timeframe::H1)
            .unwrap_err();
        assert!(
            error.message.contains("opening at 1670605200000 ms"),
            "{error}"
        );
        let short = KLINES
            .replace(r#", "0.24469757""#, "")
            .replace(r#", "4177""#, "");
        let error = Bybit.parse_klines(&short, Timeframe::H1).unwrap_err();
        assert!(error.message.contains("5 entries"), "{error}");
        let bad_time = KLINES.replace("1670601600000", "soon");
        assert!(Bybit.parse_klines(&bad_time, Timeframe::H1).is_err());
        let error = Bybit.parse_klines(KLINES, Timeframe::H2).unwrap_err();
        assert!(error.message.contains("not aligned to 2h"), "{error}");
    }

    #[test]
    fn a_kline_push_reads_as_its_klines() {
        let frame = Bybit.parse_stream_frame(KLINE_PUSH).unwrap();
        let StreamFrame::Klines(klines) = frame else {
            panic!("expected klines, got {frame:?}");
        };
        assert_eq!(klines.len(), 1);
        assert_eq!(klines[0].market_symbol, "BTCUSDT");
        assert!(!klines[0].kline.closed);
        let candle = klines[0].kline.candle;
        assert_eq!(candle.open_time_ms, 1_672_324_800_000);
        assert_eq!(candle.open.to_decimal().to_string(), "16649.5");
        assert_eq!(candle.high.to_decimal().to_string(), "16677");
        assert_eq!(candle.low.to_decimal().to_string(), "16608");
        assert_eq!(candle.close.to_decimal().to_string(), "16677");
        assert_eq!(candle.volume.to_decimal().to_string(), "2.081");
        let confirmed = KLINE_PUSH.replace("\"confirm\": false", "\"confirm\": true");
        let StreamFrame::Klines(klines) = Bybit.parse_stream_frame(&confirmed).unwrap() else {
            panic!("expected klines");
        };
        assert!(klines[0].kline.closed);
    }

    #[test]
    fn a_push_with_a_bad_kline_is_an_error() {
        let high_below_low = KLINE_PUSH.replace("\"high\": \"16677\"", "\"high\": \"16600\"");
        let error = Bybit.parse_stream_frame(&high_below_low).unwrap_err();
        assert!(error.message.contains("high 16600 is below"), "{error}");
        let odd_interval = KLINE_PUSH.replace("\"interval\": \"5\"", "\"interval\": \"3\"");
        assert!(Bybit.parse_stream_frame(&odd_interval).is_err());
    }

    #[test]
    fn answers_pongs_and_other_topics_are_control() {
        let control = [
            r#"{"success":true,"ret_msg":"subscribe","conn_id":"2324d924-aa4d-45b0-a858-7b8be29ab52b","req_id":"10001","op":"subscribe"}"#,
            r#"{"success":true,"ret_msg":"pong","conn_id":"0970e817-426e-429a-a679-ff7f55e0b16a","op":"ping"}"#,
            r#"{"req_id":"test","op":"pong","args":["1675418560633"],"conn_id":"cfcb4ocsvfriu23r3er0-1b"}"#,
            r#"{"topic":"tickers.BTCUSDT","ts":1673853746003,"type":"snapshot","cs":2588407389,"data":{"symbol":"BTCUSDT"}}"#,
        ];
        for text in control {
            assert_eq!(
                Bybit.parse_stream_frame(text).unwrap(),
                StreamFrame::Control,
                "{text}"
            );
        }
    }

    #[test]
    fn malformed_and_refused_frames_are_errors() {
        let refused = r#"{"success":false,"ret_msg":"error:handler not found","conn_id":"x","req_id":"","op":"subscribe"}"#;
        let error = Bybit.parse_stream_frame(refused).unwrap_err();
        assert_eq!(error.message, "subscribe refused: error:handler not found");
        for text in [
            r#"{"topic":"kline.1.BTCUSDT","data":[{"start":60000"#,
            r#"{"topic":"kline.1.BTCUSDT","type":"snapshot"}"#,
            r#"{"topic":"kline.1","type":"snapshot","data":[]}"#,
            r#"{"topic":"kline.1.BTCUSDT","data":{"start":60000}}"#,
            r#"{"hello":"world"}"#,
            "[]",
        ] {
            assert!(Bybit.parse_stream_frame(text).is_err(), "{text}");
        }
    }
}

//! Kraken spot public market data: asset pairs and OHLC over REST, OHLC over WebSocket v2.
//!
//! Formats as documented at
//! - <https://docs.kraken.com/api/docs/rest-api/get-tradable-asset-pairs>
//! - <https://docs.kraken.com/api/docs/rest-api/get-ohlc-data>
//! - <https://docs.kraken.com/api/docs/websocket-v2/ohlc>
//! - <https://docs.kraken.com/api/docs/websocket-v2/ping> and `.../heartbeat`, `.../status`
//!
//! Kraken names bitcoin XBT and dogecoin XDG on its REST API, and BTC and DOGE on WebSocket
//! v2; our symbols use BTC and DOGE. Its klines carry no closed flag: one is final when the
//! next interval's first kline arrives.

use super::format::{
    array_entry, ExchangeFormat, ExchangeKind, FormatError, Instrument, KlineFields, KlinePage,
    MarketKline, StreamFrame, StreamKline,
};
use cryptolens_actors::domain::market::{Candle, Symbol, Timeframe};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Number, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// Kraken's intervals that are ours, in minutes: no 2h (the feed builds 2h from 1h).
const TIMEFRAMES: [Timeframe; 7] = [
    Timeframe::M1,
    Timeframe::M5,
    Timeframe::M15,
    Timeframe::M30,
    Timeframe::H1,
    Timeframe::H4,
    Timeframe::D1,
];
/// OHLC answers at most 720 entries, and only the newest 720 whatever `since` asks: history
/// further back than 720 intervals is not on Kraken's REST API.
const KLINES_PER_REQUEST_MAX: usize = 720;
/// Kraken sends heartbeats itself; the client's `ping` is how the client side shows it is
/// alive (the docs' application-level ping), every 30 s.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);
const MINUTE_MS: i64 = 60_000;
/// Positions in a REST OHLC entry: `[time_s, "open", "high", "low", "close", "vwap",
/// "volume", count]`.
const KLINE_TIME_S: usize = 0;
const KLINE_PRICES: [(usize, &str); 5] = [
    (1, "open"),
    (2, "high"),
    (3, "low"),
    (4, "close"),
    (6, "volume"),
];
/// Kraken's asset names that differ from everyone else's, as `(Kraken, ours)`.
const ASSET_RENAMES: [(&str, &str); 2] = [("XBT", "BTC"), ("XDG", "DOGE")];

pub struct Kraken;

/// Every REST answer: an `error` array, empty on success, and the `result`.
#[derive(Deserialize)]
struct Answer {
    error: Vec<String>,
    /// Read once the answer says it is not an error (an error's result may be `{}`).
    result: Option<Box<RawValue>>,
}

#[derive(Deserialize)]
struct AssetPair {
    altname: String,
    /// Absent on pairs WebSocket does not carry (Kraken's old dark-pool `.d` pairs).
    wsname: Option<String>,
    tick_size: String,
    lot_decimals: u32,
    status: String,
}

/// Anything WebSocket v2 sends: a channel message (`ohlc`, `heartbeat`, `status`) or the
/// answer to a request (`method`, `success`, `error`).
#[derive(Deserialize)]
struct StreamMessage {
    channel: Option<String>,
    /// Read once the channel or topic says what it holds.
    data: Option<Box<RawValue>>,
    method: Option<String>,
    success: Option<bool>,
    error: Option<String>,
}

/// WebSocket v2 sends prices as JSON numbers; serde_json's `arbitrary_precision` keeps their
/// text, so they convert to Decimal exactly.
#[derive(Deserialize)]
struct StreamKlineBody {
    symbol: String,
    open: Number,
    high: Number,
    low: Number,
    close: Number,
    volume: Number,
    interval_begin: String,
    interval: i64,
}

fn refuse(message: impl Into<String>) -> FormatError {
    FormatError::new(ExchangeKind::Kraken, message)
}

/// Minutes, Kraken's `interval` on REST and WebSocket alike.
const fn minutes_of(timeframe: Timeframe) -> i64 {
    timeframe.duration_ms() / MINUTE_MS
}

fn timeframe_of(minutes: i64) -> Result<Timeframe, FormatError> {
    TIMEFRAMES
        .into_iter()
        .find(|timeframe| minutes_of(*timeframe) == minutes)
        .ok_or_else(|| refuse(format!("kline interval {minutes} min is not one we read")))
}

/// Our name of a Kraken asset (`XBT` to `BTC`, `XDG` to `DOGE`, others as they are).
fn our_asset(kraken_asset: &str) -> &str {
    ASSET_RENAMES
        .iter()
        .find(|(kraken, _)| *kraken == kraken_asset)
        .map_or(kraken_asset, |(_, ours)| ours)
}

fn result_of<T: serde::de::DeserializeOwned>(body: &str, what: &str) -> Result<T, FormatError> {
    let answer: Answer =
        serde_json::from_str(body).map_err(|error| refuse(format!("malformed {what}: {error}")))?;
    if !answer.error.is_empty() {
        return Err(refuse(format!("{what}: {}", answer.error.join("; "))));
    }
    let result = answer
        .result
        .ok_or_else(|| refuse(format!("{what}: no error and no result")))?;
    serde_json::from_str(result.get())
        .map_err(|error| refuse(format!("malformed {what} result: {error}")))
}

impl AssetPair {
    /// None for a pair WebSocket does not carry or our symbol rules cannot name: the feed
    /// cannot stream it, so it is left out rather than failing the list.
    fn to_instrument(&self) -> Option<Result<Instrument, FormatError>> {
        let (base, quote) = self.wsname.as_deref()?.split_once('/')?;
        let (base, quote) = (our_asset(base), our_asset(quote));
        let symbol = Symbol::parse(&format!("{base}{quote}")).ok()?;
        Some(self.sizes().map(|(tick_size, step_size)| Instrument {
            market_symbol: format!("{base}/{quote}"),
            rest_symbol: self.altname.clone(),
            symbol,
            base_asset: base.to_owned(),
            quote_asset: quote.to_owned(),
            tick_size,
            step_size,
            trading: self.status == "online",
        }))
    }

    /// `tick_size` as given; the step is one unit of the last of `lot_decimals` places.
    fn sizes(&self) -> Result<(Decimal, Decimal), FormatError> {
        let tick_size = Decimal::from_str_exact(self.tick_size.trim()).map_err(|_| {
            refuse(format!(
                "{}: tick_size {:?} is not a decimal",
                self.altname, self.tick_size
            ))
        })?;
        let step_size = Decimal::try_new(1, self.lot_decimals).map_err(|_| {
            refuse(format!(
                "{}: lot_decimals {} is too many",
                self.altname, self.lot_decimals
            ))
        })?;
        Ok((tick_size, step_size))
    }
}

fn rest_kline(kline: &[&RawValue], timeframe: Timeframe) -> Result<Candle, FormatError> {
    let time_s: i64 = array_entry(ExchangeKind::Kraken, kline, KLINE_TIME_S, "time")?;
    let open_time_ms = time_s
        .checked_mul(1000)
        .ok_or_else(|| refuse(format!("kline time {time_s} s is out of range")))?;
    let [open, high, low, close, volume] = KLINE_PRICES
        .map(|(index, name)| array_entry::<String>(ExchangeKind::Kraken, kline, index, name));
    KlineFields {
        open_time_ms,
        open: &open?,
        high: &high?,
        low: &low?,
        close: &close?,
        volume: &volume?,
    }
    .to_candle(ExchangeKind::Kraken, timeframe)
}

/// The one entry of an OHLC result that is not `last`: the pair's klines, keyed by Kraken's
/// pair name (`XXBTZUSD`), which the request did not spell (it asked for `XBTUSD`).
fn pair_klines(result: BTreeMap<String, Box<RawValue>>) -> Result<Box<RawValue>, FormatError> {
    let mut pairs = result.into_iter().filter(|(key, _)| key != "last");
    match (pairs.next(), pairs.next()) {
        (Some((_, klines)), None) => Ok(klines),
        (None, _) => Err(refuse("OHLC result holds no pair")),
        (Some((first, _)), Some((second, _))) => Err(refuse(format!(
            "OHLC result holds more than one pair ({first}, {second})"
        ))),
    }
}

impl StreamKlineBody {
    fn to_market_kline(&self) -> Result<MarketKline, FormatError> {
        let begin =
            chrono::DateTime::parse_from_rfc3339(&self.interval_begin).map_err(|error| {
                refuse(format!("interval_begin {:?}: {error}", self.interval_begin))
            })?;
        let [open, high, low, close, volume] =
            [&self.open, &self.high, &self.low, &self.close, &self.volume].map(Number::to_string);
        let candle = KlineFields {
            open_time_ms: begin.timestamp_millis(),
            open: &open,
            high: &high,
            low: &low,
            close: &close,
            volume: &volume,
        }
        .to_candle(ExchangeKind::Kraken, timeframe_of(self.interval)?)?;
        Ok(MarketKline {
            market_symbol: self.symbol.clone(),
            kline: StreamKline {
                candle,
                closed: false,
            },
        })
    }
}

impl StreamMessage {
    fn into_frame(self) -> Result<StreamFrame, FormatError> {
        if let Some(channel) = self.channel.as_deref() {
            if channel != "ohlc" {
                // heartbeat, status, or a channel not subscribed: nothing for the feed.
                return Ok(StreamFrame::Control);
            }
            let data = self
                .data
                .ok_or_else(|| refuse("ohlc message without data"))?;
            let data: Vec<StreamKlineBody> = serde_json::from_str(data.get())
                .map_err(|error| refuse(format!("malformed ohlc data: {error}")))?;
            let klines = data
                .iter()
                .map(StreamKlineBody::to_market_kline)
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(StreamFrame::Klines(klines));
        }
        let method = self.method.unwrap_or_default();
        if self.success == Some(false) {
            let error = self.error.unwrap_or_default();
            return Err(refuse(format!("{method} refused: {error}")));
        }
        match method.as_str() {
            "subscribe" | "unsubscribe" | "pong" => Ok(StreamFrame::Control),
            _ => Err(refuse(
                "stream frame is neither a channel message nor an answer",
            )),
        }
    }
}

impl ExchangeFormat for Kraken {
    fn kind(&self) -> ExchangeKind {
        ExchangeKind::Kraken
    }

    fn instruments_url(&self, rest_base: &str) -> String {
        format!("{}/0/public/AssetPairs", rest_base.trim_end_matches('/'))
    }

    fn parse_instruments(&self, body: &str) -> Result<Vec<Instrument>, FormatError> {
        let pairs: BTreeMap<String, AssetPair> = result_of(body, "AssetPairs")?;
        pairs
            .values()
            .filter_map(AssetPair::to_instrument)
            .collect()
    }

    fn timeframes(&self) -> &'static [Timeframe] {
        &TIMEFRAMES
    }

    fn klines_per_request_max(&self) -> usize {
        KLINES_PER_REQUEST_MAX
    }

    /// `since` is in seconds and exclusive, so it is one second before the page's start:
    /// the kline opening at `start_ms` is answered. There is no end: `parse_kline_page`
    /// drops what opens after `end_ms` (and, in case `since` were inclusive, before start).
    fn klines_url(&self, rest_base: &str, instrument: &Instrument, page: &KlinePage) -> String {
        format!(
            "{}/0/public/OHLC?pair={}&interval={}&since={}",
            rest_base.trim_end_matches('/'),
            instrument.rest_symbol,
            minutes_of(page.timeframe),
            page.start_ms.div_euclid(1000) - 1,
        )
    }

    fn parse_klines(&self, body: &str, timeframe: Timeframe) -> Result<Vec<Candle>, FormatError> {
        let result: BTreeMap<String, Box<RawValue>> = result_of(body, "OHLC")?;
        let klines = pair_klines(result)?;
        let klines: Vec<Vec<&RawValue>> = serde_json::from_str(klines.get())
            .map_err(|error| refuse(format!("malformed OHLC klines: {error}")))?;
        // Kraken answers oldest first already.
        klines
            .iter()
            .map(|kline| rest_kline(kline, timeframe))
            .collect()
    }

    fn stream_url(&self, ws_base: &str, _instruments: &[Instrument]) -> String {
        ws_base.trim_end_matches('/').to_owned()
    }

    /// One subscription for every symbol: Kraken sets no limit on `symbol`'s length.
    fn subscribe_frames(&self, instruments: &[Instrument]) -> Vec<String> {
        let symbols: Vec<String> = instruments
            .iter()
            .map(|instrument| instrument.market_symbol.clone())
            .collect();
        let interval = minutes_of(Timeframe::M1);
        vec![format!(
            r#"{{"method":"subscribe","params":{{"channel":"ohlc","symbol":{},"interval":{interval}}}}}"#,
            Value::from(symbols)
        )]
    }

    fn keepalive(&self) -> Option<(String, Duration)> {
        Some((r#"{"method":"ping"}"#.to_owned(), KEEPALIVE_INTERVAL))
    }

    fn parse_stream_frame(&self, text: &str) -> Result<StreamFrame, FormatError> {
        serde_json::from_str::<StreamMessage>(text)
            .map_err(|error| refuse(format!("malformed stream frame: {error}")))?
            .into_frame()
    }

    /// Kraken has no closed flag.
    fn marks_closed_klines(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The response example of the AssetPairs page (XETHXXBT, XXBTZUSD) with its documented
    /// fields, plus a DOGE pair, a pair not online and an old dark pool without `wsname`.
    const ASSET_PAIRS: &str = r#"{
      "error": [],
      "result": {
        "XETHXXBT": {
          "altname": "ETHXBT", "wsname": "ETH/XBT", "aclass_base": "currency", "base": "XETH",
          "aclass_quote": "currency", "quote": "XXBT", "lot": "unit", "cost_decimals": 6,
          "pair_decimals": 5, "lot_decimals": 8, "lot_multiplier": 1,
          "leverage_buy": [2, 3, 4, 5], "leverage_sell": [2, 3, 4, 5],
          "fees": [[0, 0.26], [50000, 0.24], [100000, 0.22]],
          "fees_maker": [[0, 0.16], [50000, 0.14], [100000, 0.12]],
          "fee_volume_currency": "ZUSD", "margin_call": 80, "margin_stop": 40,
          "ordermin": "0.01", "costmin": "0.00002", "tick_size": "0.00001", "status": "online",
          "long_position_limit": 1100, "short_position_limit": 400
        },
        "XXBTZUSD": {
          "altname": "XBTUSD", "wsname": "XBT/USD", "aclass_base": "currency", "base": "XXBT",
          "aclass_quote": "currency", "quote": "ZUSD", "lot": "unit", "cost_decimals": 5,
          "pair_decimals": 1, "lot_decimals": 8, "lot_multiplier": 1,
          "leverage_buy": [2, 3, 4, 5], "leverage_sell": [2, 3, 4, 5],
          "fees": [[0, 0.26]], "fees_maker": [[0, 0.16]], "fee_volume_currency": "ZUSD",
          "margin_call": 80, "margin_stop": 40, "ordermin": "0.0001", "costmin": "0.5",
          "tick_size": "0.1", "status": "online", "long_position_limit": 250,
          "short_position_limit": 200
        },
        "XDGUSD": {
          "altname": "XDGUSD", "wsname": "XDG/USD", "base": "XXDG", "quote": "ZUSD",
          "lot_decimals": 8, "tick_size": "0.0000001", "status": "online"
        },
        "SOLEUR": {
          "altname": "SOLEUR", "wsname": "SOL/EUR", "base": "SOL", "quote": "ZEUR",
          "lot_decimals": 6, "tick_size": "0.01", "status": "cancel_only"
        },
        "XXBTZUSD.d": {
          "altname": "XBTUSD.d", "base": "XXBT", "quote": "ZUSD",
          "lot_decimals": 8, "tick_size": "0.1", "status": "online"
        }
      }
    }"#;

    /// The response example of the OHLC page (1m entries of XXBTZUSD, oldest first).
    const OHLC: &str = r#"{
      "error": [],
      "result": {
        "XXBTZUSD": [
          [1688671200, "30306.1", "30306.2", "30305.7", "30305.7", "30306.1", "3.39243896", 23],
          [1688671260, "30304.5", "30304.5", "30300.0", "30300.0", "30300.0", "4.42996871", 18],
          [1688671320, "30300.3", "30300.4", "30291.4", "30291.4", "30294.7", "2.13024789", 25],
          [1688671380, "30291.8", "30295.1", "30291.8", "30295.0", "30293.8", "1.01836275", 9]
        ],
        "last": 1688672160
      }
    }"#;

    /// The update example of the WebSocket v2 OHLC page (prices are JSON numbers).
    const OHLC_UPDATE: &str = r#"{
      "channel": "ohlc",
      "type": "update",
      "timestamp": "2023-10-04T16:26:30.524394914Z",
      "data": [
        {
          "symbol": "MATIC/USD",
          "open": 0.5624,
          "high": 0.5628,
          "low": 0.5622,
          "close": 0.5627,
          "trades": 12,
          "volume": 30927.68066226,
          "vwap": 0.5626,
          "interval_begin": "2023-10-04T16:25:00.000000000Z",
          "interval": 5,
          "timestamp": "2023-10-04T16:30:00.000000Z"
        }
      ]
    }"#;

    fn instruments() -> Vec<Instrument> {
        Kraken.parse_instruments(ASSET_PAIRS).unwrap()
    }

    fn btc_usd() -> Instrument {
        instruments()
            .into_iter()
            .find(|instrument| instrument.rest_symbol == "XBTUSD")
            .unwrap()
    }

    #[test]
    fn instruments_map_xbt_and_xdg_to_btc_and_doge() {
        let instruments = instruments();
        let names: Vec<(&str, &str, &str)> = instruments
            .iter()
            .map(|i| {
                (
                    i.symbol.as_str(),
                    i.market_symbol.as_str(),
                    i.rest_symbol.as_str(),
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                ("SOLEUR", "SOL/EUR", "SOLEUR"),
                ("DOGEUSD", "DOGE/USD", "XDGUSD"),
                ("ETHBTC", "ETH/BTC", "ETHXBT"),
                ("BTCUSD", "BTC/USD", "XBTUSD"),
            ],
            "the dark pool without wsname is left out"
        );
        let btc = btc_usd();
        assert_eq!(
            (btc.base_asset.as_str(), btc.quote_asset.as_str()),
            ("BTC", "USD")
        );
        assert_eq!(btc.tick_size.to_string(), "0.1");
        assert_eq!(btc.step_size.to_string(), "0.00000001");
        assert!(btc.trading);
        assert_eq!(instruments[0].step_size.to_string(), "0.000001");
        assert!(!instruments[0].trading, "cancel_only is not trading");
    }

    #[test]
    fn an_error_array_is_an_error() {
        let body = r#"{"error":["EQuery:Unknown asset pair"]}"#;
        let error = Kraken.parse_instruments(body).unwrap_err();
        assert_eq!(
            error.to_string(),
            "kraken: AssetPairs: EQuery:Unknown asset pair"
        );
        let error = Kraken.parse_klines(body, Timeframe::M1).unwrap_err();
        assert_eq!(error.message, "OHLC: EQuery:Unknown asset pair");
        let too_fine = ASSET_PAIRS.replace("\"lot_decimals\": 6", "\"lot_decimals\": 29");
        assert!(Kraken.parse_instruments(&too_fine).is_err());
    }

    #[test]
    fn urls_follow_the_documented_endpoints() {
        assert_eq!(
            Kraken.instruments_url("https://api.kraken.com/"),
            "https://api.kraken.com/0/public/AssetPairs"
        );
        assert_eq!(
            Kraken.stream_url("wss://ws.kraken.com/v2", &instruments()),
            "wss://ws.kraken.com/v2"
        );
        assert_eq!(
            Kraken.subscribe_frames(&[btc_usd(), instruments()[1].clone()]),
            [
                r#"{"method":"subscribe","params":{"channel":"ohlc","symbol":["BTC/USD","DOGE/USD"],"interval":1}}"#
            ]
        );
        let (ping, every) = Kraken.keepalive().unwrap();
        assert_eq!(
            (ping.as_str(), every),
            (r#"{"method":"ping"}"#, Duration::from_secs(30))
        );
        assert!(!Kraken.marks_closed_klines());
        assert!(!Kraken.timeframes().contains(&Timeframe::H2));
        assert_eq!(Kraken.klines_per_request_max(), 720);
    }

    #[test]
    fn since_is_one_second_before_the_start_and_entries_after_the_end_are_dropped() {
        let page = KlinePage {
            timeframe: Timeframe::M1,
            start_ms: 1_688_671_260_000,
            end_ms: 1_688_671_320_000,
            limit: 720,
        };
        assert_eq!(
            Kraken.klines_url("https://api.kraken.com", &btc_usd(), &page),
            "https://api.kraken.com/0/public/OHLC?pair=XBTUSD&interval=1&since=1688671259"
        );
        let candles = Kraken.parse_kline_page(OHLC, &page).unwrap();
        let open_times: Vec<i64> = candles.iter().map(|candle| candle.open_time_ms).collect();
        assert_eq!(open_times, [1_688_671_260_000, 1_688_671_320_000]);
        let day = KlinePage {
            timeframe: Timeframe::D1,
            ..page
        };
        let url = Kraken.klines_url("https://api.kraken.com", &btc_usd(), &day);
        assert!(url.ends_with("&interval=1440&since=1688671259"), "{url}");
    }

    #[test]
    fn ohlc_entries_parse_exactly_in_order() {
        let candles = Kraken.parse_klines(OHLC, Timeframe::M1).unwrap();
        assert_eq!(candles.len(), 4);
        assert!(candles
            .windows(2)
            .all(|pair| pair[0].open_time_ms < pair[1].open_time_ms));
        let first = candles[0];
        assert_eq!(first.open_time_ms, 1_688_671_200_000);
        assert_eq!(first.open.to_decimal().to_string(), "30306.1");
        assert_eq!(first.high.to_decimal().to_string(), "30306.2");
        assert_eq!(first.low.to_decimal().to_string(), "30305.7");
        assert_eq!(first.close.to_decimal().to_string(), "30305.7");
        assert_eq!(
            first.volume.to_decimal().to_string(),
            "3.39243896",
            "volume, not vwap"
        );
    }

    #[test]
    fn a_page_with_one_bad_entry_is_an_error() {
        let high_below_low = OHLC.replace(
            r#""30304.5", "30304.5", "30300.0""#,
            r#""30304.5", "30299.0", "30300.0""#,
        );
        let error = Kraken
            .parse_klines(&high_below_low, Timeframe::M1)
            .unwrap_err();
        assert!(
            error.message.contains("opening at 1688671260000 ms"),
            "{error}"
        );
        let short = OHLC.replace(r#", "1.01836275", 9"#, "");
        let error = Kraken.parse_klines(&short, Timeframe::M1).unwrap_err();
        assert!(error.message.contains("no volume at 6"), "{error}");
        let two_pairs = OHLC.replace("\"last\"", "\"XETHZUSD\": [], \"last\"");
        assert!(Kraken.parse_klines(&two_pairs, Timeframe::M1).is_err());
        assert!(Kraken
            .parse_klines(r#"{"error":[],"result":{"last":1}}"#, Timeframe::M1)
            .is_err());
    }

    #[test]
    fn an_ohlc_update_reads_exactly_from_json_numbers() {
        let frame = Kraken.parse_stream_frame(OHLC_UPDATE).unwrap();
        let StreamFrame::Klines(klines) = frame else {
            panic!("expected klines, got {frame:?}");
        };
        assert_eq!(klines.len(), 1);
        assert_eq!(klines[0].market_symbol, "MATIC/USD");
        assert!(!klines[0].kline.closed, "Kraken marks no kline closed");
        let candle = klines[0].kline.candle;
        assert_eq!(
            candle.open_time_ms, 1_696_436_700_000,
            "2023-10-04T16:25:00Z"
        );
        assert_eq!(candle.open.to_decimal().to_string(), "0.5624");
        assert_eq!(candle.high.to_decimal().to_string(), "0.5628");
        assert_eq!(candle.low.to_decimal().to_string(), "0.5622");
        assert_eq!(candle.close.to_decimal().to_string(), "0.5627");
        assert_eq!(candle.volume.to_decimal().to_string(), "30927.68066226");
        let snapshot = OHLC_UPDATE.replace("\"update\"", "\"snapshot\"").replace(
            "\"trades\": 12,",
            "\"trades\": 12, \"new_field\": {\"x\": [1]},",
        );
        assert!(
            matches!(Kraken.parse_stream_frame(&snapshot), Ok(StreamFrame::Klines(k)) if k.len() == 1)
        );
    }

    #[test]
    fn an_update_with_a_bad_kline_is_an_error() {
        let high_below_low = OHLC_UPDATE.replace("\"high\": 0.5628", "\"high\": 0.5620");
        let error = Kraken.parse_stream_frame(&high_below_low).unwrap_err();
        assert!(error.message.contains("high 0.562 is below"), "{error}");
        let unaligned = OHLC_UPDATE.replace("16:25:00.000000000Z", "16:26:00.000000000Z");
        let error = Kraken.parse_stream_frame(&unaligned).unwrap_err();
        assert!(error.message.contains("not aligned to 5m"), "{error}");
        let bad_time = OHLC_UPDATE.replace("2023-10-04T16:25:00.000000000Z", "yesterday");
        assert!(Kraken.parse_stream_frame(&bad_time).is_err());
        let two_hours = OHLC_UPDATE.replace("\"interval\": 5", "\"interval\": 120");
        assert!(Kraken.parse_stream_frame(&two_hours).is_err());
    }

    #[test]
    fn heartbeats_status_and_answers_are_control() {
        let control = [
            r#"{"channel":"heartbeat"}"#,
            r#"{"channel":"status","data":[{"api_version":"v2","connection_id":12393906104898154338,"system":"online","version":"2.0.0"}],"type":"update"}"#,
            r#"{"method":"subscribe","result":{"channel":"ohlc","interval":1,"snapshot":true,"symbol":"BTC/USD"},"success":true,"time_in":"2023-10-04T16:26:13.150318Z","time_out":"2023-10-04T16:26:13.150361Z"}"#,
            r#"{"method":"pong","req_id":101,"time_in":"2023-09-24T14:10:23.799685Z","time_out":"2023-09-24T14:10:23.799703Z"}"#,
        ];
        for text in control {
            assert_eq!(
                Kraken.parse_stream_frame(text).unwrap(),
                StreamFrame::Control,
                "{text}"
            );
        }
    }

    #[test]
    fn malformed_and_refused_frames_are_errors() {
        let refused = r#"{"error":"Currency pair not supported XBT/USD","method":"subscribe","success":false,"symbol":"XBT/USD","time_in":"x","time_out":"y"}"#;
        let error = Kraken.parse_stream_frame(refused).unwrap_err();
        assert_eq!(
            error.message,
            "subscribe refused: Currency pair not supported XBT/USD"
        );
        for text in [
            r#"{"channel":"ohlc","type":"update","data":[{"symbol":"BTC/USD""#,
            r#"{"channel":"ohlc","type":"update"}"#,
            r#"{"channel":"ohlc","type":"update","data":[{"symbol":"BTC/USD","open":"1"}]}"#,
            r#"{"hello":"world"}"#,
        ] {
            assert!(Kraken.parse_stream_frame(text).is_err(), "{text}");
        }
    }
}

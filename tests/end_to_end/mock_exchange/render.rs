//! Exchange payloads rendered from candles: the inverse of `cryptolens::feed::{binance,
//! bybit, kraken}`, so mock servers answer exactly what the real exchanges document. Every
//! field the docs list is present (values the feed does not read are derived plausibly), so
//! a parser that leans on a field the mock left out would fail here, not in production.
//!
//! Instrument lists are `(symbol, base, quote, tick_size, step_size)`, with our symbol
//! (`BTCUSDT`) and our asset names (`BTC`, even on Kraken). Stream frames are of 1m klines,
//! as the feed subscribes to.
#![allow(dead_code)] // the mock servers use these; each test uses a few.

use cryptolens_actors::domain::market::{Candle, Timeframe};
use rust_decimal::Decimal;
use serde_json::{json, Number, Value};
use std::str::FromStr;

/// (our symbol, base, quote, tick size, step size)
pub type InstrumentSpec<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str);

const STREAM_TIMEFRAME: Timeframe = Timeframe::M1;

fn decimal(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap_or_else(|_| panic!("test input {text:?} is not a decimal"))
}

/// Binance writes decimals with 8 places (`"0.01000000"`).
fn binance_decimal(value: Decimal) -> String {
    format!("{:.8}", value)
}

/// The quote volume of a candle, as if every trade were at the close.
fn turnover(candle: &Candle) -> Decimal {
    candle
        .volume
        .to_decimal()
        .checked_mul(candle.close.to_decimal())
        .unwrap_or_default()
        .round_dp(8)
}

fn close_time_ms(candle: &Candle, timeframe: Timeframe) -> i64 {
    candle.open_time_ms + timeframe.duration_ms() - 1
}

// --- Binance: https://developers.binance.com/docs/binance-spot-api-docs/rest-api/general-endpoints#exchange-information

pub fn binance_instruments(list: &[InstrumentSpec]) -> String {
    let symbols: Vec<Value> = list
        .iter()
        .map(|&(symbol, base, quote, tick, step)| {
            json!({
                "symbol": symbol, "status": "TRADING",
                "baseAsset": base, "baseAssetPrecision": 8,
                "quoteAsset": quote, "quotePrecision": 8, "quoteAssetPrecision": 8,
                "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
                "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT",
                               "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"],
                "icebergAllowed": true, "ocoAllowed": true, "otoAllowed": true,
                "quoteOrderQtyMarketAllowed": true, "allowTrailingStop": false,
                "cancelReplaceAllowed": false, "isSpotTradingAllowed": true,
                "isMarginTradingAllowed": false,
                "filters": [
                    {"filterType": "PRICE_FILTER", "minPrice": binance_decimal(decimal(tick)),
                     "maxPrice": "1000000.00000000", "tickSize": binance_decimal(decimal(tick))},
                    {"filterType": "LOT_SIZE", "minQty": binance_decimal(decimal(step)),
                     "maxQty": "9000.00000000", "stepSize": binance_decimal(decimal(step))},
                    {"filterType": "NOTIONAL", "minNotional": "5.00000000", "applyMinToMarket": true,
                     "maxNotional": "9000000.00000000", "applyMaxToMarket": false, "avgPriceMins": 5}
                ],
                "permissions": [], "permissionSets": [["SPOT"]],
                "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
                "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"]
            })
        })
        .collect();
    json!({
        "timezone": "UTC", "serverTime": 1_700_000_000_000_i64,
        "rateLimits": [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE",
                        "intervalNum": 1, "limit": 6000}],
        "exchangeFilters": [],
        "symbols": symbols
    })
    .to_string()
}

/// https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints#klinecandlestick-data
/// Oldest first, as Binance answers.
pub fn binance_klines(candles: &[Candle], timeframe: Timeframe) -> String {
    let klines: Vec<Value> = candles
        .iter()
        .map(|candle| {
            let volume = candle.volume.to_decimal();
            let quote_volume = turnover(candle);
            json!([
                candle.open_time_ms,
                binance_decimal(candle.open.to_decimal()),
                binance_decimal(candle.high.to_decimal()),
                binance_decimal(candle.low.to_decimal()),
                binance_decimal(candle.close.to_decimal()),
                binance_decimal(volume),
                close_time_ms(candle, timeframe),
                binance_decimal(quote_volume),
                7,
                binance_decimal((volume / Decimal::TWO).round_dp(8)),
                binance_decimal((quote_volume / Decimal::TWO).round_dp(8)),
                "0"
            ])
        })
        .collect();
    Value::from(klines).to_string()
}

/// https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#klinecandlestick-streams-for-utc
/// A combined-stream frame (`/stream?streams=...`), as the feed connects.
pub fn binance_stream_frame(market_symbol: &str, candle: &Candle, closed: bool) -> String {
    let close_time_ms = close_time_ms(candle, STREAM_TIMEFRAME);
    let volume = candle.volume.to_decimal();
    let quote_volume = turnover(candle);
    json!({
        "stream": format!("{}@kline_1m", market_symbol.to_lowercase()),
        "data": {
            "e": "kline", "E": if closed { close_time_ms + 1 } else { close_time_ms - 30_000 },
            "s": market_symbol,
            "k": {
                "t": candle.open_time_ms, "T": close_time_ms, "s": market_symbol, "i": "1m",
                "f": 100, "L": 200,
                "o": binance_decimal(candle.open.to_decimal()),
                "c": binance_decimal(candle.close.to_decimal()),
                "h": binance_decimal(candle.high.to_decimal()),
                "l": binance_decimal(candle.low.to_decimal()),
                "v": binance_decimal(volume), "n": 101, "x": closed,
                "q": binance_decimal(quote_volume),
                "V": binance_decimal((volume / Decimal::TWO).round_dp(8)),
                "Q": binance_decimal((quote_volume / Decimal::TWO).round_dp(8)),
                "B": "0"
            }
        }
    })
    .to_string()
}

// --- Bybit v5: https://bybit-exchange.github.io/docs/v5/market/instrument

pub fn bybit_instruments(list: &[InstrumentSpec]) -> String {
    let instruments: Vec<Value> = list
        .iter()
        .map(|&(symbol, base, quote, tick, step)| {
            json!({
                "symbol": symbol, "baseCoin": base, "quoteCoin": quote, "innovation": "0",
                "status": "Trading", "marginTrading": "none", "stTag": "0",
                "lotSizeFilter": {
                    "basePrecision": step, "quotePrecision": "0.00000001",
                    "minOrderQty": step, "maxOrderQty": "10000",
                    "minOrderAmt": "1", "maxOrderAmt": "2000000"
                },
                "priceFilter": {"tickSize": tick},
                "riskParameters": {"priceLimitRatioX": "0.01", "priceLimitRatioY": "0.02"}
            })
        })
        .collect();
    bybit_answer(json!({"category": "spot", "list": instruments}))
}

fn bybit_answer(result: Value) -> String {
    json!({
        "retCode": 0, "retMsg": "OK", "result": result,
        "retExtInfo": {}, "time": 1_700_000_000_000_i64
    })
    .to_string()
}

/// Bybit's name of an interval (minutes, or `D`).
fn bybit_interval(timeframe: Timeframe) -> String {
    match timeframe {
        Timeframe::D1 => "D".to_owned(),
        other => (other.duration_ms() / 60_000).to_string(),
    }
}

/// https://bybit-exchange.github.io/docs/v5/market/kline
/// Newest first, as Bybit answers; `symbol` is echoed in the result as Bybit does. (The
/// timeframe is taken so all three renderers read alike; Bybit's body does not name it.)
pub fn bybit_klines(symbol: &str, candles: &[Candle], _timeframe: Timeframe) -> String {
    let list: Vec<Value> = candles
        .iter()
        .rev()
        .map(|candle| {
            json!([
                candle.open_time_ms.to_string(),
                candle.open.to_decimal().to_string(),
                candle.high.to_decimal().to_string(),
                candle.low.to_decimal().to_string(),
                candle.close.to_decimal().to_string(),
                candle.volume.to_decimal().to_string(),
                turnover(candle).to_string()
            ])
        })
        .collect();
    bybit_answer(json!({"symbol": symbol, "category": "spot", "list": list}))
}

/// https://bybit-exchange.github.io/docs/v5/websocket/public/kline
pub fn bybit_stream_frame(market_symbol: &str, candle: &Candle, closed: bool) -> String {
    let close_time_ms = close_time_ms(candle, STREAM_TIMEFRAME);
    let timestamp_ms = if closed {
        close_time_ms + 1
    } else {
        close_time_ms - 30_000
    };
    json!({
        "topic": format!("kline.{}.{market_symbol}", bybit_interval(STREAM_TIMEFRAME)),
        "data": [{
            "start": candle.open_time_ms, "end": close_time_ms,
            "interval": bybit_interval(STREAM_TIMEFRAME),
            "open": candle.open.to_decimal().to_string(),
            "close": candle.close.to_decimal().to_string(),
            "high": candle.high.to_decimal().to_string(),
            "low": candle.low.to_decimal().to_string(),
            "volume": candle.volume.to_decimal().to_string(),
            "turnover": turnover(candle).to_string(),
            "confirm": closed, "timestamp": timestamp_ms
        }],
        "ts": timestamp_ms, "type": "snapshot"
    })
    .to_string()
}

// --- Kraken: https://docs.kraken.com/api/docs/rest-api/get-tradable-asset-pairs

/// Kraken's REST name of one of our assets (`BTC` is `XBT`, `DOGE` is `XDG`).
fn kraken_asset(ours: &str) -> &str {
    match ours {
        "BTC" => "XBT",
        "DOGE" => "XDG",
        other => other,
    }
}

/// Kraken's asset code: its oldest assets carry an `X` (crypto) or `Z` (fiat) prefix
/// (`XXBT`, `ZUSD`); later ones none (`USDT`, `SOL`).
fn kraken_asset_code(ours: &str) -> (String, bool) {
    let name = kraken_asset(ours);
    match name {
        "XBT" | "XDG" | "ETH" | "LTC" | "XRP" | "XLM" | "XMR" | "ZEC" | "ETC" => {
            (format!("X{name}"), true)
        }
        "USD" | "EUR" | "GBP" | "JPY" | "CAD" => (format!("Z{name}"), true),
        _ => (name.to_owned(), false),
    }
}

/// Kraken's pair key: both codes when both are prefixed (`XXBTZUSD`), else the altname
/// (`XBTUSDT`).
pub fn kraken_pair_key(base: &str, quote: &str) -> String {
    match (kraken_asset_code(base), kraken_asset_code(quote)) {
        ((base_code, true), (quote_code, true)) => format!("{base_code}{quote_code}"),
        _ => format!("{}{}", kraken_asset(base), kraken_asset(quote)),
    }
}

pub fn kraken_instruments(list: &[InstrumentSpec]) -> String {
    let pairs: serde_json::Map<String, Value> = list
        .iter()
        .map(|&(symbol, base, quote, tick, step)| {
            assert_eq!(symbol, format!("{base}{quote}"), "Kraken names pairs by their assets");
            let (kraken_base, kraken_quote) = (kraken_asset(base), kraken_asset(quote));
            let lot_decimals = decimal(step).normalize().scale();
            let pair = json!({
                "altname": format!("{kraken_base}{kraken_quote}"),
                "wsname": format!("{kraken_base}/{kraken_quote}"),
                "aclass_base": "currency", "base": kraken_asset_code(base).0,
                "aclass_quote": "currency", "quote": kraken_asset_code(quote).0,
                "lot": "unit", "cost_decimals": 5, "pair_decimals": decimal(tick).normalize().scale(),
                "lot_decimals": lot_decimals, "lot_multiplier": 1,
                "leverage_buy": [], "leverage_sell": [],
                "fees": [[0, 0.26], [50000, 0.24]], "fees_maker": [[0, 0.16], [50000, 0.14]],
                "fee_volume_currency": "ZUSD", "margin_call": 80, "margin_stop": 40,
                "ordermin": step, "costmin": "0.5", "tick_size": tick, "status": "online"
            });
            (kraken_pair_key(base, quote), pair)
        })
        .collect();
    json!({"error": [], "result": pairs}).to_string()
}

/// https://docs.kraken.com/api/docs/rest-api/get-ohlc-data
/// Oldest first under Kraken's pair key (see [`kraken_pair_key`]); `last` is the newest
/// entry's time, in seconds. (The timeframe is taken so all three renderers read alike.)
pub fn kraken_klines(pair_key: &str, candles: &[Candle], _timeframe: Timeframe) -> String {
    let entries: Vec<Value> = candles
        .iter()
        .map(|candle| {
            json!([
                candle.open_time_ms / 1000,
                candle.open.to_decimal().to_string(),
                candle.high.to_decimal().to_string(),
                candle.low.to_decimal().to_string(),
                candle.close.to_decimal().to_string(),
                candle.close.to_decimal().to_string(),
                candle.volume.to_decimal().to_string(),
                7
            ])
        })
        .collect();
    let last_s = candles
        .last()
        .map_or(0, |candle| candle.open_time_ms / 1000);
    let mut result = serde_json::Map::new();
    result.insert(pair_key.to_owned(), Value::from(entries));
    result.insert("last".to_owned(), Value::from(last_s));
    json!({"error": [], "result": result}).to_string()
}

/// A JSON number with exactly the decimal's digits (serde_json keeps them:
/// `arbitrary_precision`).
fn kraken_number(value: Decimal) -> Value {
    Value::Number(Number::from_str(&value.to_string()).unwrap_or_else(|_| Number::from(0)))
}

fn rfc3339_ns(time_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(time_ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// https://docs.kraken.com/api/docs/websocket-v2/ohlc
/// An `update` message. Kraken has no closed flag: `_closed` is taken so the mock treats all
/// three exchanges alike, and changes nothing (the feed closes a Kraken kline when the next
/// interval's first one arrives).
pub fn kraken_stream_frame(market_symbol: &str, candle: &Candle, _closed: bool) -> String {
    let close_time_ms = close_time_ms(candle, STREAM_TIMEFRAME) + 1;
    json!({
        "channel": "ohlc", "type": "update", "timestamp": rfc3339_ns(close_time_ms - 30_000),
        "data": [{
            "symbol": market_symbol,
            "open": kraken_number(candle.open.to_decimal()),
            "high": kraken_number(candle.high.to_decimal()),
            "low": kraken_number(candle.low.to_decimal()),
            "close": kraken_number(candle.close.to_decimal()),
            "trades": 7,
            "volume": kraken_number(candle.volume.to_decimal()),
            "vwap": kraken_number(candle.close.to_decimal()),
            "interval_begin": rfc3339_ns(candle.open_time_ms),
            "interval": STREAM_TIMEFRAME.duration_ms() / 60_000,
            "timestamp": rfc3339_ns(close_time_ms)
        }]
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cryptolens::feed::format::{
        ExchangeFormat, Instrument, KlinePage, MarketKline, StreamFrame, StreamKline,
    };
    use cryptolens::feed::{binance::Binance, bybit::Bybit, kraken::Kraken};
    use cryptolens_actors::domain::market::CandleDraft;

    const SPECS: [InstrumentSpec; 3] = [
        ("BTCUSDT", "BTC", "USDT", "0.01", "0.00001"),
        ("ETHBTC", "ETH", "BTC", "0.00001", "0.0001"),
        ("DOGEUSD", "DOGE", "USD", "0.0000001", "1"),
    ];

    /// Candles with awkward decimals: 8 places, whole numbers, tiny and large prices.
    fn candles(timeframe: Timeframe, count: i64) -> Vec<Candle> {
        let start_ms = timeframe.bucket_start_ms(1_700_000_123_456);
        (0..count)
            .map(|n| {
                let base = decimal("43210.12345678") + Decimal::from(n * 7);
                let draft = CandleDraft {
                    open_time_ms: start_ms + n * timeframe.duration_ms(),
                    open: base,
                    high: base + decimal("12.5"),
                    low: base - decimal("0.00000001") * Decimal::from(n + 1),
                    close: base + Decimal::from(n),
                    volume: decimal("0.00012345") * Decimal::from(n * 1000 + 1),
                };
                Candle::new_checked(timeframe, &draft).unwrap()
            })
            .collect()
    }

    fn instrument(format: &dyn ExchangeFormat, body: &str, symbol: &str) -> Instrument {
        format
            .parse_instruments(body)
            .unwrap()
            .into_iter()
            .find(|instrument| instrument.symbol.as_str() == symbol)
            .unwrap_or_else(|| panic!("{symbol} not listed"))
    }

    fn one_kline(market_symbol: &str, candle: Candle, closed: bool) -> StreamFrame {
        StreamFrame::Klines(vec![MarketKline {
            market_symbol: market_symbol.to_owned(),
            kline: StreamKline { candle, closed },
        }])
    }

    fn assert_sizes(instrument: &Instrument, base: &str, quote: &str, tick: &str, step: &str) {
        assert_eq!(instrument.base_asset, base);
        assert_eq!(instrument.quote_asset, quote);
        assert_eq!(instrument.tick_size, decimal(tick));
        assert_eq!(instrument.step_size, decimal(step));
        assert!(instrument.trading);
    }

    #[test]
    fn binance_instruments_round_trip() {
        let body = binance_instruments(&SPECS);
        for (symbol, base, quote, tick, step) in SPECS {
            let instrument = instrument(&Binance, &body, symbol);
            assert_eq!(instrument.market_symbol, symbol);
            assert_sizes(&instrument, base, quote, tick, step);
        }
    }

    #[test]
    fn binance_klines_and_stream_frames_round_trip() {
        for timeframe in [Timeframe::M1, Timeframe::H2, Timeframe::D1] {
            let candles = candles(timeframe, 5);
            let body = binance_klines(&candles, timeframe);
            assert_eq!(Binance.parse_klines(&body, timeframe).unwrap(), candles);
        }
        for (candle, closed) in candles(Timeframe::M1, 3)
            .into_iter()
            .zip([false, true, true])
        {
            let frame = binance_stream_frame("BTCUSDT", &candle, closed);
            assert!(frame.contains(r#""stream":"btcusdt@kline_1m""#), "{frame}");
            let parsed = Binance.parse_stream_frame(&frame).unwrap();
            assert_eq!(parsed, one_kline("BTCUSDT", candle, closed));
        }
    }

    #[test]
    fn bybit_instruments_round_trip() {
        let body = bybit_instruments(&SPECS);
        for (symbol, base, quote, tick, step) in SPECS {
            let instrument = instrument(&Bybit, &body, symbol);
            assert_eq!(instrument.market_symbol, symbol);
            assert_sizes(&instrument, base, quote, tick, step);
        }
    }

    #[test]
    fn bybit_klines_newest_first_and_stream_frames_round_trip() {
        for timeframe in [Timeframe::M1, Timeframe::H4, Timeframe::D1] {
            let candles = candles(timeframe, 5);
            let body = bybit_klines("BTCUSDT", &candles, timeframe);
            let newest: serde_json::Value = serde_json::from_str(&body).unwrap();
            let newest_ms = candles[4].open_time_ms.to_string();
            assert_eq!(
                newest["result"]["list"][0][0],
                newest_ms.as_str(),
                "newest first"
            );
            assert_eq!(Bybit.parse_klines(&body, timeframe).unwrap(), candles);
        }
        for (candle, closed) in candles(Timeframe::M1, 3)
            .into_iter()
            .zip([false, false, true])
        {
            let frame = bybit_stream_frame("ETHBTC", &candle, closed);
            let parsed = Bybit.parse_stream_frame(&frame).unwrap();
            assert_eq!(parsed, one_kline("ETHBTC", candle, closed));
        }
    }

    #[test]
    fn kraken_instruments_round_trip_with_kraken_names() {
        let body = kraken_instruments(&SPECS);
        let listing: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(listing["result"]["XXBTZUSDT"], serde_json::Value::Null);
        assert_eq!(listing["result"]["XBTUSDT"]["wsname"], "XBT/USDT");
        assert_eq!(listing["result"]["XXDGZUSD"]["base"], "XXDG");
        assert_eq!(listing["result"]["XXDGZUSD"]["altname"], "XDGUSD");
        let expected = [
            ("BTCUSDT", "BTC/USDT", "XBTUSDT"),
            ("ETHBTC", "ETH/BTC", "ETHXBT"),
            ("DOGEUSD", "DOGE/USD", "XDGUSD"),
        ];
        for ((symbol, base, quote, tick, step), (_, market, rest)) in
            SPECS.into_iter().zip(expected)
        {
            let instrument = instrument(&Kraken, &body, symbol);
            assert_eq!(
                (
                    instrument.market_symbol.as_str(),
                    instrument.rest_symbol.as_str()
                ),
                (market, rest)
            );
            assert_sizes(&instrument, base, quote, tick, step);
        }
        assert_eq!(kraken_pair_key("BTC", "USD"), "XXBTZUSD");
        assert_eq!(kraken_pair_key("ETH", "BTC"), "XETHXXBT");
    }

    #[test]
    fn kraken_klines_and_stream_frames_round_trip() {
        for timeframe in [Timeframe::M1, Timeframe::H4, Timeframe::D1] {
            let candles = candles(timeframe, 5);
            let body = kraken_klines("XXBTZUSD", &candles, timeframe);
            assert_eq!(Kraken.parse_klines(&body, timeframe).unwrap(), candles);
            let page = KlinePage {
                timeframe,
                start_ms: candles[1].open_time_ms,
                end_ms: candles[3].open_time_ms,
                limit: 720,
            };
            assert_eq!(
                Kraken.parse_kline_page(&body, &page).unwrap(),
                candles[1..=3]
            );
        }
        for (candle, closed) in candles(Timeframe::M1, 3)
            .into_iter()
            .zip([false, true, true])
        {
            let frame = kraken_stream_frame("BTC/USD", &candle, closed);
            assert!(frame.contains(r#""open":4"#), "a JSON number: {frame}");
            let parsed = Kraken.parse_stream_frame(&frame).unwrap();
            assert_eq!(
                parsed,
                one_kline("BTC/USD", candle, false),
                "Kraken marks none closed"
            );
        }
    }
}

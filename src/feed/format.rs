//! What an exchange is to the feed: how to ask it for instruments and candles over REST, how
//! to subscribe to its kline stream, and how to read what it answers. Nothing here does I/O:
//! each exchange is one file of URL building and parsing (`binance.rs`, `bybit.rs`,
//! `kraken.rs`), so it is tested on its documented payloads alone, and the feed's network
//! code (`rest.rs`, `stream.rs`) is shared by every exchange.

use cryptolens_actors::domain::market::{Candle, CandleDraft, CandleField, Symbol, Timeframe};
use rust_decimal::Decimal;

/// An exchange's name as configuration and symbol prefixes spell it (`binance:BTCUSDT`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Deserialize, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum ExchangeKind {
    Binance,
    Bybit,
    Kraken,
}

impl ExchangeKind {
    pub const ALL: [ExchangeKind; 3] = [
        ExchangeKind::Binance,
        ExchangeKind::Bybit,
        ExchangeKind::Kraken,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ExchangeKind::Binance => "binance",
            ExchangeKind::Bybit => "bybit",
            ExchangeKind::Kraken => "kraken",
        }
    }
}

impl std::str::FromStr for ExchangeKind {
    type Err = String;

    fn from_str(text: &str) -> Result<ExchangeKind, String> {
        ExchangeKind::ALL
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| format!("unknown exchange {text:?}: expected binance, bybit or kraken"))
    }
}

impl std::fmt::Display for ExchangeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One tradable market as the exchange lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instrument {
    /// The exchange's own name for it (`BTCUSDT` on Binance and Bybit, `BTC/USD` on Kraken's
    /// WebSocket, `XBTUSD` on its REST API: see `rest_symbol`).
    pub market_symbol: String,
    /// The name Kraken's REST API wants, where it differs from `market_symbol`.
    pub rest_symbol: String,
    /// Ours: base and quote concatenated, upper case (`BTCUSDT`, `BTCUSD`).
    pub symbol: Symbol,
    pub base_asset: String,
    pub quote_asset: String,
    /// Smallest price step; levels are rounded to it.
    pub tick_size: Decimal,
    /// Smallest quantity step; order quantities are rounded down to it.
    pub step_size: Decimal,
    /// False when the exchange lists it but does not trade it now (halted, delisted).
    pub trading: bool,
}

/// One kline from the stream. `closed` is the exchange's word that it is final (Binance
/// `"x": true`, Bybit `"confirm": true`); an exchange with no such flag (Kraken) reports every
/// kline as not closed, and the feed closes one when the next interval begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamKline {
    pub candle: Candle,
    pub closed: bool,
}

/// A kline from the stream with the market it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketKline {
    pub market_symbol: String,
    pub kline: StreamKline,
}

/// What one stream frame said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamFrame {
    Klines(Vec<MarketKline>),
    /// Subscription acknowledgements, pongs, heartbeats, status: nothing for the feed.
    Control,
}

/// A payload that does not read as the exchange's documented format. The feed counts these
/// and skips the frame (stream) or retries the request (REST); it never stops on one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{exchange}: {message}")]
pub struct FormatError {
    pub exchange: ExchangeKind,
    pub message: String,
}

impl FormatError {
    pub fn new(exchange: ExchangeKind, message: impl Into<String>) -> FormatError {
        FormatError {
            exchange,
            message: message.into(),
        }
    }
}

/// A REST request for one page of klines: `[start_ms, end_ms]` inclusive of open times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KlinePage {
    pub timeframe: Timeframe,
    pub start_ms: i64,
    pub end_ms: i64,
    pub limit: usize,
}

/// One kline's fields as the exchange wrote them (decimal text), before any check. Every format
/// file turns its kline into one of these so that all three refuse a bad kline the same way.
/// (Addition to the lead's trait file: shared by binance.rs, bybit.rs and kraken.rs.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KlineFields<'a> {
    pub open_time_ms: i64,
    pub open: &'a str,
    pub high: &'a str,
    pub low: &'a str,
    pub close: &'a str,
    pub volume: &'a str,
}

impl KlineFields<'_> {
    /// The checked candle, or an error naming the kline (by open time) and the field at fault.
    pub fn to_candle(
        &self,
        exchange: ExchangeKind,
        timeframe: Timeframe,
    ) -> Result<Candle, FormatError> {
        let refuse = |message: String| {
            FormatError::new(
                exchange,
                format!(
                    "{timeframe} kline opening at {} ms: {message}",
                    self.open_time_ms
                ),
            )
        };
        let number = |field, text: &str| {
            CandleDraft::parse_number(field, text).map_err(|error| refuse(error.to_string()))
        };
        let draft = CandleDraft {
            open_time_ms: self.open_time_ms,
            open: number(CandleField::Open, self.open)?,
            high: number(CandleField::High, self.high)?,
            low: number(CandleField::Low, self.low)?,
            close: number(CandleField::Close, self.close)?,
            volume: number(CandleField::Volume, self.volume)?,
        };
        Candle::new_checked(timeframe, &draft).map_err(|error| refuse(error.to_string()))
    }
}

/// Entry `index` of a kline given as a JSON array (Binance and Kraken mix numbers and strings
/// in one array), read as `T`; an error names the entry. Reading by position, rather than as a
/// tuple, ignores entries an exchange appends later, as named fields ignore unknown keys.
pub fn array_entry<T: serde::de::DeserializeOwned>(
    exchange: ExchangeKind,
    kline: &[&serde_json::value::RawValue],
    index: usize,
    name: &str,
) -> Result<T, FormatError> {
    let entry = kline.get(index).ok_or_else(|| {
        FormatError::new(
            exchange,
            format!("kline has {} entries, no {name} at {index}", kline.len()),
        )
    })?;
    serde_json::from_str(entry.get()).map_err(|error| {
        FormatError::new(exchange, format!("kline {name} {}: {error}", entry.get()))
    })
}

/// One exchange's public market-data formats. Implementations are plain data (base URLs are
/// the feed's, passed in), `Send + Sync`, and never panic on any payload.
pub trait ExchangeFormat: Send + Sync {
    fn kind(&self) -> ExchangeKind;

    /// The REST URL listing instruments with their tick and step sizes.
    fn instruments_url(&self, rest_base: &str) -> String;

    fn parse_instruments(&self, body: &str) -> Result<Vec<Instrument>, FormatError>;

    /// The timeframes the exchange serves klines at; the feed builds the others from the
    /// largest served one that divides them.
    fn timeframes(&self) -> &'static [Timeframe];

    /// Most klines one REST request returns.
    fn klines_per_request_max(&self) -> usize;

    /// The REST URL of one page of klines of `instrument`.
    fn klines_url(&self, rest_base: &str, instrument: &Instrument, page: &KlinePage) -> String;

    /// The klines of a page, oldest first, whatever order the exchange sends. Includes the
    /// kline still forming if the exchange returns it; the feed drops that one.
    fn parse_klines(&self, body: &str, timeframe: Timeframe) -> Result<Vec<Candle>, FormatError>;

    /// The klines of a page that open within `[page.start_ms, page.end_ms]`, oldest first.
    /// (Addition: Kraken has no end parameter and answers everything since `since`, so the
    /// feed reads pages through this, which drops what the page did not ask for.)
    fn parse_kline_page(&self, body: &str, page: &KlinePage) -> Result<Vec<Candle>, FormatError> {
        let mut candles = self.parse_klines(body, page.timeframe)?;
        candles.retain(|candle| (page.start_ms..=page.end_ms).contains(&candle.open_time_ms));
        Ok(candles)
    }

    /// The WebSocket URL for 1m klines of `instruments` (Binance puts the streams in the URL).
    fn stream_url(&self, ws_base: &str, instruments: &[Instrument]) -> String;

    /// Frames to send once connected (Bybit and Kraken subscribe by message); may be empty.
    fn subscribe_frames(&self, instruments: &[Instrument]) -> Vec<String>;

    /// A text frame the client must send periodically to keep the connection (Bybit's
    /// `{"op":"ping"}`), and how often; None when WebSocket pings suffice.
    fn keepalive(&self) -> Option<(String, std::time::Duration)>;

    fn parse_stream_frame(&self, text: &str) -> Result<StreamFrame, FormatError>;

    /// The exchange marks a kline closed (`StreamKline::closed`); else one closes when the
    /// next interval's first kline arrives.
    fn marks_closed_klines(&self) -> bool {
        true
    }
}

//! What the mocks' own tests share: a small 1m series at a fixed time, and a plain HTTP and
//! WebSocket client reading the mocks through the feed's own parsers.
#![allow(dead_code)] // each mock's tests use a part.

use super::published::MINUTE_MS;
use cryptolens::feed::format::{ExchangeFormat, StreamFrame};
use cryptolens_actors::domain::market::{Candle, CandleDraft, Timeframe};
use futures_util::{SinkExt, StreamExt};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio_tungstenite::tungstenite;

/// 2023-11-14T22:00:00Z, aligned to every timeframe up to 2h.
pub const T0_MS: i64 = 1_699_999_200_000;

/// Minute `n` of symbol number `symbol_offset`: prices that tell symbols and minutes apart.
pub fn minute(symbol_offset: i64, n: i64) -> Candle {
    let open = Decimal::from(100 + symbol_offset * 1000 + n);
    let draft = CandleDraft {
        open_time_ms: T0_MS + n * MINUTE_MS,
        open,
        high: open + Decimal::from(2),
        low: open - Decimal::ONE,
        close: open + Decimal::ONE,
        volume: Decimal::from(n + 1),
    };
    Candle::new_checked(Timeframe::M1, &draft).unwrap()
}

/// `minutes` 1m candles of each of `symbols` from `T0_MS`.
pub fn series_of(symbols: &[&str], minutes: i64) -> BTreeMap<String, Vec<Candle>> {
    symbols
        .iter()
        .zip(0..)
        .map(|(symbol, offset)| {
            let candles = (0..minutes).map(|n| minute(offset, n)).collect();
            (symbol.to_string(), candles)
        })
        .collect()
}

/// BTCUSDT and ETHBTC.
pub fn series(minutes: i64) -> BTreeMap<String, Vec<Candle>> {
    series_of(&["BTCUSDT", "ETHBTC"], minutes)
}

/// Status, `Retry-After` and body of a GET.
pub async fn get(url: &str) -> (u16, Option<String>, String) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|value| value.to_str().unwrap().to_owned());
    (status, retry_after, response.text().await.unwrap())
}

/// Minute indices (from `T0_MS`) of candles.
pub fn open_times(candles: &[Candle]) -> Vec<i64> {
    candles
        .iter()
        .map(|candle| (candle.open_time_ms - T0_MS) / MINUTE_MS)
        .collect()
}

pub type Client =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn connect(url: &str) -> Client {
    let (client, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    client
}

pub async fn send_text(client: &mut Client, text: &str) {
    client
        .send(tungstenite::Message::text(text.to_owned()))
        .await
        .unwrap();
}

/// The next text frame, or None when the connection ended.
pub async fn next_text(client: &mut Client) -> Option<String> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), client.next())
            .await
            .expect("a frame within 5 s");
        match message {
            Some(Ok(tungstenite::Message::Text(text))) => return Some(text.to_string()),
            Some(Ok(tungstenite::Message::Close(_))) | Some(Err(_)) | None => return None,
            Some(Ok(_)) => {}
        }
    }
}

/// (market symbol, minute index, closed) of every kline in the next frame that holds klines;
/// answers and heartbeats on the way are skipped.
pub async fn next_klines(
    format: &dyn ExchangeFormat,
    client: &mut Client,
) -> Vec<(String, i64, bool)> {
    loop {
        let text = next_text(client).await.expect("an open stream");
        if let StreamFrame::Klines(klines) = format.parse_stream_frame(&text).unwrap() {
            return klines
                .into_iter()
                .map(|kline| {
                    let index = (kline.kline.candle.open_time_ms - T0_MS) / MINUTE_MS;
                    (kline.market_symbol, index, kline.kline.closed)
                })
                .collect();
        }
    }
}

/// The one kline of the next kline frame.
pub async fn next_kline(format: &dyn ExchangeFormat, client: &mut Client) -> (String, i64, bool) {
    let mut klines = next_klines(format, client).await;
    assert_eq!(klines.len(), 1, "one kline per frame: {klines:?}");
    klines.remove(0)
}

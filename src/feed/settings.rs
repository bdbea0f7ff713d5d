//! The `[exchange]` settings: the default exchange, the symbols to follow, and a sub-table
//! per further exchange with its own URLs (`[exchange.bybit]`).

use super::format::ExchangeKind;
use cryptolens_actors::domain::market::Symbol;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

/// Where one exchange's public market data is served.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeUrls {
    pub rest_url: String,
    pub ws_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeSettings {
    /// The exchange of a symbol named without a prefix.
    pub kind: ExchangeKind,
    pub rest_url: String,
    pub ws_url: String,
    /// Symbols to follow: `BTCUSDT` on the default exchange, `bybit:ETHUSDT` elsewhere. A list,
    /// or one comma-separated string (as an environment variable gives it). Empty: no feed.
    #[serde(deserialize_with = "list_or_commas")]
    pub symbols: Vec<String>,
    /// Closed candles fetched per timeframe on start (at most the engine's ring capacity).
    pub history_candles: usize,
    /// Shortest and longest wait before reconnecting; doubled per failure, with jitter.
    pub reconnect_min_ms: u64,
    pub reconnect_max_ms: u64,
    /// Time limit of one REST request.
    pub request_timeout_ms: u64,
    /// REST requests in flight at once, over all symbols of one exchange.
    pub concurrent_requests_max: usize,
    /// A symbol with no closed candle for this many base intervals is `stale`.
    pub stale_after_intervals: u32,
    /// Reconnect when no frame arrives for this long (the exchange pings far more often).
    pub silence_timeout_ms: u64,
    pub binance: ExchangeUrls,
    pub bybit: ExchangeUrls,
    pub kraken: ExchangeUrls,
}

/// One symbol to follow and the exchange it comes from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FollowedSymbol {
    pub exchange: ExchangeKind,
    pub symbol: Symbol,
}

impl std::fmt::Display for FollowedSymbol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.exchange, self.symbol)
    }
}

impl ExchangeSettings {
    /// The URLs of `kind`: the top-level ones for the default exchange, else its sub-table.
    pub fn urls(&self, kind: ExchangeKind) -> ExchangeUrls {
        if kind == self.kind {
            return ExchangeUrls {
                rest_url: self.rest_url.clone(),
                ws_url: self.ws_url.clone(),
            };
        }
        match kind {
            ExchangeKind::Binance => self.binance.clone(),
            ExchangeKind::Bybit => self.bybit.clone(),
            ExchangeKind::Kraken => self.kraken.clone(),
        }
    }

    /// `serve --exchange K --symbols A,B`: another default exchange takes its URLs from its
    /// sub-table (the top-level URLs belong to the configured default).
    pub fn override_with(&mut self, kind: Option<ExchangeKind>, symbols: Option<&str>) {
        if let Some(kind) = kind.filter(|kind| *kind != self.kind) {
            let urls = self.urls(kind);
            self.kind = kind;
            self.rest_url = urls.rest_url;
            self.ws_url = urls.ws_url;
        }
        if let Some(symbols) = symbols {
            self.symbols = symbols
                .split(',')
                .map(str::trim)
                .filter(|entry| !entry.is_empty())
                .map(str::to_owned)
                .collect();
        }
    }

    /// The configured symbols, parsed; the first bad one is named in the error.
    pub fn followed(&self) -> Result<Vec<FollowedSymbol>, String> {
        let mut followed = Vec::with_capacity(self.symbols.len());
        for entry in &self.symbols {
            let parsed = parse_followed(entry, self.kind)?;
            if !followed.contains(&parsed) {
                followed.push(parsed);
            }
        }
        Ok(followed)
    }

    /// Followed symbols grouped by exchange, in a stable order.
    pub fn by_exchange(&self) -> Result<BTreeMap<ExchangeKind, Vec<Symbol>>, String> {
        let mut groups: BTreeMap<ExchangeKind, Vec<Symbol>> = BTreeMap::new();
        for followed in self.followed()? {
            groups
                .entry(followed.exchange)
                .or_default()
                .push(followed.symbol);
        }
        Ok(groups)
    }

    pub fn validate(&self) -> Result<(), String> {
        self.followed()?;
        let positive = [
            ("exchange.history_candles", self.history_candles as u64),
            ("exchange.reconnect_min_ms", self.reconnect_min_ms),
            ("exchange.request_timeout_ms", self.request_timeout_ms),
            (
                "exchange.concurrent_requests_max",
                self.concurrent_requests_max as u64,
            ),
            (
                "exchange.stale_after_intervals",
                u64::from(self.stale_after_intervals),
            ),
            ("exchange.silence_timeout_ms", self.silence_timeout_ms),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, value)| *value == 0) {
            return Err(format!("{name} must be at least 1"));
        }
        if self.reconnect_max_ms < self.reconnect_min_ms {
            return Err(
                "exchange.reconnect_max_ms must be at least exchange.reconnect_min_ms".into(),
            );
        }
        Ok(())
    }
}

/// `BTCUSDT` (default exchange) or `bybit:ETHUSDT`.
pub fn parse_followed(entry: &str, default: ExchangeKind) -> Result<FollowedSymbol, String> {
    let (exchange, name) = match entry.split_once(':') {
        Some((exchange, name)) => (exchange.parse::<ExchangeKind>()?, name),
        None => (default, entry),
    };
    let symbol =
        Symbol::parse(name.trim()).map_err(|error| format!("symbol {entry:?}: {error}"))?;
    Ok(FollowedSymbol { exchange, symbol })
}

/// A backfill's start: a UTC date (`2024-01-01`), an RFC 3339 time, or milliseconds since
/// the epoch.
pub fn parse_since_ms(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(ms);
    }
    if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(date
            .and_time(chrono::NaiveTime::MIN)
            .and_utc()
            .timestamp_millis());
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|time| time.timestamp_millis())
        .map_err(|_| {
            format!("{text:?} is not a date (2024-01-01), an RFC 3339 time or milliseconds")
        })
}

fn list_or_commas<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrCommas {
        List(Vec<String>),
        Commas(String),
    }
    let entries = match ListOrCommas::deserialize(deserializer)? {
        ListOrCommas::List(list) => list,
        ListOrCommas::Commas(text) => text.split(',').map(str::to_owned).collect(),
    };
    Ok(entries
        .into_iter()
        .map(|entry| entry.trim().to_owned())
        .filter(|entry| !entry.is_empty())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_names_the_exchange_and_none_means_the_default() {
        let followed = parse_followed("bybit:ETHUSDT", ExchangeKind::Binance).unwrap();
        assert_eq!(followed.exchange, ExchangeKind::Bybit);
        assert_eq!(followed.symbol.as_str(), "ETHUSDT");
        let plain = parse_followed("BTCUSDT", ExchangeKind::Binance).unwrap();
        assert_eq!(plain.exchange, ExchangeKind::Binance);
        assert!(parse_followed("ftx:BTCUSDT", ExchangeKind::Binance)
            .unwrap_err()
            .contains("unknown exchange"));
        assert!(parse_followed("binance:", ExchangeKind::Binance).is_err());
    }

    #[test]
    fn a_backfill_start_is_a_date_a_time_or_milliseconds() {
        assert_eq!(parse_since_ms("2024-01-01"), Ok(1_704_067_200_000));
        assert_eq!(
            parse_since_ms("2024-01-01T01:00:00+01:00"),
            Ok(1_704_067_200_000)
        );
        assert_eq!(parse_since_ms("1704067200000"), Ok(1_704_067_200_000));
        assert!(parse_since_ms("yesterday")
            .unwrap_err()
            .contains("not a date"));
    }
}

//! `cryptolens backfill --symbols A,B --since 2024-01-01`: asks a running server to fetch
//! older history of followed symbols from their exchange and prepend it
//! (`POST /api/symbols/{symbol}/backfill`), then shows each symbol's progress, read from
//! `GET /api/symbols`, as a bar until every backfill has ended.

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// How often progress is read.
const POLL_INTERVAL_MS: u64 = 500;

#[derive(Debug, Clone)]
pub struct BackfillOptions {
    pub symbols: Vec<String>,
    /// As the API takes it: a date, an RFC 3339 time or milliseconds.
    pub since: String,
    pub server: String,
    pub api_key: Option<String>,
    pub show_progress: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum BackfillCommandError {
    #[error("cannot reach the server at {server}: {source}")]
    Unreachable {
        server: String,
        source: reqwest::Error,
    },
    #[error("{symbol}: the server refused the backfill ({status}): {message}")]
    Refused {
        symbol: String,
        status: u16,
        message: String,
    },
    #[error("{symbol}: {message}")]
    Failed { symbol: String, message: String },
}

/// Candles stored per symbol, once every backfill has ended.
pub async fn run_backfill(
    options: &BackfillOptions,
) -> Result<BTreeMap<String, u64>, BackfillCommandError> {
    let client = Client::new(options)?;
    let mut started = BTreeMap::new();
    for symbol in &options.symbols {
        let before = client.feed_of(symbol).await?;
        let url = format!("/api/symbols/{symbol}/backfill");
        client
            .post(symbol, &url, json!({"since": options.since}))
            .await?;
        started.insert(symbol.clone(), before["backfilled"].as_u64().unwrap_or(0));
    }
    let bars = Bars::new(&options.symbols, options.show_progress);
    let mut stored = BTreeMap::new();
    while stored.len() < started.len() {
        tokio::time::sleep(Duration::from_millis(POLL_INTERVAL_MS)).await;
        for (symbol, backfilled_before) in &started {
            if stored.contains_key(symbol) {
                continue;
            }
            let feed = client.feed_of(symbol).await?;
            if let Some(progress) = feed.get("backfill").filter(|p| !p.is_null()) {
                bars.show(symbol, progress);
                continue;
            }
            if let Some(error) = feed["error"].as_str().filter(|e| e.starts_with("backfill")) {
                return Err(BackfillCommandError::Failed {
                    symbol: symbol.clone(),
                    message: error.to_owned(),
                });
            }
            let now = feed["backfilled"].as_u64().unwrap_or(0);
            bars.finish(symbol);
            stored.insert(symbol.clone(), now.saturating_sub(*backfilled_before));
        }
    }
    Ok(stored)
}

struct Client<'a> {
    http: reqwest::Client,
    options: &'a BackfillOptions,
}

impl<'a> Client<'a> {
    fn new(options: &'a BackfillOptions) -> Result<Client<'a>, BackfillCommandError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|source| unreachable(options, source))?;
        Ok(Client { http, options })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.options.server.trim_end_matches('/'))
    }

    fn with_key(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.options.api_key {
            Some(key) => request.header("x-api-key", key),
            None => request,
        }
    }

    async fn post(
        &self,
        symbol: &str,
        path: &str,
        body: Value,
    ) -> Result<(), BackfillCommandError> {
        let request = self.with_key(self.http.post(self.url(path)).json(&body));
        let response = request
            .send()
            .await
            .map_err(|source| unreachable(self.options, source))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let document: Value = response.json().await.unwrap_or_default();
        Err(BackfillCommandError::Refused {
            symbol: symbol.to_owned(),
            status: status.as_u16(),
            message: document["error"]["message"]
                .as_str()
                .unwrap_or("no error message")
                .to_owned(),
        })
    }

    /// The `feed` object of `symbol` in `GET /api/symbols`.
    async fn feed_of(&self, symbol: &str) -> Result<Value, BackfillCommandError> {
        let request = self.with_key(self.http.get(self.url("/api/symbols")));
        let response = request
            .send()
            .await
            .map_err(|source| unreachable(self.options, source))?;
        let status = response.status();
        let document: Value = response
            .json()
            .await
            .map_err(|source| unreachable(self.options, source))?;
        let entry = document["symbols"]
            .as_array()
            .and_then(|list| list.iter().find(|entry| entry["symbol"] == symbol));
        match entry.map(|entry| entry["feed"].clone()) {
            Some(feed) if feed.is_object() => Ok(feed),
            _ => Err(BackfillCommandError::Refused {
                symbol: symbol.to_owned(),
                status: status.as_u16(),
                message: "not followed from an exchange (add it with POST /api/symbols)".into(),
            }),
        }
    }
}

fn unreachable(options: &BackfillOptions, source: reqwest::Error) -> BackfillCommandError {
    BackfillCommandError::Unreachable {
        server: options.server.clone(),
        source,
    }
}

/// One progress bar per symbol.
struct Bars {
    bars: BTreeMap<String, ProgressBar>,
    _group: MultiProgress,
}

impl Bars {
    fn new(symbols: &[String], visible: bool) -> Bars {
        let group = MultiProgress::new();
        let style = ProgressStyle::with_template("{prefix:>12} {bar:40} {pos}/{len} candles")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        let bars = symbols
            .iter()
            .map(|symbol| {
                let bar = if visible {
                    group.add(ProgressBar::new(0))
                } else {
                    ProgressBar::hidden()
                };
                bar.set_style(style.clone());
                bar.set_prefix(symbol.clone());
                (symbol.clone(), bar)
            })
            .collect();
        Bars {
            bars,
            _group: group,
        }
    }

    fn show(&self, symbol: &str, progress: &Value) {
        if let Some(bar) = self.bars.get(symbol) {
            bar.set_length(progress["total"].as_u64().unwrap_or(0));
            bar.set_position(progress["done"].as_u64().unwrap_or(0));
        }
    }

    fn finish(&self, symbol: &str) {
        if let Some(bar) = self.bars.get(symbol) {
            bar.finish();
        }
    }
}

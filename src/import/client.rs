//! Posts checked candles to a running server in batches, with a progress bar.

use super::error::ImportError;
use super::formats::read_candle_file;
use cryptolens_actors::domain::market::{Candle, Symbol, Timeframe};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use std::path::PathBuf;
use std::time::Duration;

/// How often a batch refused with 503 (a busy actor) or 429 (rate limited) is tried again.
const BUSY_RETRIES_MAX: u32 = 20;

#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub symbol: Symbol,
    pub timeframe: Timeframe,
    pub files: Vec<PathBuf>,
    /// Base URL of the server, e.g. `http://127.0.0.1:8080`.
    pub server: String,
    pub batch_size: usize,
    /// Check the files only; send nothing.
    pub dry_run: bool,
    pub show_progress: bool,
    /// Sent as `X-API-Key`; ingest needs a key with the admin role.
    pub api_key: Option<String>,
}

/// Totals the server reported across every batch.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    pub candles_read: usize,
    pub appended: u64,
    pub replaced: u64,
    pub duplicates: u64,
    pub rejected_out_of_order: u64,
}

/// Reads and checks every file first (nothing is sent if any row is refused), then posts.
pub async fn run_import(options: &ImportOptions) -> Result<ImportSummary, ImportError> {
    let mut candles = Vec::new();
    for path in &options.files {
        candles.extend(read_candle_file(path, options.timeframe)?);
    }
    let mut summary = ImportSummary {
        candles_read: candles.len(),
        ..ImportSummary::default()
    };
    if options.dry_run {
        return Ok(summary);
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|error| unreachable_server(options, error))?;
    let progress = progress_bar(candles.len(), options.show_progress);
    for batch in candles.chunks(options.batch_size.max(1)) {
        let report = post_batch(&client, options, batch).await?;
        let count = |key: &str| {
            report
                .get(key)
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(0)
        };
        summary.appended += count("appended");
        summary.replaced += count("replaced");
        summary.duplicates += count("duplicates");
        summary.rejected_out_of_order += count("rejected_out_of_order");
        progress.inc(batch.len() as u64);
    }
    progress.finish();
    Ok(summary)
}

fn progress_bar(total: usize, visible: bool) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total as u64);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} candles ({per_sec}, eta {eta})")
    {
        bar.set_style(style);
    }
    bar
}

async fn post_batch(
    client: &reqwest::Client,
    options: &ImportOptions,
    batch: &[Candle],
) -> Result<serde_json::Value, ImportError> {
    let url = format!("{}/api/candles", options.server.trim_end_matches('/'));
    let body = batch_body(options, batch);
    for _ in 0..=BUSY_RETRIES_MAX {
        let mut request = client.post(&url).json(&body);
        if let Some(key) = &options.api_key {
            request = request.header("x-api-key", key);
        }
        let response = request
            .send()
            .await
            .map_err(|error| unreachable_server(options, error))?;
        let status = response.status();
        let retry_after_s = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
        let document: serde_json::Value = response.json().await.unwrap_or_default();
        if status.is_success() {
            return Ok(document);
        }
        if matches!(
            status,
            reqwest::StatusCode::SERVICE_UNAVAILABLE | reqwest::StatusCode::TOO_MANY_REQUESTS
        ) {
            if let Some(seconds) = retry_after_s {
                tokio::time::sleep(Duration::from_secs(seconds.clamp(1, 30))).await;
                continue;
            }
        }
        let message = document["error"]["message"]
            .as_str()
            .unwrap_or("no error message")
            .to_owned();
        return Err(ImportError::Refused {
            status: status.as_u16(),
            message,
        });
    }
    Err(ImportError::Refused {
        status: 503,
        message: format!("the server stayed busy after {BUSY_RETRIES_MAX} retries"),
    })
}

fn batch_body(options: &ImportOptions, batch: &[Candle]) -> serde_json::Value {
    let candles: Vec<serde_json::Value> = batch
        .iter()
        .map(|candle| {
            json!({
                "t": candle.open_time_ms,
                "o": candle.open.to_string(),
                "h": candle.high.to_string(),
                "l": candle.low.to_string(),
                "c": candle.close.to_string(),
                "v": candle.volume.to_string(),
            })
        })
        .collect();
    json!({"symbol": options.symbol.as_str(), "timeframe": options.timeframe.as_str(), "candles": candles})
}

fn unreachable_server(options: &ImportOptions, error: reqwest::Error) -> ImportError {
    ImportError::Unreachable {
        url: options.server.clone(),
        message: error.to_string(),
    }
}

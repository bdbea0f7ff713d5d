//! REST requests to an exchange, shared by every exchange: a time limit per request, a cap
//! on requests in flight, rate limits honoured (`429`/`418` wait out `Retry-After`; Binance's
//! `X-MBX-USED-WEIGHT-1M` near its limit waits for the next minute), transient failures
//! retried with backoff, and paging over a time range.

use super::error::FeedError;
use super::format::{ExchangeFormat, Instrument, KlinePage};
use cryptolens_actors::domain::market::{Candle, Timeframe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Attempts per request before its error is returned (rate-limit waits do not count).
const ATTEMPTS_MAX: u32 = 5;
/// Binance's request-weight budget per minute for market data (its documented default).
const BINANCE_WEIGHT_PER_MINUTE: u64 = 6000;
/// Past this share of the budget the client waits for the next minute.
const WEIGHT_PAUSE_PERCENT: u64 = 90;
/// Longest `Retry-After` honoured; a longer one is capped (the feed retries anyway).
const RETRY_AFTER_MAX_S: u64 = 300;

/// Counters shown in `/api/symbols` and metrics.
#[derive(Debug, Default)]
pub struct RestCounters {
    pub requests: AtomicU64,
    pub rate_limited: AtomicU64,
    pub retries: AtomicU64,
}

/// One exchange's REST API.
#[derive(Clone)]
pub struct RestClient {
    http: reqwest::Client,
    base: Arc<str>,
    format: &'static dyn ExchangeFormat,
    in_flight: Arc<Semaphore>,
    pub counters: Arc<RestCounters>,
}

impl RestClient {
    pub fn new(
        format: &'static dyn ExchangeFormat,
        base: &str,
        timeout_ms: u64,
        concurrent_max: usize,
    ) -> Result<RestClient, FeedError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(timeout_ms))
            .user_agent(concat!("cryptolens/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|source| FeedError::Http {
                url: base.to_owned(),
                source,
            })?;
        Ok(RestClient {
            http,
            base: Arc::from(base.trim_end_matches('/')),
            format,
            in_flight: Arc::new(Semaphore::new(concurrent_max.max(1))),
            counters: Arc::default(),
        })
    }

    pub fn format(&self) -> &'static dyn ExchangeFormat {
        self.format
    }

    pub async fn instruments(&self) -> Result<Vec<Instrument>, FeedError> {
        let url = self.format.instruments_url(&self.base);
        let body = self.get(&url).await?;
        Ok(self.format.parse_instruments(&body)?)
    }

    /// Every closed kline of `timeframe` opening in `[start_ms, end_ms]`, oldest first, page
    /// by page. `now_ms` drops the one still forming.
    pub async fn klines(
        &self,
        instrument: &Instrument,
        timeframe: Timeframe,
        start_ms: i64,
        end_ms: i64,
        now_ms: i64,
    ) -> Result<Vec<Candle>, FeedError> {
        let step_ms = timeframe.duration_ms();
        let last_closed_ms = timeframe.bucket_start_ms(now_ms) - step_ms;
        let end_ms = end_ms.min(last_closed_ms);
        let limit = self.format.klines_per_request_max();
        let mut candles: Vec<Candle> = Vec::new();
        let mut from_ms = timeframe.bucket_start_ms(start_ms);
        while from_ms <= end_ms {
            let page_end_ms = end_ms.min(from_ms + step_ms * (limit as i64 - 1));
            let page = KlinePage {
                timeframe,
                start_ms: from_ms,
                end_ms: page_end_ms,
                limit,
            };
            let url = self.format.klines_url(&self.base, instrument, &page);
            let body = self.get(&url).await?;
            let fetched = self.format.parse_kline_page(&body, &page)?;
            let newest = candles.last().map(|candle| candle.open_time_ms);
            candles.extend(fetched.into_iter().filter(|candle| {
                candle.open_time_ms >= from_ms
                    && candle.open_time_ms <= page_end_ms
                    && newest.is_none_or(|newest| candle.open_time_ms > newest)
            }));
            from_ms = page_end_ms + step_ms;
        }
        Ok(candles)
    }

    /// One GET, retried on transport errors and 5xx, waiting out rate limits.
    async fn get(&self, url: &str) -> Result<String, FeedError> {
        let _permit = self
            .in_flight
            .acquire()
            .await
            .map_err(|_| FeedError::ShuttingDown)?;
        let mut attempt = 0;
        loop {
            self.counters.requests.fetch_add(1, Ordering::Relaxed);
            let outcome = self.get_once(url).await;
            match outcome {
                Ok(body) => return Ok(body),
                Err(Retry::After(wait)) => {
                    self.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        url,
                        wait_ms = wait.as_millis() as u64,
                        "rate limited; waiting"
                    );
                    tokio::time::sleep(wait).await;
                }
                Err(Retry::Backoff(error)) if attempt + 1 < ATTEMPTS_MAX => {
                    attempt += 1;
                    self.counters.retries.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(url, %error, attempt, "exchange request failed; retrying");
                    tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
                }
                Err(Retry::Backoff(error) | Retry::Never(error)) => return Err(error),
            }
        }
    }

    async fn get_once(&self, url: &str) -> Result<String, Retry> {
        let http_error = |source| FeedError::Http {
            url: url.to_owned(),
            source,
        };
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|source| Retry::Backoff(http_error(source)))?;
        let status = response.status().as_u16();
        let retry_after = retry_after(response.headers());
        let used_weight = used_weight(response.headers());
        let body = response
            .text()
            .await
            .map_err(|source| Retry::Backoff(http_error(source)))?;
        if status == 429 || status == 418 {
            return Err(Retry::After(retry_after.unwrap_or(Duration::from_secs(1))));
        }
        if !(200..300).contains(&status) {
            let error = FeedError::Status {
                url: url.to_owned(),
                status,
                body: body.chars().take(300).collect(),
            };
            return Err(if status >= 500 {
                Retry::Backoff(error)
            } else {
                Retry::Never(error)
            });
        }
        if let Some(pause) = used_weight.and_then(|used| weight_pause(used, wall_clock_ms())) {
            tracing::warn!(
                used = used_weight,
                pause_ms = pause.as_millis() as u64,
                "request weight near the limit; pausing to the next minute"
            );
            tokio::time::sleep(pause).await;
        }
        Ok(body)
    }
}

enum Retry {
    After(Duration),
    Backoff(FeedError),
    Never(FeedError),
}

/// `Retry-After` in seconds (the form exchanges send), capped.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds.min(RETRY_AFTER_MAX_S)))
}

fn used_weight(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    headers
        .get("x-mbx-used-weight-1m")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The exchange's weight budget is per wall-clock minute (its clock, not the server's
/// injectable one).
fn wall_clock_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// How long to wait after an answer reporting `used` weight this minute: past 90% of
/// Binance's 6,000 per minute, until just after the minute ends; else not at all.
fn weight_pause(used: u64, now_ms: i64) -> Option<Duration> {
    if used * 100 < BINANCE_WEIGHT_PER_MINUTE * WEIGHT_PAUSE_PERCENT {
        return None;
    }
    let into_minute_ms = now_ms.rem_euclid(60_000);
    Some(Duration::from_millis(
        (60_000 - into_minute_ms) as u64 + 100,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    #[test]
    fn retry_after_and_the_used_weight_are_read_from_their_headers() {
        let mut headers = HeaderMap::new();
        assert_eq!((retry_after(&headers), used_weight(&headers)), (None, None));
        headers.insert("retry-after", HeaderValue::from_static(" 7 "));
        headers.insert("x-mbx-used-weight-1m", HeaderValue::from_static("5400"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        assert_eq!(used_weight(&headers), Some(5400));
        headers.insert("retry-after", HeaderValue::from_static("86400"));
        assert_eq!(
            retry_after(&headers),
            Some(Duration::from_secs(RETRY_AFTER_MAX_S)),
            "capped"
        );
        headers.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn past_ninety_percent_of_the_weight_the_client_waits_for_the_next_minute() {
        let at_ms = 1_700_000_040_000 + 40_000; // 40 s into a minute
        assert_eq!(weight_pause(5_399, at_ms), None);
        assert_eq!(
            weight_pause(5_400, at_ms),
            Some(Duration::from_millis(20_100))
        );
        assert_eq!(
            weight_pause(6_000, at_ms + 19_000),
            Some(Duration::from_millis(1_100))
        );
    }
}

//! Prometheus metrics: HTTP requests and latency by route template and status, counted as
//! answers go out; engine figures (mailbox depth, restarts, candles, patterns, signals,
//! ledger mutations, snapshots) read from the engine when scraped. `GET /metrics` needs the
//! configured bearer token, compared in constant time.

use super::error::ApiError;
use super::{with_state, AppState};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};
use subtle::ConstantTimeEq;
use warp::http::header;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    engine: Vec<(IntGauge, ReadFigure)>,
}

/// Reads one engine figure for a gauge.
type ReadFigure = fn(&AppState) -> i64;

/// Engine figures, each a gauge set at scrape time.
const ENGINE_GAUGES: [(&str, &str, ReadFigure); 8] = [
    ("cryptolens_symbols", "Symbols tracked", |s| {
        s.engine.symbol_count() as i64
    }),
    (
        "cryptolens_mailbox_depth_total",
        "Messages waiting in all symbol actors' mailboxes",
        |s| {
            s.engine
                .actor_health()
                .iter()
                .map(|a| a.mailbox_len as i64)
                .sum()
        },
    ),
    (
        "cryptolens_mailbox_depth_max",
        "Longest symbol actor mailbox",
        |s| {
            s.engine
                .actor_health()
                .iter()
                .map(|a| a.mailbox_len as i64)
                .max()
                .unwrap_or(0)
        },
    ),
    (
        "cryptolens_actor_restarts_total",
        "Symbol actor restarts",
        |s| {
            s.engine
                .actor_health()
                .iter()
                .map(|a| a.restarts as i64)
                .sum()
        },
    ),
    (
        "cryptolens_candles_ingested_total",
        "Base candles appended",
        |s| {
            s.engine
                .actor_health()
                .iter()
                .map(|a| a.candles.appended as i64)
                .sum()
        },
    ),
    (
        "cryptolens_patterns_detected_total",
        "Patterns formed",
        |s| {
            s.engine
                .actor_health()
                .iter()
                .map(|a| a.patterns_formed as i64)
                .sum()
        },
    ),
    (
        "cryptolens_ledger_mutations_total",
        "Durable portfolio mutations",
        |s| {
            s.engine
                .portfolios()
                .map_or(0, |book| book.mutations() as i64)
        },
    ),
    (
        "cryptolens_snapshot_failures_total",
        "Failed snapshot writes",
        |s| {
            s.engine
                .persistence()
                .map_or(0, |view| view.failures as i64)
        },
    ),
];

impl Metrics {
    pub fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("cryptolens_http_requests_total", "HTTP requests answered"),
            &["route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("cryptolens_http_request_duration_seconds", "Time to answer")
                .buckets(vec![
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0,
                ]),
            &["route"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        let mut engine = Vec::new();
        for (name, help, read) in ENGINE_GAUGES {
            let gauge = IntGauge::new(name, help)?;
            registry.register(Box::new(gauge.clone()))?;
            engine.push((gauge, read));
        }
        Ok(Metrics {
            registry,
            requests,
            latency,
            engine,
        })
    }

    pub fn observe(&self, path: &str, status: u16, seconds: f64) {
        let route = route_template(path);
        self.requests
            .with_label_values(&[route.as_str(), &status.to_string()])
            .inc();
        self.latency
            .with_label_values(&[route.as_str()])
            .observe(seconds);
    }

    fn render(&self, state: &AppState) -> String {
        for (gauge, read) in &self.engine {
            gauge.set(read(state));
        }
        let mut text = Vec::new();
        // Encoding our own registry into memory cannot fail short of a bug; report it as text.
        if let Err(error) = TextEncoder::new().encode(&self.registry.gather(), &mut text) {
            return format!("# encoding failed: {error}\n");
        }
        String::from_utf8_lossy(&text).into_owned()
    }
}

/// The route a path belongs to, with ids and symbols replaced, so labels stay few.
pub fn route_template(path: &str) -> String {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let template = match segments.as_slice() {
        ["api", "candles", _, _] => "/api/candles/{symbol}/{timeframe}",
        ["api", "indicators", _, _] => "/api/indicators/{symbol}/{timeframe}",
        ["api", "portfolios", _] => "/api/portfolios/{id}",
        ["api", "portfolios", _, "trades"] => "/api/portfolios/{id}/trades",
        ["api", "portfolios", _, "trades", _] => "/api/portfolios/{id}/trades/{trade}",
        ["api", "portfolios", _, "trades", _, action] => {
            return format!("/api/portfolios/{{id}}/trades/{{trade}}/{}", known(action));
        }
        ["api", "portfolios", _, view] => return format!("/api/portfolios/{{id}}/{}", known(view)),
        _ => return known_static(path),
    };
    template.to_owned()
}

fn known(segment: &str) -> &str {
    match segment {
        "close" | "add" | "journal" | "stats" | "equity" | "ledger" => segment,
        _ => "other",
    }
}

fn known_static(path: &str) -> String {
    const STATIC: [&str; 14] = [
        "/api/health",
        "/api/health/live",
        "/api/health/ready",
        "/api/actors",
        "/api/symbols",
        "/api/candles",
        "/api/patterns",
        "/api/signals",
        "/api/matrix",
        "/api/scan",
        "/api/ws/ingest",
        "/api/portfolios",
        "/metrics",
        "/",
    ];
    STATIC
        .iter()
        .find(|known| **known == path)
        .map_or("unmatched".to_owned(), |known| (*known).to_owned())
}

pub fn routes(state: &AppState) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("metrics")
        .and(warp::get())
        .and(warp::header::optional::<String>("authorization"))
        .and(with_state(state))
        .map(|authorization: Option<String>, state: AppState| {
            if !authorised(authorization.as_deref(), &state.metrics_token) {
                return ApiError::Unauthorized.into_response(state.ingest.retry_after_s);
            }
            let text = state.metrics.render(&state);
            warp::reply::with_header(text, header::CONTENT_TYPE, prometheus::TEXT_FORMAT)
                .into_response()
        })
}

fn authorised(authorization: Option<&str>, token: &str) -> bool {
    let presented = authorization
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or("");
    !token.is_empty() && bool::from(presented.as_bytes().ct_eq(token.as_bytes()))
}

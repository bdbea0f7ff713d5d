//! Prometheus metrics: HTTP requests and latency by route template and status, counted as
//! answers go out; engine figures (mailbox depth, restarts, candles, patterns, signals,
//! ledger mutations, snapshots) read from the engine when scraped. `GET /metrics` needs the
//! configured bearer token, compared in constant time.

use super::{access, with_state, AppState};
use cryptolens_actors::actors::portfolio::{ExitStatsView, KeyCounters};
use cryptolens_actors::domain::notify::BreakerState;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};
use warp::http::header;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

/// One exchange counter summed over every exchange.
fn feed_counter(
    state: &AppState,
    counter: fn(&crate::feed::status::ExchangeCounters) -> &std::sync::atomic::AtomicU64,
) -> i64 {
    let counters = state.feed.status.all_counters();
    let total: u64 = counters
        .iter()
        .map(|(_, c)| counter(c).load(std::sync::atomic::Ordering::Relaxed))
        .sum();
    i64::try_from(total).unwrap_or(i64::MAX)
}

/// The listener's gauge of open connections and counter of refused ones, registered.
fn connection_metrics(registry: &Registry) -> Result<(IntGauge, IntCounterVec), prometheus::Error> {
    let open = IntGauge::new("cryptolens_http_connections", "HTTP connections open")?;
    let refused = IntCounterVec::new(
        Opts::new(
            "cryptolens_http_connections_refused_total",
            "Connections closed at accept because a connection budget was full",
        ),
        &["reason"],
    )?;
    registry.register(Box::new(open.clone()))?;
    registry.register(Box::new(refused.clone()))?;
    Ok((open, refused))
}

/// Stream clients refused by reason, and the configured bounds, registered.
fn bound_metrics(registry: &Registry) -> Result<(IntCounterVec, IntGaugeVec), prometheus::Error> {
    let refused = IntCounterVec::new(
        Opts::new(
            "cryptolens_stream_clients_refused_total",
            "Stream upgrades refused because a client bound was full",
        ),
        &["reason"],
    )?;
    let bounds = IntGaugeVec::new(
        Opts::new(
            "cryptolens_bound",
            "A configured bound, by its setting's name",
        ),
        &["name"],
    )?;
    registry.register(Box::new(refused.clone()))?;
    registry.register(Box::new(bounds.clone()))?;
    Ok((refused, bounds))
}

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    auth_failures: IntCounter,
    rate_limited: IntCounter,
    credential_checks: IntCounter,
    stream_clients: IntGauge,
    stream_dropped: IntCounter,
    connections_open: IntGauge,
    connections_refused: IntCounterVec,
    stream_refused: IntCounterVec,
    bounds: IntGaugeVec,
    engine: Vec<(IntGauge, ReadFigure)>,
    notify: IntGaugeVec,
    notify_breakers: IntGaugeVec,
}

/// Reads one engine figure for a gauge.
type ReadFigure = fn(&AppState) -> i64;

/// Engine figures, each a gauge set at scrape time.
const ENGINE_GAUGES: [(&str, &str, ReadFigure); 23] = [
    ("cryptolens_symbols", "Symbols tracked", |s| {
        s.engine.symbol_count() as i64
    }),
    (
        "cryptolens_feed_symbols",
        "Symbols followed from an exchange",
        |s| s.feed.status.len() as i64,
    ),
    (
        "cryptolens_feed_stale_symbols",
        "Followed symbols with no closed candle for their staleness limit",
        |s| s.feed.status.stale(s.clock.now_ms()).len() as i64,
    ),
    (
        "cryptolens_feed_reconnects_total",
        "Exchange stream reconnects, all exchanges",
        |s| feed_counter(s, |c| &c.reconnects),
    ),
    (
        "cryptolens_feed_malformed_frames_total",
        "Exchange stream frames that could not be read (skipped)",
        |s| feed_counter(s, |c| &c.malformed_frames),
    ),
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
        "cryptolens_exit_backlog_candles",
        "Closed base candles waiting for the portfolio exit feed, all symbols",
        |s| {
            s.engine
                .actor_health()
                .iter()
                .map(|a| a.exit_backlog_candles as i64)
                .sum()
        },
    ),
    (
        "cryptolens_exit_candles_dropped_total",
        "Exit candles dropped because a symbol's exit backlog was full",
        |s| {
            s.engine
                .actor_health()
                .iter()
                .map(|a| a.exit_candles_dropped as i64)
                .sum()
        },
    ),
    (
        "cryptolens_exit_candles_evaluated_total",
        "Closed base candles handed to every portfolio for exits",
        |s| exit_figure(s, |stats| stats.candles_evaluated),
    ),
    (
        "cryptolens_exit_evaluation_errors_total",
        "Portfolio exit evaluations that failed or timed out",
        |s| exit_figure(s, |stats| stats.evaluation_errors),
    ),
    (
        "cryptolens_exit_refusals_total",
        "Paper exits the ledger refused (the trade stays open)",
        |s| exit_figure(s, |stats| stats.refusals),
    ),
    ("cryptolens_portfolios", "Paper portfolios served", |s| {
        s.engine
            .portfolios()
            .map_or(0, |book| book.list().len() as i64)
    }),
    (
        "cryptolens_idempotency_keys",
        "Request idempotency keys held by all portfolios",
        |s| idempotency_figure(s, KeyCounters::held),
    ),
    (
        "cryptolens_idempotency_keys_forgotten_total",
        "Idempotency keys forgotten past their TTL or their portfolio's cap",
        |s| idempotency_figure(s, KeyCounters::forgotten),
    ),
    ("cryptolens_api_keys_active", "API keys that work", |s| {
        s.auth.key_counts().active as i64
    }),
    (
        "cryptolens_api_keys_inactive",
        "Revoked or expired API keys still listed (deleted after the retention)",
        |s| s.auth.key_counts().inactive as i64,
    ),
    (
        "cryptolens_api_keys_pruned_total",
        "Revoked or expired API keys deleted after the retention",
        |s| i64::try_from(s.auth.key_counts().pruned).unwrap_or(i64::MAX),
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

/// One idempotency key figure of the portfolio book; 0 before the book is restored.
fn idempotency_figure(state: &AppState, read: fn(&KeyCounters) -> u64) -> i64 {
    state.engine.portfolios().map_or(0, |book| {
        i64::try_from(read(book.idempotency_keys())).unwrap_or(i64::MAX)
    })
}

/// The configured bounds, as `cryptolens_bound{name}`: what the usage gauges are held under.
fn bounds(state: &AppState) -> [(&'static str, usize); 8] {
    let engine = state.engine.settings();
    let stream = &state.stream.settings;
    [
        ("engine.symbols_max", engine.symbols_max),
        (
            "engine.portfolios_per_user_max",
            engine.portfolios_per_user_max,
        ),
        (
            "engine.idempotency_keys_per_portfolio_max",
            engine.idempotency_keys_per_portfolio_max,
        ),
        (
            "engine.idempotency_key_ttl_s",
            engine.idempotency_key_ttl_s as usize,
        ),
        (
            "auth.api_keys_per_user_max",
            state.auth.settings().api_keys_per_user_max,
        ),
        (
            "auth.revoked_keys_retention_s",
            state.auth.settings().revoked_keys_retention_s as usize,
        ),
        ("stream.clients_max", stream.clients_max),
        ("stream.clients_per_user_max", stream.clients_per_user_max),
    ]
}

/// One exit evaluation counter of the portfolio book; 0 before the book is restored.
fn exit_figure(state: &AppState, read: fn(&ExitStatsView) -> u64) -> i64 {
    state.engine.portfolios().map_or(0, |book| {
        i64::try_from(read(&book.exit_stats())).unwrap_or(i64::MAX)
    })
}

impl Metrics {
    pub fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("cryptolens_http_requests_total", "HTTP requests answered"),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("cryptolens_http_request_duration_seconds", "Time to answer")
                .buckets(vec![
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0,
                ]),
            &["route"],
        )?;
        let auth_failures = IntCounter::new(
            "cryptolens_auth_failures_total",
            "Requests and logins refused for wrong or unknown credentials",
        )?;
        let rate_limited =
            IntCounter::new("cryptolens_rate_limited_total", "Requests refused with 429")?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(auth_failures.clone()))?;
        let credential_checks = IntCounter::new(
            "cryptolens_credential_checks_total",
            "Credential look-ups: one per request, one per WebSocket ingest message",
        )?;
        registry.register(Box::new(rate_limited.clone()))?;
        registry.register(Box::new(credential_checks.clone()))?;
        let stream_clients = IntGauge::new(
            "cryptolens_stream_clients",
            "Clients connected to /api/stream",
        )?;
        let stream_dropped = IntCounter::new(
            "cryptolens_stream_clients_dropped_total",
            "Stream clients disconnected for not keeping up",
        )?;
        registry.register(Box::new(stream_clients.clone()))?;
        registry.register(Box::new(stream_dropped.clone()))?;
        let (connections_open, connections_refused) = connection_metrics(&registry)?;
        let (stream_refused, bounds) = bound_metrics(&registry)?;
        let (notify, notify_breakers) = notify_metrics(&registry)?;
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
            auth_failures,
            rate_limited,
            credential_checks,
            stream_clients,
            stream_dropped,
            connections_open,
            connections_refused,
            stream_refused,
            bounds,
            engine,
            notify,
            notify_breakers,
        })
    }

    pub fn count_auth_failure(&self) {
        self.auth_failures.inc();
    }

    pub fn count_rate_limited(&self) {
        self.rate_limited.inc();
    }

    /// One more (1) or one fewer (-1) HTTP connection open.
    pub fn count_connections(&self, change: i64) {
        self.connections_open.add(change);
    }

    /// A connection closed at accept because a budget was full.
    pub fn refuse_connection(&self, reason: &str) {
        self.connections_refused.with_label_values(&[reason]).inc();
    }

    /// A stream client connected (`+1`) or left (`-1`).
    pub fn count_stream_clients(&self, change: i64) {
        self.stream_clients.add(change);
    }

    /// A stream client turned away at the upgrade because a bound was full.
    pub fn refuse_stream_client(&self, reason: &str) {
        self.stream_refused.with_label_values(&[reason]).inc();
    }

    pub fn count_stream_dropped(&self) {
        self.stream_dropped.inc();
    }

    pub fn count_credential_check(&self) {
        self.credential_checks.inc();
    }

    pub fn observe(&self, method: &str, path: &str, status: u16, seconds: f64) {
        let matched = access::classify(method, path);
        let route = matched.map_or("unmatched", |route| route.path);
        // A method no route has stays out of the labels: clients choose it freely.
        let method = matched.map_or("other", |route| route.method);
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.latency.with_label_values(&[route]).observe(seconds);
    }

    fn render(&self, state: &AppState) -> String {
        for (gauge, read) in &self.engine {
            gauge.set(read(state));
        }
        for (name, bound) in bounds(state) {
            let bound = i64::try_from(bound).unwrap_or(i64::MAX);
            self.bounds.with_label_values(&[name]).set(bound);
        }
        self.render_notify(state);
        let mut text = Vec::new();
        // Encoding our own registry into memory cannot fail short of a bug; report it as text.
        if let Err(error) = TextEncoder::new().encode(&self.registry.gather(), &mut text) {
            return format!("# encoding failed: {error}\n");
        }
        String::from_utf8_lossy(&text).into_owned()
    }
}

impl Metrics {
    fn render_notify(&self, state: &AppState) {
        let figures = state.notifier.stats.view();
        let outcomes = [
            ("accepted", figures.accepted),
            ("sent", figures.sent),
            ("failed_attempt", figures.failed_attempts),
            ("retried", figures.retried),
            ("given_up", figures.given_up),
            ("deduped", figures.deduped),
            ("dropped", figures.dropped),
            ("filtered", figures.filtered),
            ("missed_event", figures.missed_events),
            ("store_failure", figures.store_failures),
            ("alert_fired", figures.alerts_fired),
        ];
        for (outcome, count) in outcomes {
            let count = i64::try_from(count).unwrap_or(i64::MAX);
            self.notify.with_label_values(&[outcome]).set(count);
        }
        self.notify_breakers.reset();
        for (channel, breaker) in state.notifier.stats.breaker_states(state.clock.now_ms()) {
            let value = match breaker {
                BreakerState::Closed => 0,
                BreakerState::HalfOpen => 1,
                BreakerState::Open => 2,
            };
            self.notify_breakers
                .with_label_values(&[&channel.to_string()])
                .set(value);
        }
    }
}

fn notify_metrics(registry: &Registry) -> Result<(IntGaugeVec, IntGaugeVec), prometheus::Error> {
    let notify = IntGaugeVec::new(
        Opts::new(
            "cryptolens_notify_total",
            "Notifications by outcome: accepted into the outbox, sent, failed attempts, retried, given up, deduped (a repeat), dropped (outbox full), filtered (a channel did not want it), missed events",
        ),
        &["outcome"],
    )?;
    let breakers = IntGaugeVec::new(
        Opts::new(
            "cryptolens_notify_breaker_state",
            "Each channel's circuit breaker: 0 closed, 1 half-open, 2 open",
        ),
        &["channel"],
    )?;
    registry.register(Box::new(notify.clone()))?;
    registry.register(Box::new(breakers.clone()))?;
    Ok((notify, breakers))
}

pub fn routes(state: &AppState) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("metrics")
        .and(warp::get())
        .and(with_state(state))
        .map(|state: AppState| {
            let text = state.metrics.render(&state);
            warp::reply::with_header(text, header::CONTENT_TYPE, prometheus::TEXT_FORMAT)
                .into_response()
        })
}

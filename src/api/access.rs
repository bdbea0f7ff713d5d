//! The authorisation table: every route the server answers, with the least role it needs,
//! its rate-limit class, and what the OpenAPI document says of it. The gate looks each
//! request up here before any handler runs; a request matching no entry is denied, so a
//! handler added without an entry is unreachable rather than open.

use super::rate_limit::RateClass;
use crate::auth::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No credentials needed (liveness, readiness, login, the API description).
    Public,
    /// At least this role.
    Role(Role),
    /// The admin role, or the configured metrics token.
    AdminOrMetricsToken,
}

#[derive(Debug, Clone, Copy)]
pub struct RouteSpec {
    pub method: &'static str,
    /// Segments in braces match any one path segment.
    pub path: &'static str,
    pub access: Access,
    pub class: RateClass,
    pub summary: &'static str,
    pub query: &'static [&'static str],
    /// The request body's schema in the OpenAPI document, if the route takes one.
    pub body: Option<&'static str>,
    pub success: u16,
    /// Error statuses particular to this route, besides those every route of its kind can
    /// answer (see `openapi::error_statuses`).
    pub errors: &'static [u16],
    /// Reachable by a session that still has to enrol in two-factor sign-in.
    pub before_second_factor: bool,
}

const fn route(method: &'static str, path: &'static str, access: Access) -> RouteSpec {
    RouteSpec {
        method,
        path,
        access,
        class: RateClass::Default,
        summary: "",
        query: &[],
        body: None,
        success: 200,
        errors: &[],
        before_second_factor: false,
    }
}

impl RouteSpec {
    const fn says(mut self, summary: &'static str) -> RouteSpec {
        self.summary = summary;
        self
    }
    const fn class(mut self, class: RateClass) -> RouteSpec {
        self.class = class;
        self
    }
    const fn query(mut self, query: &'static [&'static str]) -> RouteSpec {
        self.query = query;
        self
    }
    const fn body(mut self, schema: &'static str) -> RouteSpec {
        self.body = Some(schema);
        self
    }
    const fn created(mut self) -> RouteSpec {
        self.success = 201;
        self
    }
    const fn accepted(mut self) -> RouteSpec {
        self.success = 202;
        self
    }
    const fn errors(mut self, statuses: &'static [u16]) -> RouteSpec {
        self.errors = statuses;
        self
    }
    /// A WebSocket route: 101 Switching Protocols.
    const fn upgrades(mut self) -> RouteSpec {
        self.success = 101;
        self
    }
    const fn enrols(mut self) -> RouteSpec {
        self.before_second_factor = true;
        self
    }

    /// Whether a request path (no query string) falls under this route's template.
    pub fn matches_path(&self, path: &str) -> bool {
        let mut template = self.path.split('/');
        let mut given = path.split('/');
        loop {
            match (template.next(), given.next()) {
                (None, None) => return true,
                (Some(expected), Some(segment)) if is_parameter(expected) => {
                    if segment.is_empty() {
                        return false;
                    }
                }
                (Some(expected), Some(segment)) if expected == segment => {}
                _ => return false,
            }
        }
    }

    /// The path's parameter names, in order.
    pub fn parameters(&self) -> impl Iterator<Item = &'static str> {
        self.path
            .split('/')
            .filter(|segment| is_parameter(segment))
            .map(|segment| segment.trim_matches(|c| c == '{' || c == '}'))
    }
}

fn is_parameter(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

const VIEWER: Access = Access::Role(Role::Viewer);
const TRADER: Access = Access::Role(Role::Trader);
const ADMIN: Access = Access::Role(Role::Admin);

/// Routes an actor answers: 503 while restoring, shutting down or with a full mailbox, 504
/// when it does not answer in time.
const ENGINE: &[u16] = &[503, 504];
/// Candle ingest: a timeframe other than the symbol's base (409), a value out of range (422),
/// and the engine's own.
const INGEST: &[u16] = &[409, 422, 503, 504];
/// Ledger changes: a conflict with the state (a closed trade, a reused Idempotency-Key, the
/// portfolio limit), a refusal on the numbers (cash, risk limits, range), a portfolio actor
/// that cannot answer now.
/// 507: the store's disk is below its reserve.
const LEDGER_WRITE: &[u16] = &[409, 422, 503, 507];
const LEDGER_READ: &[u16] = &[503];

pub const ROUTES: &[RouteSpec] = &[
    route("GET", "/api/health/live", Access::Public).says("Liveness: the process answers"),
    route("GET", "/api/health/ready", Access::Public)
        .says("Readiness: restored and accepting (503 while starting or stopping)")
        .errors(&[503]),
    route("GET", "/api/openapi.json", Access::Public).says("This API description"),
    route("GET", "/", Access::Public).says("The dashboard (a web page; log in there)"),
    route("GET", "/assets/{build}/{file}", Access::Public)
        .says("The dashboard's files, cached for good under the build's hash")
        .errors(&[404]),
    route("POST", "/api/auth/login", Access::Public)
        .says("Log in; returns a session token, or with `cookie` sets a session cookie")
        .class(RateClass::Login)
        .body("Login")
        .errors(&[401, 503, 507]),
    route("POST", "/api/auth/logout", VIEWER)
        .says("End the calling session")
        .enrols(),
    route("POST", "/api/auth/password", VIEWER)
        .says("Change one's own password; ends all of one's sessions")
        .body("ChangePassword")
        .enrols()
        .errors(&[503, 507]),
    route("GET", "/api/auth/me", VIEWER)
        .says("Who the credentials act for, their two-factor state (and a cookie session's CSRF token)")
        .enrols(),
    route("POST", "/api/auth/totp", VIEWER)
        .says("Start two-factor enrolment: a new secret, its otpauth:// URI and ten recovery codes, shown once")
        .created()
        .enrols()
        .errors(&[409, 507]),
    route("POST", "/api/auth/totp/confirm", VIEWER)
        .says("Turn two-factor sign-in on with a first code from the app")
        .class(RateClass::Login)
        .body("ConfirmTotp")
        .enrols()
        .errors(&[409, 507]),
    route("POST", "/api/auth/totp/disable", VIEWER)
        .says("Turn two-factor sign-in off, proven with a current code or a recovery code")
        .class(RateClass::Login)
        .body("DisableTotp")
        .errors(&[409, 503, 507]),
    route("GET", "/api/auth/session", Access::Public)
        .says("Whether the request is logged in, and as whom (the dashboard asks on load)"),
    route("GET", "/api/stream", VIEWER)
        .says("WebSocket of live events (candles, patterns, signals, trades, health)")
        .upgrades()
        .errors(&[426, 503]),
    route("GET", "/api/keys", TRADER).says("API keys one may see, with last use"),
    route("POST", "/api/keys", TRADER)
        .says("Create an API key (shown once)")
        .body("CreateApiKey")
        .created()
        .errors(&[507]),
    route("DELETE", "/api/keys/{id}", TRADER)
        .says("Revoke an API key")
        .errors(&[507]),
    route("GET", "/api/users", ADMIN).says("Users"),
    route("POST", "/api/users", ADMIN)
        .says("Add a user")
        .body("CreateUser")
        .created()
        .errors(&[409, 507]),
    route("PATCH", "/api/users/{username}", ADMIN)
        .says("Change a user's role, password or disabled flag")
        .body("UpdateUser")
        .errors(&[409, 507]),
    route("GET", "/api/health", VIEWER)
        .says("Overall health: healthy, degraded or unhealthy, with reasons"),
    route("GET", "/api/actors", Access::AdminOrMetricsToken)
        .says("Per-actor health: mailbox depth, restarts, heartbeats"),
    route("GET", "/api/jobs", ADMIN)
        .says("Background jobs (snapshot rounds, backfills): last run, duration, outcome"),
    route("GET", "/metrics", Access::AdminOrMetricsToken).says("Prometheus metrics"),
    route("POST", "/api/store/backup", ADMIN)
        .says("Write a consistent copy of the store and its ledger journal into a new directory on the server (what `cryptolens store backup DIR` asks for while the server runs)")
        .body("StoreBackup")
        .created()
        .errors(&[409, 500, 507]),
    route("GET", "/api/symbols", VIEWER)
        .says("Symbols tracked: source, feed state (stale included), last candle, lag, progress"),
    route("POST", "/api/symbols", ADMIN)
        .says("Follow a symbol from an exchange (`bybit:ETHUSDT`); it warms, then streams")
        .body("FollowSymbol")
        .accepted()
        .errors(&[409, 502, 503]),
    route("DELETE", "/api/symbols/{symbol}", ADMIN)
        .says("Stop following a symbol and remove its data (409 while portfolios trade it)")
        .errors(&[409, 503]),
    route("POST", "/api/symbols/{symbol}/pause", ADMIN).says("Pause a followed symbol's stream")
        .errors(&[409, 503]),
    route("POST", "/api/symbols/{symbol}/resume", ADMIN)
        .says("Resume a paused symbol; it catches up first")
        .errors(&[409, 503]),
    route("POST", "/api/symbols/{symbol}/backfill", ADMIN)
        .says("Fetch older history and prepend it; progress in GET /api/symbols")
        .body("Backfill")
        .accepted()
        .errors(&[409, 502, 503]),
    route("POST", "/api/candles", ADMIN)
        .says("Ingest a batch of candles. Durable at the next snapshot round: a crash (kill -9, power loss) within `crash_window_ms` of the answer (engine.snapshot_interval_ms, 5000; 0 with ingest.durability = \"ack\", answered once on disk) loses them; health's `last_stop` says so after the restart")
        .class(RateClass::Ingest)
        .body("CandleBatch")
        .errors(INGEST),
    route("GET", "/api/ws/ingest", ADMIN)
        .says("WebSocket candle ingest (upgrade)")
        .class(RateClass::Ingest)
        .upgrades()
        .errors(&[426, 503]),
    route("GET", "/api/candles/{symbol}/{timeframe}", VIEWER)
        .says("Closed candles of a symbol and timeframe")
        .query(&["limit"])
        .errors(ENGINE),
    route("POST", "/api/backtests", TRADER)
        .says("Queue a backtest of a strategy (sma-cross, a built-in one or a whole `spec`) over a symbol's stored candles; follow it at GET /api/backtests/{id}")
        .body("BacktestRequest")
        .accepted()
        .errors(&[404, 503, 507]),
    route("GET", "/api/backtests", TRADER)
        .says("One's backtests (an admin's: everyone's), newest first, with their figures"),
    route("GET", "/api/backtests/{id}", TRADER)
        .says("A backtest: status, progress, and when done its figures and trades")
        .errors(&[404]),
    route("GET", "/api/patterns", VIEWER)
        .says("Detected patterns, newest first")
        .query(&["symbol", "timeframe", "kind", "status", "limit", "offset"])
        .errors(ENGINE),
    route("GET", "/api/signals", VIEWER)
        .says("Signals")
        .query(&["symbol", "status"])
        .errors(ENGINE),
    route("POST", "/api/scan", TRADER)
        .says("Re-evaluate signals now")
        .class(RateClass::Scan)
        .body("Scan")
        .errors(ENGINE),
    route("GET", "/api/matrix", VIEWER).says("Pattern direction per symbol and timeframe")
        .errors(ENGINE),
    route("GET", "/api/indicators/{symbol}/{timeframe}", VIEWER).says("Latest indicator values")
        .errors(ENGINE),
    route("GET", "/api/portfolios", VIEWER).says("Portfolios one owns (admins: all)")
        .errors(LEDGER_READ),
    route("POST", "/api/portfolios", TRADER)
        .says("Create a paper portfolio")
        .body("CreatePortfolio")
        .created()
        .errors(LEDGER_WRITE),
    route("GET", "/api/portfolios/{id}", VIEWER).says("A portfolio: cash, equity, P&L")
        .errors(LEDGER_READ),
    route("GET", "/api/portfolios/{id}/trades", VIEWER)
        .says("A portfolio's trades")
        .query(&["status"])
        .errors(LEDGER_READ),
    route("POST", "/api/portfolios/{id}/trades", TRADER)
        .says("Open a trade")
        .body("OpenTrade")
        .created()
        .errors(LEDGER_WRITE),
    route("POST", "/api/portfolios/{id}/trades/preview", TRADER)
        .says("What opening this trade would do now (sizing, cash), without doing it")
        .body("OpenTrade")
        .errors(LEDGER_WRITE),
    route("PATCH", "/api/portfolios/{id}/trades/{trade}", TRADER)
        .says("Amend a trade's stop and targets")
        .body("AmendTrade")
        .errors(LEDGER_WRITE),
    route("POST", "/api/portfolios/{id}/trades/{trade}/close", TRADER)
        .says("Close a trade in full or in part")
        .body("CloseTrade")
        .errors(LEDGER_WRITE),
    route("POST", "/api/portfolios/{id}/trades/{trade}/cancel", TRADER)
        .says("Cancel a pending order, releasing its cash")
        .errors(LEDGER_WRITE),
    route("POST", "/api/portfolios/{id}/trades/{trade}/add", TRADER)
        .says("Add to a trade")
        .body("AddToTrade")
        .errors(LEDGER_WRITE),
    route(
        "POST",
        "/api/portfolios/{id}/trades/{trade}/journal",
        TRADER,
    )
    .says("Add a journal note to a trade")
    .body("JournalNote")
    .errors(LEDGER_WRITE),
    route("GET", "/api/portfolios/{id}/trades/{trade}/journal", VIEWER).says("A trade's journal")
        .errors(LEDGER_READ),
    route("GET", "/api/portfolios/{id}/stats", VIEWER).says("Performance statistics")
        .errors(LEDGER_READ),
    route("GET", "/api/portfolios/{id}/equity", VIEWER).says("Equity curve")
        .errors(LEDGER_READ),
    route("GET", "/api/portfolios/{id}/ledger", VIEWER).says("Ledger entries")
        .errors(LEDGER_READ),
    route("GET", "/api/portfolios/{id}/trades.csv", VIEWER)
        .says("Every trade with its full record, as CSV")
        .errors(LEDGER_READ),
    route("GET", "/api/portfolios/{id}/ledger.csv", VIEWER).says("Ledger entries as CSV")
        .errors(LEDGER_READ),
    route("GET", "/api/portfolios/{id}/strategy", VIEWER)
        .says("The portfolio's live strategy ({\"strategy\": null} without one): spec, symbols, paused, decisions with reasons")
        .errors(LEDGER_READ),
    route("POST", "/api/portfolios/{id}/strategy", TRADER)
        .says("Attach (or replace) a live strategy: a built-in by name or a whole spec, and the symbols it trades; it runs on every closed candle of them with the backtest's rules")
        .body("AttachStrategy")
        .errors(LEDGER_WRITE),
    route("PATCH", "/api/portfolios/{id}/strategy", TRADER)
        .says("Pause or resume the live strategy (paused: no new signal is taken; open trades keep their exits)")
        .body("PauseStrategy")
        .errors(LEDGER_WRITE),
    route("DELETE", "/api/portfolios/{id}/strategy", TRADER)
        .says("Detach the live strategy (its trades stay, with their stops and targets)")
        .errors(LEDGER_WRITE),
    route("POST", "/api/notify/channels", TRADER)
        .says("Add a notification channel (ntfy, webhook, telegram or email over STARTTLS) with its filters; a webhook's signing secret is in this answer only. Destination URLs on private, loopback or link-local addresses are refused unless notify.allow_private_destinations")
        .body("CreateChannel")
        .created()
        .errors(&[409, 422, 503, 507]),
    route("GET", "/api/notify/channels", TRADER)
        .says("One's channels (an admin's: everyone's), with breaker state and deliveries waiting; tokens and secrets are never shown")
        .errors(&[503]),
    route("PATCH", "/api/notify/channels/{id}", TRADER)
        .says("Rename, enable or disable a channel, or replace its filters")
        .body("UpdateChannel")
        .errors(&[404, 422, 503, 507]),
    route("DELETE", "/api/notify/channels/{id}", TRADER)
        .says("Remove a channel, its waiting deliveries and its history")
        .errors(&[404, 503]),
    route("POST", "/api/notify/channels/{id}/test", TRADER)
        .says("Send a test message through the channel's outbox; follow it at GET /api/notify/deliveries")
        .accepted()
        .errors(&[404, 409, 503, 507]),
    route("GET", "/api/notify/deliveries", TRADER)
        .says("Deliveries, newest first, with status (pending, delivered, failed), attempts and last error")
        .query(&["channel", "limit", "offset"])
        .errors(&[503]),
    route("POST", "/api/alerts", TRADER)
        .says("Set an alert of one's own: a price crossing a level, a percent move within a window, a new pattern of a kind on a symbol, or a pending order filled or a stop hit on one's portfolio; fires once (or re-arms) through one's channels (channel_ids, or every enabled one)")
        .body("CreateAlert")
        .created()
        .errors(&[409, 422, 503, 507]),
    route("GET", "/api/alerts", TRADER)
        .says("One's alerts (an admin's: everyone's), with whether each is still armed, how often it fired and when last")
        .errors(&[503]),
    route("DELETE", "/api/alerts/{id}", TRADER)
        .says("Remove an alert")
        .errors(&[404, 503, 507]),
];

/// The route a request falls under, if any.
pub fn classify(method: &str, path: &str) -> Option<&'static RouteSpec> {
    ROUTES
        .iter()
        .find(|route| route.method == method && route.matches_path(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_whole_segments_only() {
        let show = classify("GET", "/api/portfolios/7").expect("show");
        assert_eq!(show.path, "/api/portfolios/{id}");
        assert_eq!(
            classify("GET", "/api/portfolios/7/stats").map(|r| r.path),
            Some("/api/portfolios/{id}/stats")
        );
        assert!(classify("GET", "/api/portfolios/").is_none());
        assert!(classify("GET", "/api/portfolios/7/secrets").is_none());
        assert!(classify("DELETE", "/api/portfolios/7").is_none());
        assert!(classify("GET", "/api/patterns/extra").is_none());
        assert!(classify("GET", "/api/health/live").is_some_and(|r| r.access == Access::Public));
    }

    #[test]
    fn every_route_is_declared_once() {
        for (index, route) in ROUTES.iter().enumerate() {
            assert!(!route.summary.is_empty(), "{} {}", route.method, route.path);
            let twins = ROUTES[index + 1..]
                .iter()
                .filter(|other| other.method == route.method && other.path == route.path)
                .count();
            assert_eq!(twins, 0, "{} {} declared twice", route.method, route.path);
        }
    }
}

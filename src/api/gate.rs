//! The gate every request passes before any handler: it finds the route in the
//! authorisation table (no entry: denied), identifies the caller (API key, session token or
//! metrics token), checks the route's least role, and charges the route's rate limit.
//! Requests with wrong credentials are charged to the client address's login budget, so
//! guessing keys or tokens is throttled like guessing passwords.
//!
//! The gate hands on what it looked up ([`Admitted`]): routes that act for the caller answer
//! [`Answer::ForCaller`] and get the gate's caller, so credentials are identified once per
//! request. Routes on one portfolio go one step further: [`portfolio_route`] and
//! [`trade_route`] hand the handler the caller together with the portfolio they checked
//! ([`OwnedPortfolio`]), so no handler looks either up a second time.

use super::access::{self, Access, RouteSpec};
use super::answer::Answer;
use super::browser_session::{check_csrf, CSRF_HEADER, SESSION_COOKIE};
use super::error::{ApiError, Denied};
use super::rate_limit::RateClass;
use super::{with_state, AppState};
use crate::auth::{AuthError, Credential, Principal, Role};
use cryptolens_actors::actors::portfolio::{
    PortfolioBook, PortfolioEntry, PortfolioError, RequestId,
};
use cryptolens_actors::actors::EngineError;
use cryptolens_actors::clock::SharedClock;
use cryptolens_actors::domain::ledger::{Mutation, Outcome, Portfolio, Trade};
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use warp::http::Method;
use warp::path::FullPath;
use warp::reply::Response;
use warp::{Filter, Rejection};

pub const API_KEY_HEADER: &str = "x-api-key";

/// What the gate looked up for a request it let through: the caller its credentials act
/// for; none for a request without credentials (a public route, or a viewer route when
/// anonymous viewers are allowed).
#[derive(Debug, Clone)]
pub struct Admitted {
    caller: Option<Principal>,
}

impl Admitted {
    pub(super) fn new(caller: Option<Principal>) -> Admitted {
        Admitted { caller }
    }

    pub fn into_caller(self) -> Option<Principal> {
        self.caller
    }
}

/// Passes admitted requests on with what it found ([`Admitted`]); rejects the others with
/// [`Denied`].
pub fn gate(state: &AppState) -> impl Filter<Extract = (Admitted,), Error = Rejection> + Clone {
    credentials()
        .and(warp::method())
        .and(warp::path::full())
        .and(crate::api::peer_address())
        .and(raw_query())
        .and(with_state(state))
        .and_then(
            |credentials: Credentials,
             method: Method,
             path: FullPath,
             remote: Option<SocketAddr>,
             query: String,
             state: AppState| async move {
                let request = Request {
                    method: &method,
                    path: path.as_str(),
                    query: &query,
                    remote,
                };
                admit(&credentials, &request, &state)
                    .map(Admitted::new)
                    .map_err(|error| warp::reject::custom(Denied(error)))
            },
        )
}

/// For routes that act for the caller: a request without credentials (let through on a
/// viewer route when anonymous viewers are allowed) is refused with 401 here, before its
/// body is read, as the gate refuses it on every other protected route. Only the presence of
/// the headers is checked: whom they name, the gate has already found out.
pub fn refuse_anonymous() -> impl Filter<Extract = (), Error = Rejection> + Clone {
    credentials()
        .and_then(|credentials: Credentials| async move {
            if credentials.api_key.is_none()
                && credentials.authorization.is_none()
                && credentials.session_cookie.is_none()
            {
                Err(warp::reject::custom(Denied(ApiError::Unauthorized)))
            } else {
                Ok(())
            }
        })
        .untuple_one()
}

/// Nothing to read before the handler (routes without a body or query).
pub fn no_input() -> impl Filter<Extract = ((),), Error = Rejection> + Clone {
    warp::any().and_then(|| async { Ok::<(), Rejection>(()) })
}

/// A route acting for the caller on the caller's own objects: `path` (with its method),
/// anonymous requests refused before any body is read, then `input` (a body, or nothing),
/// and `handler(caller, input, state)` once the gate hands the caller over.
pub fn caller_route<P, I, T, H, F>(
    path: P,
    input: I,
    state: &AppState,
    handler: H,
) -> impl Filter<Extract = (Answer,), Error = Rejection> + Clone
where
    P: Filter<Extract = (), Error = Rejection> + Clone + Send + Sync + 'static,
    I: Filter<Extract = (T,), Error = Rejection> + Clone + Send + Sync + 'static,
    T: Send + 'static,
    H: Fn(Principal, T, AppState) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response> + Send + 'static,
{
    path.and(refuse_anonymous())
        .and(input)
        .and(with_state(state))
        .map(move |input: T, state: AppState| {
            let handler = handler.clone();
            Answer::for_caller(move |caller| async move { Ok(handler(caller, input, state).await) })
        })
}

/// For long-lived sessions (WebSocket ingest), before each message: the credentials still
/// act with at least `least` (not revoked, expired, disabled or demoted since the upgrade),
/// and one more message of `class` fits the caller's budget.
pub fn recheck(
    credentials: &Credentials,
    state: &AppState,
    least: Role,
    class: RateClass,
) -> Result<(), ApiError> {
    let principal = identify(credentials, state)?.ok_or(ApiError::Unauthorized)?;
    authorise_role(&principal, least)?;
    charge(state, class, &principal.rate_key)
}

fn authorise_role(principal: &Principal, least: Role) -> Result<(), ApiError> {
    if principal.credential != Credential::MetricsToken && principal.role >= least {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "needs the {least} role; these credentials act as {}",
            principal.role
        )))
    }
}

/// A portfolio the caller may see (its owner, or an admin), looked up once: the caller, the
/// portfolio's id and listing entry, and the book holding its actor.
#[derive(Clone)]
pub struct OwnedPortfolio {
    pub caller: Principal,
    pub id: u64,
    pub entry: PortfolioEntry,
    pub book: Arc<PortfolioBook>,
    /// The server's clock: mutations are stamped with its time.
    pub clock: SharedClock,
}

impl OwnedPortfolio {
    /// A copy of the portfolio's current state.
    pub async fn read(&self) -> Result<Portfolio, PortfolioError> {
        self.book.portfolio(self.id).await
    }

    /// A copy of one of the portfolio's trades.
    pub async fn read_trade(&self, trade_id: u64) -> Result<Option<Trade>, PortfolioError> {
        self.book.trade(self.id, trade_id).await
    }

    /// Applies `mutation` now, answered once durable (see `PortfolioBook::mutate`).
    pub async fn mutate(
        &self,
        mutation: Mutation,
        request: Option<RequestId>,
    ) -> Result<Outcome, PortfolioError> {
        let at_ms = self.clock.now_ms();
        self.book.mutate(self.id, mutation, request, at_ms).await
    }

    /// The first answer to `request`'s idempotency key, if it has one (looked up before
    /// anything the answer would depend on: market prices, live signals, the portfolio).
    pub async fn first_answer(
        &self,
        request: Option<&RequestId>,
    ) -> Result<Option<Result<Outcome, PortfolioError>>, PortfolioError> {
        match request {
            Some(request) => {
                let found = self
                    .book
                    .answer(self.id, &request.key, &request.fingerprint);
                found.await
            }
            None => Ok(None),
        }
    }
}

/// `/api/portfolios/{id}...` routes: `path` (with its method) extracts the id; `input` (the
/// body, a query) is read next; then, with the caller the gate admitted, the portfolio is
/// looked up and `handler` answers. For anyone who may not see it, it is unknown, as one
/// that does not exist (404 `unknown_portfolio`). Checked after the body is read and right
/// before the handler, and ownership never changes once a portfolio exists, so no request
/// can reach a portfolio created while it waited.
pub fn portfolio_route<P, I, T, H, F>(
    path: P,
    input: I,
    state: &AppState,
    handler: H,
) -> impl Filter<Extract = (Answer,), Error = Rejection> + Clone
where
    P: Filter<Extract = (String,), Error = Rejection> + Clone + Send + Sync + 'static,
    I: Filter<Extract = (T,), Error = Rejection> + Clone + Send + Sync + 'static,
    T: Send + 'static,
    H: Fn(OwnedPortfolio, T, AppState) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response> + Send + 'static,
{
    owned_route(
        path.map(|id: String| (id, ())),
        input,
        state,
        move |owned, (), input, state| handler(owned, input, state),
    )
}

/// `/api/portfolios/{id}/trades/{trade}...` routes: as [`portfolio_route`], with the trade's
/// path segment passed on unparsed (the handler names the field in its error).
pub fn trade_route<P, I, T, H, F>(
    path: P,
    input: I,
    state: &AppState,
    handler: H,
) -> impl Filter<Extract = (Answer,), Error = Rejection> + Clone
where
    P: Filter<Extract = (String, String), Error = Rejection> + Clone + Send + Sync + 'static,
    I: Filter<Extract = (T,), Error = Rejection> + Clone + Send + Sync + 'static,
    T: Send + 'static,
    H: Fn(OwnedPortfolio, String, T, AppState) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response> + Send + 'static,
{
    owned_route(
        path.map(|id: String, trade: String| (id, trade)),
        input,
        state,
        handler,
    )
}

/// The shared part of [`portfolio_route`] and [`trade_route`]: `path` extracts the
/// portfolio id and what else the path names (`rest`).
fn owned_route<P, R, I, T, H, F>(
    path: P,
    input: I,
    state: &AppState,
    handler: H,
) -> impl Filter<Extract = (Answer,), Error = Rejection> + Clone
where
    P: Filter<Extract = ((String, R),), Error = Rejection> + Clone + Send + Sync + 'static,
    R: Send + 'static,
    I: Filter<Extract = (T,), Error = Rejection> + Clone + Send + Sync + 'static,
    T: Send + 'static,
    H: Fn(OwnedPortfolio, R, T, AppState) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response> + Send + 'static,
{
    path.and(refuse_anonymous())
        .and(input)
        .and(with_state(state))
        .map(move |(id, rest): (String, R), input: T, state: AppState| {
            let handler = handler.clone();
            Answer::for_caller(move |caller| async move {
                let owned = owned_portfolio(caller, &id, &state)?;
                Ok(handler(owned, rest, input, state).await)
            })
        })
}

fn owned_portfolio(
    caller: Principal,
    id: &str,
    state: &AppState,
) -> Result<OwnedPortfolio, ApiError> {
    let id = super::portfolios::parse_id("portfolio_id", id)?;
    let book = state
        .engine
        .portfolios()
        .ok_or(ApiError::Engine(EngineError::Restoring))?;
    let entry = book
        .entry(id)
        .filter(|entry| caller.may_see_owned_by(&entry.owner))
        .ok_or(ApiError::Portfolio(PortfolioError::Unknown(id)))?;
    Ok(OwnedPortfolio {
        caller,
        id,
        entry,
        book,
        clock: Arc::clone(&state.clock),
    })
}

#[derive(Debug, Clone)]
pub struct Credentials {
    api_key: Option<String>,
    authorization: Option<String>,
    /// The browser session cookie; used only when no credential header is sent.
    session_cookie: Option<String>,
    csrf_token: Option<String>,
}

impl Credentials {
    /// The session token of a request authenticated by its cookie alone.
    pub fn cookie_session(&self) -> Option<&str> {
        match (&self.api_key, &self.authorization) {
            (None, None) => self.session_cookie.as_deref(),
            _ => None,
        }
    }
}

pub fn credentials() -> impl Filter<Extract = (Credentials,), Error = Rejection> + Clone {
    warp::header::optional::<String>(API_KEY_HEADER)
        .and(warp::header::optional::<String>("authorization"))
        .and(warp::cookie::optional::<String>(SESSION_COOKIE))
        .and(warp::header::optional::<String>(CSRF_HEADER))
        .map(
            |api_key, authorization, session_cookie, csrf_token| Credentials {
                api_key,
                authorization,
                session_cookie,
                csrf_token,
            },
        )
}

/// The query string, empty when there is none.
fn raw_query() -> impl Filter<Extract = (String,), Error = std::convert::Infallible> + Clone {
    warp::query::raw().or(warp::any().map(String::new)).unify()
}

/// What the gate looks at of a request besides its credentials.
struct Request<'a> {
    method: &'a Method,
    path: &'a str,
    query: &'a str,
    remote: Option<SocketAddr>,
}

/// Refuses a query parameter the route does not document, naming it: a typo never silently
/// widens a filter, and a parameter a route ignores is never taken for one it honours.
fn check_query(route: &RouteSpec, query: &str) -> Result<(), ApiError> {
    let names = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').map_or(pair, |(name, _)| name));
    for name in names {
        let name = percent_encoding::percent_decode_str(name).decode_utf8_lossy();
        if !route.query.contains(&name.as_ref()) {
            let accepted = match route.query {
                [] => "this route takes none".to_owned(),
                names => format!("accepted: {}", names.join(", ")),
            };
            return Err(ApiError::invalid_field(
                name.clone().into_owned(),
                format!("unknown query parameter {name:?}; {accepted}"),
            ));
        }
    }
    Ok(())
}

fn admit(
    credentials: &Credentials,
    request: &Request<'_>,
    state: &AppState,
) -> Result<Option<Principal>, ApiError> {
    let Request {
        method,
        path,
        query,
        remote,
    } = *request;
    let address_key = || Arc::from(address_bucket(remote));
    let principal = identify(credentials, state).inspect_err(|_| {
        state.metrics.count_auth_failure();
    });
    let principal = match principal {
        Ok(principal) => principal,
        Err(error) => {
            charge(state, RateClass::Login, &address_key())?;
            return Err(error);
        }
    };
    if let (Some(_), Some(session)) = (&principal, credentials.cookie_session()) {
        check_csrf(method, session, credentials.csrf_token.as_deref())?;
    }
    let route = access::classify(method.as_str(), path).ok_or(match principal {
        Some(_) => ApiError::NotFound("no such route".into()),
        None => ApiError::Unauthorized,
    })?;
    authorise(route, principal.as_ref(), state.anonymous_viewer)?;
    let enrolment_due = principal.as_ref().is_some_and(|p| p.second_factor_due);
    if enrolment_due && route.access != Access::Public && !route.before_second_factor {
        return Err(AuthError::SecondFactorDue.into());
    }
    check_query(route, query)?;
    let rate_key = match (&principal, route.class) {
        (Some(principal), class) if class != RateClass::Login => Arc::clone(&principal.rate_key),
        _ => address_key(),
    };
    charge(state, route.class, &rate_key)?;
    Ok(principal)
}

/// Whether `principal` may use `route`: 401 without credentials, 403 below the least role.
fn authorise(
    route: &RouteSpec,
    principal: Option<&Principal>,
    anonymous_viewer: bool,
) -> Result<(), ApiError> {
    let principal = match (route.access, principal) {
        (Access::Public, _) => return Ok(()),
        (Access::Role(Role::Viewer), None) if anonymous_viewer => return Ok(()),
        (_, None) => return Err(ApiError::Unauthorized),
        (_, Some(principal)) => principal,
    };
    let allowed = match route.access {
        Access::Public => true,
        Access::AdminOrMetricsToken => {
            principal.is_admin() || principal.credential == Credential::MetricsToken
        }
        Access::Role(least) => authorise_role(principal, least).is_ok(),
    };
    if allowed {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "{} {} needs {}; these credentials act as {}",
            route.method,
            route.path,
            describe(route.access),
            principal.role
        )))
    }
}

fn describe(access: Access) -> String {
    match access {
        Access::Public => "nothing".into(),
        Access::Role(role) => format!("the {role} role"),
        Access::AdminOrMetricsToken => "the admin role or the metrics token".into(),
    }
}

/// The rate-limit bucket of a client address: the address, or for IPv6 its /64, since one
/// host commonly holds a whole /64 and could otherwise take a fresh budget per address.
fn address_bucket(remote: Option<SocketAddr>) -> String {
    match remote.map(|addr| addr.ip()) {
        Some(IpAddr::V4(ip)) => format!("ip:{ip}"),
        Some(IpAddr::V6(ip)) => {
            let [a, b, c, d, ..] = ip.segments();
            format!("ip:{a:x}:{b:x}:{c:x}:{d:x}::/64")
        }
        None => "ip:unknown".to_owned(),
    }
}

fn charge(state: &AppState, class: RateClass, key: &Arc<str>) -> Result<(), ApiError> {
    state.limits.check(class, key).map_err(|wait| {
        state.metrics.count_rate_limited();
        ApiError::RateLimited {
            retry_after_s: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
        }
    })
}

/// Who the credentials act for: the metrics token, else an API key or session token.
/// Counted (`cryptolens_credential_checks_total`): once per request, and once per WebSocket
/// message.
fn identify(credentials: &Credentials, state: &AppState) -> Result<Option<Principal>, ApiError> {
    state.metrics.count_credential_check();
    let bearer = match credentials.authorization.as_deref() {
        Some(value) => Some(
            value
                .strip_prefix("Bearer ")
                .ok_or(ApiError::Auth(AuthError::InvalidCredentials))?,
        ),
        None => None,
    };
    if let Some(token) = bearer {
        if credentials.api_key.is_none() && is_metrics_token(token, &state.metrics_token) {
            return Ok(Some(Principal::metrics_scraper()));
        }
    }
    if let Some(token) = credentials.cookie_session() {
        // A cookie left from an ended session is no credential: the page still loads (and
        // asks to log in) instead of every request failing with it.
        return Ok(state.auth.authenticate(None, Some(token)).ok().flatten());
    }
    Ok(state
        .auth
        .authenticate(credentials.api_key.as_deref(), bearer)?)
}

fn is_metrics_token(presented: &str, token: &str) -> bool {
    use subtle::ConstantTimeEq;
    !token.is_empty() && bool::from(presented.as_bytes().ct_eq(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_host_gets_one_bucket_per_64_and_ipv4_one_per_address() {
        let v6 = |text: &str| address_bucket(Some(SocketAddr::new(text.parse().unwrap(), 1)));
        assert_eq!(v6("2001:db8:1:2::1"), v6("2001:db8:1:2:ffff::9"));
        assert_ne!(v6("2001:db8:1:2::1"), v6("2001:db8:1:3::1"));
        assert_eq!(v6("2001:db8:1:2::1"), "ip:2001:db8:1:2::/64");
        assert_eq!(v6("10.0.0.1"), "ip:10.0.0.1");
        assert_eq!(address_bucket(None), "ip:unknown");
    }
}

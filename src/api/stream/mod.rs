//! `GET /api/stream`: a WebSocket of live events for dashboards and other clients.
//!
//! Client to server (text): `{"subscribe":{"kinds":[..],"symbols":[..],"timeframes":[..]}}`,
//! each list optional (absent: all); answered `{"type":"subscribed","filter":{..}}` or
//! `{"type":"error","error":{..}}`. Before any subscription a client gets everything.
//! Server to client, one JSON event per text message (`type` says which):
//! `candle` (`symbol`, `timeframe`, `candle` as `GET /api/candles` gives it: each candle a
//! batch closes, then each timeframe's forming candle with `"closed": false`),
//! `pattern` (`symbol`, `change`: formed | changed, `pattern` as `GET /api/patterns`),
//! `signal` (`symbol`, `change`: emitted | updated | ended, `signal` as `GET /api/signals`),
//! `trade` (`portfolio_id`, `trade` as `GET /api/portfolios/{id}/trades`; only portfolios the
//! caller may see, once the change is durable), `health` (`status`, `body` as
//! `GET /api/health`; every `stream.health_interval_ms`) and `lagged` (`missed`: the server
//! fell behind and dropped events; re-read what is shown). A client more than
//! `stream.client_queue_events` behind is closed (1008, "too slow: ..."); a browser request
//! from another origin is refused (403) before the upgrade.

mod filter;
mod hub;
mod session;
mod slots;

pub use hub::{run_hub, StreamHub, StreamSettings};

use super::answer::Answer;
use super::error::ApiError;
use super::gate::{caller_route, credentials, Credentials};
use super::AppState;
use crate::auth::Principal;
use warp::filters::ws::Ws;
use warp::{Filter, Rejection, Reply};

pub fn routes(state: &AppState) -> impl Filter<Extract = (Answer,), Error = Rejection> + Clone {
    let upgrade = caller_route(
        warp::path!("api" / "stream"),
        warp::ws().and(credentials()).and(same_origin()).map(
            |ws: Ws, credentials: Credentials, same_origin: bool| (ws, credentials, same_origin),
        ),
        state,
        |caller: Principal, (ws, credentials, same_origin), state: AppState| async move {
            if !same_origin {
                let refused = ApiError::Forbidden(
                    "the stream is open to pages of this server's origin only".into(),
                );
                return refused.into_response(state.ingest.retry_after_s);
            }
            let slot = match state.stream.slots.claim(&caller.username) {
                Ok(slot) => slot,
                Err((refused, reason)) => {
                    state.metrics.refuse_stream_client(reason);
                    return refused.into_response(state.ingest.retry_after_s);
                }
            };
            ws.max_message_size(STREAM_MESSAGE_LIMIT_BYTES)
                .on_upgrade(move |socket| session::run(socket, caller, credentials, state, slot))
                .into_response()
        },
    );
    let plain = warp::path!("api" / "stream")
        .and(warp::get())
        .map(|| Answer::Ready(ApiError::upgrade_required().into_response(0)));
    upgrade.or(plain).unify()
}

/// A client message is a subscription: small.
const STREAM_MESSAGE_LIMIT_BYTES: usize = 16 * 1024;

/// Whether the request may open the stream: a browser page of another origin may not, with
/// the user's cookie (cross-site WebSocket hijacking): its `Origin` must name this server's
/// `Host`. Clients that send no `Origin` (not browsers) may.
fn same_origin() -> impl Filter<Extract = (bool,), Error = Rejection> + Clone {
    warp::header::optional::<String>("origin")
        .and(warp::header::optional::<String>("host"))
        .map(
            |origin: Option<String>, host: Option<String>| match (origin, host) {
                (None, _) => true,
                (Some(origin), Some(host)) => origin_names_host(&origin, &host),
                (Some(_), None) => false,
            },
        )
}

fn origin_names_host(origin: &str, host: &str) -> bool {
    ["http://", "https://"]
        .iter()
        .any(|scheme| origin.strip_prefix(scheme) == Some(host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_server_s_own_origin_may_open_the_stream() {
        assert!(origin_names_host("http://127.0.0.1:8080", "127.0.0.1:8080"));
        assert!(origin_names_host(
            "https://scanner.example",
            "scanner.example"
        ));
        assert!(!origin_names_host("http://evil.example", "127.0.0.1:8080"));
        assert!(!origin_names_host(
            "http://127.0.0.1:8080.evil",
            "127.0.0.1:8080"
        ));
        assert!(!origin_names_host("null", "127.0.0.1:8080"));
    }
}

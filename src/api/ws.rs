//! `GET /api/ws/ingest`: a WebSocket taking one candle batch per message and answering each
//! in order, `{"seq":N,"status":200,"report":{...}}` or `{"seq":N,"status":4xx,"error":{...}}`.
//! The next message is read only once the previous one is answered, so a fast client is
//! slowed down rather than queued without bound.

use super::candles::ingest_batch;
use super::error::ApiError;
use super::gate::{credentials, recheck, Credentials};
use super::rate_limit::RateClass;
use super::{with_state, AppState};
use crate::auth::Role;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use warp::filters::ws::{Message, WebSocket, Ws};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

pub fn routes(state: &AppState) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let upgrade = warp::path!("api" / "ws" / "ingest")
        .and(warp::ws())
        .and(credentials())
        .and(with_state(state))
        .map(|ws: Ws, credentials: Credentials, state: AppState| {
            ws.max_message_size(state.ws_message_limit_bytes)
                .on_upgrade(move |socket| session(socket, credentials, state))
                .into_response()
        });
    // A plain GET (no WebSocket upgrade) is the client's mistake: 426 naming what is missing.
    let plain = warp::path!("api" / "ws" / "ingest")
        .and(warp::get())
        .and(with_state(state))
        .map(|state: AppState| {
            ApiError::upgrade_required().into_response(state.ingest.retry_after_s)
        });
    upgrade.or(plain).unify()
}

/// Each message is checked like a request: credentials revoked, expired or demoted since
/// the upgrade close the socket (1008); a message over the ingest budget is answered 429.
async fn session(socket: WebSocket, credentials: Credentials, state: AppState) {
    let (mut outgoing, mut incoming) = socket.split();
    let mut shutting_down = state.shutting_down.clone();
    let mut seq: u64 = 0;
    loop {
        let message = tokio::select! {
            message = incoming.next() => message,
            _ = async { let _ = shutting_down.wait_for(|down| *down).await; } => {
                let _ = outgoing.send(Message::close_with(1001_u16, "server shutting down")).await;
                break;
            }
        };
        let message = match message {
            Some(Ok(message)) => message,
            Some(Err(error)) => {
                tracing::debug!(%error, "ingest websocket closed with an error");
                break;
            }
            None => break,
        };
        if message.is_close() {
            break;
        }
        if !(message.is_text() || message.is_binary()) {
            continue; // pings are answered by the protocol layer
        }
        seq += 1;
        let answer = match recheck(&credentials, &state, Role::Admin, RateClass::Ingest) {
            Ok(()) => answer(seq, message.as_bytes(), &state).await,
            Err(error) if error.status().as_u16() == 429 => error_answer(seq, &error),
            Err(error) => {
                let reason = format!("{}", error.status());
                let _ = outgoing.send(Message::close_with(1008_u16, reason)).await;
                break;
            }
        };
        if outgoing
            .send(Message::text(answer.to_string()))
            .await
            .is_err()
        {
            break;
        }
    }
}

async fn answer(seq: u64, body: &[u8], state: &AppState) -> serde_json::Value {
    match ingest_batch(body, state).await {
        Ok(report) => json!({"seq": seq, "status": 200, "report": report}),
        Err(error) => error_answer(seq, &error),
    }
}

fn error_answer(seq: u64, error: &super::error::ApiError) -> serde_json::Value {
    let mut document = error.to_json();
    document["seq"] = json!(seq);
    document["status"] = json!(error.status().as_u16());
    document
}

//! One stream client. Two halves run together: the pump takes the hub's events (and the
//! client's subscriptions) and queues what the client's filter admits; the writer sends the
//! queue to the socket. A burst (a bulk import) may fill the queue for a moment: the pump
//! waits up to `slow_client_grace_ms` for room. A client still behind then, or so far behind
//! that the hub dropped events for it, is too slow: it is closed with a reason (1008 "too
//! slow: ..."). The hub never waits for a session, so no client holds back the engine or
//! the others. Credentials are checked again every health interval: a session
//! ended, a user disabled or demoted closes the stream (1008).

use super::super::error::ApiError;
use super::super::gate::{recheck, Credentials};
use super::super::rate_limit::RateClass;
use super::super::AppState;
use super::filter::{parse_subscription, StreamFilter};
use super::hub::Published;
use crate::auth::{Principal, Role};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{mpsc, watch};
use warp::filters::ws::{Message, WebSocket};

/// Why the server ends a session: the close frame's code and reason.
type CloseReason = Option<(u16, String)>;

/// How long the close frame may take to go out to a client that has stopped reading.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// `_slot` is held for the session's life: it counts the client against the stream's bounds.
pub async fn run(
    socket: WebSocket,
    caller: Principal,
    credentials: Credentials,
    state: AppState,
    _slot: super::slots::SessionSlot,
) {
    let (sink, incoming) = socket.split();
    let (queue, queued) = mpsc::channel(state.stream.settings.client_queue_events.max(1));
    let (close, closing) = watch::channel::<CloseReason>(None);
    let pump = Pump {
        caller,
        credentials,
        state,
        filter: StreamFilter::default(),
        queue,
        close,
    };
    let metrics = std::sync::Arc::clone(&pump.state.metrics);
    metrics.count_stream_clients(1);
    tokio::join!(pump.run(incoming), write(sink, queued, closing));
    metrics.count_stream_clients(-1);
}

struct Pump {
    caller: Principal,
    credentials: Credentials,
    state: AppState,
    filter: StreamFilter,
    queue: mpsc::Sender<Arc<str>>,
    close: watch::Sender<CloseReason>,
}

impl Pump {
    async fn run(mut self, mut incoming: SplitStream<WebSocket>) {
        let mut events = self.state.stream.subscribe();
        let mut shutting_down = self.state.shutting_down.clone();
        let mut recheck_timer = tokio::time::interval(Duration::from_millis(
            self.state.stream.settings.health_interval_ms.max(100),
        ));
        let reason = loop {
            let step = tokio::select! {
                event = events.recv() => self.on_event(event).await,
                message = incoming.next() => self.on_message(message).await,
                _ = recheck_timer.tick() => self.recheck(),
                _ = async { let _ = shutting_down.wait_for(|down| *down).await; } => Err((1001, "server shutting down".into())),
            };
            if let Err(reason) = step {
                break reason;
            }
        };
        let _ = self.close.send(Some(reason));
    }

    async fn on_event(
        &mut self,
        event: Result<Arc<Published>, RecvError>,
    ) -> Result<(), (u16, String)> {
        match event {
            Ok(event) if self.wants(&event) => self.send(Arc::clone(&event.text)).await,
            Ok(_) => Ok(()),
            // The session fell so far behind that the hub dropped events for it.
            Err(RecvError::Lagged(missed)) => {
                self.state.metrics.count_stream_dropped();
                Err(too_slow(missed))
            }
            Err(RecvError::Closed) => Err((1001, "server shutting down".into())),
        }
    }

    fn wants(&self, event: &Published) -> bool {
        let visible = match &event.owner {
            Some(owner) => self.caller.may_see_owned_by(owner),
            None => true,
        };
        visible && self.filter.admits(&event.topic)
    }

    async fn on_message(
        &mut self,
        message: Option<Result<Message, warp::Error>>,
    ) -> Result<(), (u16, String)> {
        let message = match message {
            Some(Ok(message)) if message.is_close() => return Err((1000, "bye".into())),
            Some(Ok(message)) => message,
            Some(Err(_)) | None => return Err((1000, "client gone".into())),
        };
        if !(message.is_text() || message.is_binary()) {
            return Ok(()); // pings are answered by the protocol layer
        }
        let answer = match parse_subscription(message.as_bytes()) {
            Ok(filter) => {
                let answer = json!({"type": "subscribed", "filter": &filter});
                self.filter = filter;
                answer
            }
            Err(error) => refusal(&error),
        };
        self.send(Arc::from(answer.to_string())).await
    }

    fn recheck(&self) -> Result<(), (u16, String)> {
        recheck(
            &self.credentials,
            &self.state,
            Role::Viewer,
            RateClass::Default,
        )
        .or_else(|error| match error {
            ApiError::RateLimited { .. } => Ok(()),
            error => Err((
                1008,
                format!("credentials no longer valid: {}", error.status()),
            )),
        })
    }

    async fn send(&self, text: Arc<str>) -> Result<(), (u16, String)> {
        let grace = Duration::from_millis(self.state.stream.settings.slow_client_grace_ms);
        self.queue.send_timeout(text, grace).await.map_err(|_| {
            self.state.metrics.count_stream_dropped();
            too_slow(self.queue.max_capacity() as u64)
        })
    }
}

fn too_slow(behind: u64) -> (u16, String) {
    (1008, format!("too slow: {behind} events behind"))
}

fn refusal(error: &ApiError) -> serde_json::Value {
    let mut document = error.to_json();
    document["type"] = json!("error");
    document
}

/// Sends the queue in order until the pump closes the session, then the close frame (given
/// up on after [`CLOSE_TIMEOUT`] for a client that does not read).
async fn write(
    mut sink: SplitSink<WebSocket, Message>,
    mut queued: mpsc::Receiver<Arc<str>>,
    mut closing: watch::Receiver<CloseReason>,
) {
    loop {
        let next = tokio::select! {
            biased;
            _ = closing.changed() => break,
            next = queued.recv() => next,
        };
        let Some(text) = next else { break };
        let sent = tokio::select! {
            biased;
            _ = closing.changed() => break,
            sent = sink.send(Message::text(&*text)) => sent,
        };
        if sent.is_err() {
            return;
        }
    }
    let reason = closing.borrow().clone();
    if let Some((code, reason)) = reason {
        let frame = Message::close_with(code, reason);
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, sink.send(frame)).await;
    }
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, sink.close()).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_slow_names_how_far_behind() {
        assert_eq!(
            too_slow(16),
            (1008, "too slow: 16 events behind".to_owned())
        );
        let refused = refusal(&ApiError::invalid_field("subscribe.kinds", "nope"));
        assert_eq!(refused["type"], "error");
        assert_eq!(refused["error"]["field"], "subscribe.kinds");
    }
}

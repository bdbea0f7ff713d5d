//! The WebSocket side every mock exchange shares: rendered frames broadcast to every open
//! connection, each connection passing on the frames of the symbols it follows; connection
//! counters a test waits on; and the server on 127.0.0.1:0. What a connection follows, and
//! how it answers what the client sends, is the exchange's (a [`Session`]).
#![allow(dead_code)] // shared by the mocks; each uses a part.

use futures_util::{SinkExt, StreamExt};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;
use warp::filters::ws::{Message, WebSocket};

/// Frames a slow stream client may fall behind by before it is dropped, as exchanges do.
const STREAM_BACKLOG_MAX: usize = 4096;

#[derive(Debug, Clone)]
pub enum StreamEvent {
    /// A frame for the connections following `symbol` (the exchange's market name).
    Frame {
        symbol: String,
        text: String,
    },
    DropConnections,
}

pub struct StreamHub {
    events: broadcast::Sender<StreamEvent>,
    connections: AtomicU64,
    open: AtomicU64,
}

impl Default for StreamHub {
    fn default() -> StreamHub {
        StreamHub {
            events: broadcast::channel(STREAM_BACKLOG_MAX).0,
            connections: AtomicU64::new(0),
            open: AtomicU64::new(0),
        }
    }
}

impl StreamHub {
    pub fn send(&self, events: impl IntoIterator<Item = StreamEvent>) {
        for event in events {
            // No receiver is fine: nobody is connected.
            let _ = self.events.send(event);
        }
    }

    pub fn drop_connections(&self) {
        self.send([StreamEvent::DropConnections]);
    }

    /// Counts a connection accepted and returns its receiver. Called before the upgrade
    /// answers, so nothing sent after the client sees its connection open is missed.
    pub fn accept(&self) -> broadcast::Receiver<StreamEvent> {
        self.connections.fetch_add(1, Ordering::SeqCst);
        self.open.fetch_add(1, Ordering::SeqCst);
        self.events.subscribe()
    }

    /// Counts a connection ended.
    pub fn closed(&self) {
        self.open.fetch_sub(1, Ordering::SeqCst);
    }

    /// Connections accepted since the mock started.
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::SeqCst)
    }

    /// Connections open now.
    pub fn open_streams(&self) -> u64 {
        self.open.load(Ordering::SeqCst)
    }

    /// Waits (up to 5 s) until `count` stream connections are open.
    pub async fn wait_for_open_streams(&self, count: u64) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.open_streams() != count {
            assert!(
                Instant::now() < deadline,
                "{} streams open, expected {count}",
                self.open_streams()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// One connection's exchange-specific side.
pub trait Session: Send {
    /// Frames sent as soon as the connection opens (Kraken's `status`).
    fn greeting(&mut self) -> Vec<String> {
        Vec::new()
    }

    /// The answers to a text frame from the client; may change what is followed.
    fn on_text(&mut self, text: &str) -> Vec<String>;

    /// Whether frames for this market symbol are sent.
    fn follows(&self, symbol: &str) -> bool;

    /// A frame sent after this long with nothing else sent (Kraken's heartbeat).
    fn heartbeat(&self) -> Option<(Duration, String)> {
        None
    }
}

/// A session following a fixed set given in the URL (Binance's combined stream).
pub struct FixedSymbols(pub BTreeSet<String>);

impl Session for FixedSymbols {
    fn on_text(&mut self, _text: &str) -> Vec<String> {
        Vec::new()
    }

    fn follows(&self, symbol: &str) -> bool {
        self.0.contains(symbol)
    }
}

/// Runs one connection until the client leaves, the mock drops it or the client falls too far
/// behind; ends without a close frame, as a dropped connection does.
pub async fn run_session(
    socket: WebSocket,
    mut session: impl Session,
    mut events: broadcast::Receiver<StreamEvent>,
) {
    let (mut outgoing, mut incoming) = socket.split();
    for text in session.greeting() {
        if outgoing.send(Message::text(text)).await.is_err() {
            return;
        }
    }
    let (quiet, beat) = session
        .heartbeat()
        .unwrap_or((Duration::from_secs(3600), String::new()));
    loop {
        let replies = tokio::select! {
            // Frames already sent go out before the client's next request is read, so a
            // subscription starts from the moment it is read, as it does on the exchanges.
            biased;
            event = events.recv() => match event {
                Ok(StreamEvent::Frame { symbol, text }) if session.follows(&symbol) => vec![text],
                Ok(StreamEvent::Frame { .. }) => Vec::new(),
                Ok(StreamEvent::DropConnections) | Err(_) => return,
            },
            message = incoming.next() => match message {
                Some(Ok(message)) if message.is_text() => {
                    session.on_text(message.to_str().unwrap_or_default())
                }
                Some(Ok(message)) if !message.is_close() => Vec::new(), // pings are answered below us
                _ => return,
            },
            () = tokio::time::sleep(quiet) => vec![beat.clone()],
        };
        for text in replies {
            if outgoing.send(Message::text(text)).await.is_err() {
                return;
            }
        }
    }
}

/// Serves `routes` on 127.0.0.1 at a free port; returns the address and the server task.
pub async fn serve<F>(routes: F) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>)
where
    F: warp::Filter<Extract = (warp::reply::Response,), Error = warp::Rejection>
        + Clone
        + Send
        + Sync
        + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (
        addr,
        tokio::spawn(warp::serve(routes).incoming(listener).run()),
    )
}

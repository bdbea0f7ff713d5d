//! One WebSocket connection to an exchange's kline stream: subscribe, keep alive, hand out
//! text frames. Reconnecting is the caller's (`runner.rs`): a connection ends on close, on
//! error, or after `silence` without a frame.

use super::error::FeedError;
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Largest frame accepted; an exchange frame is a few hundred bytes.
const FRAME_BYTES_MAX: usize = 1 << 20;

pub struct StreamConnection {
    url: String,
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    keepalive: Option<(String, Duration)>,
    next_keepalive: Instant,
    silence: Duration,
}

impl StreamConnection {
    /// Connects and sends the subscribe frames.
    pub async fn open(
        url: &str,
        subscribe_frames: Vec<String>,
        keepalive: Option<(String, Duration)>,
        silence: Duration,
    ) -> Result<StreamConnection, FeedError> {
        let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .max_message_size(Some(FRAME_BYTES_MAX))
            .max_frame_size(Some(FRAME_BYTES_MAX));
        let (socket, _) = tokio::time::timeout(
            silence,
            tokio_tungstenite::connect_async_with_config(url, Some(config), false),
        )
        .await
        .map_err(|_| FeedError::Status {
            url: url.to_owned(),
            status: 0,
            body: "no WebSocket handshake in time".into(),
        })?
        .map_err(|source| websocket_error(url, source))?;
        let mut connection = StreamConnection {
            url: url.to_owned(),
            socket,
            next_keepalive: Instant::now()
                + keepalive.as_ref().map_or(silence, |(_, every)| *every),
            keepalive,
            silence,
        };
        for frame in subscribe_frames {
            connection.send(Message::text(frame)).await?;
        }
        Ok(connection)
    }

    /// The next text frame; None when the exchange closed the connection.
    pub async fn next_text(&mut self) -> Result<Option<String>, FeedError> {
        loop {
            let deadline = Instant::now() + self.silence;
            tokio::select! {
                message = tokio::time::timeout_at(deadline, self.socket.next()) => {
                    let Ok(message) = message else {
                        return Err(self.silent());
                    };
                    match message {
                        None | Some(Ok(Message::Close(_))) => return Ok(None),
                        Some(Ok(Message::Text(text))) => return Ok(Some(text.to_string())),
                        // tungstenite queues the pong itself; flushing sends it now.
                        Some(Ok(Message::Ping(_))) => self.flush().await?,
                        Some(Ok(_)) => {}
                        Some(Err(source)) => return Err(websocket_error(&self.url, source)),
                    }
                }
                () = tokio::time::sleep_until(self.next_keepalive), if self.keepalive.is_some() => {
                    self.send_keepalive().await?;
                }
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }

    async fn send_keepalive(&mut self) -> Result<(), FeedError> {
        if let Some((frame, every)) = self.keepalive.clone() {
            self.next_keepalive = Instant::now() + every;
            self.send(Message::text(frame)).await?;
        }
        Ok(())
    }

    async fn send(&mut self, message: Message) -> Result<(), FeedError> {
        self.socket
            .send(message)
            .await
            .map_err(|source| websocket_error(&self.url, source))
    }

    async fn flush(&mut self) -> Result<(), FeedError> {
        self.socket
            .flush()
            .await
            .map_err(|source| websocket_error(&self.url, source))
    }

    fn silent(&self) -> FeedError {
        FeedError::Status {
            url: self.url.clone(),
            status: 0,
            body: format!("no frame for {} ms", self.silence.as_millis()),
        }
    }
}

fn websocket_error(url: &str, source: tokio_tungstenite::tungstenite::Error) -> FeedError {
    FeedError::WebSocket {
        url: url.to_owned(),
        source: Box::new(source),
    }
}

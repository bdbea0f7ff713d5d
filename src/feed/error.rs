//! What can go wrong between the feed and an exchange.

use super::format::FormatError;
use cryptolens_actors::actors::EngineError;

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("{url}: {source}")]
    Http { url: String, source: reqwest::Error },
    #[error("{url} answered {status}: {body}")]
    Status {
        url: String,
        status: u16,
        body: String,
    },
    #[error(transparent)]
    Format(#[from] FormatError),
    #[error("websocket {url}: {source}")]
    WebSocket {
        url: String,
        source: Box<tokio_tungstenite::tungstenite::Error>,
    },
    #[error("{exchange} does not list {symbol}")]
    UnknownInstrument { exchange: String, symbol: String },
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("the server is shutting down")]
    ShuttingDown,
}

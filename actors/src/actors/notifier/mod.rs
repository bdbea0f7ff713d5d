//! The [`NotifierActor`]: takes the engine's new signals, keeps what each user's channels
//! want in a persistent outbox in sled, and delivers it: at least once, under a delivery id
//! that never changes (so the receiver can drop a repeat), with backoff, a circuit breaker
//! per channel and one delivery in flight per channel, so a slow or dead destination never
//! holds up the engine or another channel. What to send and what an answer means are
//! decided in `domain::notify`; the HTTP itself is the [`Transport`]'s.

mod actor;
mod alerts;
mod feed;
mod messages;
mod outbox;
mod records;
mod settings;
mod stats;
mod transport;

pub use actor::{NotifierActor, NotifierHandle};
pub use alerts::WatchedSymbols;
pub use feed::{run_signal_feed, run_trade_feed};
pub use messages::{
    AcceptSignal, ChannelChange, ChannelView, CreateAlert, CreateChannel, DeleteAlert,
    DeleteChannel, DeliveryPage, EvaluateAlerts, ListAlerts, ListChannels, ListDeliveries,
    TestChannel, TradeChanged, UpdateChannel,
};
pub use settings::NotifierSettings;
pub use stats::{NotifierStats, NotifierStatsView};
pub use transport::{SendFuture, Transport};

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum NotifierError {
    #[error("no channel {0}")]
    NoChannel(u64),
    #[error("at most {max} channels per user")]
    TooManyChannels { max: usize },
    #[error("the outbox is full ({capacity} deliveries waiting); try again later")]
    OutboxFull { capacity: usize },
    #[error("the channel is disabled")]
    Disabled,
    #[error("no alert {0}")]
    NoAlert(u64),
    #[error("at most {max} alerts per user")]
    TooManyAlerts { max: usize },
    #[error("channel {0} is not one of yours")]
    AlertChannel(u64),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the notifier is not running")]
    Stopped,
}

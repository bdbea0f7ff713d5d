//! What the notifier is asked. Owner `None` is an admin: every user's channels.

use super::NotifierError;
use crate::domain::analysis::Signal;
use crate::domain::ledger::Trade;
use crate::domain::market::{Candle, Symbol, Timeframe};
use crate::domain::notify::{
    Alert, AlertCondition, BreakerState, Channel, ChannelFilter, Delivery, Destination,
    PatternAtClose,
};
use actix::Message;

/// A newly emitted signal, from the engine's events.
#[derive(Message)]
#[rtype(result = "()")]
pub struct AcceptSignal {
    pub signal: Signal,
}

#[derive(Message)]
#[rtype(result = "Result<ChannelView, NotifierError>")]
pub struct CreateChannel {
    pub owner: String,
    pub name: String,
    pub destination: Destination,
    pub filter: ChannelFilter,
    pub enabled: bool,
}

/// What a PATCH changes; a field left None stays.
#[derive(Debug, Default)]
pub struct ChannelChange {
    pub name: Option<String>,
    pub destination: Option<Destination>,
    pub filter: Option<ChannelFilter>,
    pub enabled: Option<bool>,
}

#[derive(Message)]
#[rtype(result = "Result<ChannelView, NotifierError>")]
pub struct UpdateChannel {
    pub owner: Option<String>,
    pub id: u64,
    pub change: ChannelChange,
}

#[derive(Message)]
#[rtype(result = "Result<(), NotifierError>")]
pub struct DeleteChannel {
    pub owner: Option<String>,
    pub id: u64,
}

#[derive(Message)]
#[rtype(result = "Vec<ChannelView>")]
pub struct ListChannels {
    pub owner: Option<String>,
}

/// Puts a test message in the outbox of channel `id`; answers its delivery.
#[derive(Message)]
#[rtype(result = "Result<Delivery, NotifierError>")]
pub struct TestChannel {
    pub owner: Option<String>,
    pub id: u64,
}

#[derive(Message)]
#[rtype(result = "DeliveryPage")]
pub struct ListDeliveries {
    pub owner: Option<String>,
    pub channel: Option<u64>,
    pub limit: usize,
    pub offset: usize,
}

#[derive(Debug, Clone)]
pub struct ChannelView {
    pub channel: Channel,
    pub breaker: BreakerState,
    pub consecutive_failures: u32,
    pub pending: usize,
}

#[derive(Debug, Clone)]
pub struct DeliveryPage {
    pub total: usize,
    /// Newest first.
    pub deliveries: Vec<Delivery>,
}

/// A new alert of `owner`'s; `channel_ids` must be theirs (empty: every enabled channel).
#[derive(Message)]
#[rtype(result = "Result<Alert, NotifierError>")]
pub struct CreateAlert {
    pub owner: String,
    pub name: String,
    pub condition: AlertCondition,
    pub rearm: bool,
    pub channel_ids: Vec<u64>,
}

#[derive(Message)]
#[rtype(result = "Vec<Alert>")]
pub struct ListAlerts {
    pub owner: Option<String>,
}

#[derive(Message)]
#[rtype(result = "Result<(), NotifierError>")]
pub struct DeleteAlert {
    pub owner: Option<String>,
    pub id: u64,
}

/// A batch of `symbol`'s closed base candles with the patterns their closes formed, as the
/// exit backlog handed it on (in order; a batch may come twice).
#[derive(Message)]
#[rtype(result = "()")]
pub struct EvaluateAlerts {
    pub symbol: Symbol,
    pub base: Timeframe,
    pub candles: Vec<Candle>,
    pub patterns: Vec<PatternAtClose>,
}

/// A durable trade change that can fire a trade alert.
#[derive(Message)]
#[rtype(result = "()")]
pub struct TradeChanged {
    pub portfolio_id: u64,
    pub trade: Trade,
}

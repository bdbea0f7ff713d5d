//! Notifications, decided: which signals a channel wants ([`filter`]), what the message says
//! and how each service wants it sent ([`message`], [`request`]), what a receiver's answer
//! means ([`answer`]), when to try again ([`retry`]) and when to stop trying a destination
//! for a while ([`breaker`]). The notifier actor carries these out; the clock is passed in.

pub mod alert;
pub mod alert_book;
pub mod answer;
pub mod breaker;
pub mod channel;
pub mod delivery;
pub mod filter;
pub mod message;
pub mod request;
pub mod retry;
#[cfg(test)]
pub(crate) mod sample_signal;

pub use alert::{
    trade_may_alert, Alert, AlertCondition, AlertWatch, CrossDirection, Firing, MoveDirection,
    TradeAlertEvent,
};
pub use alert_book::{AlertBook, Fired, PatternAtClose};
pub use answer::{judge_answer, AttemptOutcome, ReceiverAnswer};
pub use breaker::{Breaker, BreakerSettings, BreakerState};
pub use channel::{Channel, Destination, SecretText};
pub use delivery::{Delivery, DeliveryStatus};
pub use filter::{ChannelFilter, FilterMiss, QuietHours};
pub use message::Message;
pub use request::{
    request_for, EmailRequest, HttpRequest, Outgoing, DELIVERY_HEADER, SIGNATURE_HEADER,
};
pub use retry::RetryPolicy;

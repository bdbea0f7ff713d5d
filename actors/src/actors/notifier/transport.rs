//! How a request reaches a receiver: the server's HTTP and SMTP clients (with their SSRF
//! rules) in production, the same clients in tests against mock receivers on loopback.

use crate::domain::notify::{Outgoing, ReceiverAnswer};
use std::future::Future;
use std::pin::Pin;

pub type SendFuture = Pin<Box<dyn Future<Output = ReceiverAnswer> + Send>>;

pub trait Transport: Send + Sync + 'static {
    /// Sends `request` and answers what came back; never panics, never outlives its time
    /// limit (a timeout is an answer without a status).
    fn send(&self, request: Outgoing) -> SendFuture;
}

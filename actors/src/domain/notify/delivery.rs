//! One message on its way to one channel: pending until the receiver takes it, then
//! delivered, or failed once retrying cannot help or the retries are used up. Its id is
//! derived from the channel and the subject, so the same signal gets the same id on every
//! attempt and after any restart (the receiver's dedupe key) and a second acceptance of it
//! is recognised as a repeat.

use super::answer::AttemptOutcome;
use super::message::Message;
use super::retry::RetryPolicy;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: String,
    pub channel_id: u64,
    pub owner: String,
    pub message: Message,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub accepted_at_ms: i64,
    pub next_attempt_at_ms: i64,
    pub finished_at_ms: Option<i64>,
    pub last_error: Option<String>,
}

impl Delivery {
    pub fn id_for(channel_id: u64, subject: &str) -> String {
        format!("c{channel_id}-{subject}")
    }

    pub fn accept(channel_id: u64, owner: &str, message: Message, now_ms: i64) -> Delivery {
        Delivery {
            id: Delivery::id_for(channel_id, &message.subject),
            channel_id,
            owner: owner.into(),
            message,
            status: DeliveryStatus::Pending,
            attempts: 0,
            accepted_at_ms: now_ms,
            next_attempt_at_ms: now_ms,
            finished_at_ms: None,
            last_error: None,
        }
    }

    pub fn is_due(&self, now_ms: i64) -> bool {
        self.status == DeliveryStatus::Pending && self.next_attempt_at_ms <= now_ms
    }

    /// Applies one attempt's outcome; `draw` is a uniform number in [0, 1) for the jitter.
    pub fn record(
        &mut self,
        outcome: &AttemptOutcome,
        now_ms: i64,
        policy: &RetryPolicy,
        draw: f64,
    ) {
        self.attempts = self.attempts.saturating_add(1);
        let (retry_after_ms, error) = match outcome {
            AttemptOutcome::Delivered => {
                self.finish(DeliveryStatus::Delivered, now_ms, None);
                return;
            }
            AttemptOutcome::Permanent { error } => {
                self.finish(DeliveryStatus::Failed, now_ms, Some(error.clone()));
                return;
            }
            AttemptOutcome::Throttled {
                retry_after_ms,
                error,
            }
            | AttemptOutcome::Transient {
                retry_after_ms,
                error,
            } => (*retry_after_ms, error),
        };
        if policy.gives_up_after(self.attempts) {
            self.finish(DeliveryStatus::Failed, now_ms, Some(error.clone()));
            return;
        }
        let delay_ms = policy.delay_ms(self.attempts, retry_after_ms, draw);
        self.next_attempt_at_ms =
            now_ms.saturating_add(i64::try_from(delay_ms).unwrap_or(i64::MAX));
        self.last_error = Some(error.clone());
    }

    fn finish(&mut self, status: DeliveryStatus, now_ms: i64, error: Option<String>) {
        self.status = status;
        self.finished_at_ms = Some(now_ms);
        if error.is_some() {
            self.last_error = error;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::sample_signal::sample_signal;
    use super::*;

    fn pending() -> Delivery {
        let message = Message::for_signal(&sample_signal(5), "http://x");
        Delivery::accept(7, "ana", message, 1_000)
    }

    const POLICY: RetryPolicy = RetryPolicy {
        base_ms: 1_000,
        max_ms: 60_000,
        max_attempts: 3,
    };

    #[test]
    fn the_id_is_the_channel_and_subject_so_a_repeat_has_the_same_id() {
        assert_eq!(pending().id, "c7-BTCUSDT-bullish-5");
        assert_eq!(pending().id, Delivery::id_for(7, "BTCUSDT-bullish-5"));
        assert!(pending().is_due(1_000));
    }

    #[test]
    fn transient_failures_back_off_then_give_up_at_the_last_attempt() {
        let mut delivery = pending();
        let failure = AttemptOutcome::Transient {
            retry_after_ms: None,
            error: "HTTP 500: oops".into(),
        };
        delivery.record(&failure, 2_000, &POLICY, 0.0);
        assert_eq!(delivery.status, DeliveryStatus::Pending);
        assert_eq!(delivery.next_attempt_at_ms, 2_500);
        assert!(!delivery.is_due(2_499));
        delivery.record(&failure, 3_000, &POLICY, 0.0);
        assert_eq!(delivery.next_attempt_at_ms, 4_000);
        delivery.record(&failure, 4_000, &POLICY, 0.0);
        assert_eq!(delivery.status, DeliveryStatus::Failed);
        assert_eq!(delivery.attempts, 3);
        assert_eq!(delivery.last_error.as_deref(), Some("HTTP 500: oops"));
        assert!(!delivery.is_due(i64::MAX));
    }

    #[test]
    fn throttling_waits_for_retry_after_and_success_delivers() {
        let mut delivery = pending();
        let throttled = AttemptOutcome::Throttled {
            retry_after_ms: Some(9_000),
            error: "HTTP 429".into(),
        };
        delivery.record(&throttled, 2_000, &POLICY, 0.9);
        assert_eq!(delivery.next_attempt_at_ms, 11_000);
        delivery.record(&AttemptOutcome::Delivered, 11_000, &POLICY, 0.0);
        assert_eq!(delivery.status, DeliveryStatus::Delivered);
        assert_eq!(delivery.finished_at_ms, Some(11_000));
    }

    #[test]
    fn a_permanent_refusal_fails_at_once() {
        let mut delivery = pending();
        let refusal = AttemptOutcome::Permanent {
            error: "HTTP 404: no such topic".into(),
        };
        delivery.record(&refusal, 2_000, &POLICY, 0.0);
        assert_eq!(delivery.status, DeliveryStatus::Failed);
        assert_eq!(delivery.attempts, 1);
    }
}

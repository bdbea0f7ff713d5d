use crate::domain::notify::{BreakerSettings, RetryPolicy};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifierSettings {
    /// Where the trader's phone reaches the dashboard: the base of every click URL.
    pub dashboard_url: String,
    /// Private, loopback and link-local destinations are refused unless this is set.
    pub allow_private_destinations: bool,
    /// Deliveries waiting at once, over all channels; beyond it new ones are dropped
    /// (counted in the metrics) rather than growing without bound.
    pub outbox_capacity: usize,
    /// Finished deliveries kept per channel (history and dedupe memory).
    pub history_per_channel: usize,
    pub channels_per_user_max: usize,
    pub alerts_per_user_max: usize,
    /// Deliveries on the wire at once, over all channels (one per channel at most).
    pub in_flight_max: usize,
    /// A signal older than this when it arrives (history being imported) is not pushed.
    pub max_signal_age_ms: i64,
    /// One attempt's time limit, connecting included.
    pub request_timeout_ms: u64,
    /// A PEM file of a certificate authority to trust for SMTP servers beside the system's
    /// (a private CA; the tests' mock server).
    pub smtp_root_certificate: Option<String>,
    /// How often due retries are looked for.
    pub tick_ms: u64,
    pub retry: RetryPolicy,
    pub breaker: BreakerSettings,
}

impl Default for NotifierSettings {
    fn default() -> NotifierSettings {
        NotifierSettings {
            dashboard_url: "http://localhost:8080".into(),
            allow_private_destinations: false,
            outbox_capacity: 10_000,
            history_per_channel: 1_000,
            channels_per_user_max: 20,
            alerts_per_user_max: 200,
            in_flight_max: 64,
            max_signal_age_ms: 3_600_000,
            request_timeout_ms: 5_000,
            smtp_root_certificate: None,
            tick_ms: 100,
            retry: RetryPolicy::default(),
            breaker: BreakerSettings::default(),
        }
    }
}

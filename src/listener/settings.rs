//! `[connections]`: the HTTP listener's timeouts and budgets.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ConnectionSettings {
    /// A client must send a request's whole header within this time, else the connection
    /// is closed (slow clients cannot hold a connection open by trickling bytes).
    pub header_read_timeout_ms: u64,
    /// A kept-alive connection with no request in flight is closed after this long.
    pub idle_timeout_ms: u64,
    /// Connections open at once; a connection over it is closed as soon as it is accepted.
    pub max_open: usize,
    /// Connections open at once from one client address.
    pub max_per_address: usize,
}

impl Default for ConnectionSettings {
    fn default() -> ConnectionSettings {
        ConnectionSettings {
            header_read_timeout_ms: 5_000,
            idle_timeout_ms: 15_000,
            max_open: 4_096,
            max_per_address: 256,
        }
    }
}

impl ConnectionSettings {
    /// The name of a setting that is zero (every one must be at least 1).
    pub fn zero_setting(&self) -> Option<&'static str> {
        [
            (
                "connections.header_read_timeout_ms",
                self.header_read_timeout_ms,
            ),
            ("connections.idle_timeout_ms", self.idle_timeout_ms),
            ("connections.max_open", self.max_open as u64),
            ("connections.max_per_address", self.max_per_address as u64),
        ]
        .into_iter()
        .find(|(_, value)| *value == 0)
        .map(|(name, _)| name)
    }
}

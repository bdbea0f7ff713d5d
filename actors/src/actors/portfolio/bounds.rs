//! How much the portfolios may hold per user and per portfolio, and what they hold now.

use std::sync::atomic::{AtomicU64, Ordering};

/// The bounds, from `[engine]` in the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortfolioBounds {
    /// Portfolios one user may own; creating one more answers `LimitReached`.
    pub portfolios_per_user_max: usize,
    /// How long a request's idempotency key answers at least.
    pub idempotency_key_ttl_ms: i64,
    /// Request keys kept per portfolio; beyond it the oldest is forgotten.
    pub idempotency_keys_per_portfolio_max: usize,
}

impl Default for PortfolioBounds {
    fn default() -> Self {
        PortfolioBounds {
            portfolios_per_user_max: 100,
            idempotency_key_ttl_ms: 24 * 60 * 60 * 1000,
            idempotency_keys_per_portfolio_max: 10_000,
        }
    }
}

/// Idempotency keys held by every portfolio together, and forgotten since start.
#[derive(Debug, Default)]
pub struct KeyCounters {
    held: AtomicU64,
    forgotten: AtomicU64,
}

impl KeyCounters {
    pub fn held(&self) -> u64 {
        self.held.load(Ordering::Relaxed)
    }

    pub fn forgotten(&self) -> u64 {
        self.forgotten.load(Ordering::Relaxed)
    }

    pub(super) fn add_held(&self, count: u64) {
        self.held.fetch_add(count, Ordering::Relaxed);
    }

    pub(super) fn remove_held(&self, count: u64) {
        self.held.fetch_sub(count, Ordering::Relaxed);
    }

    pub(super) fn add_forgotten(&self) {
        self.forgotten.fetch_add(1, Ordering::Relaxed);
    }
}

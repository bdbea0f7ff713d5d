use super::portfolio::PortfolioBounds;
use serde::{Deserialize, Serialize};

/// Tuning of the actor engine, the `[engine]` section of `config/default.toml`, which
/// documents each value.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EngineSettings {
    /// Arbiters (threads) the symbol actors are spread over; 0 means one per CPU core.
    pub shards: usize,
    /// Messages a symbol actor may have waiting before ingest answers "busy".
    pub mailbox_capacity: usize,
    /// Closed candles kept per symbol and timeframe.
    pub ring_capacity: usize,
    /// Symbols the server will track at most.
    pub symbols_max: usize,
    /// How long a request waits for a symbol actor's answer.
    pub request_timeout_ms: u64,
    /// How often an idle actor proves it is alive.
    pub heartbeat_interval_ms: u64,
    /// Market events buffered for each slow subscriber before it is told it lagged.
    pub event_capacity: usize,
    /// How often changed symbol states are snapshotted to the store: the most a crash loses.
    pub snapshot_interval_ms: u64,
    /// Closed base candles kept per symbol for the portfolio exit feed until it has handed
    /// them on; past it the oldest is dropped (logged at error and counted).
    pub exit_backlog_candles_max: usize,
    /// Paper portfolios one user may own.
    pub portfolios_per_user_max: usize,
    /// How long a request's `Idempotency-Key` answers at least.
    pub idempotency_key_ttl_s: u64,
    /// Request idempotency keys kept per portfolio; beyond it the oldest is forgotten.
    pub idempotency_keys_per_portfolio_max: usize,
    /// sled's page cache: the store is read whole at start, then mostly written, so a small
    /// cache costs little and keeps memory per symbol flat.
    pub store_cache_mib: u64,
    /// Free disk space the store keeps: below it, trades, snapshots and account changes are
    /// refused (507) until space is freed; exits still use it. 0 turns the check off.
    pub store_disk_reserve_mib: u64,
}

impl EngineSettings {
    /// The number of arbiters to start: `shards`, or the core count when it is 0.
    pub fn shard_count(&self) -> usize {
        match self.shards {
            0 => std::thread::available_parallelism().map_or(2, usize::from),
            shards => shards,
        }
    }

    pub fn portfolio_bounds(&self) -> PortfolioBounds {
        PortfolioBounds {
            portfolios_per_user_max: self.portfolios_per_user_max,
            idempotency_key_ttl_ms: i64::try_from(self.idempotency_key_ttl_s.saturating_mul(1000))
                .unwrap_or(i64::MAX),
            idempotency_keys_per_portfolio_max: self.idempotency_keys_per_portfolio_max,
        }
    }
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings {
            shards: 0,
            mailbox_capacity: 256,
            ring_capacity: 1000,
            symbols_max: 5000,
            request_timeout_ms: 10_000,
            heartbeat_interval_ms: 1000,
            event_capacity: 4096,
            snapshot_interval_ms: 5000,
            exit_backlog_candles_max: 200_000,
            portfolios_per_user_max: 100,
            idempotency_key_ttl_s: 86_400,
            idempotency_keys_per_portfolio_max: 10_000,
            store_cache_mib: 32,
            store_disk_reserve_mib: 64,
        }
    }
}

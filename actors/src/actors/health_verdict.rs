//! The health verdict: one word for the whole engine, decided from the actor reports.
//!
//! The rule: the engine is `unhealthy` when it is not ready or a symbol actor has stopped
//! beating (its last heartbeat is more than [`HEARTBEAT_INTERVALS_STALE`] intervals old);
//! `degraded` when stored values failed verification, snapshot writes failed, actors were
//! restarted or a symbol followed from an exchange is stale (no closed candle for its
//! staleness limit); `healthy` otherwise. Pure: the reports and the time are passed in, so every
//! branch is tested without a runtime.

use super::health::ActorHealthView;
use crate::domain::market::Symbol;
use serde::Serialize;

/// An actor whose heartbeat is this many intervals old is stuck.
pub const HEARTBEAT_INTERVALS_STALE: i64 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Healthy,
    Degraded,
    Unhealthy,
}

/// What the verdict is decided from.
#[derive(Debug, Clone, Copy)]
pub struct HealthReports<'a> {
    /// Start-up is done and shutdown has not begun.
    pub ready: bool,
    pub actors: &'a [ActorHealthView],
    /// Stored values that failed verification at start-up.
    pub store_problems: usize,
    /// Whether the last snapshot round failed (a disk that filled and was freed again is
    /// healthy once a round succeeds; the failures stay counted in the metrics).
    pub snapshot_failing: bool,
    /// Whether the store's disk is below its reserve (client writes refused).
    pub disk_full: bool,
    pub heartbeat_interval_ms: u64,
    /// Symbols followed from an exchange whose candles stopped arriving.
    pub stale_symbols: &'a [Symbol],
}

/// The verdict and the findings it rests on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthVerdict {
    pub status: HealthStatus,
    /// Symbols whose actor stopped beating.
    pub stuck: Vec<Symbol>,
    /// Restarts summed over every symbol actor.
    pub restarts: u64,
    /// Time since the newest ingest that changed a candle, if any did.
    pub last_ingest_age_ms: Option<i64>,
}

impl HealthReports<'_> {
    /// The verdict at `now_ms`.
    pub fn verdict(&self, now_ms: i64) -> HealthVerdict {
        let stuck = self.stuck_actors(now_ms);
        let restarts = self.actors.iter().map(|actor| actor.restarts).sum();
        let status = if !self.ready || !stuck.is_empty() {
            HealthStatus::Unhealthy
        } else if self.store_problems > 0
            || self.snapshot_failing
            || self.disk_full
            || restarts > 0
            || !self.stale_symbols.is_empty()
        {
            HealthStatus::Degraded
        } else {
            HealthStatus::Healthy
        };
        let last_ingest_ms = self
            .actors
            .iter()
            .filter_map(|actor| actor.last_ingest_at_ms)
            .max();
        HealthVerdict {
            status,
            stuck,
            restarts,
            last_ingest_age_ms: last_ingest_ms.map(|at_ms| now_ms.saturating_sub(at_ms)),
        }
    }

    fn stuck_actors(&self, now_ms: i64) -> Vec<Symbol> {
        let interval_ms = i64::try_from(self.heartbeat_interval_ms).unwrap_or(i64::MAX);
        let stale_after_ms = HEARTBEAT_INTERVALS_STALE.saturating_mul(interval_ms);
        self.actors
            .iter()
            .filter(|actor| {
                actor
                    .last_heartbeat_ms
                    .is_some_and(|at_ms| now_ms.saturating_sub(at_ms) > stale_after_ms)
            })
            .map(|actor| actor.symbol.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::market::{IngestTally, Timeframe};

    const NOW_MS: i64 = 1_000_000;
    const INTERVAL_MS: u64 = 100;

    fn actor(name: &str, last_heartbeat_ms: Option<i64>) -> ActorHealthView {
        ActorHealthView {
            symbol: Symbol::parse(name).unwrap(),
            base_timeframe: Timeframe::M1,
            shard: 0,
            mailbox_len: 0,
            mailbox_capacity: 8,
            processed: 0,
            restarts: 0,
            candles: IngestTally::default(),
            patterns_formed: 0,
            signals_emitted: 0,
            last_candle_open_time_ms: None,
            first_candle_open_time_ms: None,
            last_heartbeat_ms,
            last_ingest_at_ms: None,
            lag_ms: 0,
            exit_backlog_candles: 0,
            exit_candles_dropped: 0,
            exit_last_handed_open_time_ms: None,
        }
    }

    fn reports(actors: &[ActorHealthView]) -> HealthReports<'_> {
        HealthReports {
            ready: true,
            actors,
            store_problems: 0,
            snapshot_failing: false,
            disk_full: false,
            heartbeat_interval_ms: INTERVAL_MS,
            stale_symbols: &[],
        }
    }

    #[test]
    fn healthy_with_no_actors_or_with_beating_ones() {
        assert_eq!(reports(&[]).verdict(NOW_MS).status, HealthStatus::Healthy);
        let actors = [actor("BTCUSDT", Some(NOW_MS - 50))];
        let verdict = reports(&actors).verdict(NOW_MS);
        assert_eq!(verdict.status, HealthStatus::Healthy);
        assert!(verdict.stuck.is_empty());
        assert_eq!(verdict.restarts, 0);
        assert_eq!(verdict.last_ingest_age_ms, None);
    }

    #[test]
    fn unhealthy_when_not_ready() {
        let verdict = HealthReports {
            ready: false,
            ..reports(&[])
        }
        .verdict(NOW_MS);
        assert_eq!(verdict.status, HealthStatus::Unhealthy);
    }

    #[test]
    fn unhealthy_when_a_heartbeat_is_more_than_ten_intervals_old() {
        let stale_ms = HEARTBEAT_INTERVALS_STALE * INTERVAL_MS as i64;
        let actors = [
            actor("BTCUSDT", Some(NOW_MS - stale_ms)),
            actor("ETHUSDT", Some(NOW_MS - stale_ms - 1)),
            actor("SOLUSDT", None),
        ];
        let verdict = reports(&actors).verdict(NOW_MS);
        assert_eq!(verdict.status, HealthStatus::Unhealthy);
        assert_eq!(verdict.stuck, vec![Symbol::parse("ETHUSDT").unwrap()]);
    }

    #[test]
    fn a_stuck_actor_outranks_degradation() {
        let mut stuck = actor("BTCUSDT", Some(0));
        stuck.restarts = 2;
        let actors = [stuck];
        let verdict = HealthReports {
            store_problems: 1,
            ..reports(&actors)
        }
        .verdict(NOW_MS);
        assert_eq!(verdict.status, HealthStatus::Unhealthy);
        assert_eq!(verdict.restarts, 2);
    }

    #[test]
    fn degraded_on_store_problems_snapshot_failures_or_restarts() {
        let problems = HealthReports {
            store_problems: 1,
            ..reports(&[])
        };
        assert_eq!(problems.verdict(NOW_MS).status, HealthStatus::Degraded);
        let failures = HealthReports {
            snapshot_failing: true,
            ..reports(&[])
        };
        assert_eq!(failures.verdict(NOW_MS).status, HealthStatus::Degraded);
        let mut restarted = actor("BTCUSDT", Some(NOW_MS));
        restarted.restarts = 1;
        let mut calm = actor("ETHUSDT", Some(NOW_MS));
        calm.restarts = 2;
        let actors = [restarted, calm];
        let verdict = reports(&actors).verdict(NOW_MS);
        assert_eq!(verdict.status, HealthStatus::Degraded);
        assert_eq!(verdict.restarts, 3);
        let stale = [Symbol::parse("SOLUSDT").unwrap()];
        let stale_feed = HealthReports {
            stale_symbols: &stale,
            ..reports(&[])
        };
        assert_eq!(stale_feed.verdict(NOW_MS).status, HealthStatus::Degraded);
    }

    #[test]
    fn the_last_ingest_age_is_measured_from_the_newest_ingest() {
        let mut older = actor("BTCUSDT", Some(NOW_MS));
        older.last_ingest_at_ms = Some(NOW_MS - 900);
        let mut newer = actor("ETHUSDT", Some(NOW_MS));
        newer.last_ingest_at_ms = Some(NOW_MS - 40);
        let actors = [older, newer, actor("SOLUSDT", Some(NOW_MS))];
        assert_eq!(
            reports(&actors).verdict(NOW_MS).last_ingest_age_ms,
            Some(40)
        );
    }

    #[test]
    fn the_status_renders_as_a_lowercase_word() {
        let words = [
            HealthStatus::Healthy,
            HealthStatus::Degraded,
            HealthStatus::Unhealthy,
        ]
        .map(|status| serde_json::to_string(&status).unwrap());
        assert_eq!(words, ["\"healthy\"", "\"degraded\"", "\"unhealthy\""]);
    }
}

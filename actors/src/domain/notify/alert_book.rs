//! Every user's alerts, run over what the engine hands on: a symbol's closed base candles with
//! the patterns their closes formed, and durable trade changes. Pure: the notifier persists
//! the alerts that fired and sends their messages.
//!
//! Rule: a batch is evaluated candle by candle, oldest first; at each candle an alert first
//! sees the patterns formed at its close (and those of candles missing from the batch since
//! the previous one), then the candle. An alert skips a candle it has already evaluated, so a
//! batch handed on twice fires nothing twice, and a one-shot alert that fired on a pattern
//! does not fire again on the same candle.

use super::alert::{Alert, AlertWatch, Firing};
use crate::domain::analysis::Pattern;
use crate::domain::ledger::Trade;
use crate::domain::market::{Candle, Symbol, Timeframe};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A pattern formed at the close of the base candle opening at `candle_open_time_ms`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatternAtClose {
    pub candle_open_time_ms: i64,
    pub pattern: Pattern,
}

/// An alert as it is after it fired, and what it says.
#[derive(Debug, Clone, PartialEq)]
pub struct Fired {
    pub alert: Alert,
    pub firing: Firing,
}

#[derive(Debug, Default)]
pub struct AlertBook {
    alerts: BTreeMap<u64, Alert>,
    /// In memory only: after a restart a cross or a move is judged from the next candle on.
    watches: HashMap<u64, AlertWatch>,
}

impl AlertBook {
    pub fn restore(alerts: Vec<Alert>) -> AlertBook {
        AlertBook {
            alerts: alerts.into_iter().map(|alert| (alert.id, alert)).collect(),
            watches: HashMap::new(),
        }
    }

    pub fn next_id(&self) -> u64 {
        self.alerts.keys().next_back().map_or(1, |last| last + 1)
    }

    pub fn insert(&mut self, alert: Alert) {
        self.watches.remove(&alert.id);
        self.alerts.insert(alert.id, alert);
    }

    /// `owner`'s alert `id` (`None`: anyone's).
    pub fn get(&self, owner: Option<&str>, id: u64) -> Option<&Alert> {
        self.alerts
            .get(&id)
            .filter(|alert| owner.is_none_or(|owner| alert.owner == owner))
    }

    pub fn remove(&mut self, id: u64) -> Option<Alert> {
        self.watches.remove(&id);
        self.alerts.remove(&id)
    }

    /// `owner`'s alerts (`None`: everyone's), by id.
    pub fn list(&self, owner: Option<&str>) -> Vec<Alert> {
        self.alerts
            .values()
            .filter(|alert| owner.is_none_or(|owner| alert.owner == owner))
            .cloned()
            .collect()
    }

    pub fn owned_by(&self, owner: &str) -> usize {
        self.alerts
            .values()
            .filter(|alert| alert.owner == owner)
            .count()
    }

    /// The symbols an active alert watches: only their batches need to reach the notifier.
    pub fn watched_symbols(&self) -> BTreeSet<Symbol> {
        self.alerts
            .values()
            .filter(|alert| alert.active)
            .filter_map(|alert| alert.condition.symbol().cloned())
            .collect()
    }

    /// Runs `symbol`'s batch (candles oldest first, `patterns` riding them) through every
    /// alert on it; answers the firings in order.
    pub fn on_batch(
        &mut self,
        symbol: &Symbol,
        base: Timeframe,
        candles: &[Candle],
        patterns: &[PatternAtClose],
    ) -> Vec<Fired> {
        let mut fired = Vec::new();
        for (id, alert) in &mut self.alerts {
            if !alert.active || alert.condition.symbol() != Some(symbol) {
                continue;
            }
            let watch = self.watches.entry(*id).or_default();
            let mut riders = patterns.iter().peekable();
            for candle in candles {
                let skipped = alert
                    .evaluated_through_ms
                    .is_some_and(|through| candle.open_time_ms <= through);
                while let Some(rider) =
                    riders.next_if(|rider| rider.candle_open_time_ms <= candle.open_time_ms)
                {
                    if skipped {
                        continue;
                    }
                    if let Some(firing) = alert.on_pattern(symbol, &rider.pattern) {
                        fired.push(Fired {
                            alert: alert.clone(),
                            firing,
                        });
                    }
                }
                if let Some(firing) = alert.on_candle(watch, symbol, base, candle) {
                    fired.push(Fired {
                        alert: alert.clone(),
                        firing,
                    });
                }
            }
        }
        fired
    }

    /// Runs a durable change of a trade of portfolio `portfolio_id` through every alert.
    pub fn on_trade(&mut self, portfolio_id: u64, trade: &Trade, now_ms: i64) -> Vec<Fired> {
        self.alerts
            .values_mut()
            .filter_map(|alert| {
                let firing = alert.on_trade(portfolio_id, trade, now_ms)?;
                Some(Fired {
                    alert: alert.clone(),
                    firing,
                })
            })
            .collect()
    }
}

#[cfg(test)]
#[path = "alert_book_tests.rs"]
mod tests;

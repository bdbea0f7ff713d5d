//! Trade changes for live readers (the dashboard's stream) and for the notifier's trade
//! alerts: a trade is announced once the record of its change is durable, so no reader sees
//! a change a crash could take back. The live channel is a broadcast: a reader that falls
//! behind misses announcements, never ledger entries, and re-reads the portfolio. The alert
//! tap carries only the changes that can fire an alert (a pending order's fill, a stop hit),
//! which are few, to a reader that forwards each one to the notifier as fast as it takes them;
//! it is bounded like every queue, and a change that finds it full is logged and counted in
//! the notifier's `missed_events` (never in practice: it would take
//! [`TRADE_ALERT_TAP_CAPACITY`] fills and stops faster than the notifier handles them).

use crate::actors::notifier::NotifierStats;
use crate::domain::ledger::Trade;
use crate::domain::notify::trade_may_alert;
use std::sync::{Arc, OnceLock};
use tokio::sync::{broadcast, mpsc};

/// Announcements kept for readers that fall behind; older ones are dropped for them.
pub const TRADE_EVENT_CAPACITY: usize = 1024;
/// Alertable changes waiting for the notifier's forwarder.
pub const TRADE_ALERT_TAP_CAPACITY: usize = 10_000;

/// A trade of a portfolio, as it is after a durable change.
#[derive(Debug, Clone, PartialEq)]
pub struct TradeEvent {
    pub portfolio_id: u64,
    pub trade: Trade,
}

/// Where durable trade changes go: the live broadcast, and the alert tap once the notifier
/// has opened it (shared by every portfolio actor, so actors started before it see it).
#[derive(Debug, Clone)]
pub struct TradeOutlets {
    pub live: broadcast::Sender<TradeEvent>,
    pub alerts: Arc<OnceLock<AlertTap>>,
}

/// The sending end of the alert tap, and where what it could not take is counted.
#[derive(Debug)]
pub struct AlertTap {
    sender: mpsc::Sender<TradeEvent>,
    stats: Arc<NotifierStats>,
}

impl TradeOutlets {
    pub fn new() -> TradeOutlets {
        TradeOutlets {
            live: broadcast::channel(TRADE_EVENT_CAPACITY).0,
            alerts: Arc::new(OnceLock::new()),
        }
    }

    /// Opens the alert tap, counting what it misses in `stats`; `None` if already open.
    pub fn open_alert_tap(&self, stats: Arc<NotifierStats>) -> Option<mpsc::Receiver<TradeEvent>> {
        let (sender, receiver) = mpsc::channel(TRADE_ALERT_TAP_CAPACITY);
        self.alerts
            .set(AlertTap { sender, stats })
            .ok()
            .map(|()| receiver)
    }
}

impl Default for TradeOutlets {
    fn default() -> TradeOutlets {
        TradeOutlets::new()
    }
}

impl AlertTap {
    fn send(&self, event: TradeEvent) {
        match self.sender.try_send(event) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(event)) => {
                tracing::warn!(
                    portfolio = event.portfolio_id,
                    trade = event.trade.id,
                    "the trade alert tap is full; this change fires no alert"
                );
                NotifierStats::count(&self.stats.missed_events, 1);
            }
            // Closed only once the notifier stopped: nothing is left to tell.
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }
}

/// A change waiting for its flush: its record's sequence number, the trade, and whether the
/// alert tap wants it.
#[derive(Debug)]
struct Waiting {
    seq: u64,
    trade: Trade,
    for_alerts: bool,
}

/// One portfolio actor's announcements: held with the sequence number of their record until
/// a flush covers it.
#[derive(Debug)]
pub struct TradeAnnouncer {
    portfolio_id: u64,
    outlets: TradeOutlets,
    waiting: Vec<Waiting>,
}

impl TradeAnnouncer {
    pub fn new(portfolio_id: u64, outlets: TradeOutlets) -> TradeAnnouncer {
        TradeAnnouncer {
            portfolio_id,
            outlets,
            waiting: Vec::new(),
        }
    }

    /// `trade` as its change logged at `seq` left it; kept only while someone wants it.
    pub fn changed(&mut self, seq: u64, trade: &Trade) {
        let for_alerts = self.outlets.alerts.get().is_some() && trade_may_alert(trade);
        if for_alerts || self.outlets.live.receiver_count() > 0 {
            self.waiting.push(Waiting {
                seq,
                trade: trade.clone(),
                for_alerts,
            });
        }
    }

    /// Everything logged at or before `durable_seq` is durable: announce it, in order.
    pub fn durable(&mut self, durable_seq: u64) {
        let split = self
            .waiting
            .partition_point(|waiting| waiting.seq <= durable_seq);
        for waiting in self.waiting.drain(..split) {
            let event = TradeEvent {
                portfolio_id: self.portfolio_id,
                trade: waiting.trade,
            };
            if waiting.for_alerts {
                if let Some(tap) = self.outlets.alerts.get() {
                    tap.send(event.clone());
                }
            }
            let _ = self.outlets.live.send(event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::notify::alert::tests::trade_life;

    #[test]
    fn the_alert_tap_gets_alertable_changes_once_durable_and_counts_what_it_cannot_take() {
        let outlets = TradeOutlets::new();
        let mut announcer = TradeAnnouncer::new(3, outlets.clone());
        let [resting, filled, stopped] = trade_life();
        announcer.changed(1, &filled);
        assert!(announcer.waiting.is_empty(), "nobody listens yet");
        let stats = Arc::new(NotifierStats::default());
        let mut tap = outlets.open_alert_tap(Arc::clone(&stats)).unwrap();
        assert!(outlets.open_alert_tap(Arc::clone(&stats)).is_none());
        announcer.changed(2, &resting);
        announcer.changed(3, &filled);
        announcer.changed(4, &stopped);
        assert!(tap.try_recv().is_err(), "nothing before the flush");
        announcer.durable(3);
        let first = tap.try_recv().unwrap();
        assert_eq!((first.portfolio_id, &first.trade), (3, &filled));
        assert!(
            tap.try_recv().is_err(),
            "the resting order fires nothing; 4 not durable"
        );
        for seq in 5..5 + TRADE_ALERT_TAP_CAPACITY as u64 {
            announcer.changed(seq, &stopped);
        }
        announcer.durable(u64::MAX);
        assert_eq!(stats.view().missed_events, 1, "one past the capacity");
        assert_eq!(tap.try_recv().unwrap().trade, stopped);
    }
}

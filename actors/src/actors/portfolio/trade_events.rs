//! Trade changes for live readers (the dashboard's stream): a trade is announced once the
//! record of its change is durable, so no reader sees a change a crash could take back. The
//! channel is a broadcast: a reader that falls behind misses announcements, never ledger
//! entries, and re-reads the portfolio.

use crate::domain::ledger::Trade;
use tokio::sync::broadcast;

/// Announcements kept for readers that fall behind; older ones are dropped for them.
pub const TRADE_EVENT_CAPACITY: usize = 1024;

/// A trade of a portfolio, as it is after a durable change.
#[derive(Debug, Clone, PartialEq)]
pub struct TradeEvent {
    pub portfolio_id: u64,
    pub trade: Trade,
}

/// One portfolio actor's announcements: held with the sequence number of their record until
/// a flush covers it.
#[derive(Debug)]
pub struct TradeAnnouncer {
    portfolio_id: u64,
    sender: broadcast::Sender<TradeEvent>,
    waiting: Vec<(u64, Trade)>,
}

impl TradeAnnouncer {
    pub fn new(portfolio_id: u64, sender: broadcast::Sender<TradeEvent>) -> TradeAnnouncer {
        TradeAnnouncer {
            portfolio_id,
            sender,
            waiting: Vec::new(),
        }
    }

    /// `trade` as its change logged at `seq` left it; kept only while someone listens.
    pub fn changed(&mut self, seq: u64, trade: &Trade) {
        if self.sender.receiver_count() > 0 {
            self.waiting.push((seq, trade.clone()));
        }
    }

    /// Everything logged at or before `durable_seq` is durable: announce it, in order.
    pub fn durable(&mut self, durable_seq: u64) {
        let split = self.waiting.partition_point(|(seq, _)| *seq <= durable_seq);
        for (_, trade) in self.waiting.drain(..split) {
            let _ = self.sender.send(TradeEvent {
                portfolio_id: self.portfolio_id,
                trade,
            });
        }
    }
}

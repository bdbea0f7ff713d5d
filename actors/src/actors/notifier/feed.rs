//! The notifier's subscriptions: each newly emitted signal becomes an [`AcceptSignal`]; the
//! engine never waits for it, and if it falls behind, what it lost is counted
//! (`missed_events`) rather than slowing ingest. Each trade change of the portfolios' alert
//! tap becomes a [`TradeChanged`] (the tap carries only the few changes that can fire an
//! alert, and the forwarder waits for room in the notifier's mailbox).

use super::actor::NotifierHandle;
use super::messages::{AcceptSignal, TradeChanged};
use super::stats::NotifierStats;
use crate::actors::portfolio::TradeEvent;
use crate::actors::MarketEvent;
use crate::domain::analysis::SignalEvent;
use tokio::sync::broadcast::{error::RecvError, Receiver};
use tokio::sync::mpsc::Receiver as TapReceiver;

pub async fn run_signal_feed(mut events: Receiver<MarketEvent>, notifier: NotifierHandle) {
    loop {
        match events.recv().await {
            Ok(MarketEvent::Signal {
                event: SignalEvent::Emitted(signal),
                ..
            }) => notifier.addr.do_send(AcceptSignal { signal }),
            Ok(_) => {}
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "the notifier fell behind the engine's events");
                NotifierStats::count(&notifier.stats.missed_events, missed);
            }
            Err(RecvError::Closed) => return,
        }
    }
}

pub async fn run_trade_feed(mut trades: TapReceiver<TradeEvent>, notifier: NotifierHandle) {
    while let Some(TradeEvent {
        portfolio_id,
        trade,
    }) = trades.recv().await
    {
        let asked = notifier.addr.send(TradeChanged {
            portfolio_id,
            trade,
        });
        if asked.await.is_err() {
            tracing::warn!("the notifier stopped; trade alerts are no longer evaluated");
            return;
        }
    }
}

//! The notifier's subscription to the engine: each newly emitted signal becomes an
//! [`AcceptSignal`]. The engine never waits for it; if it falls behind, what it lost is
//! counted (`missed_events`) rather than slowing ingest.

use super::actor::NotifierHandle;
use super::messages::AcceptSignal;
use super::stats::NotifierStats;
use crate::actors::MarketEvent;
use crate::domain::analysis::SignalEvent;
use tokio::sync::broadcast::{error::RecvError, Receiver};

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

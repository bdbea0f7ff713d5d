//! How symbol actors wake the portfolio exit feed without the market-event broadcast: a
//! symbol that closed base candles is put in a small set and the feed is notified; the feed
//! takes the whole set and drains each symbol's exit backlog. A wake-up cannot be lost: the
//! notification keeps a permit when the feed is busy, and the set keeps every symbol until
//! taken.
//!
//! Symbol actors only keep an exit backlog once a feed is attached, so an engine without one
//! (the CLI, benches) never fills backlogs nobody drains.

use crate::domain::market::Symbol;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::Notify;

#[derive(Debug, Default)]
pub struct ExitWakeups {
    attached: AtomicBool,
    symbols: Mutex<BTreeSet<Symbol>>,
    notify: Notify,
}

impl ExitWakeups {
    /// Called once by the feed before it reads: from now on symbol actors keep backlogs.
    pub fn attach(&self) {
        self.attached.store(true, Ordering::Release);
    }

    pub fn is_attached(&self) -> bool {
        self.attached.load(Ordering::Acquire)
    }

    /// `symbol` has exit candles waiting.
    pub fn mark(&self, symbol: &Symbol) {
        let inserted = self.lock().insert(symbol.clone());
        if inserted {
            self.notify.notify_one();
        }
    }

    /// Every symbol marked since the last call.
    pub fn take(&self) -> BTreeSet<Symbol> {
        std::mem::take(&mut *self.lock())
    }

    /// Waits for a mark, or at most `timeout_ms` (so the feed can notice a shutdown).
    pub async fn wait(&self, timeout_ms: u64) {
        let _ =
            tokio::time::timeout(Duration::from_millis(timeout_ms), self.notify.notified()).await;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<Symbol>> {
        // Each critical section is one insert or one take: a poisoned set is still whole.
        self.symbols.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_are_kept_until_taken_and_a_wait_after_a_mark_returns_at_once() {
        let wakeups = ExitWakeups::default();
        assert!(!wakeups.is_attached());
        wakeups.attach();
        assert!(wakeups.is_attached());
        let btc = Symbol::parse("BTCUSDT").unwrap();
        wakeups.mark(&btc);
        wakeups.mark(&btc);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let started = std::time::Instant::now();
        runtime.block_on(wakeups.wait(10_000));
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the permit was kept"
        );
        assert_eq!(wakeups.take(), BTreeSet::from([btc]));
        assert!(wakeups.take().is_empty());
    }
}

//! `SignalQuery`: the published signals a reader wants, live first, then the most recently
//! updated, then by symbol.

use super::symbol::AnalysisView;
use crate::domain::analysis::{Signal, SignalStatus};
use crate::domain::market::Symbol;
use std::sync::Arc;

/// Filters; `None` accepts everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignalQuery {
    pub symbol: Option<Symbol>,
    pub status: Option<SignalStatus>,
}

impl SignalQuery {
    /// Every matching signal of `views`, in listing order.
    pub fn run<'a>(&self, views: &'a [Arc<AnalysisView>]) -> Vec<&'a Signal> {
        let mut signals: Vec<&Signal> = views
            .iter()
            .filter(|view| {
                self.symbol
                    .as_ref()
                    .is_none_or(|wanted| view.symbol == *wanted)
            })
            .flat_map(|view| view.signals.iter())
            .filter(|signal| self.status.is_none_or(|wanted| signal.status == wanted))
            .collect();
        signals.sort_by(|a, b| {
            let live = |signal: &Signal| signal.status == SignalStatus::Live;
            live(b)
                .cmp(&live(a))
                .then_with(|| b.updated_at_ms.cmp(&a.updated_at_ms))
                .then_with(|| a.symbol.cmp(&b.symbol))
        });
        signals
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::analysis::Direction;
    use crate::domain::market::Timeframe;

    fn signal(symbol: &str, status: SignalStatus, updated_at_ms: i64) -> Signal {
        Signal {
            symbol: Symbol::parse(symbol).unwrap(),
            direction: Direction::Bullish,
            status,
            created_at_ms: 0,
            updated_at_ms,
            ended_at_ms: None,
            confluence: 2,
            timeframes_with_data: 3,
            aligned_timeframes: Vec::new(),
            confidence: 0.5,
            reasons: Vec::new(),
            entry_timeframe: Timeframe::M1,
            levels: None,
            patterns: Vec::new(),
        }
    }

    fn view(symbol: &str, signals: Vec<Signal>) -> Arc<AnalysisView> {
        Arc::new(AnalysisView {
            symbol: Symbol::parse(symbol).unwrap(),
            timeframes: Vec::new(),
            signals: Arc::new(signals),
            matrix: Vec::new(),
        })
    }

    fn sample() -> Vec<Arc<AnalysisView>> {
        vec![
            view(
                "BTCUSDT",
                vec![
                    signal("BTCUSDT", SignalStatus::Expired, 90),
                    signal("BTCUSDT", SignalStatus::Live, 10),
                ],
            ),
            view(
                "ETHUSDT",
                vec![
                    signal("ETHUSDT", SignalStatus::Live, 10),
                    signal("ETHUSDT", SignalStatus::Flipped, 50),
                    signal("ETHUSDT", SignalStatus::Live, 20),
                ],
            ),
        ]
    }

    fn listed(signals: &[&Signal]) -> Vec<(String, i64)> {
        signals
            .iter()
            .map(|signal| (signal.symbol.to_string(), signal.updated_at_ms))
            .collect()
    }

    fn row(symbol: &str, updated_at_ms: i64) -> (String, i64) {
        (symbol.to_owned(), updated_at_ms)
    }

    #[test]
    fn live_first_then_newest_update_then_symbol() {
        let views = sample();
        let all = SignalQuery::default().run(&views);
        assert_eq!(
            listed(&all),
            vec![
                row("ETHUSDT", 20),
                row("BTCUSDT", 10),
                row("ETHUSDT", 10),
                row("BTCUSDT", 90),
                row("ETHUSDT", 50),
            ]
        );
    }

    #[test]
    fn filters_by_symbol_and_status() {
        let views = sample();
        let eth = SignalQuery {
            symbol: Symbol::parse("ETHUSDT").ok(),
            status: None,
        };
        assert_eq!(eth.run(&views).len(), 3);
        let flipped = SignalQuery {
            symbol: None,
            status: Some(SignalStatus::Flipped),
        };
        assert_eq!(listed(&flipped.run(&views)), vec![row("ETHUSDT", 50)]);
        let none = SignalQuery {
            symbol: Symbol::parse("BTCUSDT").ok(),
            status: Some(SignalStatus::Flipped),
        };
        assert!(none.run(&views).is_empty());
    }
}

//! A portfolio's live strategy: a [`SignalTrader`] (the backtest's own decision code), the
//! symbols it trades, whether it is paused, and the log of what it decided and why.
//!
//! Every change and every decision is a ledger record ([`StrategyChange`]), so the strategy is
//! rebuilt by replay exactly as it was: attached, paused, its queued orders (decided, not yet
//! entered) and its time stops. An order's placement is an ordinary logged mutation under the
//! key `strategy-place-{signal}`: replaying it takes the order off the queue again.
//! Paused, the strategy judges no new signal; orders already decided still enter on the next
//! candle, and time stops still close what it opened.

use super::PortfolioError;
use crate::domain::backtest::{DecisionRecord, SignalTrader, StrategySpec, Verdict};
use crate::domain::market::Symbol;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, VecDeque};

/// Decisions a strategy keeps for reading (every one is in the ledger log).
pub const DECISIONS_KEPT: usize = 500;
/// The key prefix of a strategy's order placements.
pub const PLACE_KEY_PREFIX: &str = "strategy-place-";
/// The key prefix of a strategy's time-stop exits.
pub const TIME_STOP_KEY_PREFIX: &str = "strategy-time-stop-";

/// What a strategy record says. Variants are named by position in the stored bytes: new ones
/// go at the end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StrategyChange {
    /// Attached, or replaced: the spec as JSON text (new fields of a spec have defaults, so
    /// an old record still reads), and the symbols it trades.
    Attached {
        spec_json: String,
        symbols: Vec<Symbol>,
    },
    Paused,
    Resumed,
    Detached,
    /// A new signal judged: taken (its order queued) or let pass, and why.
    Decided(Box<Verdict>),
    /// Something else the strategy did or could not do (an entry the ledger refused, a
    /// time stop), for its log.
    Noted {
        symbol: Symbol,
        record: DecisionRecord,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct LiveStrategy {
    trader: SignalTrader,
    symbols: BTreeSet<Symbol>,
    paused: bool,
    attached_at_ms: i64,
    /// Oldest first; no symbol for a pause or a resume.
    decisions: VecDeque<(Option<Symbol>, DecisionRecord)>,
}

/// A strategy as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StrategyView {
    pub spec: StrategySpec,
    pub symbols: Vec<Symbol>,
    pub paused: bool,
    pub attached_at_ms: i64,
    /// Orders decided that enter at the open of the symbol's next candle.
    pub queued_orders: usize,
    /// Newest first.
    pub decisions: Vec<DecisionView>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecisionView {
    pub symbol: Option<Symbol>,
    #[serde(flatten)]
    pub record: DecisionRecord,
}

impl LiveStrategy {
    /// Whether candles of `symbol` go through this strategy.
    pub fn trades(&self, symbol: &Symbol) -> bool {
        self.symbols.contains(symbol)
    }

    pub fn is_paused(&self) -> bool {
        self.paused
    }

    pub fn trader(&self) -> &SignalTrader {
        &self.trader
    }

    pub fn trader_mut(&mut self) -> &mut SignalTrader {
        &mut self.trader
    }

    pub fn view(&self) -> StrategyView {
        StrategyView {
            spec: self.trader.spec().clone(),
            symbols: self.symbols.iter().cloned().collect(),
            paused: self.paused,
            attached_at_ms: self.attached_at_ms,
            queued_orders: self.trader.queued().len(),
            decisions: self
                .decisions
                .iter()
                .rev()
                .map(|(symbol, record)| DecisionView {
                    symbol: symbol.clone(),
                    record: record.clone(),
                })
                .collect(),
        }
    }

    fn log(&mut self, symbol: Option<Symbol>, record: DecisionRecord) {
        if self.decisions.len() >= DECISIONS_KEPT {
            self.decisions.pop_front();
        }
        self.decisions.push_back((symbol, record));
    }
}

/// The strategy `state` becomes after `change` at `at_ms`, checked first: the same function
/// runs live (before the record is written) and on replay. A change to no strategy is
/// `NoStrategy`; a spec that does not read or check is refused with the field it names.
pub fn apply_change(
    state: &mut Option<LiveStrategy>,
    portfolio: u64,
    change: &StrategyChange,
    at_ms: i64,
) -> Result<(), PortfolioError> {
    if let StrategyChange::Attached { spec_json, symbols } = change {
        let spec: StrategySpec = serde_json::from_str(spec_json)
            .map_err(|error| PortfolioError::StrategyRefused(format!("spec: {error}")))?;
        let trader = SignalTrader::new(spec)
            .map_err(|error| PortfolioError::StrategyRefused(error.to_string()))?;
        *state = Some(LiveStrategy {
            trader,
            symbols: symbols.iter().cloned().collect(),
            paused: false,
            attached_at_ms: at_ms,
            decisions: VecDeque::new(),
        });
        return Ok(());
    }
    if matches!(change, StrategyChange::Detached) {
        return match state.take() {
            Some(_) => Ok(()),
            None => Err(PortfolioError::NoStrategy(portfolio)),
        };
    }
    let strategy = state
        .as_mut()
        .ok_or(PortfolioError::NoStrategy(portfolio))?;
    let note = |action: &'static str| DecisionRecord {
        at_ms,
        action: action.into(),
        reason: "by request".into(),
    };
    match change {
        StrategyChange::Paused => {
            strategy.paused = true;
            strategy.log(None, note("pause"));
        }
        StrategyChange::Resumed => {
            strategy.paused = false;
            strategy.log(None, note("resume"));
        }
        StrategyChange::Decided(verdict) => {
            strategy.trader.take(verdict);
            strategy.log(Some(verdict.symbol.clone()), verdict.record.clone());
        }
        StrategyChange::Noted { symbol, record } => {
            strategy.log(Some(symbol.clone()), record.clone());
        }
        StrategyChange::Attached { .. } | StrategyChange::Detached => {}
    }
    Ok(())
}

/// The signal a placement key names, when `key` is one.
pub fn placed_signal(key: &str) -> Option<&str> {
    key.strip_prefix(PLACE_KEY_PREFIX)
}

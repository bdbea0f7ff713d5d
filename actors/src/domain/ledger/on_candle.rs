//! Exit evaluation of a whole portfolio on one closed candle: the decision the live path and
//! a backtest share.
//!
//! Rule: every open trade on the candle's symbol is checked with the rules in `exits.rs`, in
//! rounds. In each round every trade not yet settled gets at most one exit, trades in id
//! order; rounds repeat until no trade has an exit left on this candle (a candle reaching
//! three targets closes three shares, one per round). Each exit is named by an idempotency
//! key, `exit-{trade_id}-{candle_open_ms}-{stop|target-X}`: a key already applied (the
//! candle was seen before) is not applied again, and that trade is settled for this candle.
//! A refused exit (say a short's loss exceeds the cash) changes nothing and settles its
//! trade; the other trades are still evaluated.
//!
//! Before the exits, pending orders on the symbol expire or fill (`order_fills.rs`, keys
//! `order-{id}-{candle_open_ms}-{expire|fill}`); a trade filled by this candle is checked for
//! exits from the next candle on (its entry time is this candle's close). After the exits,
//! the exit rules move stops (`trailing.rs`, key `stop-{id}-{candle_open_ms}`).

use super::{
    exit_on_candle, order_key, order_on_candle, stop_after_candle, LedgerError, Mutation, Outcome,
    Portfolio,
};
use crate::domain::market::{Candle, Symbol};
use crate::domain::money::{Money, Price};
use std::collections::BTreeSet;

/// Rounds one candle can take: every target (at most 10) and then the stop, with room to
/// spare; a bound so a rule bug can never loop forever.
const EXIT_ROUNDS_MAX: usize = 12;

/// One exit a candle caused and the portfolio applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitFill {
    /// The idempotency key the exit is logged under.
    pub key: String,
    pub mutation: Mutation,
    pub outcome: Outcome,
    /// The portfolio's cash right after this exit (later exits of the candle move it on).
    pub cash_after: Money,
}

/// An exit the portfolio refused; nothing changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitRefusal {
    pub key: String,
    pub mutation: Mutation,
    pub error: LedgerError,
}

/// Everything one candle did to a portfolio, in the order it was applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CandleExits {
    pub fills: Vec<ExitFill>,
    pub refusals: Vec<ExitRefusal>,
}

/// The idempotency key of `exit` on `trade_id` caused by the candle opening at
/// `candle_open_ms`. Stored ledgers hold these keys: the format never changes.
pub fn exit_key(trade_id: u64, candle_open_ms: i64, exit: &Mutation) -> String {
    let level = match exit {
        Mutation::TakeProfit { target, .. } => format!("target-{}", target.get()),
        _ => "stop".to_owned(),
    };
    format!("exit-{trade_id}-{candle_open_ms}-{level}")
}

impl Portfolio {
    /// Applies every exit `candle` causes on the open trades on `symbol`, at `at_ms` (the
    /// candle's close time).
    pub fn on_candle(&mut self, symbol: &Symbol, candle: &Candle, at_ms: i64) -> CandleExits {
        self.on_candle_skipping(symbol, candle, at_ms, |_| false)
    }

    /// As [`Portfolio::on_candle`], leaving out exits whose key `already_applied` knows.
    /// In order: the pending orders (expiries, fills), the exits, then the stops the exit
    /// rules move (trailing, break-even), each under its own key.
    pub fn on_candle_skipping(
        &mut self,
        symbol: &Symbol,
        candle: &Candle,
        at_ms: i64,
        already_applied: impl Fn(&str) -> bool,
    ) -> CandleExits {
        let mut exits = CandleExits::default();
        let orders: Vec<(u64, Mutation)> = self
            .live_trades()
            .filter(|trade| trade.symbol == *symbol && trade.is_pending())
            .filter_map(|trade| order_on_candle(trade, candle).map(|order| (trade.id, order)))
            .collect();
        for (trade_id, mutation) in orders {
            let key = order_key(trade_id, candle.open_time_ms, &mutation);
            if !already_applied(&key) {
                self.apply_keyed(key, mutation, at_ms, &mut exits);
            }
        }
        self.apply_exits(symbol, candle, at_ms, &already_applied, &mut exits);
        let moves: Vec<(u64, Price)> = self
            .live_trades()
            .filter(|trade| trade.symbol == *symbol)
            .filter_map(|trade| stop_after_candle(trade, candle).map(|stop| (trade.id, stop)))
            .collect();
        for (trade_id, stop) in moves {
            let key = format!("stop-{trade_id}-{}", candle.open_time_ms);
            if !already_applied(&key) {
                let mutation = Mutation::MoveStop { trade_id, stop };
                self.apply_keyed(key, mutation, at_ms, &mut exits);
            }
        }
        exits
    }

    /// The exit rounds (see the module doc).
    fn apply_exits(
        &mut self,
        symbol: &Symbol,
        candle: &Candle,
        at_ms: i64,
        already_applied: &impl Fn(&str) -> bool,
        exits: &mut CandleExits,
    ) {
        let mut settled = BTreeSet::new();
        for _ in 0..EXIT_ROUNDS_MAX {
            let due: Vec<(u64, Mutation)> = self
                .live_trades()
                .filter(|trade| trade.symbol == *symbol && !settled.contains(&trade.id))
                .filter_map(|trade| exit_on_candle(trade, candle).map(|exit| (trade.id, exit)))
                .collect();
            if due.is_empty() {
                break;
            }
            for (trade_id, mutation) in due {
                let key = exit_key(trade_id, candle.open_time_ms, &mutation);
                if already_applied(&key) || !self.apply_keyed(key, mutation, at_ms, exits) {
                    settled.insert(trade_id);
                }
            }
        }
    }

    /// Applies `mutation` under `key`, recording the fill or the refusal; true if applied.
    fn apply_keyed(
        &mut self,
        key: String,
        mutation: Mutation,
        at_ms: i64,
        exits: &mut CandleExits,
    ) -> bool {
        match self.apply(&mutation, at_ms) {
            Ok(outcome) => {
                exits.fills.push(ExitFill {
                    key,
                    mutation,
                    outcome,
                    cash_after: self.cash(),
                });
                true
            }
            Err(error) => {
                exits.refusals.push(ExitRefusal {
                    key,
                    mutation,
                    error,
                });
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ledger::{test_spec, ExitReason, Side, TradeSource, TradeStatus};
    use crate::domain::market::Volume;
    use crate::domain::money::test_values::{dec, money, price, quantity};
    use rust_decimal::Decimal;

    const OPEN_MS: i64 = 60_000;

    fn btc() -> Symbol {
        Symbol::parse("BTCUSDT").unwrap()
    }

    fn candle(open_time_ms: i64, open: &str, high: &str, low: &str, close: &str) -> Candle {
        let price = |text: &str| crate::domain::market::Price::from_decimal(dec(text)).unwrap();
        Candle {
            open_time_ms,
            open: price(open),
            high: price(high),
            low: price(low),
            close: price(close),
            volume: Volume::ZERO,
        }
    }

    fn open(symbol: Symbol, side: Side, stop: &str, targets: &[&str]) -> Mutation {
        open_sized(symbol, side, "3", stop, targets)
    }

    fn open_sized(
        symbol: Symbol,
        side: Side,
        quantity: &str,
        stop: &str,
        targets: &[&str],
    ) -> Mutation {
        Mutation::Open {
            symbol,
            side,
            quantity: self::quantity(quantity),
            price: price("100"),
            stop_loss: Some(price(stop)),
            take_profits: targets.iter().map(|t| price(t)).collect(),
            source: TradeSource::Manual,
        }
    }

    fn portfolio_with(opens: &[Mutation]) -> Portfolio {
        let mut portfolio = Portfolio::create(test_spec("10000", Decimal::ZERO)).unwrap();
        for mutation in opens {
            portfolio.apply(mutation, 0).unwrap();
        }
        portfolio
    }

    fn keys(exits: &CandleExits) -> Vec<&str> {
        exits.fills.iter().map(|fill| fill.key.as_str()).collect()
    }

    #[test]
    fn a_stop_closes_the_whole_trade_at_its_level() {
        let mut portfolio = portfolio_with(&[open(btc(), Side::Long, "95", &["110"])]);
        let exits = portfolio.on_candle(&btc(), &candle(OPEN_MS, "99", "99", "94", "96"), 120_000);
        assert_eq!(keys(&exits), ["exit-1-60000-stop"]);
        let trade = &exits.fills[0].outcome.trade;
        assert_eq!(trade.status, TradeStatus::Closed);
        assert_eq!(trade.closed_at_ms, Some(120_000));
        assert_eq!(trade.realised_pnl, money("-15"), "3 x (95 - 100)");
        assert_eq!(portfolio.trade(1), Some(trade));
        assert!(exits.refusals.is_empty());
    }

    #[test]
    fn a_gap_through_the_stop_fills_at_the_open() {
        let mut portfolio = portfolio_with(&[open(btc(), Side::Long, "95", &[])]);
        let exits = portfolio.on_candle(&btc(), &candle(OPEN_MS, "93", "94", "92", "93"), 1);
        assert_eq!(
            exits.fills[0].mutation,
            Mutation::Exit {
                trade_id: 1,
                price: price("93"),
                reason: ExitReason::Stop,
            }
        );
    }

    #[test]
    fn the_stop_wins_when_one_candle_reaches_both() {
        let mut portfolio = portfolio_with(&[open(btc(), Side::Long, "95", &["110"])]);
        let exits = portfolio.on_candle(&btc(), &candle(OPEN_MS, "100", "111", "94", "100"), 1);
        assert_eq!(keys(&exits), ["exit-1-60000-stop"]);
    }

    #[test]
    fn one_candle_reaching_several_targets_takes_them_nearest_first() {
        let mut portfolio = portfolio_with(&[open(btc(), Side::Long, "95", &["120", "110"])]);
        let exits = portfolio.on_candle(&btc(), &candle(OPEN_MS, "100", "125", "99", "121"), 1);
        assert_eq!(
            keys(&exits),
            ["exit-1-60000-target-110", "exit-1-60000-target-120"]
        );
        assert_eq!(exits.fills[0].outcome.trade.quantity, quantity("1.5"));
        let trade = portfolio.trade(1).unwrap();
        assert_eq!(
            trade.status,
            TradeStatus::Closed,
            "the last target closes the rest"
        );
        assert!(trade.take_profits.is_empty());
    }

    #[test]
    fn trades_are_evaluated_in_rounds_in_id_order() {
        let mut portfolio = portfolio_with(&[
            open(btc(), Side::Long, "95", &["110", "120"]),
            open(btc(), Side::Long, "95", &["110", "120"]),
        ]);
        let exits = portfolio.on_candle(&btc(), &candle(OPEN_MS, "100", "125", "99", "121"), 1);
        assert_eq!(
            keys(&exits),
            [
                "exit-1-60000-target-110",
                "exit-2-60000-target-110",
                "exit-1-60000-target-120",
                "exit-2-60000-target-120"
            ]
        );
    }

    #[test]
    fn shorts_stop_on_the_high_and_take_profit_on_the_low() {
        let mut portfolio = portfolio_with(&[
            open(btc(), Side::Short, "105", &["90"]),
            open(btc(), Side::Short, "110", &["80"]),
        ]);
        let exits = portfolio.on_candle(&btc(), &candle(OPEN_MS, "100", "106", "89", "100"), 1);
        assert_eq!(keys(&exits), ["exit-1-60000-stop"]);
        let later = portfolio.on_candle(&btc(), &candle(120_000, "85", "86", "79", "80"), 2);
        assert_eq!(
            later.fills[0].mutation,
            Mutation::TakeProfit {
                trade_id: 2,
                target: price("80"),
                price: price("80")
            }
        );
    }

    #[test]
    fn trades_on_other_symbols_are_untouched() {
        let eth = Symbol::parse("ETHUSDT").unwrap();
        let mut portfolio = portfolio_with(&[
            open(eth.clone(), Side::Long, "95", &["110"]),
            open(btc(), Side::Long, "95", &["110"]),
        ]);
        let before = portfolio.trade(1).cloned();
        let exits = portfolio.on_candle(&btc(), &candle(OPEN_MS, "99", "99", "94", "96"), 1);
        assert_eq!(keys(&exits), ["exit-2-60000-stop"]);
        assert_eq!(portfolio.trade(1).cloned(), before);
    }

    #[test]
    fn a_candle_older_than_the_trade_is_ignored() {
        let mut portfolio = Portfolio::create(test_spec("10000", Decimal::ZERO)).unwrap();
        portfolio
            .apply(&open(btc(), Side::Long, "95", &["110"]), OPEN_MS + 1)
            .unwrap();
        let before = portfolio.clone();
        let exits = portfolio.on_candle(&btc(), &candle(OPEN_MS, "99", "120", "90", "96"), 1);
        assert_eq!(exits, CandleExits::default());
        assert_eq!(portfolio, before);
    }

    #[test]
    fn a_candle_seen_again_applies_nothing_more() {
        let mut portfolio = portfolio_with(&[open(btc(), Side::Long, "95", &["110", "120"])]);
        let bar = candle(OPEN_MS, "100", "115", "99", "111");
        let first = portfolio.on_candle(&btc(), &bar, 1);
        assert_eq!(keys(&first), ["exit-1-60000-target-110"]);
        let applied: Vec<String> = first.fills.iter().map(|fill| fill.key.clone()).collect();
        // The target is put back: only the key tells that this candle already took it.
        let amend = Mutation::Amend {
            trade_id: 1,
            stop_loss: None,
            clear_stop_loss: false,
            take_profits: Some(vec![price("110"), price("120")]),
        };
        portfolio.apply(&amend, 2).unwrap();
        let before = portfolio.clone();
        let again = portfolio.on_candle_skipping(&btc(), &bar, 3, |key| {
            applied.iter().any(|done| done == key)
        });
        assert_eq!(again, CandleExits::default());
        assert_eq!(portfolio, before);
    }

    #[test]
    fn a_refused_exit_changes_nothing_and_the_other_trades_still_exit() {
        let mut portfolio = Portfolio::create(test_spec("400", Decimal::ZERO)).unwrap();
        let short = open_sized(btc(), Side::Short, "1", "500", &[]);
        let long = open_sized(btc(), Side::Long, "1", "95", &["900"]);
        portfolio.apply(&short, 0).unwrap();
        portfolio.apply(&long, 0).unwrap();
        // A gap to 1000: the short loses 900, more than its 100 reserved plus the 200 cash.
        let exits = portfolio.on_candle(&btc(), &candle(OPEN_MS, "1000", "1000", "999", "999"), 1);
        assert_eq!(exits.refusals.len(), 1);
        assert_eq!(exits.refusals[0].key, "exit-1-60000-stop");
        assert!(matches!(
            exits.refusals[0].error,
            LedgerError::InsufficientCash { .. }
        ));
        assert_eq!(keys(&exits), ["exit-2-60000-target-900"]);
        assert!(portfolio.trade(1).is_some_and(|trade| trade.is_open()));
        assert!(portfolio.is_conserved());
    }

    #[test]
    fn exit_keys_name_the_trade_the_candle_and_the_level() {
        let stop = Mutation::Close {
            trade_id: 4,
            quantity: None,
            price: price("1"),
        };
        let target = Mutation::TakeProfit {
            trade_id: 4,
            target: price("2.5"),
            price: price("2.5"),
        };
        assert_eq!(exit_key(4, 7, &stop), "exit-4-7-stop");
        assert_eq!(exit_key(4, 7, &target), "exit-4-7-target-2.5");
    }
}

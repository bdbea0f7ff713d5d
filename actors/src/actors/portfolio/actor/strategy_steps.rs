//! The live strategy's steps on one candle of a symbol it trades, in the order
//! `domain/backtest/signal_trader.rs` fixes (the backtest's order), and its changes by
//! request. Each step is logged before it counts: a placement or a time stop as a mutation
//! under its strategy key, a decision or a note as a strategy record.

use super::PortfolioActor;
use crate::actors::portfolio::answers::Answer;
use crate::actors::portfolio::messages::ConfigureStrategy;
use crate::actors::portfolio::record::{LedgerRecord, OutcomeCheck, RequestId};
use crate::actors::portfolio::strategy::{
    apply_change, LiveStrategy, StrategyChange, PLACE_KEY_PREFIX, TIME_STOP_KEY_PREFIX,
};
use crate::actors::portfolio::PortfolioError;
use crate::domain::backtest::{DecisionRecord, SignalAtClose};
use crate::domain::ledger::Mutation;
use crate::domain::market::{Candle, Symbol};
use actix::{ActorContext, Context};

/// Whether a step went through; `None` when a ledger write failed and the actor stops.
type Step = Option<()>;

impl PortfolioActor {
    /// Step 1: the orders decided before `candle` opened enter at its open.
    pub(super) fn enter_due_orders(
        &mut self,
        symbol: &Symbol,
        candle: &Candle,
        ctx: &mut Context<Self>,
    ) -> Step {
        let Some(strategy) = self.strategy.as_mut() else {
            return Some(());
        };
        let slippage_bps = strategy.trader().spec().costs.slippage_bps;
        let due = match strategy
            .trader_mut()
            .due_orders(symbol, candle, slippage_bps)
        {
            Ok(due) => due,
            Err(error) => {
                tracing::error!(portfolio = self.portfolio.spec().id, %symbol, %error,
                    "strategy orders not entered");
                return Some(());
            }
        };
        for (signal_id, placement) in due {
            let key = format!("{PLACE_KEY_PREFIX}{signal_id}");
            if let Some(why) =
                self.apply_strategy_mutation(key, placement, candle.open_time_ms, ctx)?
            {
                let reason = format!("{signal_id}: {why}");
                self.note(symbol, candle.open_time_ms, "refused", reason, ctx)?;
            }
        }
        Some(())
    }

    /// Steps 3 and 4, after the ledger's exits: time stops at the candle's close, then the
    /// verdicts on the signals that close emitted (none while paused).
    pub(super) fn strategy_after_exits(
        &mut self,
        symbol: &Symbol,
        candle: &Candle,
        close_ms: i64,
        signals: &[SignalAtClose],
        ctx: &mut Context<Self>,
    ) -> Step {
        let Some(strategy) = self.strategy.as_mut() else {
            return Some(());
        };
        let slippage_bps = strategy.trader().spec().costs.slippage_bps;
        let exits = match strategy.trader_mut().time_stops(
            &self.portfolio,
            symbol,
            candle,
            close_ms,
            slippage_bps,
        ) {
            Ok(exits) => exits,
            Err(error) => {
                tracing::error!(portfolio = self.portfolio.spec().id, %symbol, %error,
                    "strategy time stops not applied");
                Vec::new()
            }
        };
        for (trade_id, exit) in exits {
            let key = format!("{TIME_STOP_KEY_PREFIX}{trade_id}");
            let (action, reason) = match self.apply_strategy_mutation(key, exit, close_ms, ctx)? {
                Some(why) => ("refused", format!("time stop of trade {trade_id}: {why}")),
                None => ("time_stop", format!("trade {trade_id} open too long")),
            };
            self.note(symbol, close_ms, action, reason, ctx)?;
        }
        let closing = signals.iter().filter(|emitted| {
            emitted.candle_open_time_ms == candle.open_time_ms && emitted.signal.symbol == *symbol
        });
        for emitted in closing {
            let Some(strategy) = self.strategy.as_ref().filter(|s| !s.is_paused()) else {
                break;
            };
            let verdict = strategy
                .trader()
                .judge(&emitted.signal, emitted.values.as_ref());
            let decided = StrategyChange::Decided(Box::new(verdict));
            self.log_strategy(decided, emitted.signal.created_at_ms, ctx)?;
        }
        Some(())
    }

    /// Applies and logs a strategy's mutation under `key` (once: a known key is skipped).
    /// Answers the ledger's refusal, if it refused.
    fn apply_strategy_mutation(
        &mut self,
        key: String,
        mutation: Mutation,
        at_ms: i64,
        ctx: &mut Context<Self>,
    ) -> Option<Option<String>> {
        if self.answers.get(&key).is_some() {
            return Some(None);
        }
        let applied = self.portfolio.apply(&mutation, at_ms);
        let request = RequestId {
            key: key.clone(),
            fingerprint: String::new(),
        };
        let record = match &applied {
            Ok(outcome) => OutcomeCheck::of(outcome, self.portfolio.cash())
                .map_err(PortfolioError::from)
                .map(|check| LedgerRecord::Mutated {
                    at_ms,
                    request: Some(request),
                    mutation: mutation.clone(),
                    check,
                }),
            Err(_) => Ok(LedgerRecord::Refused {
                at_ms,
                request,
                mutation: mutation.clone(),
            }),
        };
        let Ok(seq) = record.and_then(|record| self.log(record)) else {
            ctx.stop();
            return None;
        };
        let refusal = match applied {
            Ok(outcome) => {
                self.announcer.changed(seq, &outcome.trade);
                let answer = Answer::to_exit(&mutation, Ok(outcome), seq);
                self.answers.remember_exit(key, answer);
                None
            }
            Err(refusal) => {
                let why = refusal.to_string();
                let answer = Answer::to_exit(&mutation, Err(refusal.into()), seq);
                self.answers.remember_exit(key, answer);
                Some(why)
            }
        };
        Some(refusal)
    }

    fn note(
        &mut self,
        symbol: &Symbol,
        at_ms: i64,
        action: &'static str,
        reason: String,
        ctx: &mut Context<Self>,
    ) -> Step {
        let record = DecisionRecord {
            at_ms,
            action: action.into(),
            reason: reason.into(),
        };
        let noted = StrategyChange::Noted {
            symbol: symbol.clone(),
            record,
        };
        self.log_strategy(noted, at_ms, ctx).map(|_| ())
    }

    /// Logs `change` and applies it; the caller flushes.
    fn log_strategy(
        &mut self,
        change: StrategyChange,
        at_ms: i64,
        ctx: &mut Context<Self>,
    ) -> Option<u64> {
        let record = LedgerRecord::Strategy {
            at_ms,
            change: change.clone(),
        };
        let Ok(seq) = self.log(record) else {
            ctx.stop();
            return None;
        };
        let id = self.portfolio.spec().id;
        if let Err(error) = apply_change(&mut self.strategy, id, &change, at_ms) {
            tracing::error!(portfolio = id, %error, "strategy record not applied");
        }
        Some(seq)
    }

    /// A change asked for (attach, pause, resume, detach): checked, logged, answered once
    /// durable with the strategy it leaves (None after a detach).
    pub(super) fn configure_strategy(
        &mut self,
        message: ConfigureStrategy,
        ctx: &mut Context<Self>,
    ) {
        let id = self.portfolio.spec().id;
        if let Err(refused) = self.admit_change() {
            let _ = message.reply.send(Err(refused));
            return;
        }
        let mut changed = self.strategy.clone();
        if let Err(error) = apply_change(&mut changed, id, &message.change, message.at_ms) {
            let _ = message.reply.send(Err(error));
            return;
        }
        let record = LedgerRecord::Strategy {
            at_ms: message.at_ms,
            change: message.change,
        };
        let seq = match self.log(record) {
            Ok(seq) => seq,
            Err(error) => {
                let _ = message.reply.send(Err(error));
                ctx.stop();
                return;
            }
        };
        self.strategy = changed;
        let view = self.strategy.as_ref().map(LiveStrategy::view);
        self.strategy_waiting.push((seq, message.reply, Ok(view)));
        self.flush(ctx);
    }

    /// Answers the strategy changes `covers` made durable.
    pub(super) fn answer_strategy_changes(&mut self, covers: u64) {
        let (ready, later): (Vec<_>, Vec<_>) = self
            .strategy_waiting
            .drain(..)
            .partition(|(seq, _, _)| *seq <= covers);
        self.strategy_waiting = later;
        for (_, reply, view) in ready {
            let _ = reply.send(view);
        }
    }
}

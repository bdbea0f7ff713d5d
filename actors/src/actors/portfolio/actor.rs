//! One writer per portfolio, with group commit.
//!
//! Each mutation is checked and applied to the in-memory portfolio in mailbox order, its
//! record written to the ledger tree, and its reply held back until a flush covering it has
//! returned: only then is it acknowledged. One flush at a time is in flight; mutations that
//! arrive meanwhile wait for the next one, so concurrent requests share an fsync. A refused
//! mutation changes nothing and is answered at once. Reads see the in-memory state, which
//! may include mutations whose flush is still in flight; if a flush fails, the actor stops
//! and its supervisor-less restart path is a server restart, which replays the durable log.
//!
//! Exits are the same path: `EvaluateExits` hands a batch of closed candles of one symbol to
//! the domain (`Portfolio::on_candle`, one candle after the other), and each exit it applies
//! is logged and flushed like a mutation, under its exit key; no reply waits for those. A
//! per-symbol cursor makes each candle evaluated at most once here.
//!
//! A live strategy rides on the same batches (`strategy_steps.rs`): for each candle of a
//! symbol it trades, its due orders enter at the candle's open before the exits, its time
//! stops and its decisions on the signals of the candle's close follow them, each logged.

mod strategy_steps;

use super::answers::{Answer, Answers};
use super::messages::{
    ConfigureStrategy, EvaluateExits, ExitEvaluation, LookupAnswer, MutatePortfolio, ReadPortfolio,
    ReadStrategy, ReadTrade,
};
use super::record::{LedgerRecord, OutcomeCheck, RequestId};
use super::strategy::{LiveStrategy, StrategyView};
use super::trade_events::{TradeAnnouncer, TradeOutlets};
use super::PortfolioError;
use crate::domain::ledger::{Outcome, Portfolio};
use crate::domain::market::{Candle, Symbol};
use crate::store::{encode, Store};
use actix::{Actor, ActorContext, ActorFutureExt, AsyncContext, Context, Handler, WrapFuture};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::oneshot;

type Reply = oneshot::Sender<Result<Outcome, PortfolioError>>;

pub struct PortfolioActor {
    portfolio: Portfolio,
    store: Arc<Store>,
    next_seq: u64,
    answers: Answers,
    /// Replies waiting for a flush, with the sequence number they need durable.
    waiting: Vec<(u64, Reply, Result<Outcome, PortfolioError>)>,
    durable_seq: u64,
    flushing: bool,
    /// Per symbol, the open time of the last candle whose exits were evaluated here: a candle
    /// at or before it is not evaluated again (in memory: after a restart, exit keys make a
    /// re-evaluation harmless).
    exit_cursors: HashMap<Symbol, i64>,
    announcer: TradeAnnouncer,
    /// Why the portfolio takes no more changes, when its log is damaged past what was
    /// replayed: it is served as replayed, read-only, so nothing is built on a hole.
    read_only: Option<String>,
    strategy: Option<LiveStrategy>,
    /// Strategy changes waiting for a flush, as `waiting`.
    strategy_waiting: Vec<(u64, StrategyReply, StrategyAnswer)>,
}

type StrategyAnswer = Result<Option<StrategyView>, PortfolioError>;
type StrategyReply = oneshot::Sender<StrategyAnswer>;

impl PortfolioActor {
    /// `next_seq` follows the last record replayed; `answers` are the replayed keys.
    pub fn new(
        portfolio: Portfolio,
        store: Arc<Store>,
        next_seq: u64,
        answers: Answers,
        trade_events: TradeOutlets,
    ) -> PortfolioActor {
        let announcer = TradeAnnouncer::new(portfolio.spec().id, trade_events);
        PortfolioActor {
            announcer,
            portfolio,
            store,
            next_seq,
            answers,
            waiting: Vec::new(),
            durable_seq: next_seq.saturating_sub(1),
            flushing: false,
            exit_cursors: HashMap::new(),
            read_only: None,
            strategy: None,
            strategy_waiting: Vec::new(),
        }
    }

    /// The live strategy replay rebuilt, if any.
    pub fn with_strategy(mut self, strategy: Option<LiveStrategy>) -> PortfolioActor {
        self.strategy = strategy;
        self
    }

    /// The portfolio refuses every change, for `reason`.
    pub fn read_only(mut self, reason: Option<String>) -> PortfolioActor {
        self.read_only = reason;
        self
    }

    /// Whether a change asked for may be made: not while the portfolio is read-only, and
    /// refused before it changes anything when the disk is down to the reserve it keeps for
    /// exits.
    fn admit_change(&self) -> Result<(), PortfolioError> {
        if let Some(reason) = &self.read_only {
            return Err(PortfolioError::ReadOnly {
                portfolio: self.portfolio.spec().id,
                reason: reason.clone(),
            });
        }
        Ok(self.store.admit_write()?)
    }

    fn mutate(&mut self, message: MutatePortfolio, ctx: &mut Context<Self>) {
        let request = message.request.clone();
        if let Some(request) = &request {
            if let Some(answer) = self.answers.get(&request.key) {
                let result = if answer.answers(&message.mutation, &request.fingerprint) {
                    answer.result.clone()
                } else {
                    Err(PortfolioError::KeyReused)
                };
                let seq = answer.seq;
                self.answer_when_durable(seq, message.reply, result);
                return;
            }
        }
        // A known key still gets its first answer above: only new changes are refused.
        if let Err(refused) = self.admit_change() {
            let _ = message.reply.send(Err(refused));
            return;
        }
        let applied = self.portfolio.apply(&message.mutation, message.at_ms);
        let record = match (&applied, &request) {
            (Ok(outcome), _) => OutcomeCheck::of(outcome, self.portfolio.cash())
                .map_err(PortfolioError::from)
                .map(|check| LedgerRecord::Mutated {
                    at_ms: message.at_ms,
                    request: request.clone(),
                    mutation: message.mutation.clone(),
                    check,
                }),
            (Err(_), Some(request)) => Ok(LedgerRecord::Refused {
                at_ms: message.at_ms,
                request: request.clone(),
                mutation: message.mutation.clone(),
            }),
            // A refusal without a key changes nothing and needs no record.
            (Err(refusal), None) => {
                let _ = message
                    .reply
                    .send(Err(PortfolioError::Refused(refusal.clone())));
                return;
            }
        };
        let seq = match record.and_then(|record| self.log(record)) {
            Ok(seq) => seq,
            Err(error) => {
                let _ = message.reply.send(Err(error));
                ctx.stop();
                return;
            }
        };
        if let Ok(outcome) = &applied {
            self.announcer.changed(seq, &outcome.trade);
        }
        let result = applied.map_err(PortfolioError::Refused);
        if let Some(request) = request {
            let answer = Answer::to_request(&request, &message.mutation, &result, seq);
            self.answers.remember(request.key, answer, message.at_ms);
        }
        self.waiting.push((seq, message.reply, result));
        self.flush(ctx);
    }

    /// Evaluates `message`'s candles in order, skipping those at or before this portfolio's
    /// cursor on the symbol, and moves the cursor past them. With nothing open on the symbol
    /// the answer is immediate (no candle can exit anything).
    fn evaluate_exits(
        &mut self,
        message: &EvaluateExits,
        ctx: &mut Context<Self>,
    ) -> ExitEvaluation {
        let mut evaluation = ExitEvaluation::default();
        let cursor = self.exit_cursors.get(&message.symbol).copied();
        let fresh: Vec<&Candle> = message
            .candles
            .iter()
            .filter(|candle| cursor.is_none_or(|last| candle.open_time_ms > last))
            .collect();
        let Some(newest) = fresh.last().map(|candle| candle.open_time_ms) else {
            return evaluation;
        };
        if self.read_only.is_some() {
            return evaluation;
        }
        self.exit_cursors.insert(message.symbol.clone(), newest);
        let symbol = &message.symbol;
        let strategy_trades = self
            .strategy
            .as_ref()
            .is_some_and(|strategy| strategy.trades(symbol));
        if !strategy_trades
            && !self
                .portfolio
                .trades()
                .any(|trade| trade.symbol == *symbol && (trade.is_open() || trade.is_pending()))
        {
            return evaluation;
        }
        for candle in fresh {
            let at_ms = candle.open_time_ms + message.timeframe.duration_ms();
            if strategy_trades && self.enter_due_orders(symbol, candle, ctx).is_none() {
                return evaluation;
            }
            let Some(exits) = self.evaluate_candle(symbol, candle, at_ms, ctx) else {
                return evaluation;
            };
            evaluation.evaluated += 1;
            evaluation.applied += exits.0;
            evaluation.refused += exits.1;
            if strategy_trades
                && self
                    .strategy_after_exits(symbol, candle, at_ms, &message.signals, ctx)
                    .is_none()
            {
                return evaluation;
            }
        }
        self.flush(ctx);
        evaluation
    }

    /// Applies every exit `candle` causes (the domain decides; keys already answered are left
    /// out) and logs each like any other mutation, under its exit key. Answers (applied,
    /// refused), or None when a ledger write failed and the actor stops.
    fn evaluate_candle(
        &mut self,
        symbol: &Symbol,
        candle: &Candle,
        at_ms: i64,
        ctx: &mut Context<Self>,
    ) -> Option<(usize, usize)> {
        let answers = &self.answers;
        let exits = self
            .portfolio
            .on_candle_skipping(symbol, candle, at_ms, |key| answers.get(key).is_some());
        for refusal in &exits.refusals {
            tracing::error!(portfolio = self.portfolio.spec().id, key = %refusal.key,
                error = %refusal.error, "paper exit refused");
        }
        let counts = (exits.fills.len(), exits.refusals.len());
        for fill in exits.fills {
            let request = RequestId {
                key: fill.key.clone(),
                fingerprint: String::new(),
            };
            let logged = OutcomeCheck::of(&fill.outcome, fill.cash_after)
                .map_err(PortfolioError::from)
                .and_then(|check| {
                    self.log(LedgerRecord::Mutated {
                        at_ms,
                        request: Some(request),
                        mutation: fill.mutation.clone(),
                        check,
                    })
                });
            let Ok(seq) = logged else {
                ctx.stop();
                return None;
            };
            self.announcer.changed(seq, &fill.outcome.trade);
            let answer = Answer::to_exit(&fill.mutation, Ok(fill.outcome), seq);
            self.answers.remember_exit(fill.key, answer);
        }
        Some(counts)
    }

    /// Writes `record` (of a mutation already applied in memory, or refused) and returns its
    /// sequence number; the caller starts the flush. A failed write leaves memory ahead of
    /// the log: the caller must stop the actor, so nothing more is served from it (a restart
    /// replays the durable log).
    fn log(&mut self, record: LedgerRecord) -> Result<u64, PortfolioError> {
        let seq = self.next_seq;
        let written = encode(&record)
            .map_err(PortfolioError::from)
            .and_then(|bytes| {
                let id = self.portfolio.spec().id;
                Ok(self.store.append_ledger(id, seq, bytes)?)
            });
        if let Err(error) = written {
            tracing::error!(portfolio = self.portfolio.spec().id, %error, "ledger write failed");
            return Err(error);
        }
        self.next_seq += 1;
        Ok(seq)
    }

    fn answer_when_durable(
        &mut self,
        seq: u64,
        reply: Reply,
        result: Result<Outcome, PortfolioError>,
    ) {
        if seq <= self.durable_seq {
            let _ = reply.send(result);
        } else {
            self.waiting.push((seq, reply, result));
        }
    }

    /// Starts a flush unless one is in flight or everything written is durable; when it
    /// returns, everything written before it started is durable and answered, and the next
    /// flush starts if more was written meanwhile.
    fn flush(&mut self, ctx: &mut Context<Self>) {
        let covers = self.next_seq.saturating_sub(1);
        if self.flushing || covers <= self.durable_seq {
            return;
        }
        self.flushing = true;
        let store = Arc::clone(&self.store);
        let id = self.portfolio.spec().id;
        let flushed = async move { store.sync_ledger(id).await };
        ctx.spawn(flushed.into_actor(self).map(move |result, actor, ctx| {
            actor.flushing = false;
            match result {
                Ok(()) => {
                    actor.durable_seq = covers;
                    actor.announcer.durable(covers);
                    let (ready, later): (Vec<_>, Vec<_>) = actor
                        .waiting
                        .drain(..)
                        .partition(|(seq, _, _)| *seq <= covers);
                    actor.waiting = later;
                    for (_, reply, result) in ready {
                        let _ = reply.send(result);
                    }
                    actor.answer_strategy_changes(covers);
                    actor.flush(ctx);
                }
                Err(error) => {
                    tracing::error!(portfolio = actor.portfolio.spec().id, %error,
                        "ledger flush failed; the portfolio stops until the server restarts");
                    let failed = PortfolioError::from(error);
                    for (_, reply, _) in actor.waiting.drain(..) {
                        let _ = reply.send(Err(failed.clone()));
                    }
                    for (_, reply, _) in actor.strategy_waiting.drain(..) {
                        let _ = reply.send(Err(failed.clone()));
                    }
                    ctx.stop();
                }
            }
        }));
    }
}

/// Messages a portfolio actor may hold. Large on purpose: a send to a full mailbox waits
/// inside its request, and a request dropped at its deadline would take its message with it
/// (a batch of candles never evaluated). Every sender is bounded upstream instead: the exit
/// feed sends one batch per symbol per round and waits for the round's deadline; HTTP
/// requests are bounded by connections, rate limits and their own timeout.
const MAILBOX_CAPACITY: usize = 1 << 20;

impl Actor for PortfolioActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(MAILBOX_CAPACITY);
    }
}

impl Handler<MutatePortfolio> for PortfolioActor {
    type Result = ();

    fn handle(&mut self, message: MutatePortfolio, ctx: &mut Self::Context) {
        self.mutate(message, ctx);
    }
}

impl Handler<EvaluateExits> for PortfolioActor {
    type Result = ();

    fn handle(&mut self, message: EvaluateExits, ctx: &mut Self::Context) {
        let evaluation = self.evaluate_exits(&message, ctx);
        // The feed may have stopped waiting; the evaluation stands either way.
        let _ = message.reply.send(evaluation);
    }
}

#[cfg(test)]
impl Handler<super::messages::StopPortfolio> for PortfolioActor {
    type Result = ();

    fn handle(&mut self, _message: super::messages::StopPortfolio, ctx: &mut Self::Context) {
        ctx.stop();
    }
}

#[cfg(test)]
impl Handler<super::messages::StallPortfolio> for PortfolioActor {
    type Result = ();

    fn handle(&mut self, message: super::messages::StallPortfolio, ctx: &mut Self::Context) {
        let release = message.release;
        ctx.wait(
            async move {
                let _ = release.await;
            }
            .into_actor(self),
        );
    }
}

impl Handler<LookupAnswer> for PortfolioActor {
    type Result = Option<Result<Outcome, PortfolioError>>;

    /// The first answer to the key if it is known, unexpired and durable. An answer whose
    /// flush is still in flight is not given here: the caller then sends its mutation, and
    /// `mutate` answers it with the first answer once durable.
    fn handle(&mut self, message: LookupAnswer, _ctx: &mut Self::Context) -> Self::Result {
        let answer = self.answers.get(&message.key)?;
        // A key stored before fingerprints existed answers by its mutation, in `mutate`.
        if answer.seq > self.durable_seq || answer.fingerprint.is_none() {
            return None;
        }
        Some(if answer.answers_fingerprint(&message.fingerprint) {
            answer.result.clone()
        } else {
            Err(PortfolioError::KeyReused)
        })
    }
}

impl Handler<ReadPortfolio> for PortfolioActor {
    type Result = actix::MessageResult<ReadPortfolio>;

    fn handle(&mut self, _message: ReadPortfolio, _ctx: &mut Self::Context) -> Self::Result {
        actix::MessageResult(Box::new(self.portfolio.clone()))
    }
}

impl Handler<ReadTrade> for PortfolioActor {
    type Result = Option<crate::domain::ledger::Trade>;

    fn handle(&mut self, message: ReadTrade, _ctx: &mut Self::Context) -> Self::Result {
        self.portfolio.trade(message.trade_id).cloned()
    }
}

impl Handler<ConfigureStrategy> for PortfolioActor {
    type Result = ();

    fn handle(&mut self, message: ConfigureStrategy, ctx: &mut Self::Context) {
        self.configure_strategy(message, ctx);
    }
}

impl Handler<ReadStrategy> for PortfolioActor {
    type Result = Option<StrategyView>;

    fn handle(&mut self, _message: ReadStrategy, _ctx: &mut Self::Context) -> Self::Result {
        self.strategy.as_ref().map(LiveStrategy::view)
    }
}

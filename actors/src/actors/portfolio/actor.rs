//! One writer per portfolio, with group commit.
//!
//! Each mutation is checked and applied to the in-memory portfolio in mailbox order, its
//! record written to the ledger tree, and its reply held back until a flush covering it has
//! returned: only then is it acknowledged. One flush at a time is in flight; mutations that
//! arrive meanwhile wait for the next one, so concurrent requests share an fsync. A refused
//! mutation changes nothing and is answered at once. Reads see the in-memory state, which
//! may include mutations whose flush is still in flight; if a flush fails, the actor stops
//! and its supervisor-less restart path is a server restart, which replays the durable log.

use super::messages::{MutatePortfolio, ReadOpenTrades, ReadPortfolio};
use super::record::LedgerRecord;
use super::PortfolioError;
use crate::domain::ledger::{Mutation, Outcome, Portfolio};
use crate::store::{encode, Store};
use actix::{Actor, ActorContext, ActorFutureExt, AsyncContext, Context, Handler, WrapFuture};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::oneshot;

type Reply = oneshot::Sender<Result<Outcome, PortfolioError>>;

/// The first answer to an idempotency key, and the request it answered.
#[derive(Clone)]
pub struct Answer {
    pub mutation: Mutation,
    pub result: Result<Outcome, PortfolioError>,
    /// The record's sequence number; 0 for a refusal (nothing to make durable).
    pub seq: u64,
}

pub struct PortfolioActor {
    portfolio: Portfolio,
    store: Arc<Store>,
    next_seq: u64,
    answers: HashMap<String, Answer>,
    /// Replies waiting for a flush, with the sequence number they need durable.
    waiting: Vec<(u64, Reply, Result<Outcome, PortfolioError>)>,
    durable_seq: u64,
    flushing: bool,
}

impl PortfolioActor {
    /// `next_seq` follows the last record replayed; `answers` are the replayed keys.
    pub fn new(
        portfolio: Portfolio,
        store: Arc<Store>,
        next_seq: u64,
        answers: HashMap<String, Answer>,
    ) -> PortfolioActor {
        PortfolioActor {
            portfolio,
            store,
            next_seq,
            answers,
            waiting: Vec::new(),
            durable_seq: next_seq.saturating_sub(1),
            flushing: false,
        }
    }

    fn mutate(&mut self, message: MutatePortfolio, ctx: &mut Context<Self>) {
        if let Some(key) = &message.idempotency_key {
            if let Some(answer) = self.answers.get(key).cloned() {
                let result = if answer.mutation == message.mutation {
                    answer.result
                } else {
                    Err(PortfolioError::KeyReused)
                };
                self.answer_when_durable(answer.seq, message.reply, result);
                return;
            }
        }
        let outcome = match self.portfolio.apply(&message.mutation, message.at_ms) {
            Ok(outcome) => outcome,
            Err(refusal) => {
                let result = Err(PortfolioError::Refused(refusal));
                self.remember(&message, 0, &result);
                let _ = message.reply.send(result);
                return;
            }
        };
        let seq = self.next_seq;
        let record = LedgerRecord::Applied {
            at_ms: message.at_ms,
            idempotency_key: message.idempotency_key.clone(),
            mutation: message.mutation.clone(),
            outcome: Box::new(outcome.clone()),
        };
        let written = encode(&record)
            .map_err(|error| error.to_string())
            .and_then(|bytes| {
                self.store
                    .append_ledger(self.portfolio.spec().id, seq, bytes)
                    .map_err(|error| error.to_string())
            });
        if let Err(problem) = written {
            // Memory is now ahead of the log: stop, so nothing more is served from it; a
            // restart replays the durable log.
            tracing::error!(portfolio = self.portfolio.spec().id, %problem, "ledger write failed");
            let _ = message.reply.send(Err(PortfolioError::Durability(problem)));
            ctx.stop();
            return;
        }
        self.next_seq += 1;
        let result = Ok(outcome);
        self.remember(&message, seq, &result);
        self.waiting.push((seq, message.reply, result));
        self.flush(ctx);
    }

    fn remember(
        &mut self,
        message: &MutatePortfolio,
        seq: u64,
        result: &Result<Outcome, PortfolioError>,
    ) {
        if let Some(key) = &message.idempotency_key {
            let answer = Answer {
                mutation: message.mutation.clone(),
                result: result.clone(),
                seq,
            };
            self.answers.insert(key.clone(), answer);
        }
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

    /// Starts a flush unless one is in flight; when it returns, everything written before it
    /// started is durable and answered, and the next flush starts if more is waiting.
    fn flush(&mut self, ctx: &mut Context<Self>) {
        if self.flushing || self.waiting.is_empty() {
            return;
        }
        self.flushing = true;
        let covers = self.next_seq - 1;
        let store = Arc::clone(&self.store);
        let flushed = async move { store.flush_async().await };
        ctx.spawn(flushed.into_actor(self).map(move |result, actor, ctx| {
            actor.flushing = false;
            match result {
                Ok(()) => {
                    actor.durable_seq = covers;
                    let (ready, later): (Vec<_>, Vec<_>) = actor
                        .waiting
                        .drain(..)
                        .partition(|(seq, _, _)| *seq <= covers);
                    actor.waiting = later;
                    for (_, reply, result) in ready {
                        let _ = reply.send(result);
                    }
                    actor.flush(ctx);
                }
                Err(error) => {
                    tracing::error!(portfolio = actor.portfolio.spec().id, %error,
                        "ledger flush failed; the portfolio stops until the server restarts");
                    for (_, reply, _) in actor.waiting.drain(..) {
                        let _ = reply.send(Err(PortfolioError::Durability(error.to_string())));
                    }
                    ctx.stop();
                }
            }
        }));
    }
}

impl Actor for PortfolioActor {
    type Context = Context<Self>;
}

impl Handler<MutatePortfolio> for PortfolioActor {
    type Result = ();

    fn handle(&mut self, message: MutatePortfolio, ctx: &mut Self::Context) {
        self.mutate(message, ctx);
    }
}

impl Handler<ReadOpenTrades> for PortfolioActor {
    type Result = actix::MessageResult<ReadOpenTrades>;

    fn handle(&mut self, message: ReadOpenTrades, _ctx: &mut Self::Context) -> Self::Result {
        let trades = self
            .portfolio
            .trades()
            .filter(|trade| trade.is_open() && trade.symbol == message.0);
        actix::MessageResult(trades.cloned().collect())
    }
}

impl Handler<ReadPortfolio> for PortfolioActor {
    type Result = actix::MessageResult<ReadPortfolio>;

    fn handle(&mut self, _message: ReadPortfolio, _ctx: &mut Self::Context) -> Self::Result {
        actix::MessageResult(Box::new(self.portfolio.clone()))
    }
}

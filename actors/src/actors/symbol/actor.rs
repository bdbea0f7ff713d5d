use super::exit_backlog::{ExitBatch, ExitOutlet};
use super::messages::{
    Ask, CandleSnapshot, DrainMailbox, IngestCandles, IngestReport, PrependCandles, PrependReport,
    ReadCandles, Request, RescanSignals, SnapshotCopy, TakeExitCandles, TakeSnapshot,
};
use super::view::AnalysisBoard;
use crate::actors::events::MarketEvents;
use crate::actors::health::ActorHealth;
use crate::actors::{EngineError, MarketEvent};
use crate::clock::SharedClock;
use crate::domain::analysis::{AnalysisEvents, PatternEvent, SignalEvent};
use crate::domain::backtest::{entry_values, SignalAtClose};
use crate::domain::market::{Candle, ClosedCandle, IngestTally, Symbol, Timeframe};
use crate::domain::notify::PatternAtClose;
use crate::domain::scanner::SymbolScanner;
use actix::{Actor, AsyncContext, Context, Handler, Supervised};
use std::sync::Arc;
use std::time::Duration;

/// Scratch entries kept between batches: a few minutes of live closes never reallocate.
const SCRATCH_KEPT: usize = 64;

/// Owns one symbol's candles and analysis on every timeframe. Thin: it feeds the domain
/// scanner, publishes closed candles, pattern and signal events and the read model, queues
/// closed base candles for the portfolio exit feed (its exit backlog), and keeps its health
/// counters current.
pub struct SymbolActor {
    symbol: Symbol,
    scanner: SymbolScanner,
    health: Arc<ActorHealth>,
    board: Arc<AnalysisBoard>,
    events: MarketEvents,
    heartbeat_interval: Duration,
    clock: SharedClock,
    /// Reused between batches so ingest does not allocate per candle.
    closed_scratch: Vec<ClosedCandle>,
    analysis_scratch: AnalysisEvents,
    /// Closed base candles waiting for the portfolio exit feed (lossless, unlike `events`).
    exits: ExitOutlet,
}

impl SymbolActor {
    pub fn new(
        scanner: SymbolScanner,
        health: Arc<ActorHealth>,
        board: Arc<AnalysisBoard>,
        events: MarketEvents,
        heartbeat_interval: Duration,
        clock: SharedClock,
        exits: ExitOutlet,
    ) -> SymbolActor {
        SymbolActor {
            symbol: health.symbol().clone(),
            scanner,
            health,
            board,
            events,
            heartbeat_interval,
            clock,
            closed_scratch: Vec::new(),
            analysis_scratch: AnalysisEvents::default(),
            exits,
        }
    }

    /// Gives back what a large batch made the scratch buffers grow to, so a symbol's memory
    /// does not depend on how its candles arrived (one 10,000-candle batch would otherwise
    /// keep megabytes per symbol for good).
    fn release_scratch(&mut self) {
        self.closed_scratch.clear();
        self.closed_scratch.shrink_to(SCRATCH_KEPT);
        self.analysis_scratch.clear();
        self.analysis_scratch.shrink_to(SCRATCH_KEPT);
    }

    fn ingest(
        &mut self,
        timeframe: Timeframe,
        candles: &[Candle],
    ) -> Result<IngestReport, EngineError> {
        let base = self.scanner.aggregator().base();
        if timeframe != base {
            return Err(EngineError::TimeframeMismatch {
                symbol: self.symbol.clone(),
                base,
                received: timeframe,
            });
        }
        self.closed_scratch.clear();
        self.analysis_scratch.clear();
        let mut tally = IngestTally::default();
        for candle in candles {
            let signals_before = self.analysis_scratch.signals.len();
            let patterns_before = self.analysis_scratch.patterns.len();
            let outcome = self.scanner.on_candle(
                *candle,
                &mut self.closed_scratch,
                &mut self.analysis_scratch,
            );
            tally.record(outcome);
            if self.analysis_scratch.signals.len() > signals_before
                || self.analysis_scratch.patterns.len() > patterns_before
            {
                self.queue_exit_riders(signals_before, patterns_before, base);
            }
        }
        self.publish_closed();
        if tally.appended + tally.replaced > 0 {
            self.publish_forming();
        }
        self.queue_exit_candles(base);
        self.publish_analysis();
        if tally.appended + tally.replaced > 0 {
            self.health.record_state_change();
        }
        let last_open_time_ms = self.scanner.aggregator().last_open_time_ms();
        self.health
            .record_ingest(&tally, last_open_time_ms, self.clock.now_ms());
        self.health.record_first_candle(self.first_open_time_ms());
        Ok(IngestReport {
            symbol: self.symbol.clone(),
            timeframe,
            received: candles.len(),
            tally,
            closed: self.closed_scratch.len(),
            last_open_time_ms,
        })
    }

    fn publish_closed(&self) {
        // A broadcast with no subscriber would only refuse the send: skip the clones.
        if self.events.all.receiver_count() == 0 {
            return;
        }
        for closed in &self.closed_scratch {
            let event = MarketEvent::CandleClosed {
                symbol: self.symbol.clone(),
                timeframe: closed.timeframe,
                candle: closed.candle,
            };
            // Slow subscribers are told they lagged by the channel itself; nothing blocks here.
            let _ = self.events.all.send(event);
        }
    }

    /// The forming candle of every timeframe, after an ingest that changed the base series.
    fn publish_forming(&self) {
        if self.events.all.receiver_count() == 0 {
            return;
        }
        let aggregator = self.scanner.aggregator();
        for timeframe in aggregator.timeframes() {
            if let Some(candle) = aggregator.forming(timeframe) {
                let _ = self.events.all.send(MarketEvent::CandleForming {
                    symbol: self.symbol.clone(),
                    timeframe,
                    candle,
                });
            }
        }
    }

    /// Appends the base candles this batch closed to the exit backlog and wakes the feed. A
    /// candle the cap pushes out is never dropped silently: logged at error and counted.
    fn queue_exit_candles(&mut self, base: Timeframe) {
        if !self.exits.wakeups.is_attached() {
            return;
        }
        let mut queued = false;
        for closed in self.closed_scratch.iter().filter(|c| c.timeframe == base) {
            queued = true;
            if let Some(dropped) = self.exits.backlog.push(closed.candle) {
                let dropped_total = self.health.record_exit_candle_dropped();
                tracing::error!(symbol = %self.symbol, open_time_ms = dropped.open_time_ms,
                    dropped_total, "exit backlog full: a candle's stops and targets are not evaluated");
            }
        }
        if queued {
            self.health
                .record_exit_backlog(self.exits.backlog.len(), None);
            self.exits.wakeups.mark(&self.symbol);
        }
    }

    /// Queues the signals this candle's close emitted (events from `first_signal` on) for the
    /// live strategies, with their entry timeframe's indicators as they are now, and the
    /// patterns it formed (from `first_pattern` on) for the notifier's alerts.
    fn queue_exit_riders(&mut self, first_signal: usize, first_pattern: usize, base: Timeframe) {
        if !self.exits.wakeups.is_attached() {
            return;
        }
        // The base candle this one closed: its close is the signal's moment (a higher
        // timeframe closing after a gap stamps the signal later than the base's close).
        let Some(closed) = self
            .closed_scratch
            .iter()
            .rev()
            .find(|c| c.timeframe == base)
        else {
            return;
        };
        let candle_open_time_ms = closed.candle.open_time_ms;
        let analysis = self.scanner.analysis();
        for event in &self.analysis_scratch.patterns[first_pattern..] {
            if let PatternEvent::Formed(pattern) = event {
                self.exits.backlog.push_pattern(PatternAtClose {
                    candle_open_time_ms,
                    pattern: pattern.clone(),
                });
            }
        }
        for event in &self.analysis_scratch.signals[first_signal..] {
            if let SignalEvent::Emitted(signal) = event {
                self.exits.backlog.push_signal(SignalAtClose {
                    candle_open_time_ms,
                    values: entry_values(analysis, signal),
                    signal: Arc::new(signal.clone()),
                });
            }
        }
    }

    /// Acknowledges what the feed handed on and answers the next candles for it.
    fn take_exit_candles(&mut self, request: TakeExitCandles) -> ExitBatch {
        let backlog = &mut self.exits.backlog;
        let batch = backlog.take(request.handed_on_open_time_ms, request.max);
        self.health
            .record_exit_backlog(backlog.len(), request.handed_on_open_time_ms);
        batch
    }

    /// Publishes pattern and signal events and a refreshed read model, if analysis changed.
    fn publish_analysis(&self) {
        let events = &self.analysis_scratch;
        if self.closed_scratch.is_empty() && events.is_empty() {
            return;
        }
        let formed = events
            .patterns
            .iter()
            .filter(|event| matches!(event, PatternEvent::Formed(_)))
            .count();
        let emitted = events
            .signals
            .iter()
            .filter(|event| matches!(event, SignalEvent::Emitted(_)))
            .count();
        self.health.record_analysis(formed, emitted);
        let mut touched: Vec<Timeframe> = self.closed_scratch.iter().map(|c| c.timeframe).collect();
        touched.sort_unstable();
        touched.dedup();
        let view = self.board.current().refreshed(
            self.scanner.analysis(),
            &touched,
            !events.signals.is_empty(),
        );
        self.board.publish(view);
        for event in &events.signals {
            let _ = self.events.signals.send(MarketEvent::Signal {
                symbol: self.symbol.clone(),
                event: event.clone(),
            });
        }
        if self.events.all.receiver_count() == 0 {
            return;
        }
        let patterns = events.patterns.iter().map(|event| MarketEvent::Pattern {
            symbol: self.symbol.clone(),
            event: event.clone(),
        });
        let signals = events.signals.iter().map(|event| MarketEvent::Signal {
            symbol: self.symbol.clone(),
            event: event.clone(),
        });
        for event in patterns.chain(signals) {
            let _ = self.events.all.send(event);
        }
    }

    /// Older history: the scanner rebuilds its analysis, and the read model is refreshed on
    /// every timeframe. Nothing is broadcast and no exit is queued: the replay's events and
    /// candles describe the past, before any trade on them.
    fn prepend(
        &mut self,
        series: &[(Timeframe, Vec<Candle>)],
    ) -> Result<PrependReport, EngineError> {
        let tally = self.scanner.prepend(series)?;
        if tally.changed() {
            let timeframes: Vec<Timeframe> = self.scanner.aggregator().timeframes().collect();
            let view = self
                .board
                .current()
                .refreshed(self.scanner.analysis(), &timeframes, true);
            self.board.publish(view);
            self.health.record_state_change();
        }
        let first_open_time_ms = self.first_open_time_ms();
        self.health.record_first_candle(first_open_time_ms);
        Ok(PrependReport {
            symbol: self.symbol.clone(),
            tally,
            first_open_time_ms,
            last_open_time_ms: self.scanner.aggregator().last_open_time_ms(),
        })
    }

    /// The oldest base candle held, closed or (alone) open.
    fn first_open_time_ms(&self) -> Option<i64> {
        let aggregator = self.scanner.aggregator();
        aggregator
            .closed(aggregator.base())
            .and_then(|ring| ring.iter().next())
            .map(|candle| candle.open_time_ms)
            .or(aggregator.last_open_time_ms())
    }

    /// Re-evaluates signals on the current state; returns how many signal events that caused.
    fn rescan(&mut self) -> usize {
        self.closed_scratch.clear();
        self.analysis_scratch.clear();
        self.scanner.reevaluate(&mut self.analysis_scratch);
        self.publish_analysis();
        if !self.analysis_scratch.is_empty() {
            self.health.record_state_change();
        }
        self.analysis_scratch.signals.len()
    }

    fn read(&self, timeframe: Timeframe, limit: usize) -> Result<CandleSnapshot, EngineError> {
        let aggregator = self.scanner.aggregator();
        let base = aggregator.base();
        let unavailable = || EngineError::TimeframeUnavailable {
            symbol: self.symbol.clone(),
            timeframe,
            base,
        };
        let ring = aggregator.closed(timeframe).ok_or_else(unavailable)?;
        let forming = aggregator.forming(timeframe);
        let closed_limit = limit.saturating_sub(usize::from(forming.is_some()));
        Ok(CandleSnapshot {
            symbol: self.symbol.clone(),
            timeframe,
            base_timeframe: base,
            closed: ring.tail(closed_limit).copied().collect(),
            forming,
        })
    }
}

impl Actor for SymbolActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.health.record_heartbeat(self.clock.now_ms());
        // A restored actor starts with its history.
        self.health.record_first_candle(self.first_open_time_ms());
        ctx.run_interval(self.heartbeat_interval, |actor, _| {
            actor.health.record_heartbeat(actor.clock.now_ms())
        });
    }
}

impl Supervised for SymbolActor {
    /// The supervisor keeps this struct, so a restart resumes from the intact state: handlers
    /// return errors rather than leave the scanner half-changed, and a stop only takes effect
    /// between messages. Only a process restart starts from the last snapshot in the store.
    fn restarting(&mut self, _ctx: &mut Self::Context) {
        let restarts = self.health.record_restart();
        tracing::warn!(symbol = %self.symbol, restarts, "symbol actor restarting");
    }
}

impl SymbolActor {
    /// Every [`Ask`] alike: its mailbox slot is given back, its wait recorded, and its answer
    /// sent. The requester may have given up (timeout, closed connection); what the request
    /// did stays done.
    fn answer<R: Request>(&mut self, ask: Ask<R>, work: impl FnOnce(&mut Self, R) -> R::Answer) {
        self.health.release_slot();
        self.health.record_handled(ask.enqueued_at.elapsed());
        let answer = work(self, ask.request);
        let _ = ask.reply.send(answer);
    }
}

impl Handler<Ask<IngestCandles>> for SymbolActor {
    type Result = ();

    fn handle(&mut self, ask: Ask<IngestCandles>, _ctx: &mut Self::Context) {
        self.answer(ask, |actor, request| {
            actor.ingest(request.timeframe, &request.candles)
        });
        self.release_scratch();
    }
}

impl Handler<Ask<PrependCandles>> for SymbolActor {
    type Result = ();

    fn handle(&mut self, ask: Ask<PrependCandles>, _ctx: &mut Self::Context) {
        self.answer(ask, |actor, request| actor.prepend(&request.series));
        self.release_scratch();
    }
}

impl Handler<Ask<ReadCandles>> for SymbolActor {
    type Result = ();

    fn handle(&mut self, ask: Ask<ReadCandles>, _ctx: &mut Self::Context) {
        self.answer(ask, |actor, request| {
            actor.read(request.timeframe, request.limit)
        });
    }
}

impl Handler<Ask<TakeExitCandles>> for SymbolActor {
    type Result = ();

    fn handle(&mut self, ask: Ask<TakeExitCandles>, _ctx: &mut Self::Context) {
        self.answer(ask, SymbolActor::take_exit_candles);
    }
}

impl Handler<Ask<RescanSignals>> for SymbolActor {
    type Result = ();

    fn handle(&mut self, ask: Ask<RescanSignals>, _ctx: &mut Self::Context) {
        self.answer(ask, |actor, RescanSignals| actor.rescan());
    }
}

impl Handler<TakeSnapshot> for SymbolActor {
    type Result = actix::MessageResult<TakeSnapshot>;

    fn handle(&mut self, _message: TakeSnapshot, _ctx: &mut Self::Context) -> Self::Result {
        // Handled in turn with ingest, so the copy and its version always match.
        actix::MessageResult(SnapshotCopy {
            version: self.health.state_version(),
            scanner: Box::new(self.scanner.clone()),
        })
    }
}

impl Handler<DrainMailbox> for SymbolActor {
    type Result = ();

    fn handle(&mut self, _message: DrainMailbox, _ctx: &mut Self::Context) {}
}

#[cfg(feature = "fault-injection")]
impl Handler<super::messages::InjectFault> for SymbolActor {
    type Result = ();

    fn handle(&mut self, message: super::messages::InjectFault, ctx: &mut Self::Context) {
        use super::messages::Fault;
        use actix::{ActorContext, WrapFuture};
        match message.0 {
            Fault::Stop => ctx.stop(),
            Fault::Stall { release } => {
                ctx.wait(
                    async move {
                        let _ = release.await;
                    }
                    .into_actor(self),
                );
            }
        }
    }
}

//! Messages a [`super::SymbolActor`] understands, named verb-noun.

use crate::actors::EngineError;
use crate::domain::market::{Candle, IngestTally, PrependTally, Symbol, Timeframe};
use crate::domain::scanner::SymbolScanner;
use actix::Message;
use serde::Serialize;
use std::time::Instant;
use tokio::sync::oneshot;

/// A request to a [`super::SymbolActor`] and the channel its answer goes back on. Only
/// [`super::SymbolHandle::ask`] builds one: it reserves the mailbox slot the handler gives
/// back, and sends with `try_send` so a full mailbox is refused at once.
pub struct Ask<R: Request> {
    pub(super) request: R,
    pub(super) enqueued_at: Instant,
    pub(super) reply: oneshot::Sender<R::Answer>,
}

impl<R: Request> Message for Ask<R> {
    type Result = ();
}

/// What a request is answered with.
pub trait Request: Send + 'static {
    type Answer: Send + 'static;
}

/// Apply checked candles of `timeframe` in the order given.
pub struct IngestCandles {
    pub timeframe: Timeframe,
    pub candles: Vec<Candle>,
}

impl Request for IngestCandles {
    type Answer = Result<IngestReport, EngineError>;
}

/// What one ingest did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IngestReport {
    pub symbol: Symbol,
    pub timeframe: Timeframe,
    pub received: usize,
    #[serde(flatten)]
    pub tally: IngestTally,
    /// Candles of any timeframe that completed because of this batch.
    pub closed: usize,
    pub last_open_time_ms: Option<i64>,
}

/// Put older history of any of the symbol's timeframes before what it holds, and rebuild its
/// analysis (rules in `domain/market/aggregator/prepend.rs`).
pub struct PrependCandles {
    pub series: Vec<(Timeframe, Vec<Candle>)>,
}

impl Request for PrependCandles {
    type Answer = Result<PrependReport, EngineError>;
}

/// What one prepend did, and the span of base candles held after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrependReport {
    pub symbol: Symbol,
    #[serde(flatten)]
    pub tally: PrependTally,
    pub first_open_time_ms: Option<i64>,
    pub last_open_time_ms: Option<i64>,
}

/// Read the newest closed candles of one timeframe and the one still forming.
pub struct ReadCandles {
    pub timeframe: Timeframe,
    pub limit: usize,
}

impl Request for ReadCandles {
    type Answer = Result<CandleSnapshot, EngineError>;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandleSnapshot {
    pub symbol: Symbol,
    pub timeframe: Timeframe,
    pub base_timeframe: Timeframe,
    /// Closed candles, oldest first.
    pub closed: Vec<Candle>,
    pub forming: Option<Candle>,
}

/// A symbol as `/api/symbols` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SymbolSummary {
    pub symbol: Symbol,
    pub base_timeframe: Timeframe,
    pub timeframes: Vec<Timeframe>,
    /// The span of base candles held: oldest and newest open times.
    pub first_open_time_ms: Option<i64>,
    pub last_open_time_ms: Option<i64>,
}

/// For the portfolio exit feed: drop the backlog's candles opening at or before
/// `handed_on_open_time_ms` (the feed handed them on), then answer up to `max` of the next,
/// oldest first. Nothing is removed until acknowledged, so a lost answer loses no candle.
pub struct TakeExitCandles {
    pub handed_on_open_time_ms: Option<i64>,
    pub max: usize,
}

impl Request for TakeExitCandles {
    type Answer = super::ExitBatch;
}

/// Re-evaluate signals on the current state (`POST /api/scan`); answers with the number of
/// signal events (emitted, updated, ended) that caused.
pub struct RescanSignals;

impl Request for RescanSignals {
    type Answer = usize;
}

/// A copy of the actor's whole state for the persistence actor. The copy is all the symbol
/// actor does; encoding and writing happen off its thread.
#[derive(Message)]
#[rtype(result = "SnapshotCopy")]
pub struct TakeSnapshot;

pub struct SnapshotCopy {
    /// The state version the copy was taken at.
    pub version: u64,
    pub scanner: Box<SymbolScanner>,
}

/// Answers once every message queued before it has been handled (used at shutdown).
#[derive(Message)]
#[rtype(result = "()")]
pub struct DrainMailbox;

/// Test-only faults, compiled only with the `fault-injection` feature.
#[cfg(feature = "fault-injection")]
pub enum Fault {
    /// The actor stops itself as if its state were unrecoverable; the supervisor restarts it.
    Stop,
    /// The actor handles nothing more until `release` fires (or is dropped).
    Stall { release: oneshot::Receiver<()> },
}

#[cfg(feature = "fault-injection")]
#[derive(Message)]
#[rtype(result = "()")]
pub struct InjectFault(pub Fault);

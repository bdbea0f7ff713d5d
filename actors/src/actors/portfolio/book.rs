//! All portfolios: creating them (durably), replaying them on start, and routing to their
//! actors.

use super::actor::PortfolioActor;
use super::answers::{Answer, Answers};
use super::bounds::{KeyCounters, PortfolioBounds};
use super::error::ReplayError;
use super::messages::{
    ConfigureStrategy, EvaluateExits, ExitEvaluation, LookupAnswer, MutatePortfolio, ReadPortfolio,
    ReadStrategy, ReadTrade,
};
use super::record::{LedgerRecord, OutcomeCheck, OutcomeV1, RequestId};
use super::strategy::{apply_change, placed_signal, LiveStrategy, StrategyChange, StrategyView};
use super::trade_events::{TradeEvent, TradeOutlets};
use super::PortfolioError;
use crate::domain::backtest::SignalAtClose;
use crate::domain::ledger::{Mutation, Outcome, Portfolio, PortfolioSpec};
use crate::domain::market::{Candle, Symbol, Timeframe};
use crate::store::{decode, encode, Store, StoreProblem};
use actix::{Actor, Addr};
use actix_rt::ArbiterHandle;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;
use tokio::sync::{broadcast, oneshot};

/// A portfolio as listings show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortfolioEntry {
    pub id: u64,
    pub owner: String,
    pub name: String,
}

struct Handle {
    entry: PortfolioEntry,
    addr: Addr<PortfolioActor>,
}

pub struct PortfolioBook {
    store: Arc<Store>,
    shards: Vec<ArbiterHandle>,
    next_shard: AtomicUsize,
    portfolios: RwLock<BTreeMap<u64, Handle>>,
    /// Serialises creation so ids are unique and records are written in order; holds the
    /// keyed creations, (owner, key) -> (fingerprint, spec), so a repeat answers the same.
    creating: tokio::sync::Mutex<HashMap<(String, String), (String, PortfolioSpec)>>,
    request_timeout: Duration,
    bounds: PortfolioBounds,
    keys: Arc<KeyCounters>,
    /// Durable mutations acknowledged since start, for metrics.
    mutations: std::sync::atomic::AtomicU64,
    exit_stats: ExitStats,
    trade_events: TradeOutlets,
    /// Held while a stopped portfolio actor is started again.
    reviving: std::sync::Mutex<()>,
}

/// Exit evaluation counters since start.
#[derive(Default)]
struct ExitStats {
    /// Candles handed to the portfolios (each counted once, however many portfolios).
    candles: AtomicU64,
    /// Portfolios that failed or did not answer a batch.
    errors: AtomicU64,
    /// Exits the ledger refused.
    refusals: AtomicU64,
}

/// A copy of the exit evaluation counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExitStatsView {
    pub candles_evaluated: u64,
    pub evaluation_errors: u64,
    pub refusals: u64,
}

impl PortfolioBook {
    /// Replays every portfolio's log and starts its actor. A log that does not replay is
    /// reported and its portfolio not served.
    pub fn restore(
        store: Arc<Store>,
        shards: Vec<ArbiterHandle>,
        request_timeout: Duration,
        bounds: PortfolioBounds,
    ) -> Result<(PortfolioBook, Vec<StoreProblem>), PortfolioError> {
        let records = store.ledger_records()?;
        let mut logs: BTreeMap<u64, Vec<(u64, Vec<u8>)>> = BTreeMap::new();
        for (portfolio, seq, bytes) in records {
            logs.entry(portfolio).or_default().push((seq, bytes));
        }
        let mut book = PortfolioBook {
            store,
            shards,
            next_shard: AtomicUsize::new(0),
            portfolios: RwLock::new(BTreeMap::new()),
            creating: tokio::sync::Mutex::new(HashMap::new()),
            request_timeout,
            bounds,
            keys: Arc::new(KeyCounters::default()),
            mutations: std::sync::atomic::AtomicU64::new(0),
            exit_stats: ExitStats::default(),
            trade_events: TradeOutlets::new(),
            reviving: std::sync::Mutex::new(()),
        };
        let mut problems = book.store.ledger_findings().to_vec();
        let mut creations = HashMap::new();
        for (id, log) in logs {
            let replayed = replay_or_prefix(id, &log, || book.new_answers());
            if let Some(error) = replayed
                .damage
                .as_ref()
                .or(replayed.portfolio.as_ref().err())
            {
                problems.push(StoreProblem {
                    tree: "ledger".into(),
                    key: id.to_string(),
                    problem: error.to_string(),
                });
            }
            let read_only = replayed.damage.map(|error| error.to_string());
            match replayed.portfolio {
                Ok(replayed) => {
                    if let Some(request) = replayed.creation.clone() {
                        let spec = replayed.portfolio.spec().clone();
                        let owner = spec.owner.clone();
                        creations.insert((owner, request.key), (request.fingerprint, spec));
                    }
                    book.start(replayed, read_only)
                }
                Err(error) => tracing::error!(portfolio = id, %error, "portfolio not served"),
            }
        }
        *book.creating.get_mut() = creations;
        Ok((book, problems))
    }

    fn new_answers(&self) -> Answers {
        Answers::new(&self.bounds, Arc::clone(&self.keys))
    }

    /// Idempotency keys held by all portfolios, and forgotten since start.
    pub fn idempotency_keys(&self) -> &KeyCounters {
        &self.keys
    }

    pub fn bounds(&self) -> &PortfolioBounds {
        &self.bounds
    }

    fn start(&self, replayed: Replayed, read_only: Option<String>) {
        let Replayed {
            portfolio,
            next_seq,
            answers,
            strategy,
            ..
        } = replayed;
        let spec = portfolio.spec().clone();
        let shard = self.next_shard.fetch_add(1, Ordering::Relaxed) % self.shards.len();
        let actor = PortfolioActor::new(
            portfolio,
            Arc::clone(&self.store),
            next_seq,
            answers,
            self.trade_events.clone(),
        )
        .read_only(read_only)
        .with_strategy(strategy);
        let addr = PortfolioActor::start_in_arbiter(&self.shards[shard], |_| actor);
        let entry = PortfolioEntry {
            id: spec.id,
            owner: spec.owner,
            name: spec.name,
        };
        self.write().insert(entry.id, Handle { entry, addr });
    }

    /// Creates a portfolio: checked, written and flushed before it is answered. A repeat of
    /// a keyed creation by the same owner answers the portfolio as it was created (another
    /// request under the key: `KeyReused`).
    pub async fn create(
        &self,
        mut spec: PortfolioSpec,
        request: Option<RequestId>,
    ) -> Result<Portfolio, PortfolioError> {
        let mut keyed = self.creating.lock().await;
        if let Some(request) = &request {
            let owned_key = (spec.owner.clone(), request.key.clone());
            if let Some((fingerprint, first)) = keyed.get(&owned_key) {
                if *fingerprint != request.fingerprint {
                    return Err(PortfolioError::KeyReused);
                }
                return Ok(Portfolio::create(first.clone())?);
            }
        }
        let owned = self
            .read_handles()
            .values()
            .filter(|handle| handle.entry.owner == spec.owner)
            .count();
        if owned >= self.bounds.portfolios_per_user_max {
            return Err(PortfolioError::LimitReached {
                max: self.bounds.portfolios_per_user_max,
            });
        }
        spec.id = self
            .read_handles()
            .keys()
            .next_back()
            .map_or(1, |last| last + 1);
        let portfolio = Portfolio::create(spec.clone())?;
        self.store.admit_write()?;
        let record = LedgerRecord::Opened {
            spec: spec.clone(),
            request: request.clone(),
        };
        let bytes = encode(&record)?;
        self.store.append_ledger(portfolio.spec().id, 0, bytes)?;
        self.store.sync_ledger(portfolio.spec().id).await?;
        if let Some(request) = request {
            keyed.insert(
                (spec.owner.clone(), request.key),
                (request.fingerprint, spec),
            );
        }
        let started = Replayed {
            portfolio: portfolio.clone(),
            next_seq: 1,
            answers: self.new_answers(),
            creation: None,
            strategy: None,
        };
        self.start(started, None);
        Ok(portfolio)
    }

    /// Trades as their changes become durable (see `trade_events.rs`).
    pub fn subscribe_trades(&self) -> broadcast::Receiver<TradeEvent> {
        self.trade_events.live.subscribe()
    }

    /// The changes that can fire a trade alert (see `trade_events.rs`), what it misses
    /// counted in `stats`; `None` once taken.
    pub fn tap_trade_alerts(
        &self,
        stats: Arc<crate::actors::notifier::NotifierStats>,
    ) -> Option<tokio::sync::mpsc::Receiver<TradeEvent>> {
        self.trade_events.open_alert_tap(stats)
    }

    pub fn list(&self) -> Vec<PortfolioEntry> {
        self.read_handles()
            .values()
            .map(|handle| handle.entry.clone())
            .collect()
    }

    pub fn entry(&self, id: u64) -> Option<PortfolioEntry> {
        self.read_handles()
            .get(&id)
            .map(|handle| handle.entry.clone())
    }

    pub async fn mutate(
        &self,
        id: u64,
        mutation: Mutation,
        request: Option<RequestId>,
        at_ms: i64,
    ) -> Result<Outcome, PortfolioError> {
        let addr = self.addr(id)?;
        let (reply, answer) = oneshot::channel();
        let message = MutatePortfolio {
            mutation,
            request,
            at_ms,
            reply,
        };
        addr.send(message)
            .await
            .map_err(|_| PortfolioError::Unavailable)?;
        match tokio::time::timeout(self.request_timeout, answer).await {
            Ok(Ok(result)) => {
                if result.is_ok() {
                    self.mutations.fetch_add(1, Ordering::Relaxed);
                }
                result
            }
            _ => Err(PortfolioError::Unavailable),
        }
    }

    /// The durable first answer to `key` on portfolio `id`, if the key is known: a request
    /// with another fingerprint gets `Err(KeyReused)`.
    pub async fn answer(
        &self,
        id: u64,
        key: &str,
        fingerprint: &str,
    ) -> Result<Option<Result<Outcome, PortfolioError>>, PortfolioError> {
        let addr = self.addr(id)?;
        let lookup = addr.send(LookupAnswer {
            key: key.to_owned(),
            fingerprint: fingerprint.to_owned(),
        });
        match tokio::time::timeout(self.request_timeout, lookup).await {
            Ok(Ok(found)) => Ok(found),
            _ => Err(PortfolioError::Unavailable),
        }
    }

    /// Mutations acknowledged since start (including idempotent repeats).
    pub fn mutations(&self) -> u64 {
        self.mutations.load(Ordering::Relaxed)
    }

    pub async fn portfolio(&self, id: u64) -> Result<Portfolio, PortfolioError> {
        let addr = self.addr(id)?;
        let request = addr.send(ReadPortfolio);
        match tokio::time::timeout(self.request_timeout, request).await {
            Ok(Ok(portfolio)) => Ok(*portfolio),
            _ => Err(PortfolioError::Unavailable),
        }
    }

    /// Attaches, pauses, resumes or detaches portfolio `id`'s live strategy; answers, once
    /// durable, the strategy it leaves (None after a detach).
    pub async fn configure_strategy(
        &self,
        id: u64,
        change: StrategyChange,
        at_ms: i64,
    ) -> Result<Option<StrategyView>, PortfolioError> {
        let addr = self.addr(id)?;
        let (reply, answer) = oneshot::channel();
        addr.send(ConfigureStrategy {
            change,
            at_ms,
            reply,
        })
        .await
        .map_err(|_| PortfolioError::Unavailable)?;
        match tokio::time::timeout(self.request_timeout, answer).await {
            Ok(Ok(result)) => result,
            _ => Err(PortfolioError::Unavailable),
        }
    }

    /// Portfolio `id`'s live strategy, if it has one.
    pub async fn strategy(&self, id: u64) -> Result<Option<StrategyView>, PortfolioError> {
        let request = self.addr(id)?.send(ReadStrategy);
        match tokio::time::timeout(self.request_timeout, request).await {
            Ok(Ok(view)) => Ok(view),
            _ => Err(PortfolioError::Unavailable),
        }
    }

    /// A copy of trade `trade_id` of portfolio `id`, if it has one.
    pub async fn trade(
        &self,
        id: u64,
        trade_id: u64,
    ) -> Result<Option<crate::domain::ledger::Trade>, PortfolioError> {
        let request = self.addr(id)?.send(ReadTrade { trade_id });
        match tokio::time::timeout(self.request_timeout, request).await {
            Ok(Ok(trade)) => Ok(trade),
            _ => Err(PortfolioError::Unavailable),
        }
    }

    /// Sends closed base-timeframe candles of `symbol` (oldest first) and the signals their
    /// closes emitted to every portfolio at once, each applying the exits they cause and its
    /// strategy's steps (`EvaluateExits`). Each portfolio is on its
    /// own: one that fails or does not answer within the request timeout is logged with its
    /// id and counted, and never holds up the others. Answers the sum over portfolios.
    pub async fn evaluate_exits(
        &self,
        symbol: &Symbol,
        timeframe: Timeframe,
        candles: &[Candle],
        signals: &[SignalAtClose],
    ) -> ExitEvaluation {
        let candles: Arc<[Candle]> = Arc::from(candles);
        let signals: Arc<[SignalAtClose]> = Arc::from(signals);
        // Each batch is queued at once and always handled (see `EvaluateExits`): the
        // portfolios evaluate concurrently while the answers are awaited in turn, all under
        // one deadline. A late answer is a slow portfolio, not a lost batch.
        let requests: Vec<_> = self
            .read_handles()
            .iter()
            .map(|(id, handle)| {
                let (reply, answer) = oneshot::channel();
                let message = EvaluateExits {
                    symbol: symbol.clone(),
                    candles: Arc::clone(&candles),
                    signals: Arc::clone(&signals),
                    timeframe,
                    reply,
                };
                if handle.addr.try_send(message).is_err() {
                    tracing::error!(portfolio = id, %symbol, "exits not queued: mailbox full or actor stopped");
                }
                (*id, answer)
            })
            .collect();
        let deadline = tokio::time::Instant::now() + self.request_timeout;
        let mut total = ExitEvaluation::default();
        for (id, request) in requests {
            match tokio::time::timeout_at(deadline, request).await {
                Ok(Ok(evaluation)) => {
                    total.evaluated += evaluation.evaluated;
                    total.applied += evaluation.applied;
                    total.refused += evaluation.refused;
                }
                _ => {
                    self.exit_stats.errors.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(portfolio = id, %symbol, "exits not evaluated: no answer");
                }
            }
        }
        self.exit_stats
            .candles
            .fetch_add(candles.len() as u64, Ordering::Relaxed);
        self.exit_stats
            .refusals
            .fetch_add(total.refused as u64, Ordering::Relaxed);
        self.mutations
            .fetch_add(total.applied as u64, Ordering::Relaxed);
        total
    }

    /// Exit evaluation figures since start, for metrics.
    pub fn exit_stats(&self) -> ExitStatsView {
        ExitStatsView {
            candles_evaluated: self.exit_stats.candles.load(Ordering::Relaxed),
            evaluation_errors: self.exit_stats.errors.load(Ordering::Relaxed),
            refusals: self.exit_stats.refusals.load(Ordering::Relaxed),
        }
    }

    /// Test-only: stops portfolio `id`'s actor, as a failed ledger write does.
    #[cfg(test)]
    pub fn stop_actor(&self, id: u64) -> Result<(), PortfolioError> {
        self.running_addr(id)?
            .try_send(super::messages::StopPortfolio)
            .map_err(|_| PortfolioError::Unavailable)
    }

    /// Test-only: whether portfolio `id`'s current actor runs (no revival).
    #[cfg(test)]
    pub fn actor_runs(&self, id: u64) -> bool {
        self.running_addr(id).is_ok_and(|addr| addr.connected())
    }

    /// Test-only: holds portfolio `id`'s actor busy until `release` fires.
    #[cfg(test)]
    pub fn stall(&self, id: u64, release: oneshot::Receiver<()>) -> Result<(), PortfolioError> {
        let message = super::messages::StallPortfolio { release };
        self.addr(id)?
            .try_send(message)
            .map_err(|_| PortfolioError::Unavailable)
    }

    fn addr(&self, id: u64) -> Result<Addr<PortfolioActor>, PortfolioError> {
        let addr = self.running_addr(id)?;
        if addr.connected() {
            return Ok(addr);
        }
        self.revive(id)
    }

    fn running_addr(&self, id: u64) -> Result<Addr<PortfolioActor>, PortfolioError> {
        self.read_handles()
            .get(&id)
            .map(|handle| handle.addr.clone())
            .ok_or(PortfolioError::Unknown(id))
    }

    /// Starts portfolio `id` again from its durable log: its actor stopped because a ledger
    /// write failed (memory was ahead of the log). One revival at a time, so a portfolio
    /// never has two actors.
    fn revive(&self, id: u64) -> Result<Addr<PortfolioActor>, PortfolioError> {
        let _one_at_a_time = self.reviving.lock().unwrap_or_else(PoisonError::into_inner);
        let addr = self.running_addr(id)?;
        if addr.connected() {
            return Ok(addr);
        }
        let log: Vec<(u64, Vec<u8>)> = self
            .store
            .ledger_records()?
            .into_iter()
            .filter(|(portfolio, _, _)| *portfolio == id)
            .map(|(_, seq, bytes)| (seq, bytes))
            .collect();
        let replayed = replay_or_prefix(id, &log, || self.new_answers());
        let damage = replayed.damage.map(|error| error.to_string());
        let portfolio = replayed.portfolio?;
        tracing::warn!(
            portfolio = id,
            records = log.len(),
            "portfolio actor restarted from its durable log"
        );
        self.start(portfolio, damage);
        self.running_addr(id)
    }

    fn read_handles(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<u64, Handle>> {
        self.portfolios
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<u64, Handle>> {
        self.portfolios
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// A replayed log: the portfolio to serve, and why it is read-only when only a prefix of
/// its log replayed.
struct PartlyReplayed {
    portfolio: Result<Replayed, PortfolioError>,
    damage: Option<PortfolioError>,
}

/// Replays `log`; when it fails at a record after the creation, replays the records before
/// it instead, so the portfolio is served as it was up to the damage (read-only, `damage`
/// saying why) rather than not at all.
fn replay_or_prefix(
    id: u64,
    log: &[(u64, Vec<u8>)],
    answers: impl Fn() -> Answers,
) -> PartlyReplayed {
    let error = match replay(id, log, answers()) {
        Ok(replayed) => {
            return PartlyReplayed {
                portfolio: Ok(replayed),
                damage: None,
            }
        }
        Err(error) => error,
    };
    let PortfolioError::Replay { seq, .. } = &error else {
        return PartlyReplayed {
            portfolio: Err(error),
            damage: None,
        };
    };
    let intact = log.iter().take_while(|(stored, _)| stored < seq).count();
    if intact == 0 || intact == log.len() {
        return PartlyReplayed {
            portfolio: Err(error),
            damage: None,
        };
    }
    tracing::error!(portfolio = id, %error, records = intact, "portfolio served read-only");
    PartlyReplayed {
        portfolio: replay(id, &log[..intact], answers()),
        damage: Some(error),
    }
}

/// Rebuilds a portfolio from its log: record 0 creates it, each later record's mutation is
/// applied again and must give exactly what the record says (the stored outcome of a first
/// format record, the digest and cash of a current one; a refusal again for a refused one).
/// Sequence numbers must run without gaps (a crash can only lose a tail, never a middle).
/// Request keys older than the TTL before the last record are not kept.
/// A portfolio as its log rebuilt it.
struct Replayed {
    portfolio: Portfolio,
    next_seq: u64,
    answers: Answers,
    /// The creating request's identity, when it had an idempotency key.
    creation: Option<RequestId>,
    strategy: Option<LiveStrategy>,
}

fn replay(
    id: u64,
    log: &[(u64, Vec<u8>)],
    mut answers: Answers,
) -> Result<Replayed, PortfolioError> {
    let problem = |seq: u64, cause: ReplayError| PortfolioError::Replay {
        portfolio: id,
        seq,
        cause,
    };
    let mut portfolio: Option<Portfolio> = None;
    let mut last_at_ms = i64::MIN;
    let mut creation = None;
    let mut strategy: Option<LiveStrategy> = None;
    for (expected, (seq, bytes)) in log.iter().enumerate() {
        let seq = *seq;
        if seq != expected as u64 {
            return Err(problem(
                seq,
                ReplayError::Gap {
                    expected: expected as u64,
                },
            ));
        }
        let record: LedgerRecord =
            decode(bytes).map_err(|error| problem(seq, ReplayError::Undecodable(error)))?;
        let step = match (record, portfolio.as_mut()) {
            (LedgerRecord::Created { spec }, None) => {
                portfolio = Some(create(spec.upgraded()).map_err(|cause| problem(seq, cause))?);
                continue;
            }
            (LedgerRecord::Opened { spec, request }, None) => {
                portfolio = Some(create(spec).map_err(|cause| problem(seq, cause))?);
                creation = request;
                continue;
            }
            (LedgerRecord::Strategy { at_ms, change }, Some(_)) => {
                apply_change(&mut strategy, id, &change, at_ms)
                    .map_err(|error| problem(seq, ReplayError::Strategy(error.to_string())))?;
                last_at_ms = last_at_ms.max(at_ms);
                continue;
            }
            (record, Some(state)) => replay_one(state, record, seq),
            _ => Err(ReplayError::OutOfPlace),
        };
        let (at_ms, remembered) = step.map_err(|cause| problem(seq, cause))?;
        last_at_ms = last_at_ms.max(at_ms);
        remember(&mut answers, strategy.as_mut(), remembered, at_ms);
    }
    let portfolio = portfolio.ok_or_else(|| problem(0, ReplayError::NoCreation))?;
    if !portfolio.is_conserved() {
        return Err(problem(log.len() as u64, ReplayError::NotConserved));
    }
    answers.prune(last_at_ms);
    Ok(Replayed {
        portfolio,
        next_seq: log.len() as u64,
        answers,
        creation,
        strategy,
    })
}

/// Keeps a replayed record's answer under its key; a strategy's placement also takes its
/// order off the strategy's queue, as placing it did.
fn remember(
    answers: &mut Answers,
    strategy: Option<&mut LiveStrategy>,
    remembered: Remembered,
    at_ms: i64,
) {
    match remembered {
        Some((key, answer, true)) => answers.remember(key, answer, at_ms),
        Some((key, answer, false)) => {
            if let (Some(signal), Some(strategy)) = (placed_signal(&key), strategy) {
                strategy.trader_mut().forget_queued(signal);
            }
            answers.remember_exit(key, answer)
        }
        None => {}
    }
}

fn create(spec: crate::domain::ledger::PortfolioSpec) -> Result<Portfolio, ReplayError> {
    Portfolio::create(spec).map_err(ReplayError::SpecRefused)
}

/// A key, its answer, and whether it is a request's key (else an exit's).
type Remembered = Option<(String, Answer, bool)>;

/// Replays one record after the creation: its time and the answer its key gets.
fn replay_one(
    state: &mut Portfolio,
    record: LedgerRecord,
    seq: u64,
) -> Result<(i64, Remembered), ReplayError> {
    match record {
        LedgerRecord::Applied {
            at_ms,
            idempotency_key,
            mutation,
            outcome,
        } => {
            let replayed = state
                .apply(&mutation, at_ms)
                .map_err(ReplayError::NoLongerApplies)?;
            let journal = state.journal_of(replayed.trade.id);
            if OutcomeV1::projected(&replayed, journal) != *outcome {
                return Err(ReplayError::DifferentOutcome);
            }
            let remembered = idempotency_key.map(|key| {
                let is_request = !is_exit_key(&key);
                let answer = Answer::to_exit(&mutation, Ok(replayed), seq);
                (key, answer, is_request)
            });
            Ok((at_ms, remembered))
        }
        LedgerRecord::Mutated {
            at_ms,
            request,
            mutation,
            check,
        } => {
            let replayed = state
                .apply(&mutation, at_ms)
                .map_err(ReplayError::NoLongerApplies)?;
            let recomputed =
                OutcomeCheck::of(&replayed, state.cash()).map_err(ReplayError::Undecodable)?;
            if recomputed != check {
                return Err(ReplayError::DifferentOutcome);
            }
            Ok((
                at_ms,
                request.map(|request| remembered(request, &mutation, Ok(replayed), seq)),
            ))
        }
        LedgerRecord::Refused {
            at_ms,
            request,
            mutation,
        } => {
            let Err(refusal) = state.apply(&mutation, at_ms) else {
                return Err(ReplayError::DifferentOutcome);
            };
            let result = Err(PortfolioError::Refused(refusal));
            Ok((at_ms, Some(remembered(request, &mutation, result, seq))))
        }
        LedgerRecord::Created { .. }
        | LedgerRecord::Opened { .. }
        | LedgerRecord::Strategy { .. } => Err(ReplayError::OutOfPlace),
    }
}

fn remembered(
    request: RequestId,
    mutation: &Mutation,
    result: Result<Outcome, PortfolioError>,
    seq: u64,
) -> (String, Answer, bool) {
    if request.fingerprint.is_empty() {
        return (request.key, Answer::to_exit(mutation, result, seq), false);
    }
    let answer = Answer::to_request(&request, mutation, &result, seq);
    (request.key, answer, true)
}

/// Keys the candle feed names exits, order fills and stop moves by (`on_candle.rs`).
fn is_exit_key(key: &str) -> bool {
    ["exit-", "order-", "stop-"]
        .iter()
        .any(|prefix| key.starts_with(prefix))
}

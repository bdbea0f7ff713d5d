//! All portfolios: creating them (durably), replaying them on start, and routing to their
//! actors.

use super::actor::{Answer, PortfolioActor};
use super::error::ReplayError;
use super::messages::{EvaluateExits, ExitEvaluation, MutatePortfolio, ReadPortfolio};
use super::record::LedgerRecord;
use super::PortfolioError;
use crate::domain::ledger::{Mutation, Outcome, Portfolio, PortfolioSpec};
use crate::domain::market::{Candle, Symbol, Timeframe};
use crate::store::{decode, encode, Store, StoreProblem};
use actix::{Actor, Addr};
use actix_rt::ArbiterHandle;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;
use tokio::sync::oneshot;

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
    /// Serialises creation so ids are unique and records are written in order.
    creating: tokio::sync::Mutex<()>,
    request_timeout: Duration,
    /// Durable mutations acknowledged since start, for metrics.
    mutations: std::sync::atomic::AtomicU64,
    exit_stats: ExitStats,
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
    ) -> Result<(PortfolioBook, Vec<StoreProblem>), PortfolioError> {
        let records = store.ledger_records()?;
        let mut logs: BTreeMap<u64, Vec<(u64, Vec<u8>)>> = BTreeMap::new();
        for (portfolio, seq, bytes) in records {
            logs.entry(portfolio).or_default().push((seq, bytes));
        }
        let book = PortfolioBook {
            store,
            shards,
            next_shard: AtomicUsize::new(0),
            portfolios: RwLock::new(BTreeMap::new()),
            creating: tokio::sync::Mutex::new(()),
            request_timeout,
            mutations: std::sync::atomic::AtomicU64::new(0),
            exit_stats: ExitStats::default(),
        };
        let mut problems = Vec::new();
        for (id, log) in logs {
            match replay(id, &log) {
                Ok((portfolio, next_seq, answers)) => book.start(portfolio, next_seq, answers),
                Err(error) => {
                    tracing::error!(portfolio = id, %error, "portfolio not served");
                    problems.push(StoreProblem {
                        tree: "ledger".into(),
                        key: id.to_string(),
                        problem: error.to_string(),
                    });
                }
            }
        }
        Ok((book, problems))
    }

    fn start(&self, portfolio: Portfolio, next_seq: u64, answers: HashMap<String, Answer>) {
        let spec = portfolio.spec().clone();
        let shard = self.next_shard.fetch_add(1, Ordering::Relaxed) % self.shards.len();
        let actor = PortfolioActor::new(portfolio, Arc::clone(&self.store), next_seq, answers);
        let addr = PortfolioActor::start_in_arbiter(&self.shards[shard], |_| actor);
        let entry = PortfolioEntry {
            id: spec.id,
            owner: spec.owner,
            name: spec.name,
        };
        self.write().insert(entry.id, Handle { entry, addr });
    }

    /// Creates a portfolio: checked, written and flushed before it is answered.
    pub async fn create(&self, mut spec: PortfolioSpec) -> Result<Portfolio, PortfolioError> {
        let _one_at_a_time = self.creating.lock().await;
        spec.id = self
            .read_handles()
            .keys()
            .next_back()
            .map_or(1, |last| last + 1);
        let portfolio = Portfolio::create(spec.clone())?;
        let record = LedgerRecord::Created { spec };
        let bytes = encode(&record)?;
        self.store.append_ledger(portfolio.spec().id, 0, bytes)?;
        self.store.flush_async().await?;
        self.start(portfolio.clone(), 1, HashMap::new());
        Ok(portfolio)
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
        idempotency_key: Option<String>,
        at_ms: i64,
    ) -> Result<Outcome, PortfolioError> {
        let addr = self.addr(id)?;
        let (reply, answer) = oneshot::channel();
        let message = MutatePortfolio {
            mutation,
            idempotency_key,
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

    /// Sends closed base-timeframe `candles` of `symbol` (oldest first) to every portfolio at
    /// once, each applying the exits they cause (`EvaluateExits`). Each portfolio is on its
    /// own: one that fails or does not answer within the request timeout is logged with its
    /// id and counted, and never holds up the others. Answers the sum over portfolios.
    pub async fn evaluate_exits(
        &self,
        symbol: &Symbol,
        timeframe: Timeframe,
        candles: &[Candle],
    ) -> ExitEvaluation {
        let candles: Arc<[Candle]> = Arc::from(candles);
        // `send` queues each message at once: the portfolios evaluate concurrently while
        // the answers are awaited in turn, all under one deadline.
        let requests: Vec<_> = self
            .read_handles()
            .iter()
            .map(|(id, handle)| {
                let message = EvaluateExits {
                    symbol: symbol.clone(),
                    candles: Arc::clone(&candles),
                    timeframe,
                };
                (*id, handle.addr.send(message))
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

    /// Test-only: holds portfolio `id`'s actor busy until `release` fires.
    #[cfg(test)]
    pub fn stall(&self, id: u64, release: oneshot::Receiver<()>) -> Result<(), PortfolioError> {
        let message = super::messages::StallPortfolio { release };
        self.addr(id)?
            .try_send(message)
            .map_err(|_| PortfolioError::Unavailable)
    }

    fn addr(&self, id: u64) -> Result<Addr<PortfolioActor>, PortfolioError> {
        self.read_handles()
            .get(&id)
            .map(|handle| handle.addr.clone())
            .ok_or(PortfolioError::Unknown(id))
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

/// Rebuilds a portfolio from its log: record 0 creates it, each later record's mutation is
/// applied again and must give exactly the stored outcome. Sequence numbers must run without
/// gaps (a crash can only lose a tail, never a middle).
fn replay(
    id: u64,
    log: &[(u64, Vec<u8>)],
) -> Result<(Portfolio, u64, HashMap<String, Answer>), PortfolioError> {
    let problem = |seq: u64, cause: ReplayError| PortfolioError::Replay {
        portfolio: id,
        seq,
        cause,
    };
    let mut portfolio: Option<Portfolio> = None;
    let mut answers = HashMap::new();
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
        match (record, portfolio.as_mut()) {
            (LedgerRecord::Created { spec }, None) => {
                portfolio = Some(
                    Portfolio::create(spec)
                        .map_err(|error| problem(seq, ReplayError::SpecRefused(error)))?,
                );
            }
            (
                LedgerRecord::Applied {
                    at_ms,
                    idempotency_key,
                    mutation,
                    outcome,
                },
                Some(state),
            ) => {
                let replayed = state
                    .apply(&mutation, at_ms)
                    .map_err(|error| problem(seq, ReplayError::NoLongerApplies(error)))?;
                if replayed != *outcome {
                    return Err(problem(seq, ReplayError::DifferentOutcome));
                }
                if let Some(key) = idempotency_key {
                    let answer = Answer {
                        mutation,
                        result: Ok(*outcome),
                        seq,
                    };
                    answers.insert(key, answer);
                }
            }
            _ => return Err(problem(seq, ReplayError::OutOfPlace)),
        }
    }
    let portfolio = portfolio.ok_or_else(|| problem(0, ReplayError::NoCreation))?;
    if !portfolio.is_conserved() {
        return Err(problem(log.len() as u64, ReplayError::NotConserved));
    }
    Ok((portfolio, log.len() as u64, answers))
}

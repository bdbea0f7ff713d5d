//! Backtests the server runs in the background (`POST /api/backtests`): at most
//! [`RUNNING_MAX`] at once on blocking threads, at most [`WAITING_MAX`] queued or running
//! (more are refused as busy, never dropped), each with its progress. Every job is a record
//! in the store from the moment it is accepted; its result is kept there when it ends, so
//! results survive a restart, and a job a restart interrupted says so.

use super::output::document;
use super::request::BacktestRequest;
use super::BacktestCliError;
use cryptolens_actors::actors::{Engine, EngineError};
use cryptolens_actors::clock::SharedClock;
use cryptolens_actors::domain::analysis::AnalysisSettings;
use cryptolens_actors::domain::market::Symbol;
use cryptolens_actors::store::{decode, encode, RecordTree, Store, StoreError};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

pub const RUNNING_MAX: usize = 2;
pub const WAITING_MAX: usize = 8;
/// Finished jobs kept per owner; the oldest go first.
pub const KEPT_PER_OWNER: usize = 50;

#[derive(Debug, thiserror::Error)]
pub enum BacktestJobError {
    #[error(transparent)]
    Invalid(#[from] BacktestCliError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("{WAITING_MAX} backtests are queued or running; retry when one has finished")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Failed,
}

/// A job as the store keeps it; JSON texts inside, since bincode cannot carry every shape
/// the result document has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StoredJob {
    id: u64,
    owner: String,
    created_ms: i64,
    finished_ms: Option<i64>,
    status: JobStatus,
    strategy: String,
    request_json: String,
    candles: usize,
    result_json: Option<String>,
    error: Option<String>,
}

struct Job {
    stored: StoredJob,
    done_candles: Arc<AtomicUsize>,
}

#[derive(Clone)]
pub struct BacktestJobs {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<Store>,
    settings: Arc<AnalysisSettings>,
    clock: SharedClock,
    permits: tokio::sync::Semaphore,
    jobs: Mutex<BTreeMap<u64, Job>>,
}

fn key(id: u64) -> String {
    format!("{id:020}")
}

fn encoded(stored: &StoredJob) -> Result<Vec<u8>, StoreError> {
    encode(stored).map_err(|source| StoreError::Encode {
        key: key(stored.id),
        source,
    })
}

impl BacktestJobs {
    /// The jobs the store holds; those a restart interrupted are marked failed.
    pub fn open(
        store: Arc<Store>,
        settings: AnalysisSettings,
        clock: SharedClock,
    ) -> Result<BacktestJobs, StoreError> {
        let mut jobs = BTreeMap::new();
        for (_, bytes) in store.records(RecordTree::Backtests)? {
            let Ok(mut stored) = decode::<StoredJob>(&bytes) else {
                continue;
            };
            if matches!(stored.status, JobStatus::Queued | JobStatus::Running) {
                stored.status = JobStatus::Failed;
                stored.error = Some("interrupted by a restart of the server; run it again".into());
                stored.finished_ms = Some(clock.now_ms());
                store.put_record(RecordTree::Backtests, &key(stored.id), encoded(&stored)?)?;
            }
            let done_candles = Arc::new(AtomicUsize::new(stored.candles));
            jobs.insert(
                stored.id,
                Job {
                    stored,
                    done_candles,
                },
            );
        }
        let inner = Inner {
            store,
            settings: Arc::new(settings),
            clock,
            permits: tokio::sync::Semaphore::new(RUNNING_MAX),
            jobs: Mutex::new(jobs),
        };
        Ok(BacktestJobs {
            inner: Arc::new(inner),
        })
    }

    /// Accepts `request` for `owner` and starts it when a slot is free; answers its view.
    pub async fn submit(
        &self,
        owner: &str,
        request: BacktestRequest,
        engine: Engine,
    ) -> Result<Value, BacktestJobError> {
        let symbol = Symbol::parse(&request.symbol)
            .map_err(|e| BacktestCliError::argument("symbol", e.to_string()))?;
        let base = engine
            .base_timeframe(&symbol)
            .ok_or_else(|| EngineError::UnknownSymbol(symbol.clone()))?;
        let plan = request.plan(base, Arc::clone(&self.inner.settings))?;
        self.inner.store.admit_write()?;
        let stored = {
            let mut jobs = self.inner.jobs.lock();
            let waiting = jobs
                .values()
                .filter(|job| matches!(job.stored.status, JobStatus::Queued | JobStatus::Running))
                .count();
            if waiting >= WAITING_MAX {
                return Err(BacktestJobError::Busy);
            }
            let id = jobs.keys().next_back().map_or(1, |last| last + 1);
            let stored = StoredJob {
                id,
                owner: owner.to_owned(),
                created_ms: self.inner.clock.now_ms(),
                finished_ms: None,
                status: JobStatus::Queued,
                strategy: plan.describe(),
                request_json: serde_json::to_string(&request).unwrap_or_default(),
                candles: 0,
                result_json: None,
                error: None,
            };
            jobs.insert(
                id,
                Job {
                    stored: stored.clone(),
                    done_candles: Arc::new(AtomicUsize::new(0)),
                },
            );
            stored
        };
        self.persist(stored.clone()).await?;
        let jobs = self.clone();
        let id = stored.id;
        tokio::spawn(async move { jobs.run(id, plan, symbol, engine).await });
        Ok(self.view(id, None).unwrap_or(Value::Null))
    }

    async fn run(&self, id: u64, plan: super::plan::Plan, symbol: Symbol, engine: Engine) {
        let Ok(_permit) = self.inner.permits.acquire().await else {
            return;
        };
        self.update(id, |job| job.status = JobStatus::Running);
        let outcome = self.execute(id, plan, &symbol, &engine).await;
        let finished_ms = self.inner.clock.now_ms();
        self.update(id, |job| {
            job.finished_ms = Some(finished_ms);
            match outcome {
                Ok(result) => {
                    job.status = JobStatus::Done;
                    job.result_json = Some(result);
                }
                Err(error) => {
                    job.status = JobStatus::Failed;
                    job.error = Some(error);
                }
            }
        });
        let stored = self
            .inner
            .jobs
            .lock()
            .get(&id)
            .map(|job| job.stored.clone());
        if let Some(stored) = stored {
            if let Err(error) = self.persist(stored).await {
                tracing::error!(job = id, error = %error, "backtest result not stored");
            }
        }
        self.prune().await;
    }

    /// The run itself: the symbol's stored base candles, then the plan on a blocking thread.
    async fn execute(
        &self,
        id: u64,
        plan: super::plan::Plan,
        symbol: &Symbol,
        engine: &Engine,
    ) -> Result<String, String> {
        let limit = engine.settings().ring_capacity;
        let snapshot = engine
            .read_candles(symbol, plan.file_timeframe, limit)
            .await
            .map_err(|e| e.to_string())?;
        let candles = snapshot.closed;
        self.update(id, |job| job.candles = candles.len());
        let progress = self
            .inner
            .jobs
            .lock()
            .get(&id)
            .map(|job| Arc::clone(&job.done_candles));
        let progress = progress.unwrap_or_default();
        let run = tokio::task::spawn_blocking(move || {
            let result = plan.run(&candles, &mut |done| {
                progress.store(done, Ordering::Relaxed)
            });
            result.map(|result| document(&plan.describe(), &result).to_string())
        });
        match run.await {
            Ok(Ok(text)) => Ok(text),
            Ok(Err(error)) => Err(error.to_string()),
            Err(panic) => Err(format!("the run stopped: {panic}")),
        }
    }

    fn update(&self, id: u64, change: impl FnOnce(&mut StoredJob)) {
        if let Some(job) = self.inner.jobs.lock().get_mut(&id) {
            change(&mut job.stored);
        }
    }

    async fn persist(&self, stored: StoredJob) -> Result<(), StoreError> {
        let store = Arc::clone(&self.inner.store);
        let bytes = encoded(&stored)?;
        tokio::task::spawn_blocking(move || {
            store.put_record(RecordTree::Backtests, &key(stored.id), bytes)
        })
        .await
        .map_err(|panic| StoreError::Unreadable {
            path: "backtests".into(),
            message: panic.to_string(),
        })?
    }

    /// Keeps each owner's newest [`KEPT_PER_OWNER`] finished jobs.
    async fn prune(&self) {
        let removed: Vec<String> = {
            let mut jobs = self.inner.jobs.lock();
            let mut by_owner: BTreeMap<String, Vec<u64>> = BTreeMap::new();
            for job in jobs
                .values()
                .filter(|job| matches!(job.stored.status, JobStatus::Done | JobStatus::Failed))
            {
                by_owner
                    .entry(job.stored.owner.clone())
                    .or_default()
                    .push(job.stored.id);
            }
            let old: Vec<u64> = by_owner
                .values()
                .flat_map(|ids| {
                    ids.iter()
                        .rev()
                        .skip(KEPT_PER_OWNER)
                        .copied()
                        .collect::<Vec<_>>()
                })
                .collect();
            for id in &old {
                jobs.remove(id);
            }
            old.into_iter().map(key).collect()
        };
        if !removed.is_empty() {
            let store = Arc::clone(&self.inner.store);
            let _ = tokio::task::spawn_blocking(move || {
                store.remove_records(RecordTree::Backtests, &removed)
            })
            .await;
        }
    }

    /// Job `id` as the API shows it, if it exists and `owner` (None: anyone) may see it.
    pub fn view(&self, id: u64, owner: Option<&str>) -> Option<Value> {
        let jobs = self.inner.jobs.lock();
        let job = jobs
            .get(&id)
            .filter(|job| owner.is_none_or(|owner| job.stored.owner == owner))?;
        let mut view = summary(job);
        let parse = |text: &Option<String>| {
            text.as_deref()
                .and_then(|text| serde_json::from_str::<Value>(text).ok())
        };
        view["request"] = serde_json::from_str(&job.stored.request_json).unwrap_or(Value::Null);
        view["result"] = parse(&job.stored.result_json).unwrap_or(Value::Null);
        Some(view)
    }

    /// `owner`'s jobs (None: everyone's), newest first, without their trades.
    pub fn list(&self, owner: Option<&str>) -> Vec<Value> {
        let jobs = self.inner.jobs.lock();
        jobs.values()
            .rev()
            .filter(|job| owner.is_none_or(|owner| job.stored.owner == owner))
            .map(summary)
            .collect()
    }
}

fn summary(job: &Job) -> Value {
    let stored = &job.stored;
    let figures = stored.result_json.as_deref().and_then(|text| serde_json::from_str::<Value>(text).ok()).map(|result| {
        json!({
            "final_equity": result["final_equity"], "return_pct": result["return_pct"],
            "max_drawdown_pct": result["max_drawdown_pct"], "trade_count": result["trade_count"],
        })
    });
    json!({
        "id": stored.id,
        "owner": stored.owner,
        "status": stored.status,
        "strategy": stored.strategy,
        "created_at": stored.created_ms,
        "finished_at": stored.finished_ms,
        "progress": {"done": job.done_candles.load(Ordering::Relaxed).min(stored.candles), "total": stored.candles},
        "figures": figures,
        "error": stored.error,
    })
}

//! The running feed as the server and the API hold it: start one task per exchange, follow
//! or unfollow symbols at run time, pause and resume, backfill.

use super::backoff::Backoff;
use super::error::FeedError;
use super::format::{ExchangeKind, Instrument};
use super::rest::RestClient;
use super::runner::{ExchangeTask, FeedCommand};
use super::settings::{ExchangeSettings, FollowedSymbol};
use super::status::FeedStatus;
use super::sync::SymbolSync;
use cryptolens_actors::actors::Engine;
use cryptolens_actors::domain::market::Symbol;
use parking_lot::RwLock;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Commands waiting per exchange task; the API answers 503 beyond.
const COMMANDS_MAX: usize = 64;

type Instruments = Arc<RwLock<BTreeMap<Symbol, Instrument>>>;

struct ExchangeControl {
    rest: RestClient,
    instruments: Instruments,
    commands: mpsc::Sender<FeedCommand>,
}

#[derive(Clone)]
pub struct FeedHandle {
    pub status: Arc<FeedStatus>,
    settings: Arc<ExchangeSettings>,
    engine: Engine,
    shutting_down: watch::Receiver<bool>,
    exchanges: Arc<parking_lot::Mutex<HashMap<ExchangeKind, ExchangeControl>>>,
}

/// Why a feed request is refused; the API maps each to its status.
#[derive(Debug, thiserror::Error)]
pub enum FeedRequestError {
    #[error("{0} is not followed from an exchange")]
    NotFollowed(Symbol),
    #[error("the feed of {0} is busy; retry shortly")]
    Busy(ExchangeKind),
    #[error("{0} is already followed")]
    AlreadyFollowed(Symbol),
    #[error("a backfill of {0} is already running")]
    BackfillRunning(Symbol),
    #[error(transparent)]
    Feed(#[from] FeedError),
}

impl FeedHandle {
    /// A feed following nothing yet; [`FeedHandle::start_configured`] starts it.
    pub fn new(
        engine: &Engine,
        settings: &ExchangeSettings,
        shutting_down: watch::Receiver<bool>,
    ) -> FeedHandle {
        FeedHandle {
            status: Arc::new(FeedStatus::new(settings.stale_after_intervals)),
            settings: Arc::new(settings.clone()),
            engine: engine.clone(),
            shutting_down,
            exchanges: Arc::default(),
        }
    }

    /// Starts a task for every exchange with configured symbols (once the engine is restored).
    pub fn start_configured(&self) -> Result<(), FeedError> {
        let groups = self.settings.by_exchange().unwrap_or_default();
        for (kind, symbols) in groups {
            self.start_exchange(kind, symbols)?;
        }
        Ok(())
    }

    /// The exchange of a symbol named without a prefix.
    pub fn default_exchange(&self) -> ExchangeKind {
        self.settings.kind
    }

    /// Whether `symbol` is followed from an exchange.
    pub fn follows(&self, symbol: &Symbol) -> bool {
        self.status.get(symbol).is_some()
    }

    fn start_exchange(&self, kind: ExchangeKind, symbols: Vec<Symbol>) -> Result<(), FeedError> {
        let settings = &self.settings;
        let urls = settings.urls(kind);
        let rest = RestClient::new(
            super::format_of(kind),
            &urls.rest_url,
            settings.request_timeout_ms,
            settings.concurrent_requests_max,
        )?;
        let (commands, receiver) = mpsc::channel(COMMANDS_MAX);
        let instruments = Instruments::default();
        let task = ExchangeTask {
            kind,
            rest: rest.clone(),
            ws_url: urls.ws_url,
            engine: self.engine.clone(),
            status: Arc::clone(&self.status),
            history_candles: settings
                .history_candles
                .min(self.engine.settings().ring_capacity),
            backoff: Backoff::new(settings.reconnect_min_ms, settings.reconnect_max_ms),
            silence: Duration::from_millis(settings.silence_timeout_ms),
            instruments: Arc::clone(&instruments),
        };
        tracing::info!(exchange = %kind, symbols = symbols.len(), "exchange feed starting");
        tokio::spawn(task.run(symbols, receiver, self.shutting_down.clone()));
        self.exchanges.lock().insert(
            kind,
            ExchangeControl {
                rest,
                instruments,
                commands,
            },
        );
        Ok(())
    }

    /// Follows `followed` from now on (warms it first); starts its exchange's task if needed.
    pub fn follow(&self, followed: &FollowedSymbol) -> Result<(), FeedRequestError> {
        if self.follows(&followed.symbol) {
            return Err(FeedRequestError::AlreadyFollowed(followed.symbol.clone()));
        }
        // Listed (warming) at once, so a second request is refused and GET shows it.
        let feed = super::status::SymbolFeed::new(followed.exchange);
        self.status.insert(followed.symbol.clone(), feed);
        let running = self.exchanges.lock().contains_key(&followed.exchange);
        if !running {
            self.start_exchange(followed.exchange, vec![followed.symbol.clone()])?;
            return Ok(());
        }
        self.command(
            followed.exchange,
            FeedCommand::Follow(followed.symbol.clone()),
        )
    }

    /// Stops following `symbol`; false if it was not followed.
    pub fn unfollow(&self, symbol: &Symbol) -> Result<bool, FeedRequestError> {
        let Some(feed) = self.status.get(symbol) else {
            return Ok(false);
        };
        self.command(feed.exchange, FeedCommand::Unfollow(symbol.clone()))?;
        self.status.remove(symbol);
        Ok(true)
    }

    /// Pauses or resumes `symbol`'s stream; a resumed symbol catches up with its next kline.
    pub fn set_paused(&self, symbol: &Symbol, paused: bool) -> Result<(), FeedRequestError> {
        if self.status.get(symbol).is_none() {
            return Err(FeedRequestError::NotFollowed(symbol.clone()));
        }
        self.status.update(symbol, |feed| feed.paused = paused);
        Ok(())
    }

    /// Starts a backfill of `symbol` since `since_ms` in the background; its progress shows in
    /// the symbol's status (`backfill`), its outcome in `backfilled` or `error`.
    pub fn start_backfill(&self, symbol: &Symbol, since_ms: i64) -> Result<(), FeedRequestError> {
        match self.status.claim_backfill(symbol) {
            None => return Err(FeedRequestError::NotFollowed(symbol.clone())),
            Some(false) => return Err(FeedRequestError::BackfillRunning(symbol.clone())),
            Some(true) => {}
        }
        let (feed, symbol) = (self.clone(), symbol.clone());
        tokio::spawn(async move {
            let outcome = feed.backfill(&symbol, since_ms).await;
            feed.status.update(&symbol, |status| {
                status.backfill = None;
                match outcome {
                    Ok(stored) => status.backfilled += stored,
                    Err(error) => status.error = Some(format!("backfill: {error}")),
                }
            });
        });
        Ok(())
    }

    /// Fetches `symbol`'s history since `since_ms` and prepends it; answers the candles stored.
    pub async fn backfill(&self, symbol: &Symbol, since_ms: i64) -> Result<u64, FeedRequestError> {
        let feed = self
            .status
            .get(symbol)
            .ok_or_else(|| FeedRequestError::NotFollowed(symbol.clone()))?;
        let (rest, instrument) = {
            let exchanges = self.exchanges.lock();
            let control = exchanges
                .get(&feed.exchange)
                .ok_or_else(|| FeedRequestError::NotFollowed(symbol.clone()))?;
            let instrument = control.instruments.read().get(symbol).cloned();
            (control.rest.clone(), instrument)
        };
        let instrument = instrument.ok_or_else(|| FeedRequestError::NotFollowed(symbol.clone()))?;
        let sync = SymbolSync {
            engine: &self.engine,
            rest: &rest,
            status: &self.status,
            symbol,
            instrument: &instrument,
        };
        let now_ms = self.engine.clock().now_ms();
        let stored = sync
            .backfill(since_ms, self.engine.settings().ring_capacity, now_ms)
            .await;
        self.status.update(symbol, |feed| feed.backfill = None);
        Ok(stored?)
    }

    /// The exchange's instrument of `symbol`, once its list is loaded (tick and step sizes).
    pub fn instrument(&self, symbol: &Symbol) -> Option<Instrument> {
        let exchange = self.status.get(symbol)?.exchange;
        let exchanges = self.exchanges.lock();
        let control = exchanges.get(&exchange)?;
        let instrument = control.instruments.read().get(symbol).cloned();
        instrument
    }

    fn command(&self, kind: ExchangeKind, command: FeedCommand) -> Result<(), FeedRequestError> {
        let exchanges = self.exchanges.lock();
        let control = exchanges.get(&kind).ok_or(FeedRequestError::Busy(kind))?;
        control
            .commands
            .try_send(command)
            .map_err(|_| FeedRequestError::Busy(kind))
    }
}

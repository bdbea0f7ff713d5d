//! One exchange's feed task: resolve the followed symbols from the exchange's instrument
//! list, warm each, then stream 1m klines, reconnecting with jittered exponential backoff.
//! After every (re)connect each symbol is caught up over REST before the stream is trusted;
//! a gap seen in the stream is repaired before the kline after it is applied; a malformed
//! frame is counted and skipped.

use super::backoff::Backoff;
use super::error::FeedError;
use super::format::{ExchangeKind, Instrument, MarketKline, StreamFrame};
use super::live_series::{KlineStep, LiveSeries};
use super::rest::RestClient;
use super::status::{ExchangeCounters, FeedState, FeedStatus, SymbolFeed};
use super::stream::StreamConnection;
use super::sync::SymbolSync;
use cryptolens_actors::actors::Engine;
use cryptolens_actors::domain::market::{Symbol, Timeframe};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// A connection that lived this long resets the backoff: it was not a failing reconnect.
const HEALTHY_CONNECTION_S: u64 = 60;

/// Changes to the followed set, from the API.
#[derive(Debug)]
pub enum FeedCommand {
    Follow(Symbol),
    Unfollow(Symbol),
}

/// How one exchange's task is set up.
pub struct ExchangeTask {
    pub kind: ExchangeKind,
    pub rest: RestClient,
    pub ws_url: String,
    pub engine: Engine,
    pub status: Arc<FeedStatus>,
    pub history_candles: usize,
    pub backoff: Backoff,
    pub silence: Duration,
    pub instruments: Arc<parking_lot::RwLock<BTreeMap<Symbol, Instrument>>>,
}

struct Followed {
    symbol: Symbol,
    instrument: Instrument,
    series: LiveSeries,
}

/// The running task's state: followed symbols by the exchange's market name.
struct Running {
    task: ExchangeTask,
    counters: Arc<ExchangeCounters>,
    followed: HashMap<String, Followed>,
}

impl ExchangeTask {
    /// Runs until `shutting_down` turns true.
    pub async fn run(
        self,
        symbols: Vec<Symbol>,
        mut commands: mpsc::Receiver<FeedCommand>,
        mut shutting_down: watch::Receiver<bool>,
    ) {
        let counters = self.status.counters(self.kind);
        let mut running = Running {
            task: self,
            counters,
            followed: HashMap::new(),
        };
        if !running.load_instruments(&mut shutting_down).await {
            return;
        }
        for symbol in symbols {
            running.follow(symbol).await;
        }
        running.stream(&mut commands, &mut shutting_down).await;
    }
}

impl Running {
    /// Fetches the instrument list, retrying with backoff; false if shutdown came first.
    async fn load_instruments(&mut self, shutting_down: &mut watch::Receiver<bool>) -> bool {
        loop {
            match self.task.rest.instruments().await {
                Ok(list) => {
                    let mut map = self.task.instruments.write();
                    map.clear();
                    map.extend(list.into_iter().map(|i| (i.symbol.clone(), i)));
                    self.task.backoff.reset();
                    return true;
                }
                Err(error) => {
                    let wait = self.task.backoff.next_delay();
                    tracing::warn!(exchange = %self.task.kind, %error, wait_ms = wait.as_millis() as u64, "instrument list not loaded; retrying");
                    if wait_or_shutdown(wait, shutting_down).await {
                        return false;
                    }
                }
            }
        }
    }

    /// Starts following `symbol`: warm (or catch up, if the engine already holds it).
    async fn follow(&mut self, symbol: Symbol) {
        let kind = self.task.kind;
        self.task
            .status
            .insert(symbol.clone(), SymbolFeed::new(kind));
        let Some(instrument) = self.task.instruments.read().get(&symbol).cloned() else {
            let error = FeedError::UnknownInstrument {
                exchange: kind.to_string(),
                symbol: symbol.to_string(),
            };
            self.fail(&symbol, &error);
            return;
        };
        self.task.status.update(&symbol, |feed| {
            feed.market_symbol = Some(instrument.market_symbol.clone())
        });
        // Levels of a symbol the feed creates round to its exchange's tick.
        self.task
            .engine
            .set_tick_size(&symbol, instrument.tick_size);
        match self.start_series(&symbol, &instrument).await {
            Ok(series) => {
                self.task.status.update(&symbol, |feed| {
                    feed.state = FeedState::Live;
                    feed.progress = None;
                });
                let market = instrument.market_symbol.clone();
                self.followed.insert(
                    market,
                    Followed {
                        symbol,
                        instrument,
                        series,
                    },
                );
            }
            Err(error) => self.fail(&symbol, &error),
        }
    }

    async fn start_series(
        &self,
        symbol: &Symbol,
        instrument: &Instrument,
    ) -> Result<LiveSeries, FeedError> {
        let sync = self.sync(symbol, instrument);
        let now_ms = self.task.engine.clock().now_ms();
        let newest = match sync.newest_held_ms().await? {
            // The newest held candle may have been forming: it is fetched again.
            Some(held) => Some(held - Timeframe::M1.duration_ms()),
            None => sync.warm(self.task.history_candles, now_ms).await?,
        };
        let marks = self.task.rest.format().marks_closed_klines();
        Ok(LiveSeries::new(Timeframe::M1, newest, marks))
    }

    fn fail(&self, symbol: &Symbol, error: &FeedError) {
        tracing::error!(exchange = %self.task.kind, %symbol, %error, "symbol not followed");
        self.task.status.update(symbol, |feed| {
            feed.state = FeedState::Failed;
            feed.progress = None;
            feed.error = Some(error.to_string());
        });
    }

    fn sync<'a>(&'a self, symbol: &'a Symbol, instrument: &'a Instrument) -> SymbolSync<'a> {
        SymbolSync {
            engine: &self.task.engine,
            rest: &self.task.rest,
            status: &self.task.status,
            symbol,
            instrument,
        }
    }

    /// Connect, catch up, read; on any end reconnect after a backoff.
    async fn stream(
        &mut self,
        commands: &mut mpsc::Receiver<FeedCommand>,
        shutting_down: &mut watch::Receiver<bool>,
    ) {
        loop {
            if *shutting_down.borrow() {
                return;
            }
            let connected_at = Instant::now();
            let ended = self.one_connection(commands, shutting_down).await;
            match ended {
                Ok(Ending::Shutdown) => return,
                Ok(Ending::Resubscribe) => continue,
                Ok(Ending::Closed) => {
                    tracing::warn!(exchange = %self.task.kind, "stream closed by the exchange; reconnecting")
                }
                Err(error) => {
                    tracing::warn!(exchange = %self.task.kind, %error, "stream failed; reconnecting")
                }
            }
            self.counters.reconnects.fetch_add(1, Ordering::Relaxed);
            if connected_at.elapsed() >= Duration::from_secs(HEALTHY_CONNECTION_S) {
                self.task.backoff.reset();
            }
            if wait_or_shutdown(self.task.backoff.next_delay(), shutting_down).await {
                return;
            }
        }
    }

    async fn one_connection(
        &mut self,
        commands: &mut mpsc::Receiver<FeedCommand>,
        shutting_down: &mut watch::Receiver<bool>,
    ) -> Result<Ending, FeedError> {
        if self.followed.is_empty() {
            // Nothing to stream: wait for a symbol to follow.
            return tokio::select! {
                command = commands.recv() => Ok(self.command(command).await),
                _ = until_shutdown(shutting_down) => Ok(Ending::Shutdown),
            };
        }
        let format = self.task.rest.format();
        let instruments: Vec<Instrument> = self
            .followed
            .values()
            .map(|f| f.instrument.clone())
            .collect();
        let url = format.stream_url(&self.task.ws_url, &instruments);
        let mut connection = StreamConnection::open(
            &url,
            format.subscribe_frames(&instruments),
            format.keepalive(),
            self.task.silence,
        )
        .await?;
        self.catch_up_all().await;
        loop {
            tokio::select! {
                text = connection.next_text() => match text? {
                    Some(text) => self.on_frame(&text).await,
                    None => return Ok(Ending::Closed),
                },
                command = commands.recv() => {
                    connection.close().await;
                    return Ok(self.command(command).await);
                }
                _ = until_shutdown(shutting_down) => {
                    connection.close().await;
                    return Ok(Ending::Shutdown);
                }
            }
        }
    }

    async fn command(&mut self, command: Option<FeedCommand>) -> Ending {
        match command {
            None => Ending::Shutdown,
            Some(FeedCommand::Follow(symbol)) => {
                if !self.followed.values().any(|f| f.symbol == symbol) {
                    self.follow(symbol).await;
                }
                Ending::Resubscribe
            }
            Some(FeedCommand::Unfollow(symbol)) => {
                self.followed
                    .retain(|_, followed| followed.symbol != symbol);
                self.task.status.remove(&symbol);
                Ending::Resubscribe
            }
        }
    }

    /// Every followed symbol fetches what it missed while not connected.
    async fn catch_up_all(&mut self) {
        let markets: Vec<String> = self.followed.keys().cloned().collect();
        for market in markets {
            if let Err(error) = self.catch_up(&market).await {
                tracing::warn!(exchange = %self.task.kind, market, %error, "catch-up failed; the next kline retries it");
            }
        }
    }

    async fn catch_up(&mut self, market: &str) -> Result<(), FeedError> {
        let Some(followed) = self.followed.get(market) else {
            return Ok(());
        };
        if self.task.status.is_paused(&followed.symbol) {
            return Ok(());
        }
        let now_ms = self.task.engine.clock().now_ms();
        let to_ms = Timeframe::M1.bucket_start_ms(now_ms) - Timeframe::M1.duration_ms();
        let Some(from_ms) = followed.series.resume_from_ms() else {
            return Ok(());
        };
        let candles = self
            .sync(&followed.symbol, &followed.instrument)
            .catch_up(from_ms, to_ms, now_ms)
            .await?;
        self.settle(market, &candles, None, now_ms);
        Ok(())
    }

    /// Records candles fetched over REST as closed, and a repair's window (`settled_to_ms`)
    /// as settled (see [`LiveSeries::repaired`]).
    fn settle(
        &mut self,
        market: &str,
        candles: &[cryptolens_actors::domain::market::Candle],
        settled_to_ms: Option<i64>,
        now_ms: i64,
    ) {
        let Some(followed) = self.followed.get_mut(market) else {
            return;
        };
        followed.series.repaired(candles, settled_to_ms);
        let last = followed.series.last_closed_ms();
        let arrived = !candles.is_empty();
        self.task.status.update(&followed.symbol, |feed| {
            feed.last_closed_open_time_ms = last;
            if arrived {
                feed.last_closed_arrived_at_ms = Some(now_ms);
            }
        });
    }

    async fn on_frame(&mut self, text: &str) {
        self.counters.frames.fetch_add(1, Ordering::Relaxed);
        match self.task.rest.format().parse_stream_frame(text) {
            Ok(StreamFrame::Klines(klines)) => {
                for kline in klines {
                    if let Err(error) = self.on_kline(kline).await {
                        tracing::warn!(exchange = %self.task.kind, %error, "kline not applied; the next one retries");
                    }
                }
            }
            Ok(StreamFrame::Control) => {}
            Err(error) => {
                let malformed = self
                    .counters
                    .malformed_frames
                    .fetch_add(1, Ordering::Relaxed)
                    + 1;
                tracing::warn!(exchange = %self.task.kind, %error, malformed, "malformed frame skipped");
            }
        }
    }

    async fn on_kline(&mut self, kline: MarketKline) -> Result<(), FeedError> {
        let market = kline.market_symbol;
        loop {
            let Some(followed) = self.followed.get_mut(&market) else {
                return Ok(());
            };
            if self.task.status.is_paused(&followed.symbol) {
                return Ok(());
            }
            let step = followed.series.on_kline(kline.kline);
            let (symbol, instrument) = (followed.symbol.clone(), followed.instrument.clone());
            let now_ms = self.task.engine.clock().now_ms();
            match step {
                KlineStep::Duplicate => {
                    self.task
                        .status
                        .update(&symbol, |feed| feed.duplicates_dropped += 1);
                    return Ok(());
                }
                KlineStep::Repair { from_ms, to_ms } => {
                    let candles = self
                        .sync(&symbol, &instrument)
                        .catch_up(from_ms, to_ms, now_ms)
                        .await?;
                    let count = candles.len() as u64;
                    self.task.status.update(&symbol, |feed| {
                        feed.gaps_repaired += 1;
                        feed.candles_repaired += count;
                    });
                    self.settle(&market, &candles, Some(to_ms), now_ms);
                }
                KlineStep::Apply(candles) => {
                    self.sync(&symbol, &instrument).ingest(&candles).await?;
                    if kline.kline.closed || !self.task.rest.format().marks_closed_klines() {
                        let last = self
                            .followed
                            .get(&market)
                            .and_then(|f| f.series.last_closed_ms());
                        self.task.status.update(&symbol, |feed| {
                            if feed.last_closed_open_time_ms != last {
                                feed.last_closed_arrived_at_ms = Some(now_ms);
                            }
                            feed.last_closed_open_time_ms = last;
                        });
                    }
                    return Ok(());
                }
            }
        }
    }
}

enum Ending {
    Shutdown,
    Closed,
    Resubscribe,
}

/// Sleeps `wait`; true if shutdown began meanwhile.
async fn wait_or_shutdown(wait: Duration, shutting_down: &mut watch::Receiver<bool>) -> bool {
    let down = tokio::select! {
        () = tokio::time::sleep(wait) => None,
        _ = until_shutdown(shutting_down) => Some(true),
    };
    down.unwrap_or_else(|| *shutting_down.borrow())
}

/// Completes once shutdown is signalled (or its sender is gone). The guard `wait_for` answers
/// is dropped here, so the futures selecting on this stay `Send`.
async fn until_shutdown(shutting_down: &mut watch::Receiver<bool>) {
    let _ = shutting_down.wait_for(|down| *down).await;
}

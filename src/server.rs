//! Server lifecycle: start the engine and the HTTP listener, report readiness, shut down in
//! order (stop accepting, finish in-flight requests, drain every mailbox).

use crate::api::rate_limit::RateLimits;
use crate::api::{self, AppState};
use crate::auth::secret_files::{self, SecretFileError};
use crate::auth::{Auth, AuthError, Clock, SystemClock};
use crate::config::Settings;
use crate::demo;
use cryptolens_actors::actors::{Engine, EngineError, ShutdownReport};
use cryptolens_actors::store::{Store, StoreError};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    #[error("a start-up task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("demo data: {0}")]
    Demo(#[from] demo::DemoError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Secret(#[from] SecretFileError),
    #[error("exchange feed: {0}")]
    Feed(#[from] crate::feed::error::FeedError),
    #[error("notifications: {0}")]
    Notifier(#[from] crate::notify::TransportSetupError),
    #[error(transparent)]
    Calibration(#[from] crate::calibration::CalibrationError),
}

impl ServeError {
    /// Whether the error comes from damage in the store, which `cryptolens store repair`
    /// recovers from (a store locked by another process is not damage).
    pub fn is_store_damage(&self) -> bool {
        let store = match self {
            ServeError::Store(error) | ServeError::Engine(EngineError::Store(error)) => error,
            ServeError::Engine(EngineError::PortfolioRestore(_)) => return true,
            ServeError::Auth(AuthError::Store(error)) => error,
            _ => return false,
        };
        !matches!(store, StoreError::Locked { .. })
    }
}

/// Where the first admin's password may come from instead of being generated.
pub const ADMIN_PASSWORD_VARIABLE: &str = "CRYPTOLENS_ADMIN_PASSWORD";
/// Where a generated first admin password is written, in `<data_dir>/secrets/`.
pub const ADMIN_PASSWORD_FILE: &str = "admin_password";
/// An admin API key to register on first start, for provisioning scripts.
pub const ADMIN_API_KEY_VARIABLE: &str = "CRYPTOLENS_ADMIN_API_KEY";

/// How to start beyond the settings.
#[derive(Clone)]
pub struct StartOptions {
    /// Load generated demo candles and keep them live.
    pub demo: bool,
    /// The one wall clock: actors, session expiry, lockouts, ledger times, the demo feed.
    pub clock: Arc<dyn Clock>,
    /// First start only: the admin's password (else one is generated and printed once).
    pub admin_password: Option<String>,
    /// First start only: an admin API key (`clk_<16 hex>_<64 hex>`) to register.
    pub admin_api_key: Option<String>,
}

impl StartOptions {
    /// No demo, the system clock, first-start secrets from the environment.
    pub fn from_env() -> StartOptions {
        StartOptions {
            demo: false,
            clock: Arc::new(SystemClock),
            admin_password: std::env::var(ADMIN_PASSWORD_VARIABLE).ok(),
            admin_api_key: std::env::var(ADMIN_API_KEY_VARIABLE).ok(),
        }
    }
}

/// A running server; dropping it does not stop it, [`Server::shutdown`] does.
pub struct Server {
    local_addr: SocketAddr,
    engine: Engine,
    ready: Arc<AtomicBool>,
    shutdown_signal: watch::Sender<bool>,
    http_task: JoinHandle<()>,
    shutdown_timeout: Duration,
    admin_password_file: Option<PathBuf>,
}

/// The sled database inside the data directory.
pub fn store_path(settings: &Settings) -> PathBuf {
    settings.server.data_dir.join("store")
}

/// The listener on `addr`, and the address it got (a port of 0 picks a free one).
async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), ServeError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    let local_addr = listener
        .local_addr()
        .map_err(|source| ServeError::Bind { addr, source })?;
    Ok((listener, local_addr))
}

/// What [`app_state`] takes from start-up besides the settings.
struct StateParts<'a> {
    engine: &'a Engine,
    clock: cryptolens_actors::clock::SharedClock,
    ready: Arc<AtomicBool>,
    shutting_down: watch::Receiver<bool>,
    metrics_token: &'a str,
    auth: Auth,
    store: Arc<Store>,
    notifier: cryptolens_actors::actors::notifier::NotifierHandle,
}

/// The state every request handler gets.
fn app_state(settings: &Settings, parts: StateParts<'_>) -> Result<AppState, ServeError> {
    let StateParts {
        engine,
        clock,
        ready,
        shutting_down,
        metrics_token,
        auth,
        store,
        notifier,
    } = parts;
    let backtests = crate::backtest::BacktestJobs::open(
        Arc::clone(&store),
        settings.analysis.clone(),
        Arc::clone(&clock),
    )?;
    Ok(AppState {
        engine: engine.clone(),
        clock,
        ingest: settings.ingest.clone(),
        body_limit_bytes: settings.server.body_limit_bytes,
        ws_message_limit_bytes: settings.server.ws_message_limit_bytes,
        ready,
        feed: crate::feed::FeedHandle::new(engine, &settings.exchange, shutting_down.clone()),
        shutting_down,
        metrics: Arc::new(api::metrics::Metrics::new()?),
        metrics_token: Arc::from(metrics_token),
        auth,
        limits: Arc::new(RateLimits::new(&settings.rate_limits)),
        anonymous_viewer: settings.auth.anonymous_viewer,
        trading: Arc::new(settings.trading.clone()),
        level_rules: settings.analysis.levels,
        calibration: Arc::new(crate::calibration::shipped()?),
        store,
        web: crate::web::WebAssets::new(settings.web.assets_dir.clone()),
        secure_cookies: settings.server.tls_terminated_by_proxy,
        stream: api::StreamHub::new(settings.stream.clone()),
        backtests,
        learned: Default::default(),
        notifier,
        notify_allow_private: settings.notify.allow_private_destinations,
    })
}

impl Server {
    /// Opens the store, binds, starts the engine, restores every stored symbol (the API
    /// answers meanwhile, `ready` says 503 and ingest 503), loads demo data if asked, then
    /// reports ready.
    pub async fn start(settings: &Settings, options: StartOptions) -> Result<Server, ServeError> {
        let data_dir = &settings.server.data_dir;
        let store = open_store(settings).await?;
        let (auth, admin_password_file) = open_auth(&store, settings, &options).await?;
        let metrics_token = match settings.server.metrics_token.as_str() {
            "" => secret_files::load_or_generate(data_dir, "metrics_token")?,
            configured => configured.to_owned(),
        };
        let (listener, local_addr) = bind(settings.server.bind).await?;
        let engine = Engine::start_restoring_with_clock(
            settings.engine_settings(),
            settings.analysis.clone(),
            Arc::clone(&options.clock),
        )?;
        let (shutdown_signal, shutting_down) = watch::channel(false);
        let ready = Arc::new(AtomicBool::new(false));
        let transport = crate::notify::NotifyTransport::new(
            settings.notify.request_timeout_ms,
            settings.notify.allow_private_destinations,
            settings.notify.smtp_root_certificate.as_deref(),
        )?;
        let notifier = engine.start_notifier(
            Arc::clone(&store),
            settings.notify.clone(),
            Arc::new(transport),
        )?;
        let parts = StateParts {
            engine: &engine,
            clock: Arc::clone(&options.clock),
            ready: Arc::clone(&ready),
            shutting_down: shutting_down.clone(),
            metrics_token: &metrics_token,
            auth,
            store: Arc::clone(&store),
            notifier,
        };
        let state = app_state(settings, parts)?;
        tokio::spawn(api::run_hub(state.clone()));
        spawn_maintenance(&state, settings, shutting_down.clone());
        let http_task = tokio::spawn(crate::listener::serve(
            listener,
            api::routes(&state, &settings.server),
            settings.connections.clone(),
            Arc::clone(&state.metrics),
            shutting_down.clone(),
        ));
        let restoring = engine.clone();
        tokio::task::spawn_blocking(move || restoring.restore_from(store)).await??;
        tokio::spawn(cryptolens_actors::actors::portfolio::run_candle_feed(
            engine.clone(),
        ));
        state.feed.start_configured()?;
        if options.demo {
            demo::load_and_stream(&engine, &settings.demo, shutting_down).await?;
        }
        ready.store(true, Ordering::Release);
        tracing::info!(%local_addr, "ready");
        Ok(Server {
            local_addr,
            engine,
            ready,
            shutdown_signal,
            http_task,
            shutdown_timeout: Duration::from_millis(settings.server.shutdown_timeout_ms),
            admin_password_file,
        })
    }

    /// On a first start with a generated admin password: the 0600 file holding it.
    pub fn admin_password_file(&self) -> Option<&std::path::Path> {
        self.admin_password_file.as_deref()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Stops accepting connections, lets in-flight requests finish (up to the configured
    /// timeout), then drains every actor mailbox and stops the actor system.
    pub async fn shutdown(self) -> ShutdownReport {
        self.ready.store(false, Ordering::Release);
        let _ = self.shutdown_signal.send(true);
        match tokio::time::timeout(self.shutdown_timeout, self.http_task).await {
            Ok(Ok(())) => tracing::info!("http server stopped"),
            Ok(Err(error)) => tracing::error!(%error, "http server task failed"),
            Err(_) => tracing::warn!("in-flight requests outlived the shutdown timeout"),
        }
        let report = self.engine.shutdown().await;
        tracing::info!("actors drained; shutdown complete");
        report
    }
}

/// Loads users, sessions and keys; on a store without users creates the first admin, with
/// the password from `CRYPTOLENS_ADMIN_PASSWORD` or a generated one written to a 0600 file.
/// Creates the data directory (0700: candles, ledgers, accounts and secrets are nobody
/// else's to read) and opens the store in it.
async fn open_store(settings: &Settings) -> Result<Arc<Store>, ServeError> {
    let data_dir = &settings.server.data_dir;
    let data_dir_error = |source| ServeError::DataDir {
        path: data_dir.clone(),
        source,
    };
    std::fs::create_dir_all(data_dir).map_err(data_dir_error)?;
    std::fs::set_permissions(
        data_dir,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .map_err(data_dir_error)?;
    let store_path = store_path(settings);
    let cache_mib = settings.engine.store_cache_mib;
    let opened_path = store_path.clone();
    let opened =
        tokio::task::spawn_blocking(move || Store::open_with_cache(&opened_path, cache_mib)).await;
    // sled panics on some damage instead of answering an error: that is damage too.
    let store = opened.map_err(|panic| StoreError::Unreadable {
        path: store_path,
        message: format!("opening it panicked: {panic}"),
    })??;
    let reserve_bytes = settings
        .engine
        .store_disk_reserve_mib
        .saturating_mul(1024 * 1024);
    Ok(Arc::new(store.with_disk_reserve(reserve_bytes)))
}

async fn open_auth(
    store: &Arc<Store>,
    settings: &Settings,
    options: &StartOptions,
) -> Result<(Auth, Option<PathBuf>), ServeError> {
    let (store, auth_settings) = (Arc::clone(store), settings.auth.clone());
    let clock = Arc::clone(&options.clock);
    let data_dir = settings.server.data_dir.clone();
    let auth =
        tokio::task::spawn_blocking(move || Auth::open(store, &auth_settings, clock, &data_dir))
            .await??;
    let first_start = auth.users().is_empty();
    let mut password_file = None;
    if let Some(password) = auth
        .ensure_first_admin(options.admin_password.clone())
        .await?
    {
        // Never on the log stream: logs are shipped and kept; the file is the owner's alone.
        let data_dir = &settings.server.data_dir;
        password_file = Some(secret_files::write_private(
            data_dir,
            ADMIN_PASSWORD_FILE,
            &password,
        )?);
    }
    if let (true, Some(key)) = (first_start, &options.admin_api_key) {
        auth.register_key("admin", "provisioned at first start", key)
            .await?;
    }
    Ok((auth, password_file))
}

/// Periodic upkeep until shutdown: expired sessions and passed lockouts are forgotten, keys'
/// last use stored, idle rate-limiter state dropped.
fn spawn_maintenance(state: &AppState, settings: &Settings, shutting_down: watch::Receiver<bool>) {
    if settings.learned_scores.enabled {
        spawn_learned_scores(state, settings, shutting_down.clone());
    }
    let auth = state.auth.clone();
    let auth_every = Duration::from_secs(settings.auth.maintenance_interval_s);
    tokio::spawn(every(auth_every, shutting_down.clone(), move || {
        let auth = auth.clone();
        async move {
            if let Err(error) = auth.maintain().await {
                tracing::error!(%error, "auth maintenance failed");
            }
        }
    }));
    let limits = Arc::clone(&state.limits);
    let prune_every = Duration::from_secs(settings.rate_limits.prune_interval_s);
    tokio::spawn(every(prune_every, shutting_down, move || {
        let remaining = limits.prune();
        tracing::debug!(remaining, "rate limiter state pruned");
        std::future::ready(())
    }));
}

/// Learned scores: a first study at once, then every `refresh_interval_ms`.
fn spawn_learned_scores(
    state: &AppState,
    settings: &Settings,
    shutting_down: watch::Receiver<bool>,
) {
    let learned = settings.learned_scores.clone();
    let analysis = Arc::new(settings.analysis.clone());
    let (engine, clock, published) = (
        state.engine.clone(),
        Arc::clone(&state.clock),
        Arc::clone(&state.learned),
    );
    let ready = Arc::clone(&state.ready);
    let period = Duration::from_millis(learned.refresh_interval_ms);
    tokio::spawn(async move {
        // Restored symbols first: a study of a half-restored engine would be incomplete.
        while !ready.load(std::sync::atomic::Ordering::Acquire) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        crate::backtest::learned::refresh(&engine, &analysis, &learned, &clock, &published).await;
        every(period, shutting_down, move || {
            let (engine, analysis, learned, clock, published) = (
                engine.clone(),
                Arc::clone(&analysis),
                learned.clone(),
                Arc::clone(&clock),
                Arc::clone(&published),
            );
            async move {
                crate::backtest::learned::refresh(&engine, &analysis, &learned, &clock, &published)
                    .await
            }
        })
        .await;
    });
}

async fn every<F, Fut>(period: Duration, mut shutting_down: watch::Receiver<bool>, mut work: F)
where
    F: FnMut() -> Fut + Send,
    Fut: std::future::Future<Output = ()> + Send,
{
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        let stop = tokio::select! {
            _ = ticks.tick() => false,
            _ = shutting_down.wait_for(|down| *down) => true,
        };
        if stop {
            return;
        }
        work().await;
    }
}

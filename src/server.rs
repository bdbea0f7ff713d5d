//! Server lifecycle: start the engine and the HTTP listener, report readiness, shut down in
//! order (stop accepting, finish in-flight requests, drain every mailbox).

use crate::api::{self, AppState};
use crate::config::Settings;
use crate::demo;
use cryptolens_actors::actors::{Engine, EngineError};
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
}

/// A running server; dropping it does not stop it, [`Server::shutdown`] does.
pub struct Server {
    local_addr: SocketAddr,
    engine: Engine,
    ready: Arc<AtomicBool>,
    shutdown_signal: watch::Sender<bool>,
    http_task: JoinHandle<()>,
    shutdown_timeout: Duration,
}

/// The sled database inside the data directory.
pub fn store_path(settings: &Settings) -> PathBuf {
    settings.server.data_dir.join("store")
}

impl Server {
    /// Opens the store, binds, starts the engine, restores every stored symbol (the API
    /// answers meanwhile, `ready` says 503 and ingest 503), loads demo data if asked, then
    /// reports ready.
    pub async fn start(settings: &Settings, with_demo: bool) -> Result<Server, ServeError> {
        let data_dir = &settings.server.data_dir;
        std::fs::create_dir_all(data_dir).map_err(|source| ServeError::DataDir {
            path: data_dir.clone(),
            source,
        })?;
        let store_path = store_path(settings);
        let store = tokio::task::spawn_blocking(move || Store::open(&store_path)).await??;
        let addr = settings.server.bind;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Bind { addr, source })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| ServeError::Bind { addr, source })?;
        let engine =
            Engine::start_restoring(settings.engine_settings(), settings.analysis.clone())?;
        let (shutdown_signal, shutting_down) = watch::channel(false);
        let ready = Arc::new(AtomicBool::new(false));
        let state = AppState {
            engine: engine.clone(),
            ingest: settings.ingest.clone(),
            body_limit_bytes: settings.server.body_limit_bytes,
            ws_message_limit_bytes: settings.server.ws_message_limit_bytes,
            ready: Arc::clone(&ready),
            shutting_down: shutting_down.clone(),
            metrics: Arc::new(api::metrics::Metrics::new()?),
            metrics_token: Arc::from(settings.server.metrics_token.as_str()),
        };
        let mut stop_accepting = shutting_down.clone();
        let http_task = tokio::spawn(
            warp::serve(api::routes(&state))
                .incoming(listener)
                .graceful(async move {
                    let _ = stop_accepting.wait_for(|down| *down).await;
                })
                .run(),
        );
        let restoring = engine.clone();
        let store = Arc::new(store);
        tokio::task::spawn_blocking(move || restoring.restore_from(store)).await??;
        tokio::spawn(cryptolens_actors::actors::portfolio::run_exit_triggers(
            engine.clone(),
        ));
        if with_demo {
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
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Stops accepting connections, lets in-flight requests finish (up to the configured
    /// timeout), then drains every actor mailbox and stops the actor system.
    pub async fn shutdown(self) {
        self.ready.store(false, Ordering::Release);
        let _ = self.shutdown_signal.send(true);
        match tokio::time::timeout(self.shutdown_timeout, self.http_task).await {
            Ok(Ok(())) => tracing::info!("http server stopped"),
            Ok(Err(error)) => tracing::error!(%error, "http server task failed"),
            Err(_) => tracing::warn!("in-flight requests outlived the shutdown timeout"),
        }
        self.engine.shutdown().await;
        tracing::info!("actors drained; shutdown complete");
    }
}

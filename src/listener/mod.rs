//! The HTTP listener: accepts connections within the [`ConnectionBudget`], serves each with
//! hyper (HTTP/1.1 with upgrades, or HTTP/2 by prior knowledge) and the warp routes, and
//! closes what a slow or idle client would otherwise hold open:
//!
//! - a request header not complete within `header_read_timeout_ms` (hyper's own timer);
//! - a connection with no request in flight for `idle_timeout_ms`;
//! - a connection over `max_open` or `max_per_address`, closed right after it is accepted.
//!
//! warp's own server does none of this (it sets no timer), hence this loop. The routes see
//! the client's address as a [`PeerAddress`] request extension.

mod activity;
mod budget;
pub mod settings;

use crate::api::metrics::Metrics;
use activity::Activity;
use budget::{ConnectionBudget, OverBudget};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use settings::ConnectionSettings;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use warp::Filter;

/// The client's address, as the listener accepted it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddress(pub SocketAddr);

/// The routes the listener serves.
pub trait Routes:
    Filter<Extract = (warp::reply::Response,), Error = Infallible> + Clone + Send + Sync + 'static
{
}

impl<F> Routes for F where
    F: Filter<Extract = (warp::reply::Response,), Error = Infallible>
        + Clone
        + Send
        + Sync
        + 'static
{
}

/// Accepts and serves until `shutting_down` turns true, then stops accepting, lets every
/// open connection finish its request in flight, and returns when all are closed.
pub async fn serve(
    listener: TcpListener,
    routes: impl Routes,
    settings: ConnectionSettings,
    metrics: Arc<Metrics>,
    mut shutting_down: watch::Receiver<bool>,
) {
    let budget = ConnectionBudget::new(settings.max_open, settings.max_per_address);
    // Every connection task holds a sender; the receiver sees the channel close when the
    // last one ends.
    let (open_tx, mut all_closed) = mpsc::channel::<Infallible>(1);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutting_down.wait_for(|down| *down) => break,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(error) => {
                // Out of file descriptors and the like: wait rather than spin.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let permit = match budget.admit(peer.ip()) {
            Ok(permit) => permit,
            Err(over) => {
                metrics.refuse_connection(match over {
                    OverBudget::Server => "max_open",
                    OverBudget::Address => "max_per_address",
                });
                drop(stream);
                continue;
            }
        };
        let connection = Connection {
            peer,
            settings: settings.clone(),
            shutting_down: shutting_down.clone(),
        };
        let (routes, metrics, open_tx) = (routes.clone(), Arc::clone(&metrics), open_tx.clone());
        tokio::spawn(async move {
            metrics.count_connections(1);
            connection.serve(stream, routes).await;
            metrics.count_connections(-1);
            drop((permit, open_tx));
        });
    }
    drop(listener);
    drop(open_tx);
    let _ = all_closed.recv().await;
}

/// One accepted connection.
struct Connection {
    peer: SocketAddr,
    settings: ConnectionSettings,
    shutting_down: watch::Receiver<bool>,
}

impl Connection {
    async fn serve(mut self, stream: TcpStream, routes: impl Routes) {
        let activity = Activity::new();
        let service = activity.service(self.peer, routes);
        let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_millis(self.settings.header_read_timeout_ms));
        let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
        let mut connection = std::pin::pin!(connection);
        let idle_timeout = Duration::from_millis(self.settings.idle_timeout_ms);
        let mut closing = false;
        loop {
            tokio::select! {
                ended = connection.as_mut() => {
                    if let Err(error) = ended {
                        tracing::debug!(peer = %self.peer, %error, "connection ended");
                    }
                    return;
                }
                _ = tokio::time::sleep_until(activity.idle_deadline(idle_timeout)), if !closing => {
                    if activity.idle_for(idle_timeout) {
                        connection.as_mut().graceful_shutdown();
                        closing = true;
                    }
                }
                _ = self.shutting_down.wait_for(|down| *down), if !closing => {
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
        }
    }
}

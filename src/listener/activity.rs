//! What a connection is doing: requests in flight and when the last one ended, so the
//! listener can tell an idle connection from a busy one.

use super::{PeerAddress, Routes};
use parking_lot::Mutex;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tower_service::Service;

#[derive(Debug)]
struct State {
    in_flight: usize,
    last_ended: Instant,
}

#[derive(Debug, Clone)]
pub struct Activity(Arc<Mutex<State>>);

/// Counts one request in flight until dropped.
struct InFlight(Arc<Mutex<State>>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.in_flight = state.in_flight.saturating_sub(1);
        state.last_ended = Instant::now();
    }
}

impl Activity {
    pub fn new() -> Activity {
        Activity(Arc::new(Mutex::new(State {
            in_flight: 0,
            last_ended: Instant::now(),
        })))
    }

    fn begin(&self) -> InFlight {
        self.0.lock().in_flight += 1;
        InFlight(Arc::clone(&self.0))
    }

    /// When the connection will have been idle for `timeout` if nothing starts before.
    pub fn idle_deadline(&self, timeout: Duration) -> Instant {
        let state = self.0.lock();
        let from = if state.in_flight > 0 {
            Instant::now()
        } else {
            state.last_ended
        };
        from + timeout
    }

    /// No request in flight, and none ended within `timeout`.
    pub fn idle_for(&self, timeout: Duration) -> bool {
        let state = self.0.lock();
        state.in_flight == 0 && state.last_ended.elapsed() >= timeout
    }

    /// The hyper service of one connection: the routes, with the peer's address in each
    /// request and each request counted while it runs.
    pub fn service<R: Routes>(&self, peer: SocketAddr, routes: R) -> CountedService<R> {
        CountedService {
            activity: self.clone(),
            peer,
            routes,
        }
    }
}

/// See [`Activity::service`].
#[derive(Clone)]
pub struct CountedService<R> {
    activity: Activity,
    peer: SocketAddr,
    routes: R,
}

type Answer = Result<warp::reply::Response, std::convert::Infallible>;

impl<R: Routes> hyper::service::Service<hyper::Request<hyper::body::Incoming>>
    for CountedService<R>
{
    type Response = warp::reply::Response;
    type Error = std::convert::Infallible;
    type Future = Pin<Box<dyn Future<Output = Answer> + Send>>;

    fn call(&self, mut request: hyper::Request<hyper::body::Incoming>) -> Self::Future {
        request.extensions_mut().insert(PeerAddress(self.peer));
        let in_flight = self.activity.begin();
        let answer = warp::service(self.routes.clone()).call(request);
        Box::pin(async move {
            let answer = answer.await;
            drop(in_flight);
            answer
        })
    }
}

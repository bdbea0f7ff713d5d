//! The actix system thread and its arbiters, joined at shutdown.

use crate::actors::EngineError;
use actix_rt::{Arbiter, ArbiterHandle, System};
use std::thread::JoinHandle;

pub(super) struct ActorRuntime {
    system: System,
    system_thread: JoinHandle<()>,
    /// The shards symbol and portfolio actors are spread over.
    arbiters: Vec<Arbiter>,
    /// Its own thread, so encoding and disk waits never hold up symbol actors.
    persistence_arbiter: Arbiter,
    /// Its own thread too: a delivery's disk writes never wait behind a snapshot round.
    notifier_arbiter: Arbiter,
}

impl ActorRuntime {
    /// Starts the system thread with `shards` arbiters and one for persistence, and waits
    /// until they run.
    pub(super) fn start(shards: usize) -> Result<ActorRuntime, EngineError> {
        let (started_tx, started_rx) = std::sync::mpsc::sync_channel(1);
        let system_thread = std::thread::Builder::new()
            .name("actix-system".into())
            .spawn(move || {
                let runner = actix_rt::System::new();
                let started = runner.block_on(async move {
                    let arbiters: Vec<Arbiter> = (0..shards).map(|_| Arbiter::new()).collect();
                    (System::current(), arbiters, Arbiter::new(), Arbiter::new())
                });
                if started_tx.send(started).is_ok() {
                    if let Err(error) = runner.run() {
                        tracing::error!(%error, "actor system stopped with an error");
                    }
                }
            })
            .map_err(EngineError::SystemThread)?;
        let (system, arbiters, persistence_arbiter, notifier_arbiter) = started_rx
            .recv()
            .map_err(|_| EngineError::Startup("the actor system thread exited early"))?;
        Ok(ActorRuntime {
            system,
            system_thread,
            arbiters,
            persistence_arbiter,
            notifier_arbiter,
        })
    }

    pub(super) fn shards(&self) -> Vec<ArbiterHandle> {
        self.arbiters.iter().map(Arbiter::handle).collect()
    }

    pub(super) fn persistence_shard(&self) -> ArbiterHandle {
        self.persistence_arbiter.handle()
    }

    pub(super) fn notifier_shard(&self) -> ArbiterHandle {
        self.notifier_arbiter.handle()
    }

    /// Stops every arbiter, then the system, joining each thread (blocking).
    pub(super) fn stop_and_join(self) {
        let all: Vec<Arbiter> = self
            .arbiters
            .into_iter()
            .chain([self.persistence_arbiter, self.notifier_arbiter])
            .collect();
        for arbiter in &all {
            arbiter.stop();
        }
        for arbiter in all {
            if arbiter.join().is_err() {
                tracing::error!("an arbiter thread panicked");
            }
        }
        self.system.stop();
        if self.system_thread.join().is_err() {
            tracing::error!("the actor system thread panicked");
        }
    }
}

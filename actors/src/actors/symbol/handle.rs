//! The handle callers hold on one symbol actor, and the one way to ask it something.

use super::messages::{Ask, DrainMailbox, Request};
use super::view::AnalysisBoard;
use super::SymbolActor;
use crate::actors::health::ActorHealth;
use crate::actors::EngineError;
use crate::domain::market::Symbol;
use actix::prelude::SendError;
use actix::{Addr, Handler};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// The address, health and published analysis of one symbol actor.
#[derive(Clone)]
pub struct SymbolHandle {
    pub addr: Addr<SymbolActor>,
    pub health: Arc<ActorHealth>,
    pub board: Arc<AnalysisBoard>,
}

impl SymbolHandle {
    pub fn symbol(&self) -> &Symbol {
        self.health.symbol()
    }

    /// Sends `request` and waits at most `timeout_ms` for its answer. A full mailbox is
    /// refused at once with [`EngineError::MailboxFull`] (nothing is queued then), a stopped
    /// actor is [`EngineError::ActorStopped`], no answer in time is [`EngineError::Timeout`]:
    /// the request then stays queued and is still applied.
    pub async fn ask<R>(&self, request: R, timeout_ms: u64) -> Result<R::Answer, EngineError>
    where
        R: Request,
        SymbolActor: Handler<Ask<R>>,
    {
        self.reserve_slot()?;
        let (reply, answer) = oneshot::channel();
        let message = Ask {
            request,
            enqueued_at: Instant::now(),
            reply,
        };
        if let Err(error) = self.addr.try_send(message) {
            self.health.release_slot();
            return Err(match error {
                SendError::Full(_) => self.mailbox_full(),
                SendError::Closed(_) => EngineError::ActorStopped(self.symbol().clone()),
            });
        }
        match tokio::time::timeout(Duration::from_millis(timeout_ms), answer).await {
            Ok(Ok(answer)) => Ok(answer),
            // Every handler answers, so a dropped reply means the message was dropped
            // unhandled with its actor: its slot was never given back.
            Ok(Err(_)) => {
                self.health.release_slot();
                Err(EngineError::ActorStopped(self.symbol().clone()))
            }
            Err(_) => Err(EngineError::Timeout {
                symbol: self.symbol().clone(),
                timeout_ms,
            }),
        }
    }

    /// Waits, without a time limit, until every message queued before this call has been
    /// handled (shutdown). False if the actor stopped first.
    pub async fn drain(&self) -> bool {
        // `send` queues behind what is already waiting, so its answer means "drained".
        self.addr.send(DrainMailbox).await.is_ok()
    }

    fn reserve_slot(&self) -> Result<(), EngineError> {
        if self.health.try_reserve_slot() {
            Ok(())
        } else {
            Err(self.mailbox_full())
        }
    }

    fn mailbox_full(&self) -> EngineError {
        EngineError::MailboxFull {
            symbol: self.symbol().clone(),
            capacity: self.health.mailbox_capacity(),
        }
    }
}

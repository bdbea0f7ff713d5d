//! The actor shell: every change to the outbox goes through here, is written to the store
//! and then acted on; the sends run as futures the actor does not wait for.

use super::alerts::WatchedSymbols;
use super::messages::*;
use super::outbox::{Outbox, Start};
use super::records;
use super::settings::NotifierSettings;
use super::stats::NotifierStats;
use super::transport::Transport;
use super::NotifierError;
use crate::clock::SharedClock;
use crate::domain::notify::{
    AlertBook, AttemptOutcome, Channel, Delivery, DeliveryStatus, Message as NotifyMessage,
    ReceiverAnswer,
};
use crate::store::{Store, StoreError};
use actix::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;
use std::time::Duration;

pub struct NotifierActor {
    pub(super) outbox: Outbox,
    pub(super) alerts: AlertBook,
    pub(super) watched: Arc<WatchedSymbols>,
    pub(super) store: Arc<Store>,
    pub(super) settings: NotifierSettings,
    transport: Arc<dyn Transport>,
    pub(super) clock: SharedClock,
    pub(super) stats: Arc<NotifierStats>,
    jitter: ChaCha8Rng,
}

/// The running notifier: its address, its counters and the symbols its alerts watch.
#[derive(Clone)]
pub struct NotifierHandle {
    pub addr: Addr<NotifierActor>,
    pub stats: Arc<NotifierStats>,
    pub watched: Arc<WatchedSymbols>,
}

impl NotifierHandle {
    pub async fn ask<M>(&self, message: M) -> Result<M::Result, NotifierError>
    where
        M: actix::Message + Send + 'static,
        M::Result: Send,
        NotifierActor: Handler<M>,
    {
        self.addr
            .send(message)
            .await
            .map_err(|_| NotifierError::Stopped)
    }
}

impl NotifierActor {
    pub fn restore(
        store: Arc<Store>,
        settings: NotifierSettings,
        transport: Arc<dyn Transport>,
        clock: SharedClock,
    ) -> Result<NotifierActor, StoreError> {
        let stored = records::load(&store)?;
        let jitter = ChaCha8Rng::seed_from_u64(clock.now_ms() as u64);
        let stats = Arc::new(NotifierStats::default());
        for channel in &stored.channels {
            stats.publish_breaker(channel.id, Some(&crate::domain::notify::Breaker::default()));
        }
        let alerts = AlertBook::restore(stored.alerts);
        let watched = Arc::new(WatchedSymbols::default());
        watched.replace(alerts.watched_symbols());
        Ok(NotifierActor {
            outbox: Outbox::restore(stored.channels, stored.deliveries),
            alerts,
            watched,
            store,
            settings,
            transport,
            clock,
            stats,
            jitter,
        })
    }

    pub fn stats(&self) -> Arc<NotifierStats> {
        Arc::clone(&self.stats)
    }

    pub fn watched(&self) -> Arc<WatchedSymbols> {
        Arc::clone(&self.watched)
    }

    pub(super) fn dispatch(&mut self, ctx: &mut Context<Self>) {
        let now_ms = self.clock.now_ms();
        for Start {
            delivery_id,
            request,
        } in self.outbox.starts(now_ms, self.settings.in_flight_max)
        {
            let sending = self.transport.send(request);
            ctx.spawn(sending.into_actor(self).map(move |answer, actor, ctx| {
                actor.on_answer(&delivery_id, &answer);
                actor.dispatch(ctx);
            }));
        }
    }

    fn on_answer(&mut self, delivery_id: &str, answer: &ReceiverAnswer) {
        let now_ms = self.clock.now_ms();
        let draw: f64 = self.jitter.random();
        let Some((outcome, finished)) =
            self.outbox
                .finish(delivery_id, answer, now_ms, &self.settings, draw)
        else {
            return;
        };
        let delivery = &finished.delivery;
        let breaker = self
            .outbox
            .runtime
            .get(&delivery.channel_id)
            .map(|runtime| &runtime.breaker);
        self.stats.publish_breaker(delivery.channel_id, breaker);
        match (&outcome, delivery.status) {
            (AttemptOutcome::Delivered, _) => NotifierStats::count(&self.stats.sent, 1),
            (_, DeliveryStatus::Pending) => {
                NotifierStats::count(&self.stats.failed_attempts, 1);
                NotifierStats::count(&self.stats.retried, 1);
            }
            _ => {
                NotifierStats::count(&self.stats.failed_attempts, 1);
                NotifierStats::count(&self.stats.given_up, 1);
            }
        }
        if delivery.status != DeliveryStatus::Pending {
            tracing::info!(delivery = %delivery.id, status = ?delivery.status, attempts = delivery.attempts, "notification finished");
        }
        let saved = records::save_deliveries(&self.store, std::slice::from_ref(delivery))
            .and_then(|()| records::remove_deliveries(&self.store, &finished.pruned));
        if let Err(error) = saved {
            NotifierStats::count(&self.stats.store_failures, 1);
            tracing::error!(%error, delivery = %delivery.id, "cannot record a delivery's progress; a restart may send it again under the same id");
        }
    }

    fn owned_channel(&self, owner: Option<&str>, id: u64) -> Result<&Channel, NotifierError> {
        self.outbox
            .channels
            .get(&id)
            .filter(|channel| owner.is_none_or(|owner| channel.owner == owner))
            .ok_or(NotifierError::NoChannel(id))
    }

    fn view(&self, channel: &Channel) -> ChannelView {
        let now_ms = self.clock.now_ms();
        let runtime = self.outbox.runtime.get(&channel.id);
        ChannelView {
            channel: channel.clone(),
            breaker: runtime.map_or(crate::domain::notify::BreakerState::Closed, |runtime| {
                runtime.breaker.state(now_ms)
            }),
            consecutive_failures: runtime
                .map_or(0, |runtime| runtime.breaker.consecutive_failures()),
            pending: self
                .outbox
                .pending
                .values()
                .filter(|delivery| delivery.channel_id == channel.id)
                .count(),
        }
    }

    fn save_and_keep(&mut self, channel: Channel) -> Result<ChannelView, NotifierError> {
        records::save_channel(&self.store, &channel)?;
        let runtime = self.outbox.runtime.entry(channel.id).or_default();
        self.stats
            .publish_breaker(channel.id, Some(&runtime.breaker));
        let view = self.view(&channel);
        self.outbox.channels.insert(channel.id, channel);
        Ok(view)
    }
}

impl Actor for NotifierActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(4_096);
        ctx.run_interval(
            Duration::from_millis(self.settings.tick_ms.max(10)),
            |actor, ctx| actor.dispatch(ctx),
        );
    }
}

impl Handler<AcceptSignal> for NotifierActor {
    type Result = ();

    fn handle(&mut self, message: AcceptSignal, ctx: &mut Context<Self>) {
        let now_ms = self.clock.now_ms();
        if now_ms.saturating_sub(message.signal.created_at_ms) > self.settings.max_signal_age_ms {
            return;
        }
        let accepted =
            self.outbox
                .accept_signal(&message.signal, now_ms, &self.settings, &self.stats);
        if accepted.is_empty() {
            return;
        }
        if let Err(error) = records::save_deliveries(&self.store, &accepted) {
            tracing::error!(%error, signal = %message.signal.id(), "cannot write notifications to the outbox; they are dropped");
            for delivery in &accepted {
                self.outbox.pending.remove(&delivery.id);
            }
            NotifierStats::count(&self.stats.dropped, accepted.len() as u64);
            NotifierStats::count(&self.stats.store_failures, 1);
            return;
        }
        self.dispatch(ctx);
    }
}

impl Handler<CreateChannel> for NotifierActor {
    type Result = Result<ChannelView, NotifierError>;

    fn handle(&mut self, message: CreateChannel, _: &mut Context<Self>) -> Self::Result {
        let owned = self
            .outbox
            .channels
            .values()
            .filter(|channel| channel.owner == message.owner)
            .count();
        if owned >= self.settings.channels_per_user_max {
            return Err(NotifierError::TooManyChannels {
                max: self.settings.channels_per_user_max,
            });
        }
        let channel = Channel {
            id: self.outbox.next_channel_id(),
            owner: message.owner,
            name: message.name,
            destination: message.destination,
            filter: message.filter,
            enabled: message.enabled,
            created_at_ms: self.clock.now_ms(),
        };
        self.save_and_keep(channel)
    }
}

impl Handler<UpdateChannel> for NotifierActor {
    type Result = Result<ChannelView, NotifierError>;

    fn handle(&mut self, message: UpdateChannel, _: &mut Context<Self>) -> Self::Result {
        let mut channel = self
            .owned_channel(message.owner.as_deref(), message.id)?
            .clone();
        let ChannelChange {
            name,
            destination,
            filter,
            enabled,
        } = message.change;
        channel.name = name.unwrap_or(channel.name);
        channel.destination = destination.unwrap_or(channel.destination);
        channel.filter = filter.unwrap_or(channel.filter);
        channel.enabled = enabled.unwrap_or(channel.enabled);
        self.save_and_keep(channel)
    }
}

impl Handler<DeleteChannel> for NotifierActor {
    type Result = Result<(), NotifierError>;

    fn handle(&mut self, message: DeleteChannel, _: &mut Context<Self>) -> Self::Result {
        self.owned_channel(message.owner.as_deref(), message.id)?;
        let ids = self.outbox.delivery_ids(message.id);
        records::remove_channel(&self.store, message.id, &ids)?;
        self.outbox.remove_channel(message.id);
        self.stats.publish_breaker(message.id, None);
        Ok(())
    }
}

impl Handler<ListChannels> for NotifierActor {
    type Result = MessageResult<ListChannels>;

    fn handle(&mut self, message: ListChannels, _: &mut Context<Self>) -> Self::Result {
        let views = self
            .outbox
            .channels
            .values()
            .filter(|channel| {
                message
                    .owner
                    .as_deref()
                    .is_none_or(|owner| channel.owner == owner)
            })
            .map(|channel| self.view(channel))
            .collect();
        MessageResult(views)
    }
}

impl Handler<TestChannel> for NotifierActor {
    type Result = Result<Delivery, NotifierError>;

    fn handle(&mut self, message: TestChannel, ctx: &mut Context<Self>) -> Self::Result {
        let channel = self.owned_channel(message.owner.as_deref(), message.id)?;
        if !channel.enabled {
            return Err(NotifierError::Disabled);
        }
        let now_ms = self.clock.now_ms();
        let test = NotifyMessage::test(&channel.name, now_ms);
        let delivery = Delivery::accept(channel.id, &channel.owner, test, now_ms);
        if self.outbox.pending.len() >= self.settings.outbox_capacity {
            return Err(NotifierError::OutboxFull {
                capacity: self.settings.outbox_capacity,
            });
        }
        records::save_deliveries(&self.store, std::slice::from_ref(&delivery))?;
        self.outbox.accept(&delivery, self.settings.outbox_capacity);
        self.dispatch(ctx);
        Ok(delivery)
    }
}

impl Handler<ListDeliveries> for NotifierActor {
    type Result = MessageResult<ListDeliveries>;

    fn handle(&mut self, message: ListDeliveries, _: &mut Context<Self>) -> Self::Result {
        let mut matching: Vec<&Delivery> = self
            .outbox
            .pending
            .values()
            .chain(self.outbox.finished.values())
            .filter(|delivery| {
                message
                    .owner
                    .as_deref()
                    .is_none_or(|owner| delivery.owner == owner)
            })
            .filter(|delivery| {
                message
                    .channel
                    .is_none_or(|channel| delivery.channel_id == channel)
            })
            .collect();
        matching.sort_by(|left, right| {
            (right.accepted_at_ms, &right.id).cmp(&(left.accepted_at_ms, &left.id))
        });
        MessageResult(DeliveryPage {
            total: matching.len(),
            deliveries: matching
                .into_iter()
                .skip(message.offset)
                .take(message.limit)
                .cloned()
                .collect(),
        })
    }
}

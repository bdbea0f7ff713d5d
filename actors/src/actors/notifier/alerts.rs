//! The notifier's side of users' alerts: kept in the store, run over each batch the exit
//! feed hands on and each trade change the portfolios tap, and, when one fires, one delivery
//! per channel it goes to, through the same outbox as signals (same retries, breaker and
//! dedupe: the delivery id names the alert and its occasion). Channel filters are for
//! signals: an alert the trader set goes to its channels as asked.

use super::actor::NotifierActor;
use super::messages::{CreateAlert, DeleteAlert, EvaluateAlerts, ListAlerts, TradeChanged};
use super::outbox::Acceptance;
use super::records;
use super::stats::NotifierStats;
use super::NotifierError;
use crate::domain::market::Symbol;
use crate::domain::notify::{Alert, Delivery, Fired};
use actix::prelude::*;
use std::collections::BTreeSet;
use std::sync::{PoisonError, RwLock};

/// The symbols some active alert watches, read by the exit feed without asking the actor
/// (a batch of a symbol nobody watches is not even copied).
#[derive(Debug, Default)]
pub struct WatchedSymbols(RwLock<BTreeSet<Symbol>>);

impl WatchedSymbols {
    pub fn contains(&self, symbol: &Symbol) -> bool {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(symbol)
    }

    pub(super) fn replace(&self, symbols: BTreeSet<Symbol>) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = symbols;
    }
}

impl NotifierActor {
    /// Records what fired and puts its deliveries in the outbox (on disk before the alert
    /// is saved as fired: a crash between the two sends it, never loses it).
    fn deliver_fired(&mut self, fired: Vec<Fired>, ctx: &mut Context<Self>) {
        if fired.is_empty() {
            return;
        }
        for Fired { alert, firing } in fired {
            NotifierStats::count(&self.stats.alerts_fired, 1);
            tracing::info!(alert = alert.id, owner = %alert.owner, subject = %firing.subject, "alert fired");
            let message = firing.message(&alert, &self.settings.dashboard_url);
            let now_ms = self.clock.now_ms();
            let mut accepted = Vec::new();
            for channel_id in self.alert_channels(&alert) {
                let delivery = Delivery::accept(channel_id, &alert.owner, message.clone(), now_ms);
                match self.outbox.accept(&delivery, self.settings.outbox_capacity) {
                    Acceptance::New => accepted.push(delivery),
                    Acceptance::Duplicate => NotifierStats::count(&self.stats.deduped, 1),
                    Acceptance::Full => NotifierStats::count(&self.stats.dropped, 1),
                }
            }
            NotifierStats::count(&self.stats.accepted, accepted.len() as u64);
            let saved = records::save_deliveries(&self.store, &accepted)
                .and_then(|()| records::save_alert(&self.store, &alert));
            if let Err(error) = saved {
                NotifierStats::count(&self.stats.store_failures, 1);
                tracing::error!(%error, alert = alert.id, "cannot record a fired alert; its notifications may be lost or sent again after a restart");
            }
        }
        self.publish_watched();
        self.dispatch(ctx);
    }

    /// The owner's enabled channels the alert goes to: those it names, or all of them.
    fn alert_channels(&self, alert: &Alert) -> Vec<u64> {
        self.outbox
            .channels
            .values()
            .filter(|channel| channel.owner == alert.owner && channel.enabled)
            .filter(|channel| {
                alert.channel_ids.is_empty() || alert.channel_ids.contains(&channel.id)
            })
            .map(|channel| channel.id)
            .collect()
    }

    pub(super) fn publish_watched(&self) {
        self.watched.replace(self.alerts.watched_symbols());
    }
}

impl Handler<CreateAlert> for NotifierActor {
    type Result = Result<Alert, NotifierError>;

    fn handle(&mut self, message: CreateAlert, _: &mut Context<Self>) -> Self::Result {
        let max = self.settings.alerts_per_user_max;
        if self.alerts.owned_by(&message.owner) >= max {
            return Err(NotifierError::TooManyAlerts { max });
        }
        if let Some(foreign) = message.channel_ids.iter().find(|id| {
            self.outbox
                .channels
                .get(id)
                .is_none_or(|channel| channel.owner != message.owner)
        }) {
            return Err(NotifierError::AlertChannel(*foreign));
        }
        let alert = Alert {
            id: self.alerts.next_id(),
            owner: message.owner,
            name: message.name,
            condition: message.condition,
            rearm: message.rearm,
            channel_ids: message.channel_ids,
            created_at_ms: self.clock.now_ms(),
            active: true,
            fired_count: 0,
            last_fired_at_ms: None,
            evaluated_through_ms: None,
        };
        records::save_alert(&self.store, &alert)?;
        self.alerts.insert(alert.clone());
        self.publish_watched();
        Ok(alert)
    }
}

impl Handler<ListAlerts> for NotifierActor {
    type Result = MessageResult<ListAlerts>;

    fn handle(&mut self, message: ListAlerts, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.alerts.list(message.owner.as_deref()))
    }
}

impl Handler<DeleteAlert> for NotifierActor {
    type Result = Result<(), NotifierError>;

    fn handle(&mut self, message: DeleteAlert, _: &mut Context<Self>) -> Self::Result {
        self.alerts
            .get(message.owner.as_deref(), message.id)
            .ok_or(NotifierError::NoAlert(message.id))?;
        records::remove_alert(&self.store, message.id)?;
        self.alerts.remove(message.id);
        self.publish_watched();
        Ok(())
    }
}

impl Handler<EvaluateAlerts> for NotifierActor {
    type Result = ();

    fn handle(&mut self, message: EvaluateAlerts, ctx: &mut Context<Self>) {
        let fired = self.alerts.on_batch(
            &message.symbol,
            message.base,
            &message.candles,
            &message.patterns,
        );
        self.deliver_fired(fired, ctx);
    }
}

impl Handler<TradeChanged> for NotifierActor {
    type Result = ();

    fn handle(&mut self, message: TradeChanged, ctx: &mut Context<Self>) {
        let now_ms = self.clock.now_ms();
        let fired = self
            .alerts
            .on_trade(message.portfolio_id, &message.trade, now_ms);
        self.deliver_fired(fired, ctx);
    }
}

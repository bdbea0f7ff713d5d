//! The notifier's memory: channels, deliveries waiting and finished, each channel's breaker
//! and throttle, and when each (channel, symbol) last got a signal (its cooldown). The
//! actor persists what these functions change; nothing here does I/O.

use super::settings::NotifierSettings;
use super::stats::NotifierStats;
use crate::domain::analysis::Signal;
use crate::domain::market::Symbol;
use crate::domain::notify::{
    judge_answer, request_for, AttemptOutcome, Breaker, Channel, Delivery, DeliveryStatus, Message,
    Outgoing, ReceiverAnswer,
};
use std::collections::{BTreeMap, HashMap, VecDeque};

#[derive(Debug, Default)]
pub(super) struct ChannelRuntime {
    pub breaker: Breaker,
    /// A throttling receiver's `Retry-After`: nothing goes to it before this.
    pub not_before_ms: i64,
    pub in_flight: bool,
    /// Finished deliveries, oldest first.
    pub finished: VecDeque<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Acceptance {
    New,
    Duplicate,
    Full,
}

#[derive(Debug, Default)]
pub(super) struct Outbox {
    pub channels: BTreeMap<u64, Channel>,
    pub runtime: HashMap<u64, ChannelRuntime>,
    pub pending: BTreeMap<String, Delivery>,
    pub finished: HashMap<String, Delivery>,
    last_accepted_ms: HashMap<(u64, Symbol), i64>,
    in_flight: usize,
}

/// A delivery to start: its id and the request that carries it.
pub(super) struct Start {
    pub delivery_id: String,
    pub request: Outgoing,
}

/// What finishing an attempt changed, for the actor to persist.
pub(super) struct Finished {
    pub delivery: Delivery,
    /// Finished deliveries beyond the history kept, to remove from the store.
    pub pruned: Vec<String>,
}

impl Outbox {
    pub fn restore(channels: Vec<Channel>, deliveries: Vec<Delivery>) -> Outbox {
        let mut outbox = Outbox::default();
        for channel in channels {
            outbox.runtime.entry(channel.id).or_default();
            outbox.channels.insert(channel.id, channel);
        }
        let mut deliveries = deliveries;
        deliveries.sort_by_key(|delivery| (delivery.finished_at_ms, delivery.accepted_at_ms));
        for delivery in deliveries {
            if !outbox.channels.contains_key(&delivery.channel_id) {
                continue;
            }
            outbox.remember_symbol(&delivery);
            if delivery.status == DeliveryStatus::Pending {
                outbox.pending.insert(delivery.id.clone(), delivery);
            } else {
                outbox.file_finished(delivery);
            }
        }
        outbox
    }

    pub fn next_channel_id(&self) -> u64 {
        self.channels.keys().next_back().map_or(1, |last| last + 1)
    }

    fn remember_symbol(&mut self, delivery: &Delivery) {
        if let Some(symbol) = &delivery.message.symbol {
            let last = self
                .last_accepted_ms
                .entry((delivery.channel_id, symbol.clone()))
                .or_insert(i64::MIN);
            *last = (*last).max(delivery.accepted_at_ms);
        }
    }

    fn file_finished(&mut self, delivery: Delivery) {
        let runtime = self.runtime.entry(delivery.channel_id).or_default();
        runtime.finished.push_back(delivery.id.clone());
        self.finished.insert(delivery.id.clone(), delivery);
    }

    /// Takes `delivery` into the outbox unless it is a repeat or the outbox is full.
    pub fn accept(&mut self, delivery: &Delivery, capacity: usize) -> Acceptance {
        if self.pending.contains_key(&delivery.id) || self.finished.contains_key(&delivery.id) {
            return Acceptance::Duplicate;
        }
        if self.pending.len() >= capacity {
            return Acceptance::Full;
        }
        self.remember_symbol(delivery);
        self.pending.insert(delivery.id.clone(), delivery.clone());
        Acceptance::New
    }

    /// The deliveries `signal` makes: one per enabled channel that wants it and whose
    /// cooldown for its symbol has passed; repeats, refusals and drops are counted. The
    /// message is rendered once, and only if some channel takes it (a full outbox costs a
    /// signal no more than the look-ups).
    pub fn accept_signal(
        &mut self,
        signal: &Signal,
        now_ms: i64,
        settings: &NotifierSettings,
        stats: &NotifierStats,
    ) -> Vec<Delivery> {
        let wanting = self.wanting(signal, now_ms, stats);
        let room = settings.outbox_capacity.saturating_sub(self.pending.len());
        if room == 0 {
            NotifierStats::count(&stats.dropped, wanting.len() as u64);
            return Vec::new();
        }
        let subject = signal.id();
        let mut message: Option<Message> = None;
        let mut accepted = Vec::new();
        for (channel_id, owner) in wanting {
            let id = Delivery::id_for(channel_id, &subject);
            if self.pending.contains_key(&id) || self.finished.contains_key(&id) {
                NotifierStats::count(&stats.deduped, 1);
                continue;
            }
            if self.pending.len() >= settings.outbox_capacity {
                NotifierStats::count(&stats.dropped, 1);
                continue;
            }
            let message =
                message.get_or_insert_with(|| Message::for_signal(signal, &settings.dashboard_url));
            let delivery = Delivery::accept(channel_id, &owner, message.clone(), now_ms);
            self.accept(&delivery, settings.outbox_capacity);
            accepted.push(delivery);
        }
        NotifierStats::count(&stats.accepted, accepted.len() as u64);
        accepted
    }

    /// The enabled channels whose filter admits `signal` and whose cooldown has passed.
    fn wanting(&self, signal: &Signal, now_ms: i64, stats: &NotifierStats) -> Vec<(u64, String)> {
        let mut wanting = Vec::new();
        for channel in self.channels.values().filter(|channel| channel.enabled) {
            let cooling = self.cooling_down(
                channel.id,
                &signal.symbol,
                channel.filter.cooldown_ms(),
                now_ms,
            );
            if cooling || channel.filter.miss(signal, now_ms).is_some() {
                NotifierStats::count(&stats.filtered, 1);
                continue;
            }
            wanting.push((channel.id, channel.owner.clone()));
        }
        wanting
    }

    fn cooling_down(
        &self,
        channel_id: u64,
        symbol: &Symbol,
        cooldown_ms: i64,
        now_ms: i64,
    ) -> bool {
        cooldown_ms > 0
            && self
                .last_accepted_ms
                .get(&(channel_id, symbol.clone()))
                .is_some_and(|last_ms| now_ms.saturating_sub(*last_ms) < cooldown_ms)
    }

    /// The deliveries to put on the wire now: per channel the oldest due one, if the
    /// channel has nothing in flight, is not throttled and its breaker lets it through.
    pub fn starts(&mut self, now_ms: i64, in_flight_max: usize) -> Vec<Start> {
        let mut oldest: BTreeMap<u64, (i64, i64, &str)> = BTreeMap::new();
        for delivery in self
            .pending
            .values()
            .filter(|delivery| delivery.is_due(now_ms))
        {
            let candidate = (
                delivery.next_attempt_at_ms,
                delivery.accepted_at_ms,
                delivery.id.as_str(),
            );
            let slot = oldest.entry(delivery.channel_id).or_insert(candidate);
            *slot = (*slot).min(candidate);
        }
        let chosen: Vec<(u64, String)> = oldest
            .into_iter()
            .map(|(channel_id, (_, _, id))| (channel_id, id.to_owned()))
            .collect();
        let mut starts = Vec::new();
        for (channel_id, delivery_id) in chosen {
            if self.in_flight >= in_flight_max {
                break;
            }
            if let Some(start) = self.start(channel_id, delivery_id, now_ms) {
                starts.push(start);
            }
        }
        starts
    }

    fn start(&mut self, channel_id: u64, delivery_id: String, now_ms: i64) -> Option<Start> {
        let channel = self.channels.get(&channel_id)?;
        let runtime = self.runtime.entry(channel_id).or_default();
        if runtime.in_flight || runtime.not_before_ms > now_ms || !runtime.breaker.may_send(now_ms)
        {
            return None;
        }
        let delivery = self.pending.get(&delivery_id)?;
        runtime.breaker.on_send(now_ms);
        runtime.in_flight = true;
        self.in_flight += 1;
        let request = request_for(&channel.destination, &delivery.message, &delivery.id);
        Some(Start {
            delivery_id,
            request,
        })
    }

    /// Applies a receiver's answer to delivery `delivery_id`; `draw` is uniform in [0, 1).
    pub fn finish(
        &mut self,
        delivery_id: &str,
        answer: &ReceiverAnswer,
        now_ms: i64,
        settings: &NotifierSettings,
        draw: f64,
    ) -> Option<(AttemptOutcome, Finished)> {
        let mut delivery = self.pending.remove(delivery_id)?;
        self.in_flight = self.in_flight.saturating_sub(1);
        let kind = self
            .channels
            .get(&delivery.channel_id)
            .map_or("webhook", |channel| channel.destination.kind());
        let outcome = judge_answer(kind, answer);
        let runtime = self.runtime.entry(delivery.channel_id).or_default();
        runtime.in_flight = false;
        match &outcome {
            AttemptOutcome::Delivered => runtime.breaker.on_success(),
            AttemptOutcome::Throttled { retry_after_ms, .. } => {
                runtime.breaker.on_throttled();
                let wait_ms = retry_after_ms.unwrap_or(settings.retry.base_ms);
                runtime.not_before_ms =
                    now_ms.saturating_add(i64::try_from(wait_ms).unwrap_or(i64::MAX));
            }
            AttemptOutcome::Transient { .. } | AttemptOutcome::Permanent { .. } => {
                runtime.breaker.on_failure(now_ms, settings.breaker);
            }
        }
        delivery.record(&outcome, now_ms, &settings.retry, draw);
        let mut pruned = Vec::new();
        if delivery.status == DeliveryStatus::Pending {
            self.pending.insert(delivery.id.clone(), delivery.clone());
        } else {
            self.file_finished(delivery.clone());
            pruned = self.prune(delivery.channel_id, settings.history_per_channel);
        }
        Some((outcome, Finished { delivery, pruned }))
    }

    fn prune(&mut self, channel_id: u64, kept: usize) -> Vec<String> {
        let Some(runtime) = self.runtime.get_mut(&channel_id) else {
            return Vec::new();
        };
        let mut pruned = Vec::new();
        while runtime.finished.len() > kept.max(1) {
            if let Some(id) = runtime.finished.pop_front() {
                self.finished.remove(&id);
                pruned.push(id);
            }
        }
        pruned
    }

    /// Every delivery of channel `channel_id`, waiting or finished.
    pub fn delivery_ids(&self, channel_id: u64) -> Vec<String> {
        self.pending
            .values()
            .chain(self.finished.values())
            .filter(|delivery| delivery.channel_id == channel_id)
            .map(|delivery| delivery.id.clone())
            .collect()
    }

    /// Forgets channel `channel_id` and everything it had; answers the ids to remove.
    pub fn remove_channel(&mut self, channel_id: u64) -> Vec<String> {
        self.channels.remove(&channel_id);
        let runtime = self.runtime.remove(&channel_id).unwrap_or_default();
        if runtime.in_flight {
            self.in_flight = self.in_flight.saturating_sub(1);
        }
        let mut removed: Vec<String> = runtime.finished.into_iter().collect();
        for id in &removed {
            self.finished.remove(id);
        }
        let waiting: Vec<String> = self
            .pending
            .values()
            .filter(|delivery| delivery.channel_id == channel_id)
            .map(|delivery| delivery.id.clone())
            .collect();
        for id in &waiting {
            self.pending.remove(id);
        }
        removed.extend(waiting);
        self.last_accepted_ms
            .retain(|(channel, _), _| *channel != channel_id);
        removed
    }
}

#[cfg(test)]
#[path = "outbox_tests.rs"]
mod tests;

//! Channels and deliveries as the API shows them: never a token or a secret.

use cryptolens_actors::actors::notifier::ChannelView;
use cryptolens_actors::domain::notify::{ChannelFilter, Delivery, Destination, QuietHours};
use serde_json::{json, Value};

pub fn channel_json(view: &ChannelView) -> Value {
    let channel = &view.channel;
    json!({
        "id": channel.id,
        "owner": channel.owner,
        "name": channel.name,
        "kind": channel.destination.kind(),
        "enabled": channel.enabled,
        "destination": destination_json(&channel.destination),
        "filter": filter_json(&channel.filter),
        "breaker": {"state": view.breaker.as_str(), "consecutive_failures": view.consecutive_failures},
        "pending": view.pending,
        "created_at_ms": channel.created_at_ms,
    })
}

fn destination_json(destination: &Destination) -> Value {
    match destination {
        Destination::Ntfy {
            server_url,
            topic,
            access_token,
        } => {
            json!({"server_url": server_url, "topic": topic, "has_access_token": access_token.is_some()})
        }
        Destination::Webhook { url, .. } => json!({"url": url, "signed": true}),
        Destination::Telegram {
            base_url, chat_id, ..
        } => json!({"base_url": base_url, "chat_id": chat_id}),
        Destination::Email {
            smtp_host,
            smtp_port,
            username,
            from,
            to,
            ..
        } => json!({"smtp_host": smtp_host, "smtp_port": smtp_port, "username": username,
            "from": from, "to": to}),
    }
}

fn filter_json(filter: &ChannelFilter) -> Value {
    let quiet_hours = filter.quiet_hours.as_ref().map(|quiet| {
        json!({
            "from": QuietHours::format_time(quiet.from_minute),
            "to": QuietHours::format_time(quiet.to_minute),
            "time_zone": quiet.time_zone,
        })
    });
    json!({
        "symbols": filter.symbols,
        "directions": filter.directions,
        "timeframes": filter.timeframes,
        "kinds": filter.kinds,
        "min_confluence": filter.min_confluence,
        "min_score": filter.min_score,
        "min_risk_reward": filter.min_risk_reward.map(|value| value.to_string()),
        "quiet_hours": quiet_hours,
        "cooldown_minutes": filter.cooldown_minutes,
    })
}

pub fn delivery_json(delivery: &Delivery) -> Value {
    json!({
        "id": delivery.id,
        "channel_id": delivery.channel_id,
        "subject": delivery.message.subject,
        "symbol": delivery.message.symbol,
        "title": delivery.message.title,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "accepted_at_ms": delivery.accepted_at_ms,
        "next_attempt_at_ms": delivery.next_attempt_at_ms,
        "finished_at_ms": delivery.finished_at_ms,
        "last_error": delivery.last_error,
    })
}

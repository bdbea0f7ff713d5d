//! What a notification says, fixed when it is accepted for delivery so a retry after a
//! restart sends the very same words: a title and text for people (NTFY, Telegram), tags
//! and a priority on NTFY's 1-5 scale, a click URL to the dashboard's symbol page, and a
//! JSON payload for machines (webhooks) with the signal, its levels and its reasons.

use crate::domain::analysis::{Direction, Signal};
use crate::domain::market::Symbol;
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// The signal's id, `test-{ms}` for a channel test, `alert-{id}-{occasion}` for an alert.
    pub subject: String,
    /// A signal's symbol: its channel's per-symbol cooldown counts from this message (none
    /// for tests and alerts).
    pub symbol: Option<Symbol>,
    pub title: String,
    pub text: String,
    pub priority: u8,
    pub tags: Vec<String>,
    pub click_url: Option<String>,
    /// The webhook body's `signal` (JSON text: kept exact, decimals as strings).
    pub payload_json: String,
}

/// Confidence from which a signal is pushed as "high" (4) rather than "default" (3).
const HIGH_PRIORITY_CONFIDENCE: f64 = 0.7;

impl Message {
    /// The message for a newly emitted signal; `dashboard_url` is where the server's
    /// dashboard is reached from the trader's phone.
    pub fn for_signal(signal: &Signal, dashboard_url: &str) -> Message {
        let direction = direction_word(signal.direction);
        let title = format!(
            "{} {direction} on {} ({}/{} timeframes)",
            signal.symbol, signal.entry_timeframe, signal.confluence, signal.timeframes_with_data
        );
        let click_url = format!(
            "{}/#/symbol/{}/{}",
            dashboard_url.trim_end_matches('/'),
            signal.symbol,
            signal.entry_timeframe
        );
        Message {
            subject: signal.id(),
            symbol: Some(signal.symbol.clone()),
            title,
            text: signal_text(signal),
            priority: if signal.confidence >= HIGH_PRIORITY_CONFIDENCE {
                4
            } else {
                3
            },
            tags: vec![
                match signal.direction {
                    Direction::Bullish => "chart_with_upwards_trend".into(),
                    Direction::Bearish => "chart_with_downwards_trend".into(),
                },
                signal.symbol.to_string(),
            ],
            click_url: Some(click_url),
            payload_json: signal_payload(signal).to_string(),
        }
    }

    /// A channel test: says so, carries no signal.
    pub fn test(channel_name: &str, at_ms: i64) -> Message {
        Message {
            subject: format!("test-{at_ms}"),
            symbol: None,
            title: "cryptolens test".into(),
            text: format!("Channel \"{channel_name}\" reaches you."),
            priority: 3,
            tags: vec!["white_check_mark".into()],
            click_url: None,
            payload_json: json!({"test": true, "channel": channel_name}).to_string(),
        }
    }
}

fn direction_word(direction: Direction) -> &'static str {
    match direction {
        Direction::Bullish => "bullish",
        Direction::Bearish => "bearish",
    }
}

fn signal_text(signal: &Signal) -> String {
    let mut lines = Vec::new();
    if let Some(levels) = &signal.levels {
        let [target_1, target_2, target_3] = levels.targets.map(|target| target.get());
        lines.push(format!(
            "Entry {} · stop {} · targets {target_1} / {target_2} / {target_3} · R:R {}",
            levels.entry.get(),
            levels.stop.get(),
            levels.risk_reward
        ));
    }
    lines.push(format!("Confidence {:.0}%", signal.confidence * 100.0));
    lines.extend(signal.reason_texts());
    lines.join("\n")
}

fn signal_payload(signal: &Signal) -> serde_json::Value {
    let levels = signal.levels.as_ref().map(|levels| {
        json!({
            "entry": levels.entry.get().to_string(),
            "stop": levels.stop.get().to_string(),
            "targets": levels.targets.iter().map(|target| target.get().to_string()).collect::<Vec<_>>(),
            "risk_reward": levels.risk_reward.to_string(),
        })
    });
    let patterns: Vec<serde_json::Value> = signal
        .patterns
        .iter()
        .map(|pattern| json!({"kind": pattern.kind, "timeframe": pattern.timeframe}))
        .collect();
    json!({
        "id": signal.id(),
        "symbol": signal.symbol,
        "direction": direction_word(signal.direction),
        "entry_timeframe": signal.entry_timeframe,
        "created_at_ms": signal.created_at_ms,
        "confluence": signal.confluence,
        "timeframes_with_data": signal.timeframes_with_data,
        "aligned_timeframes": signal.aligned_timeframes,
        "confidence": signal.confidence,
        "levels": levels,
        "reasons": signal.reason_texts(),
        "patterns": patterns,
    })
}

#[cfg(test)]
mod tests {
    use super::super::sample_signal::sample_signal;
    use super::*;

    #[test]
    fn a_signal_message_names_the_setup_its_levels_and_links_its_symbol_page() {
        let message =
            Message::for_signal(&sample_signal(1_700_000_000_000), "https://scan.example/");
        assert_eq!(message.subject, "BTCUSDT-bullish-1700000000000");
        assert_eq!(message.title, "BTCUSDT bullish on 15m (3/8 timeframes)");
        assert!(message.text.starts_with(
            "Entry 100.5 · stop 98 · targets 103 / 105.5 / 106.75 · R:R 2.5\nConfidence 62%"
        ));
        assert_eq!(message.priority, 3);
        assert_eq!(message.tags, ["chart_with_upwards_trend", "BTCUSDT"]);
        assert_eq!(
            message.click_url.as_deref(),
            Some("https://scan.example/#/symbol/BTCUSDT/15m")
        );
        let payload: serde_json::Value = serde_json::from_str(&message.payload_json).unwrap();
        assert_eq!(payload["levels"]["targets"][1], "105.5");
        assert_eq!(payload["patterns"][0]["kind"], "order_block");
        assert_eq!(payload["direction"], "bullish");
    }

    #[test]
    fn a_confident_signal_is_pushed_at_high_priority() {
        let mut signal = sample_signal(0);
        signal.confidence = 0.8;
        signal.direction = Direction::Bearish;
        let message = Message::for_signal(&signal, "http://localhost:8080");
        assert_eq!(message.priority, 4);
        assert_eq!(message.tags[0], "chart_with_downwards_trend");
    }
}

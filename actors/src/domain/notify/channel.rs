//! A user's notification channel: where messages go ([`Destination`]) and which signals it
//! wants ([`ChannelFilter`]). Tokens and secrets are [`SecretText`]: never in a `Debug`
//! print, so never in a log line; the API shows them once, at creation.

use super::filter::ChannelFilter;
use serde::{Deserialize, Serialize};

/// A credential kept for sending; prints as `***`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretText(pub String);

impl std::fmt::Debug for SecretText {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("***")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Destination {
    /// NTFY's publish API: `POST {server_url}/{topic}`, the message as the body, title,
    /// priority, tags and click URL as headers.
    Ntfy {
        server_url: String,
        topic: String,
        access_token: Option<SecretText>,
    },
    /// A JSON body signed with HMAC-SHA256 of the body under `secret`.
    Webhook { url: String, secret: SecretText },
    /// The Bot API's `sendMessage`: `POST {base_url}/bot{token}/sendMessage`.
    Telegram {
        base_url: String,
        bot_token: SecretText,
        chat_id: String,
    },
    /// Mail through an SMTP server that must offer STARTTLS (never sent in the clear), with
    /// optional credentials (sent only after the upgrade).
    Email {
        smtp_host: String,
        smtp_port: u16,
        username: Option<String>,
        password: Option<SecretText>,
        from: String,
        to: String,
    },
}

impl Destination {
    pub fn kind(&self) -> &'static str {
        match self {
            Destination::Ntfy { .. } => "ntfy",
            Destination::Webhook { .. } => "webhook",
            Destination::Telegram { .. } => "telegram",
            Destination::Email { .. } => "email",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Channel {
    pub id: u64,
    pub owner: String,
    pub name: String,
    pub destination: Destination,
    pub filter: ChannelFilter,
    pub enabled: bool,
    pub created_at_ms: i64,
}

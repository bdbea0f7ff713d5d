//! What a client sends to create or change a channel, checked field by field into the
//! domain's [`Destination`] and [`ChannelFilter`]. Destination URLs also pass the SSRF
//! rules (`crate::notify::destination_check`).

use super::super::error::ApiError;
use crate::notify::check_destination_url;
use cryptolens_actors::domain::analysis::{Direction, PatternKind};
use cryptolens_actors::domain::market::{Symbol, Timeframe};
use cryptolens_actors::domain::notify::{ChannelFilter, Destination, QuietHours, SecretText};
use rust_decimal::Decimal;
use serde::Deserialize;

/// Telegram's Bot API, unless the channel names another (a local Bot API server, a test).
pub const TELEGRAM_API: &str = "https://api.telegram.org";
const NAME_MAX: usize = 64;
const LIST_MAX: usize = 100;
const TEXT_MAX: usize = 512;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateChannelBody {
    pub name: String,
    /// `ntfy`, `webhook`, `telegram` or `email`.
    pub kind: String,
    #[serde(default)]
    pub server_url: Option<String>,
    #[serde(default)]
    pub topic: Option<String>,
    #[serde(default)]
    pub access_token: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub secret: Option<String>,
    #[serde(default)]
    pub base_url: Option<String>,
    #[serde(default)]
    pub bot_token: Option<String>,
    #[serde(default)]
    pub chat_id: Option<String>,
    #[serde(default)]
    pub smtp_host: Option<String>,
    #[serde(default)]
    pub smtp_port: Option<u16>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub filter: FilterBody,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateChannelBody {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub filter: Option<FilterBody>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FilterBody {
    pub symbols: Vec<Symbol>,
    pub directions: Vec<Direction>,
    pub timeframes: Vec<Timeframe>,
    pub kinds: Vec<PatternKind>,
    pub min_confluence: usize,
    pub min_score: f64,
    pub min_risk_reward: Option<Decimal>,
    pub quiet_hours: Option<QuietHoursBody>,
    pub cooldown_minutes: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHoursBody {
    pub from: String,
    pub to: String,
    pub time_zone: String,
}

pub fn checked_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
        return Err(ApiError::invalid_field(
            "name",
            format!("1 to {NAME_MAX} printable characters"),
        ));
    }
    Ok(name.to_owned())
}

pub fn checked_filter(body: FilterBody) -> Result<ChannelFilter, ApiError> {
    let too_long = [
        ("filter.symbols", body.symbols.len()),
        ("filter.directions", body.directions.len()),
        ("filter.timeframes", body.timeframes.len()),
        ("filter.kinds", body.kinds.len()),
    ];
    if let Some((field, _)) = too_long.iter().find(|(_, count)| *count > LIST_MAX) {
        return Err(ApiError::invalid_field(
            *field,
            format!("at most {LIST_MAX} entries"),
        ));
    }
    if !(0.0..=1.0).contains(&body.min_score) {
        return Err(ApiError::out_of_range(
            "filter.min_score",
            "a confidence from 0 to 1",
        ));
    }
    if body
        .min_risk_reward
        .is_some_and(|value| value.is_sign_negative())
    {
        return Err(ApiError::out_of_range(
            "filter.min_risk_reward",
            "not negative",
        ));
    }
    if body.cooldown_minutes > 7 * 24 * 60 {
        return Err(ApiError::out_of_range(
            "filter.cooldown_minutes",
            "at most a week (10080)",
        ));
    }
    let quiet_hours = body.quiet_hours.map(checked_quiet_hours).transpose()?;
    Ok(ChannelFilter {
        symbols: body.symbols,
        directions: body.directions,
        timeframes: body.timeframes,
        kinds: body.kinds,
        min_confluence: body.min_confluence,
        min_score: body.min_score,
        min_risk_reward: body.min_risk_reward,
        quiet_hours,
        cooldown_minutes: body.cooldown_minutes,
    })
}

fn checked_quiet_hours(body: QuietHoursBody) -> Result<QuietHours, ApiError> {
    let time = |field: &str, text: &str| {
        QuietHours::parse_time(text)
            .map_err(|error| ApiError::invalid_field(field, error.to_string()))
    };
    let from = time("filter.quiet_hours.from", &body.from)?;
    let to = time("filter.quiet_hours.to", &body.to)?;
    QuietHours::new(from, to, &body.time_zone)
        .map_err(|error| ApiError::invalid_field("filter.quiet_hours.time_zone", error.to_string()))
}

fn required(value: Option<String>, field: &str) -> Result<String, ApiError> {
    match value {
        Some(text) if !text.trim().is_empty() && text.len() <= TEXT_MAX => {
            Ok(text.trim().to_owned())
        }
        Some(_) => Err(ApiError::invalid_field(
            field,
            format!("1 to {TEXT_MAX} characters"),
        )),
        None => Err(ApiError::invalid_field(
            field,
            "required for this kind of channel",
        )),
    }
}

async fn checked_url(
    value: Option<String>,
    field: &str,
    allow_private: bool,
) -> Result<String, ApiError> {
    let text = required(value, field)?;
    check_destination_url(&text, allow_private)
        .await
        .map_err(|error| ApiError::invalid_field(field, error.to_string()))?;
    Ok(text)
}

fn checked_topic(value: Option<String>) -> Result<String, ApiError> {
    let topic = required(value, "topic")?;
    let allowed =
        |character: char| character.is_ascii_alphanumeric() || character == '_' || character == '-';
    if topic.len() > 64 || !topic.chars().all(allowed) {
        return Err(ApiError::invalid_field(
            "topic",
            "1 to 64 letters, digits, _ or -",
        ));
    }
    Ok(topic)
}

/// The destination, and for a webhook the secret to show once (generated when not given).
pub async fn checked_destination(
    body: &mut CreateChannelBody,
    allow_private: bool,
) -> Result<(Destination, Option<String>), ApiError> {
    match body.kind.as_str() {
        "ntfy" => Ok((
            Destination::Ntfy {
                server_url: checked_url(body.server_url.take(), "server_url", allow_private)
                    .await?,
                topic: checked_topic(body.topic.take())?,
                access_token: body
                    .access_token
                    .take()
                    .map(|token| required(Some(token), "access_token"))
                    .transpose()?
                    .map(SecretText),
            },
            None,
        )),
        "webhook" => {
            let url = checked_url(body.url.take(), "url", allow_private).await?;
            let secret = match body.secret.take() {
                Some(secret) if secret.len() < 16 => {
                    return Err(ApiError::invalid_field("secret", "at least 16 characters"))
                }
                Some(secret) => required(Some(secret), "secret")?,
                None => crate::auth::secret::random_hex(32),
            };
            Ok((
                Destination::Webhook {
                    url,
                    secret: SecretText(secret.clone()),
                },
                Some(secret),
            ))
        }
        "telegram" => {
            let base_url = body.base_url.take().unwrap_or_else(|| TELEGRAM_API.into());
            Ok((
                Destination::Telegram {
                    base_url: checked_url(Some(base_url), "base_url", allow_private).await?,
                    bot_token: SecretText(required(body.bot_token.take(), "bot_token")?),
                    chat_id: required(body.chat_id.take(), "chat_id")?,
                },
                None,
            ))
        }
        "email" => Ok((checked_email(body, allow_private).await?, None)),
        _ => Err(ApiError::invalid_field(
            "kind",
            "ntfy, webhook, telegram or email",
        )),
    }
}

/// The submission port, STARTTLS (RFC 6409).
const SUBMISSION_PORT: u16 = 587;

fn checked_mailbox(value: Option<String>, field: &str) -> Result<String, ApiError> {
    let text = required(value, field)?;
    text.parse::<lettre::message::Mailbox>()
        .map_err(|error| ApiError::invalid_field(field, format!("not a mail address: {error}")))?;
    Ok(text)
}

async fn checked_email(
    body: &mut CreateChannelBody,
    allow_private: bool,
) -> Result<Destination, ApiError> {
    let smtp_host = required(body.smtp_host.take(), "smtp_host")?;
    let smtp_port = body.smtp_port.unwrap_or(SUBMISSION_PORT);
    if smtp_port == 0 {
        return Err(ApiError::invalid_field("smtp_port", "1 to 65535"));
    }
    let host_ok = smtp_host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !host_ok {
        return Err(ApiError::invalid_field(
            "smtp_host",
            "a host name or an address, without scheme or port",
        ));
    }
    crate::notify::check_destination_host(&smtp_host, smtp_port, allow_private)
        .await
        .map_err(|error| ApiError::invalid_field("smtp_host", error.to_string()))?;
    let username = body
        .username
        .take()
        .map(|name| required(Some(name), "username"))
        .transpose()?;
    let password = body
        .password
        .take()
        .map(|word| required(Some(word), "password"))
        .transpose()?;
    if username.is_some() != password.is_some() {
        return Err(ApiError::invalid_field(
            if username.is_some() {
                "password"
            } else {
                "username"
            },
            "username and password go together",
        ));
    }
    Ok(Destination::Email {
        smtp_host,
        smtp_port,
        username,
        password: password.map(SecretText),
        from: checked_mailbox(body.from.take(), "from")?,
        to: checked_mailbox(body.to.take(), "to")?,
    })
}

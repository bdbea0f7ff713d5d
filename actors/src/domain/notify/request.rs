//! How each service wants a message sent, as a plain HTTP request (or, for email, a mail) the
//! notifier hands to its transport. Every request carries [`DELIVERY_HEADER`], the same on every retry, so a
//! receiver can drop a repeat; a webhook's body is signed under the channel's secret.

use super::channel::{Destination, SecretText};
use super::message::Message;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

pub const DELIVERY_HEADER: &str = "X-Cryptolens-Delivery";
/// `sha256=` and the hex HMAC-SHA256 of the body under the channel's secret.
pub const SIGNATURE_HEADER: &str = "X-Cryptolens-Signature";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl HttpRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// What delivers a message: an HTTP POST (NTFY, webhook, Telegram) or a mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    Http(HttpRequest),
    Email(EmailRequest),
}

impl Outgoing {
    pub fn http(self) -> Option<HttpRequest> {
        match self {
            Outgoing::Http(request) => Some(request),
            Outgoing::Email(_) => None,
        }
    }

    pub fn email(self) -> Option<EmailRequest> {
        match self {
            Outgoing::Email(request) => Some(request),
            Outgoing::Http(_) => None,
        }
    }
}

/// A mail to hand to `host:port` after STARTTLS. `message_id` is derived from the delivery id
/// (`<{delivery id}@cryptolens>`), the same on every retry, so a mail client can drop a
/// repeat; the delivery id is also in the [`DELIVERY_HEADER`] header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailRequest {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<SecretText>,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub delivery_id: String,
    pub message_id: String,
}

/// What delivers `message` to `destination` as delivery `delivery_id`.
pub fn request_for(destination: &Destination, message: &Message, delivery_id: &str) -> Outgoing {
    let mut request = match destination {
        Destination::Ntfy {
            server_url,
            topic,
            access_token,
        } => ntfy_request(
            server_url,
            topic,
            access_token.as_ref().map(|token| token.0.as_str()),
            message,
        ),
        Destination::Webhook { url, secret } => {
            webhook_request(url, &secret.0, message, delivery_id)
        }
        Destination::Telegram {
            base_url,
            bot_token,
            chat_id,
        } => telegram_request(base_url, &bot_token.0, chat_id, message),
        Destination::Email {
            smtp_host,
            smtp_port,
            username,
            password,
            from,
            to,
        } => {
            return Outgoing::Email(EmailRequest {
                host: smtp_host.clone(),
                port: *smtp_port,
                username: username.clone(),
                password: password.clone(),
                from: from.clone(),
                to: to.clone(),
                subject: message.title.clone(),
                body: readable_text(message),
                delivery_id: delivery_id.to_owned(),
                message_id: format!("<{delivery_id}@cryptolens>"),
            })
        }
    };
    request
        .headers
        .push((DELIVERY_HEADER, delivery_id.to_owned()));
    Outgoing::Http(request)
}

/// The text a person reads (Telegram, email): title, text and the dashboard link.
fn readable_text(message: &Message) -> String {
    let mut text = format!("{}\n\n{}", message.title, message.text);
    if let Some(click_url) = &message.click_url {
        text.push_str("\n\n");
        text.push_str(click_url);
    }
    text
}

fn ntfy_request(
    server_url: &str,
    topic: &str,
    token: Option<&str>,
    message: &Message,
) -> HttpRequest {
    let mut headers = vec![
        ("Title", message.title.clone()),
        ("Priority", message.priority.to_string()),
        ("Tags", message.tags.join(",")),
    ];
    if let Some(click_url) = &message.click_url {
        headers.push(("Click", click_url.clone()));
    }
    if let Some(token) = token {
        headers.push(("Authorization", format!("Bearer {token}")));
    }
    HttpRequest {
        url: format!("{}/{topic}", server_url.trim_end_matches('/')),
        headers,
        body: message.text.clone().into_bytes(),
    }
}

fn webhook_request(url: &str, secret: &str, message: &Message, delivery_id: &str) -> HttpRequest {
    let body = format!(
        r#"{{"delivery_id":{},"subject":{},"title":{},"text":{},"click_url":{},"signal":{}}}"#,
        json!(delivery_id),
        json!(message.subject),
        json!(message.title),
        json!(message.text),
        json!(message.click_url),
        message.payload_json,
    )
    .into_bytes();
    HttpRequest {
        url: url.to_owned(),
        headers: vec![
            ("Content-Type", "application/json".into()),
            (SIGNATURE_HEADER, signature(secret, &body)),
        ],
        body,
    }
}

fn telegram_request(
    base_url: &str,
    bot_token: &str,
    chat_id: &str,
    message: &Message,
) -> HttpRequest {
    let text = readable_text(message);
    let body = json!({"chat_id": chat_id, "text": text, "disable_web_page_preview": true});
    HttpRequest {
        url: format!(
            "{}/bot{bot_token}/sendMessage",
            base_url.trim_end_matches('/')
        ),
        headers: vec![("Content-Type", "application/json".into())],
        body: body.to_string().into_bytes(),
    }
}

/// `sha256=<hex HMAC-SHA256 of body under secret>`, as GitHub's webhooks sign theirs.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC takes a key of any length, so this cannot fail.
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("sha256={hex}")
}

#[cfg(test)]
mod tests {
    use super::super::channel::SecretText;
    use super::super::sample_signal::sample_signal;
    use super::*;

    fn message() -> Message {
        Message::for_signal(&sample_signal(1_700_000_000_000), "http://dash.example")
    }

    #[test]
    fn ntfy_gets_the_text_as_body_and_its_documented_headers() {
        let destination = Destination::Ntfy {
            server_url: "https://ntfy.sh/".into(),
            topic: "alerts".into(),
            access_token: Some(SecretText("tk_abc".into())),
        };
        let request = request_for(&destination, &message(), "d1").http().unwrap();
        assert_eq!(request.url, "https://ntfy.sh/alerts");
        assert_eq!(request.header("title"), Some(message().title.as_str()));
        assert_eq!(request.header("Priority"), Some("3"));
        assert_eq!(
            request.header("Tags"),
            Some("chart_with_upwards_trend,BTCUSDT")
        );
        assert_eq!(
            request.header("Click"),
            Some("http://dash.example/#/symbol/BTCUSDT/15m")
        );
        assert_eq!(request.header("Authorization"), Some("Bearer tk_abc"));
        assert_eq!(request.header(DELIVERY_HEADER), Some("d1"));
        assert_eq!(request.body, message().text.into_bytes());
    }

    #[test]
    fn a_webhook_body_is_json_signed_with_the_channel_secret() {
        let destination = Destination::Webhook {
            url: "https://hooks.example/in".into(),
            secret: SecretText("s3cret".into()),
        };
        let request = request_for(&destination, &message(), "d2").http().unwrap();
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body["delivery_id"], "d2");
        assert_eq!(body["signal"]["id"], "BTCUSDT-bullish-1700000000000");
        assert_eq!(body["signal"]["levels"]["stop"], "98");
        assert_eq!(
            request.header(SIGNATURE_HEADER),
            Some(signature("s3cret", &request.body).as_str())
        );
        assert_ne!(
            signature("other", &request.body),
            signature("s3cret", &request.body)
        );
    }

    #[test]
    fn the_signature_matches_rfc_4231_test_case_2() {
        // RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn telegram_gets_send_message_with_the_chat_and_the_whole_text() {
        let destination = Destination::Telegram {
            base_url: "https://api.telegram.org".into(),
            bot_token: SecretText("123:ABC".into()),
            chat_id: "-10042".into(),
        };
        let request = request_for(&destination, &message(), "d3").http().unwrap();
        assert_eq!(
            request.url,
            "https://api.telegram.org/bot123:ABC/sendMessage"
        );
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body["chat_id"], "-10042");
        let text = body["text"].as_str().unwrap();
        assert!(text.starts_with("BTCUSDT bullish on 15m"));
        assert!(text.ends_with("http://dash.example/#/symbol/BTCUSDT/15m"));
    }

    #[test]
    fn an_email_carries_the_readable_text_and_a_message_id_from_the_delivery_id() {
        let destination = Destination::Email {
            smtp_host: "mail.example".into(),
            smtp_port: 587,
            username: Some("bot".into()),
            password: Some(SecretText("pw".into())),
            from: "cryptolens@example.com".into(),
            to: "ana@example.com".into(),
        };
        let mail = request_for(&destination, &message(), "c4-BTCUSDT-1")
            .email()
            .unwrap();
        assert_eq!((mail.host.as_str(), mail.port), ("mail.example", 587));
        assert_eq!(mail.subject, message().title);
        assert!(mail.body.starts_with(&message().title) && mail.body.contains(&message().text));
        assert!(mail
            .body
            .ends_with("http://dash.example/#/symbol/BTCUSDT/15m"));
        assert_eq!(mail.message_id, "<c4-BTCUSDT-1@cryptolens>");
        assert_eq!(format!("{:?}", mail.password), "Some(***)");
        assert!(request_for(&destination, &message(), "x").http().is_none());
    }
}

//! What the notifier actor sends through: HTTP requests to the HTTP client, mails to the
//! SMTP client, both with the same SSRF rules, on the server's tokio runtime whichever
//! thread asks (the notifier runs on an actix arbiter).

use super::mail::{MailSetupError, MailTransport};
use super::transport::HttpTransport;
use cryptolens_actors::actors::notifier::{SendFuture, Transport};
use cryptolens_actors::domain::notify::{Outgoing, ReceiverAnswer};

pub struct NotifyTransport {
    http: HttpTransport,
    mail: MailTransport,
    runtime: tokio::runtime::Handle,
}

#[derive(Debug, thiserror::Error)]
pub enum TransportSetupError {
    #[error("the HTTP client cannot start: {0}")]
    Http(#[from] reqwest::Error),
    #[error(transparent)]
    Mail(#[from] MailSetupError),
}

impl NotifyTransport {
    /// Call on the tokio runtime that will run the sends.
    pub fn new(
        timeout_ms: u64,
        allow_private: bool,
        smtp_root_certificate: Option<&str>,
    ) -> Result<NotifyTransport, TransportSetupError> {
        Ok(NotifyTransport {
            http: HttpTransport::new(timeout_ms, allow_private)?,
            mail: MailTransport::new(timeout_ms, allow_private, smtp_root_certificate)?,
            runtime: tokio::runtime::Handle::current(),
        })
    }
}

impl Transport for NotifyTransport {
    fn send(&self, request: Outgoing) -> SendFuture {
        match request {
            Outgoing::Http(request) => self.http.send(request),
            Outgoing::Email(request) => {
                let mail = self.mail.clone();
                let running = self.runtime.spawn(async move { mail.send(request).await });
                Box::pin(async move {
                    running.await.unwrap_or_else(|error| ReceiverAnswer {
                        status: None,
                        retry_after_ms: None,
                        detail: format!("the send task failed: {error}"),
                    })
                })
            }
        }
    }
}

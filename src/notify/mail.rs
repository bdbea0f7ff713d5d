//! The notifier's SMTP client (lettre). Every mail goes over STARTTLS or not at all: a
//! server that does not offer it, or whose certificate does not verify for the channel's
//! host, gets nothing, credentials included. As for HTTP, the host is resolved here and every
//! address checked ([`is_private`]) unless the operator allows private destinations, and the
//! connection goes to the address checked (the certificate still verified for the name), so a
//! name that changes its answer between the check and the connection cannot lead inside.
//! The delivery id is sent as `X-Cryptolens-Delivery` and makes the `Message-ID`.

use super::address_rules::is_private;
use cryptolens_actors::domain::notify::{EmailRequest, ReceiverAnswer, DELIVERY_HEADER};
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::net::SocketAddr;
use std::time::Duration;

/// What sends mail: the time limit of one attempt, whether private addresses may be reached,
/// and the extra certificate authorities trusted beside the system's (a private CA).
#[derive(Clone)]
pub struct MailTransport {
    timeout: Duration,
    allow_private: bool,
    extra_roots: Vec<Certificate>,
}

#[derive(Debug, thiserror::Error)]
pub enum MailSetupError {
    #[error("cannot read the SMTP root certificate {path}: {source}")]
    ReadRoot {
        path: String,
        source: std::io::Error,
    },
    #[error("the SMTP root certificate {path} is not PEM: {source}")]
    ParseRoot {
        path: String,
        source: lettre::transport::smtp::Error,
    },
}

/// The `X-Cryptolens-Delivery` header.
#[derive(Clone)]
struct DeliveryId(String);

impl Header for DeliveryId {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str(DELIVERY_HEADER)
    }

    fn parse(text: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(DeliveryId(text.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// Each `CERTIFICATE` block of a PEM file (a bundle may hold several).
fn pem_certificates(pem: &[u8]) -> Vec<Vec<u8>> {
    const END: &str = "-----END CERTIFICATE-----";
    String::from_utf8_lossy(pem)
        .split_inclusive(END)
        .filter(|block| block.contains(END))
        .map(|block| block.trim().as_bytes().to_vec())
        .collect()
}

fn no_answer(detail: impl Into<String>) -> ReceiverAnswer {
    ReceiverAnswer {
        status: None,
        retry_after_ms: None,
        detail: detail.into(),
    }
}

impl MailTransport {
    /// `root_certificate_path`: a PEM file of the CAs to trust for SMTP servers, if any.
    pub fn new(
        timeout_ms: u64,
        allow_private: bool,
        root_certificate_path: Option<&str>,
    ) -> Result<MailTransport, MailSetupError> {
        let mut extra_roots = Vec::new();
        if let Some(path) = root_certificate_path {
            let pem = std::fs::read(path).map_err(|source| MailSetupError::ReadRoot {
                path: path.to_owned(),
                source,
            })?;
            for block in pem_certificates(&pem) {
                let root =
                    Certificate::from_pem(&block).map_err(|source| MailSetupError::ParseRoot {
                        path: path.to_owned(),
                        source,
                    })?;
                extra_roots.push(root);
            }
        }
        Ok(MailTransport {
            timeout: Duration::from_millis(timeout_ms.max(1)),
            allow_private,
            extra_roots,
        })
    }

    /// Sends `request`; every failure becomes an answer (an SMTP reply code, or none).
    pub async fn send(&self, request: EmailRequest) -> ReceiverAnswer {
        let address = match self.address(&request.host, request.port).await {
            Ok(address) => address,
            Err(answer) => return answer,
        };
        let message = match compose(&request) {
            Ok(message) => message,
            Err(error) => return no_answer(format!("the mail cannot be composed: {error}")),
        };
        let transport = match self.client(&request, address) {
            Ok(transport) => transport,
            Err(error) => return no_answer(format!("TLS setup failed: {error}")),
        };
        match tokio::time::timeout(self.timeout, transport.send(message)).await {
            Err(_) => no_answer("the SMTP server did not answer in time"),
            Ok(Ok(response)) => ReceiverAnswer {
                status: Some(u16::from(response.code())),
                retry_after_ms: None,
                detail: response.message().collect::<Vec<_>>().join(" "),
            },
            Ok(Err(error)) => ReceiverAnswer {
                status: error.status().map(u16::from),
                retry_after_ms: None,
                detail: super::transport::error_chain(&error),
            },
        }
    }

    /// The address of `host` to connect to (IPv4 first: one connection is tried, and a host
    /// named for both often listens on one), refused if any is private (unless allowed).
    async fn address(&self, host: &str, port: u16) -> Result<SocketAddr, ReceiverAnswer> {
        let mut resolved: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
            .await
            .map_err(|error| no_answer(format!("{host} does not resolve: {error}")))?
            .collect();
        resolved.sort_by_key(|address| !address.is_ipv4());
        if !self.allow_private && resolved.iter().any(|address| is_private(address.ip())) {
            return Err(no_answer(format!(
                "{host} resolves to a private address; refused"
            )));
        }
        resolved
            .into_iter()
            .next()
            .ok_or_else(|| no_answer(format!("{host} has no address")))
    }

    fn client(
        &self,
        request: &EmailRequest,
        address: SocketAddr,
    ) -> Result<AsyncSmtpTransport<Tokio1Executor>, lettre::transport::smtp::Error> {
        let mut tls = TlsParameters::builder(request.host.clone());
        for root in &self.extra_roots {
            tls = tls.add_root_certificate(root.clone());
        }
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(address.ip().to_string())
                .port(address.port())
                .tls(Tls::Required(tls.build()?))
                .timeout(Some(self.timeout));
        if let (Some(username), Some(password)) = (&request.username, &request.password) {
            builder = builder.credentials(Credentials::new(username.clone(), password.0.clone()));
        }
        Ok(builder.build())
    }
}

fn compose(request: &EmailRequest) -> Result<Message, Box<dyn std::error::Error>> {
    let message = Message::builder()
        .from(request.from.parse()?)
        .to(request.to.parse()?)
        .subject(request.subject.clone())
        .message_id(Some(request.message_id.clone()))
        .header(DeliveryId(request.delivery_id.clone()))
        .header(ContentType::TEXT_PLAIN)
        .body(request.body.clone())?;
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cryptolens_actors::domain::notify::SecretText;

    fn mail_to(host: &str, port: u16) -> EmailRequest {
        EmailRequest {
            host: host.into(),
            port,
            username: Some("bot".into()),
            password: Some(SecretText("pw".into())),
            from: "bot@example.com".into(),
            to: "ana@example.com".into(),
            subject: "s".into(),
            body: "b".into(),
            delivery_id: "c1-x".into(),
            message_id: "<c1-x@cryptolens>".into(),
        }
    }

    #[tokio::test]
    async fn a_private_smtp_host_is_never_connected_to() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let transport = MailTransport::new(500, false, None).unwrap();
        for host in ["127.0.0.1", "localhost"] {
            let answer = transport.send(mail_to(host, port)).await;
            assert_eq!(answer.status, None);
            assert!(
                answer.detail.contains("private"),
                "{host}: {}",
                answer.detail
            );
        }
        let accepted = tokio::time::timeout(Duration::from_millis(100), listener.accept()).await;
        assert!(accepted.is_err(), "nothing connected");
    }

    #[test]
    fn a_bundle_yields_each_certificate_and_a_missing_file_is_named() {
        let block = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----";
        let bundle = format!("{block}\n\n{block}\n");
        assert_eq!(pem_certificates(bundle.as_bytes()).len(), 2);
        assert!(pem_certificates(b"no pem here").is_empty());
        let missing = MailTransport::new(500, false, Some("/nonexistent/ca.pem"));
        assert!(
            matches!(missing, Err(MailSetupError::ReadRoot { ref path, .. }) if path == "/nonexistent/ca.pem")
        );
    }

    #[test]
    fn the_mail_carries_the_delivery_id_and_the_message_id() {
        let message = compose(&mail_to("mail.example", 587)).unwrap();
        let text = String::from_utf8(message.formatted()).unwrap();
        assert!(text.contains("X-Cryptolens-Delivery: c1-x\r\n"), "{text}");
        assert!(text.contains("Message-ID: <c1-x@cryptolens>\r\n"), "{text}");
        let mut bad = mail_to("mail.example", 587);
        bad.to = "not an address".into();
        assert!(compose(&bad).is_err());
    }
}

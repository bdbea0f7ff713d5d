//! The notifier's HTTP client (NTFY, webhooks, Telegram). Every connection's addresses pass [`is_private`] unless the
//! operator allows private destinations: names through the client's resolver (so a name
//! that resolves to loopback, or starts to after a check, is refused at connect time), IP
//! literals before sending and on every redirect. At most 3 redirects are followed. One
//! attempt, body included, is bounded by the configured timeout; the requests run on the
//! server's tokio runtime, whichever thread asks.

use super::address_rules::is_private;
use cryptolens_actors::actors::notifier::SendFuture;
use cryptolens_actors::domain::notify::{HttpRequest, ReceiverAnswer};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::{redirect, Url};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// How much of an answer's body is kept (for Telegram's verdict and the error shown).
const ANSWER_BYTES_MAX: usize = 2_048;

pub struct HttpTransport {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
    allow_private: bool,
}

struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if resolved.iter().any(|address| is_private(address.ip())) {
                return Err(format!("{host} resolves to a private address; refused").into());
            }
            let addresses: Addrs = Box::new(resolved.into_iter());
            Ok(addresses)
        })
    }
}

fn private_literal(url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']);
    host.parse::<IpAddr>().is_ok_and(is_private)
}

impl HttpTransport {
    /// A client for `timeout_ms` per attempt; call on the tokio runtime that will run it.
    pub fn new(timeout_ms: u64, allow_private: bool) -> Result<HttpTransport, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .timeout(Duration::from_millis(timeout_ms.max(1)))
            .connect_timeout(Duration::from_millis(timeout_ms.max(1)))
            .redirect(redirect::Policy::none())
            .user_agent(concat!("cryptolens/", env!("CARGO_PKG_VERSION")));
        if !allow_private {
            builder = builder.dns_resolver(Arc::new(GuardedResolver));
        }
        Ok(HttpTransport {
            client: builder.build()?,
            runtime: tokio::runtime::Handle::current(),
            allow_private,
        })
    }
}

fn no_answer(detail: impl Into<String>) -> ReceiverAnswer {
    ReceiverAnswer {
        status: None,
        retry_after_ms: None,
        detail: detail.into(),
    }
}

/// `Retry-After` as seconds or as an HTTP date.
fn retry_after_ms(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    let text = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(seconds.saturating_mul(1_000));
    }
    let at = httpdate::parse_http_date(text).ok()?;
    let wait = at
        .duration_since(std::time::SystemTime::now())
        .unwrap_or_default();
    Some(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX))
}

/// Sends `request`; any transport error becomes an answer without a status. The error's
/// whole chain is kept, since reqwest's top-level message hides the cause, but not its URL:
/// a Telegram URL holds the bot token, and the error is shown in the delivery history.
async fn send(client: reqwest::Client, request: HttpRequest) -> ReceiverAnswer {
    let mut builder = client.post(&request.url).body(request.body);
    for (name, value) in &request.headers {
        builder = builder.header(*name, value);
    }
    let response = match builder.send().await {
        Ok(response) => response,
        Err(error) => return no_answer(error_chain(&error.without_url())),
    };
    let status = response.status().as_u16();
    let retry_after_ms = retry_after_ms(response.headers());
    let mut response = response;
    let mut body = Vec::new();
    while body.len() < ANSWER_BYTES_MAX {
        match response.chunk().await {
            Ok(Some(bytes)) => {
                body.extend_from_slice(&bytes[..bytes.len().min(ANSWER_BYTES_MAX - body.len())])
            }
            Ok(None) => break,
            Err(error) => return no_answer(error_chain(&error.without_url())),
        }
    }
    ReceiverAnswer {
        status: Some(status),
        retry_after_ms,
        detail: String::from_utf8_lossy(&body).into_owned(),
    }
}

pub(super) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        // Some errors (lettre's) already print their cause: say each thing once.
        let said = cause.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        source = cause.source();
    }
    text
}

impl HttpTransport {
    /// Sends `request` on the server's runtime; the answer, whatever happens.
    pub fn send(&self, request: HttpRequest) -> SendFuture {
        let refused = Url::parse(&request.url)
            .map(|url| !self.allow_private && private_literal(&url))
            .unwrap_or(true);
        if refused {
            return Box::pin(async {
                no_answer("the destination is a private address or no URL; refused")
            });
        }
        let running = self.runtime.spawn(send(self.client.clone(), request));
        Box::pin(async move {
            running
                .await
                .unwrap_or_else(|error| no_answer(format!("the send task failed: {error}")))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A loopback receiver that answers 204 to one request; counts the connections.
    async fn receiver() -> (u16, tokio::task::JoinHandle<usize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let accepted =
                tokio::time::timeout(Duration::from_millis(700), listener.accept()).await;
            let Ok(Ok((mut socket, _))) = accepted else {
                return 0;
            };
            let mut buffer = [0u8; 4096];
            let _ = socket.read(&mut buffer).await;
            let _ = socket
                .write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
                .await;
            1
        });
        (port, task)
    }

    fn request(url: String) -> HttpRequest {
        HttpRequest {
            url,
            headers: vec![("X-Cryptolens-Delivery", "d1".into())],
            body: b"hello".to_vec(),
        }
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_and_a_loopback_literal_never_connect() {
        let transport = HttpTransport::new(500, false).unwrap();
        for host in ["localhost", "127.0.0.1", "[::ffff:127.0.0.1]"] {
            let (port, connections) = receiver().await;
            let answer = transport
                .send(request(format!("http://{host}:{port}/in")))
                .await;
            assert_eq!(answer.status, None, "{host}");
            assert!(
                answer.detail.contains("private"),
                "{host}: {}",
                answer.detail
            );
            assert_eq!(connections.await.unwrap(), 0, "{host} was reached");
        }
    }

    #[tokio::test]
    async fn allowed_private_destinations_are_reached_and_answered() {
        let transport = HttpTransport::new(500, true).unwrap();
        let (port, connections) = receiver().await;
        let answer = transport
            .send(request(format!("http://localhost:{port}/in")))
            .await;
        assert_eq!(answer.status, Some(204), "{}", answer.detail);
        assert_eq!(connections.await.unwrap(), 1);
    }

    #[tokio::test]
    async fn a_failed_send_never_shows_the_url_and_so_never_a_bot_token() {
        let transport = HttpTransport::new(500, true).unwrap();
        let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let url = format!("http://127.0.0.1:{port}/bot123456:SECRET-TOKEN/sendMessage");
        let answer = transport.send(request(url)).await;
        assert_eq!(answer.status, None);
        assert!(!answer.detail.contains("SECRET-TOKEN"), "{}", answer.detail);
        assert!(!answer.detail.is_empty());
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_as_a_date() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("retry-after", "7".parse().unwrap());
        assert_eq!(retry_after_ms(&headers), Some(7_000));
        let later = std::time::SystemTime::now() + Duration::from_secs(120);
        headers.insert(
            "retry-after",
            httpdate::fmt_http_date(later).parse().unwrap(),
        );
        let wait_ms = retry_after_ms(&headers).unwrap();
        assert!((100_000..=120_000).contains(&wait_ms), "{wait_ms}");
        headers.insert("retry-after", "soon".parse().unwrap());
        assert_eq!(retry_after_ms(&headers), None);
    }
}

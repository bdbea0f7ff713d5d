//! A destination URL is checked when a channel is created or changed: http or https, a
//! host, no credentials in it, and (unless the operator allows private destinations) every
//! address the host resolves to on the public internet. The transport checks again at each
//! connection, since DNS may answer differently later.

use super::address_rules::is_private;
use reqwest::Url;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DestinationError {
    #[error("not a URL: {0}")]
    Unparsable(String),
    #[error("only http and https URLs are allowed")]
    Scheme,
    #[error("the URL has no host")]
    NoHost,
    #[error("credentials do not belong in the URL; use the channel's token fields")]
    Credentials,
    #[error("{0} resolves to a private, loopback or link-local address; refused (notify.allow_private_destinations allows it)")]
    Private(String),
    #[error("{0} does not resolve")]
    Unresolvable(String),
}

pub async fn check_destination_url(
    text: &str,
    allow_private: bool,
) -> Result<Url, DestinationError> {
    let url = Url::parse(text).map_err(|error| DestinationError::Unparsable(error.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(DestinationError::Scheme);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(DestinationError::Credentials);
    }
    let host = url.host_str().ok_or(DestinationError::NoHost)?.to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    check_destination_host(&host, port, allow_private).await?;
    Ok(url)
}

/// `host` (a name or an address literal, IPv6 with or without brackets) resolves, and
/// unless `allow_private`, only to public addresses. Also the rule for SMTP servers.
pub async fn check_destination_host(
    host: &str,
    port: u16,
    allow_private: bool,
) -> Result<(), DestinationError> {
    let host = host.trim_matches(['[', ']']);
    if host.is_empty() {
        return Err(DestinationError::NoHost);
    }
    if allow_private {
        return Ok(());
    }
    let addresses: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|_| DestinationError::Unresolvable(host.to_owned()))?
        .collect();
    if addresses.is_empty() {
        return Err(DestinationError::Unresolvable(host.to_owned()));
    }
    if addresses.iter().any(|address| is_private(address.ip())) {
        return Err(DestinationError::Private(host.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn internal_destinations_are_refused_by_address_and_by_name() {
        for url in [
            "http://127.0.0.1:9/x",
            "http://10.0.0.8/hook",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]:8080/",
            "http://localhost/",
            "http://0x7f000001/",
        ] {
            assert!(
                matches!(
                    check_destination_url(url, false).await,
                    Err(DestinationError::Private(_))
                ),
                "{url}"
            );
        }
    }

    #[tokio::test]
    async fn malformed_or_credentialed_urls_are_refused_and_private_is_allowed_when_configured() {
        assert_eq!(
            check_destination_url("ftp://a.example/", false).await,
            Err(DestinationError::Scheme)
        );
        assert_eq!(
            check_destination_url("https://user:pw@a.example/", false).await,
            Err(DestinationError::Credentials)
        );
        assert!(matches!(
            check_destination_url("no url", false).await,
            Err(DestinationError::Unparsable(_))
        ));
        assert!(check_destination_url("http://127.0.0.1:9/x", true)
            .await
            .is_ok());
    }
}

//! Who a request acts for, once its credentials are checked.

use super::Role;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A login session, by the SHA-256 of its token.
    Session {
        token_sha256: String,
    },
    ApiKey {
        id: String,
    },
    /// The configured Prometheus token: may read `/metrics` and `/api/actors` only.
    MetricsToken,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub username: String,
    pub role: Role,
    pub credential: Credential,
}

impl Principal {
    pub fn metrics_scraper() -> Principal {
        Principal {
            username: "metrics".into(),
            role: Role::Viewer,
            credential: Credential::MetricsToken,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin && self.credential != Credential::MetricsToken
    }

    /// Whether this principal may see an object owned by `owner`.
    pub fn may_see_owned_by(&self, owner: &str) -> bool {
        self.is_admin() || self.username == owner
    }

    /// The rate-limit bucket: a key's own, else the user's.
    pub fn rate_key(&self) -> String {
        match &self.credential {
            Credential::ApiKey { id } => format!("key:{id}"),
            Credential::Session { .. } => format!("user:{}", self.username),
            Credential::MetricsToken => "metrics".into(),
        }
    }
}

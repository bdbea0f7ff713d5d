//! Who a request acts for, once its credentials are checked.

use super::Role;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A login session, by the SHA-256 of its token.
    Session {
        token_sha256: String,
    },
    ApiKey {
        id: Arc<str>,
    },
    /// The configured Prometheus token: may read `/metrics` and `/api/actors` only.
    MetricsToken,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub username: Arc<str>,
    pub role: Role,
    pub credential: Credential,
    /// The rate-limit bucket: a key's own, else the user's (shared by their sessions).
    pub rate_key: Arc<str>,
    /// A session of a user whose role needs TOTP and who has not enrolled yet: it may only
    /// reach the routes that enrol.
    pub second_factor_due: bool,
}

impl Principal {
    pub fn metrics_scraper() -> Principal {
        Principal {
            username: Arc::from("metrics"),
            role: Role::Viewer,
            credential: Credential::MetricsToken,
            rate_key: Arc::from("metrics"),
            second_factor_due: false,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin && self.credential != Credential::MetricsToken
    }

    /// Whether this principal may see an object owned by `owner`.
    pub fn may_see_owned_by(&self, owner: &str) -> bool {
        self.is_admin() || &*self.username == owner
    }
}

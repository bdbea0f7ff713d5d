//! Authentication and users: argon2id passwords under a policy, login sessions, hashed API
//! keys, account lockout. The API's gate asks this layer who a request acts for; the table
//! of what each role may do lives with the routes (`api::access`).

mod keys;
pub use keys::KeyCounts;
mod lockout;
pub mod password;
mod principal;
mod records;
mod role;
pub mod secret;
pub mod secret_files;
mod service;
mod sessions;
pub mod totp;
mod users;

pub use cryptolens_actors::clock::{Clock, ManualClock, SystemClock};
pub use principal::{Credential, Principal};
pub use records::{ApiKeyRecord, UserRecord};
pub use role::{Role, UnknownRole};
pub use service::{Auth, AuthSettings, NewApiKey, NewSession};
pub use users::validate_username;

use cryptolens_actors::store::{EnvelopeError, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Wrong, unknown, expired or revoked credentials; deliberately says no more.
    #[error("credentials are missing or wrong")]
    InvalidCredentials,
    #[error("too many failed logins; try again in {retry_after_s} s")]
    Locked { retry_after_s: u64 },
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("no user named {0:?}")]
    UnknownUser(String),
    #[error("{0:?} is the last active admin; make another user admin first")]
    LastAdmin(String),
    #[error("a user named {0:?} exists already")]
    UserExists(String),
    #[error("no API key {0:?}")]
    UnknownKey(String),
    #[error(transparent)]
    Hash(#[from] password::HashError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("an auth record cannot be stored: {0}")]
    Envelope(#[from] EnvelopeError),
    #[error("an auth store task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("two-factor sign-in is on; send totp_code (or a recovery_code) with the password")]
    SecondFactorRequired,
    /// A wrong, used or out-of-date code: deliberately says no more.
    #[error("the two-factor code is wrong or was used already")]
    SecondFactorWrong,
    #[error("this role must enrol in two-factor sign-in first: POST /api/auth/totp")]
    SecondFactorDue,
    #[error("two-factor sign-in is on already; turn it off first")]
    TotpEnabled,
    #[error("no two-factor enrolment is pending; start one with POST /api/auth/totp")]
    TotpNotPending,
    #[error("two-factor sign-in is off for this user")]
    TotpNotEnabled,
    #[error("the TOTP secret of {0:?} does not open with the key in secrets/totp_key")]
    Sealing(String),
    #[error(transparent)]
    SecretFile(#[from] secret_files::SecretFileError),
}

impl AuthError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> AuthError {
        AuthError::Invalid {
            field,
            message: message.into(),
        }
    }
}

//! Login sessions: a login checks the password (locked accounts and unknown names answer
//! like wrong passwords, after the same argon2 work) and, for a user with TOTP on, the second
//! factor, then issues an opaque token of 256 random bits; only its SHA-256 is stored.

use super::lockout::Admission;
use super::records::SessionRecord;
use super::service::{seconds_to_ms, Auth, LiveSession, NewSession, SESSION_PREFIX};
use super::totp::SecondFactor;
use super::users::validate_username;
use super::{secret, AuthError, Principal};
use cryptolens_actors::store::RecordTree;
use std::net::IpAddr;
use std::sync::atomic::AtomicI64;

impl Auth {
    /// A login from `address` (the client's, as the listener saw it).
    pub async fn login(
        &self,
        username: &str,
        password: String,
        factor: &SecondFactor,
        address: Option<IpAddr>,
    ) -> Result<NewSession, AuthError> {
        let now_ms = self.now_ms();
        if validate_username(username).is_ok() {
            self.reserve_attempt(username, address, now_ms).await?;
        }
        let user = self.inner.users.read().get(username).cloned();
        let stored_hash = user.as_ref().map_or_else(
            || self.inner.decoy_hash.clone(),
            |user| user.password_hash.clone(),
        );
        let matches = self
            .checked(username, address, password, stored_hash)
            .await?;
        let user = match user {
            Some(user) if matches && !user.disabled => user,
            _ => return Err(AuthError::InvalidCredentials),
        };
        match self.check_second_factor(username, factor).await {
            // The password was right: asking for the code is not a failed attempt.
            Err(AuthError::SecondFactorRequired) => {
                self.inner.lockouts.lock().give_back(username, address);
                return Err(AuthError::SecondFactorRequired);
            }
            checked => checked?,
        }
        self.inner.lockouts.lock().record_success(username, address);
        self.start_session(&user.username, user.role, now_ms).await
    }

    /// Whether `password` matches `stored_hash`; an attempt the hasher was too busy to check
    /// is given back to the lockout, never counted as a failure.
    async fn checked(
        &self,
        username: &str,
        address: Option<IpAddr>,
        password: String,
        stored_hash: String,
    ) -> Result<bool, AuthError> {
        let checked = self.inner.hashing.verify(password, stored_hash).await;
        if checked.is_err() {
            self.inner.lockouts.lock().give_back(username, address);
        }
        Ok(checked?)
    }

    async fn start_session(
        &self,
        username: &str,
        role: super::Role,
        now_ms: i64,
    ) -> Result<NewSession, AuthError> {
        let token = format!("{SESSION_PREFIX}{}", secret::random_hex(32));
        let record = SessionRecord {
            token_sha256: secret::sha256_hex(&token),
            username: username.to_owned(),
            created_ms: now_ms,
            expires_ms: now_ms
                .saturating_add(seconds_to_ms(self.inner.settings.session_absolute_ttl_s)),
        };
        self.put_record(
            RecordTree::Sessions,
            record.token_sha256.clone(),
            record.clone(),
        )
        .await?;
        let expires_ms = record.expires_ms;
        self.inner.sessions.write().insert(
            record.token_sha256.clone(),
            LiveSession {
                record,
                last_seen_ms: AtomicI64::new(now_ms),
            },
        );
        Ok(NewSession {
            token,
            username: username.to_owned(),
            role,
            expires_ms,
        })
    }

    /// Ends the session `principal` came with (a key-authenticated caller has none).
    pub async fn logout(&self, principal: &Principal) -> Result<(), AuthError> {
        let super::Credential::Session { token_sha256 } = &principal.credential else {
            return Err(AuthError::invalid(
                "Authorization",
                "logout ends a session; send the session token, not an API key",
            ));
        };
        self.inner.sessions.write().remove(token_sha256);
        self.remove_records(RecordTree::Sessions, vec![token_sha256.clone()])
            .await
    }

    /// A user changing their own password: the current one is checked (a wrong one counts
    /// towards the lockout), then every session of the user ends.
    pub async fn change_password(
        &self,
        principal: &Principal,
        current: String,
        new: String,
    ) -> Result<(), AuthError> {
        let username: &str = &principal.username;
        self.reserve_attempt(username, None, self.now_ms()).await?;
        let stored_hash = self.user(username)?.password_hash;
        if !self.checked(username, None, current, stored_hash).await? {
            return Err(AuthError::invalid(
                "current_password",
                "the current password is wrong",
            ));
        }
        self.inner.lockouts.lock().record_success(username, None);
        self.set_password(username, new).await
    }

    /// Counts an attempt as failed before its password is checked (a success clears it), so
    /// attempts in flight at once cannot test more passwords than the lockout allows; waits
    /// first when the account is under attack and the address is new to it.
    pub(super) async fn reserve_attempt(
        &self,
        username: &str,
        address: Option<IpAddr>,
        now_ms: i64,
    ) -> Result<(), AuthError> {
        let admission = self
            .inner
            .lockouts
            .lock()
            .reserve(username, address, now_ms);
        match admission {
            Ok(Admission::Now) => Ok(()),
            Ok(Admission::SlowedMs(wait_ms)) => {
                let wait_ms = u64::try_from(wait_ms).unwrap_or(0);
                tokio::time::sleep(std::time::Duration::from_millis(wait_ms)).await;
                Ok(())
            }
            Err(wait_ms) => Err(AuthError::Locked {
                retry_after_s: seconds_rounded_up(wait_ms),
            }),
        }
    }

    pub(super) async fn end_sessions_of(&self, username: &str) -> Result<(), AuthError> {
        let ended: Vec<String> = {
            let mut sessions = self.inner.sessions.write();
            let ended: Vec<String> = sessions
                .values()
                .filter(|live| live.record.username == username)
                .map(|live| live.record.token_sha256.clone())
                .collect();
            for digest in &ended {
                sessions.remove(digest);
            }
            ended
        };
        self.remove_records(RecordTree::Sessions, ended).await
    }
}

fn seconds_rounded_up(ms: i64) -> u64 {
    u64::try_from(ms.saturating_add(999) / 1000).unwrap_or(1)
}

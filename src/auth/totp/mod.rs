//! Two-factor sign-in (TOTP, RFC 6238). A user enrols (a new secret, its otpauth:// URI and
//! ten recovery codes, shown once), proves the device with a first code, and from then on
//! every password login also needs a current code or an unused recovery code. Roles listed
//! in `auth.totp_required_roles` must enrol: until they have, their sessions reach only the
//! routes that let them do so. API keys are machine credentials and are not asked for one.

pub mod code;
mod recovery;
pub mod sealed;

use super::service::Auth;
use super::{AuthError, Role};
use cryptolens_actors::store::RecordTree;
use rand::RngCore;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpRecord {
    pub username: String,
    /// Nonce and ciphertext ([`sealed::SealingKey`]); never stored in the clear.
    pub sealed_secret: Vec<u8>,
    /// When a first code proved the device; until then the enrolment is only pending.
    pub confirmed_ms: Option<i64>,
    pub recovery_sha256: Vec<String>,
    /// The newest time step a code was accepted for: each code works once.
    pub last_step: u64,
    pub created_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TotpState {
    Off,
    Pending,
    Enabled,
}

/// What enrolment shows once: nothing of it can be read back later.
#[derive(Debug, Clone, Serialize)]
pub struct TotpEnrolment {
    /// The secret in base32, for typing into an app.
    pub secret: String,
    pub otpauth_uri: String,
    pub recovery_codes: Vec<String>,
}

/// What a login (or turning TOTP off, as its whole body) presents besides the password.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecondFactor {
    pub totp_code: Option<String>,
    pub recovery_code: Option<String>,
}

impl Auth {
    pub fn totp_state(&self, username: &str) -> TotpState {
        match self.inner.totp.read().get(username) {
            None => TotpState::Off,
            Some(record) if record.confirmed_ms.is_none() => TotpState::Pending,
            Some(_) => TotpState::Enabled,
        }
    }

    pub fn totp_required(&self, role: Role) -> bool {
        self.inner.settings.totp_required_roles.contains(&role)
    }

    /// A session of this user may only enrol until it has a second factor.
    pub fn second_factor_due(&self, username: &str, role: Role) -> bool {
        self.totp_required(role) && self.totp_state(username) != TotpState::Enabled
    }

    /// A new secret and recovery codes for `username`, pending until confirmed; replaces a
    /// pending one. Refused while TOTP is on: turn it off first, with a code.
    pub async fn begin_totp(&self, username: &str) -> Result<TotpEnrolment, AuthError> {
        let _writes = self.inner.writes.lock().await;
        if self.totp_state(username) == TotpState::Enabled {
            return Err(AuthError::TotpEnabled);
        }
        let mut secret = [0u8; code::SECRET_BYTES];
        rand::rng().fill_bytes(&mut secret);
        let recovery_codes = recovery::generate();
        let record = TotpRecord {
            username: username.to_owned(),
            sealed_secret: self.inner.sealing.seal(username, &secret)?,
            confirmed_ms: None,
            recovery_sha256: recovery_codes.iter().map(|c| recovery::digest(c)).collect(),
            last_step: 0,
            created_ms: self.now_ms(),
        };
        self.store_totp(record).await?;
        Ok(TotpEnrolment {
            secret: code::base32(&secret),
            otpauth_uri: code::otpauth_uri(&secret, &self.inner.settings.totp_issuer, username),
            recovery_codes,
        })
    }

    /// Turns a pending enrolment on once `code` shows the device has the secret.
    pub async fn confirm_totp(&self, username: &str, code: &str) -> Result<(), AuthError> {
        let _writes = self.inner.writes.lock().await;
        let mut record = self
            .totp_record(username)
            .filter(|record| record.confirmed_ms.is_none())
            .ok_or(AuthError::TotpNotPending)?;
        let step = self.accepted_step(&record, code)?.ok_or_else(|| {
            AuthError::invalid(
                "code",
                "the code does not match the new secret; check the app and the phone's clock",
            )
        })?;
        record.confirmed_ms = Some(self.now_ms());
        record.last_step = step;
        self.store_totp(record).await
    }

    /// Turns TOTP off for the caller, who proves it with a code or a recovery code (a wrong
    /// one counts towards the lockout, as a wrong password does).
    pub async fn disable_totp(
        &self,
        username: &str,
        factor: &SecondFactor,
    ) -> Result<(), AuthError> {
        self.reserve_attempt(username, None, self.now_ms()).await?;
        if self.totp_state(username) != TotpState::Enabled {
            self.inner.lockouts.lock().give_back(username, None);
            return Err(AuthError::TotpNotEnabled);
        }
        self.check_second_factor(username, factor).await?;
        self.inner.lockouts.lock().record_success(username, None);
        self.reset_totp(username).await.map(|_| ())
    }

    /// Removes `username`'s enrolment (an operator's way back for a user who lost both the
    /// phone and the recovery codes); whether there was one.
    pub async fn reset_totp(&self, username: &str) -> Result<bool, AuthError> {
        self.user(username)?;
        let removed = self.inner.totp.write().remove(username).is_some();
        self.remove_records(RecordTree::Totp, vec![username.to_owned()])
            .await?;
        Ok(removed)
    }

    /// After the password matched: with TOTP on, a current unused code or an unused
    /// recovery code must come too; either is spent by the check.
    pub(super) async fn check_second_factor(
        &self,
        username: &str,
        factor: &SecondFactor,
    ) -> Result<(), AuthError> {
        // Most users have no second factor: their logins must not queue on the write lock.
        if self.totp_state(username) != TotpState::Enabled {
            return Ok(());
        }
        // Under the write lock, so two logins at once cannot both spend one code.
        let _writes = self.inner.writes.lock().await;
        let Some(mut record) = self
            .totp_record(username)
            .filter(|record| record.confirmed_ms.is_some())
        else {
            return Ok(());
        };
        match (&factor.totp_code, &factor.recovery_code) {
            (None, None) => return Err(AuthError::SecondFactorRequired),
            (Some(code), _) => {
                let step = self
                    .accepted_step(&record, code)?
                    .ok_or(AuthError::SecondFactorWrong)?;
                record.last_step = step;
            }
            (None, Some(code)) => {
                let index = recovery::position(&record.recovery_sha256, code)
                    .ok_or(AuthError::SecondFactorWrong)?;
                record.recovery_sha256.remove(index);
            }
        }
        self.store_totp(record).await
    }

    /// Recovery codes `username` has left, when TOTP is on.
    pub fn recovery_codes_left(&self, username: &str) -> Option<usize> {
        let totp = self.inner.totp.read();
        let record = totp.get(username)?;
        record.confirmed_ms.map(|_| record.recovery_sha256.len())
    }

    fn totp_record(&self, username: &str) -> Option<TotpRecord> {
        self.inner.totp.read().get(username).cloned()
    }

    /// The step `code` is the current code of, if it is newer than the last one used.
    fn accepted_step(&self, record: &TotpRecord, code: &str) -> Result<Option<u64>, AuthError> {
        let secret = self
            .inner
            .sealing
            .open(&record.username, &record.sealed_secret)?;
        let unix_s = u64::try_from(self.now_ms().div_euclid(1000)).unwrap_or(0);
        let step = code::matching_step(&secret, code.trim(), unix_s);
        Ok(step.filter(|step| *step > record.last_step))
    }

    async fn store_totp(&self, record: TotpRecord) -> Result<(), AuthError> {
        self.put_record(RecordTree::Totp, record.username.clone(), record.clone())
            .await?;
        self.inner
            .totp
            .write()
            .insert(record.username.clone(), record);
        Ok(())
    }
}

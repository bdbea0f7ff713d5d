//! Users: the first-start admin, and what operators do (add, set a password, disable).

use super::password::{self, check_policy};
use super::records::UserRecord;
use super::service::Auth;
use super::{AuthError, Role};
use cryptolens_actors::store::RecordTree;

pub const USERNAME_LENGTH_MAX: usize = 64;
pub const FIRST_ADMIN: &str = "admin";

/// 1 to 64 characters: lower-case ASCII letters, digits, `.`, `_`, `-`, starting with a
/// letter.
pub fn validate_username(name: &str) -> Result<(), AuthError> {
    let valid = (1..=USERNAME_LENGTH_MAX).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if valid {
        Ok(())
    } else {
        Err(AuthError::invalid(
            "username",
            "1 to 64 characters: a-z, 0-9, '.', '_', '-', starting with a letter",
        ))
    }
}

fn policy(field: &'static str, password: &str) -> Result<(), AuthError> {
    check_policy(password).map_err(|error| AuthError::invalid(field, error.to_string()))
}

impl Auth {
    /// On a store without users, creates `admin` with `given` (which must meet the policy)
    /// or a random password. Returns the generated password, to be shown once.
    pub async fn ensure_first_admin(
        &self,
        given: Option<String>,
    ) -> Result<Option<String>, AuthError> {
        if !self.inner.users.read().is_empty() {
            return Ok(None);
        }
        let (password, generated) = match given {
            Some(password) => (password, false),
            None => (password::generate(), true),
        };
        self.add_user(FIRST_ADMIN, Role::Admin, password.clone())
            .await?;
        Ok(generated.then_some(password))
    }

    pub async fn add_user(
        &self,
        username: &str,
        role: Role,
        password: String,
    ) -> Result<UserRecord, AuthError> {
        validate_username(username)?;
        policy("password", &password)?;
        let password_hash = self.inner.hashing.hash(password).await?;
        let _writing = self.inner.writes.lock().await;
        if self.inner.users.read().contains_key(username) {
            return Err(AuthError::UserExists(username.to_owned()));
        }
        let now_ms = self.now_ms();
        let record = UserRecord {
            username: username.to_owned(),
            role,
            password_hash,
            disabled: false,
            created_ms: now_ms,
            password_changed_ms: now_ms,
        };
        self.store_user(record.clone()).await?;
        Ok(record)
    }

    /// Sets a new password (policy-checked) and ends every session of the user.
    pub async fn set_password(&self, username: &str, password: String) -> Result<(), AuthError> {
        policy("new_password", &password)?;
        self.user(username)?;
        let password_hash = self.inner.hashing.hash(password).await?;
        let _writing = self.inner.writes.lock().await;
        // Read after hashing: a disable or role change made meanwhile is kept.
        let mut record = self.user(username)?;
        record.password_hash = password_hash;
        record.password_changed_ms = self.now_ms();
        self.store_user(record).await?;
        self.end_sessions_of(username).await
    }

    /// Enables or disables a user; disabling ends their sessions, and their keys stop working.
    pub async fn set_disabled(&self, username: &str, disabled: bool) -> Result<(), AuthError> {
        let _writing = self.inner.writes.lock().await;
        let mut record = self.user(username)?;
        if disabled {
            self.keep_an_active_admin(&record)?;
        }
        record.disabled = disabled;
        self.store_user(record).await?;
        if disabled {
            self.end_sessions_of(username).await?;
        }
        Ok(())
    }

    pub async fn set_role(&self, username: &str, role: Role) -> Result<(), AuthError> {
        let _writing = self.inner.writes.lock().await;
        let mut record = self.user(username)?;
        if role != Role::Admin {
            self.keep_an_active_admin(&record)?;
        }
        record.role = role;
        self.store_user(record).await
    }

    /// Refuses to disable or demote `record` when it is the last active admin: nobody could
    /// manage users any more. Called holding the write lock, so two such changes cannot race.
    fn keep_an_active_admin(&self, record: &UserRecord) -> Result<(), AuthError> {
        let active_admin = |user: &UserRecord| user.role == Role::Admin && !user.disabled;
        if !active_admin(record) {
            return Ok(());
        }
        let others = self
            .inner
            .users
            .read()
            .values()
            .filter(|user| user.username != record.username && active_admin(user))
            .count();
        if others == 0 {
            return Err(AuthError::LastAdmin(record.username.clone()));
        }
        Ok(())
    }

    pub fn user(&self, username: &str) -> Result<UserRecord, AuthError> {
        self.inner
            .users
            .read()
            .get(username)
            .cloned()
            .ok_or_else(|| AuthError::UnknownUser(username.to_owned()))
    }

    pub fn users(&self) -> Vec<UserRecord> {
        let mut users: Vec<UserRecord> = self.inner.users.read().values().cloned().collect();
        users.sort_by(|a, b| a.username.cmp(&b.username));
        users
    }

    /// Writes `record` to the store, then makes it the user's in-memory state.
    async fn store_user(&self, record: UserRecord) -> Result<(), AuthError> {
        self.put_record(RecordTree::Users, record.username.clone(), record.clone())
            .await?;
        self.inner
            .users
            .write()
            .insert(record.username.clone(), record);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_short_lower_case_and_start_with_a_letter() {
        for good in ["admin", "ana.trader", "bob_2", "c-d"] {
            assert!(validate_username(good).is_ok(), "{good}");
        }
        let long = "a".repeat(65);
        for bad in [
            "",
            "Admin",
            "1ana",
            "ana trader",
            "ana@x",
            long.as_str(),
            "é",
        ] {
            assert!(validate_username(bad).is_err(), "{bad}");
        }
    }
}

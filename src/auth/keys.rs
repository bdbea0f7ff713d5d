//! API keys: `clk_<id>_<secret>` with 256 random bits of secret, shown once; the store
//! keeps the SHA-256 of the secret. A key acts with its own role, never above its owner's
//! current role, and stops working when revoked, expired, or its owner is disabled.

use super::records::ApiKeyRecord;
use super::service::{Auth, LiveKey, NewApiKey, API_KEY_PREFIX};
use super::{secret, AuthError, Principal, Role};
use cryptolens_actors::store::RecordTree;

pub const KEY_NAME_LENGTH_MAX: usize = 64;

impl Auth {
    pub async fn create_key(
        &self,
        owner: &Principal,
        name: String,
        role: Role,
        expires_ms: Option<i64>,
    ) -> Result<NewApiKey, AuthError> {
        let now_ms = self.now_ms();
        if name.trim().is_empty() || name.chars().count() > KEY_NAME_LENGTH_MAX {
            return Err(AuthError::invalid("name", "1 to 64 characters"));
        }
        if role > owner.role {
            return Err(AuthError::invalid(
                "role",
                format!("a {} may create keys up to role {}", owner.role, owner.role),
            ));
        }
        if expires_ms.is_some_and(|expires| expires <= now_ms) {
            return Err(AuthError::invalid("expires_at", "must be in the future"));
        }
        // Held from the count until the new key is in memory, so concurrent creations cannot
        // both pass the cap.
        let _writing = self.inner.writes.lock().await;
        // Expired keys no longer work, so they do not hold a place under the cap either.
        let owned = self
            .keys_of(owner)
            .iter()
            .filter(|key| key.is_usable(now_ms))
            .count();
        if owned >= self.inner.settings.api_keys_per_user_max {
            return Err(AuthError::invalid(
                "name",
                format!(
                    "at most {} active keys per user; revoke one first",
                    self.inner.settings.api_keys_per_user_max
                ),
            ));
        }
        let (id, key_secret) = (secret::random_hex(8), secret::random_hex(32));
        let record = ApiKeyRecord {
            id: id.clone(),
            name,
            owner: owner.username.to_string(),
            role,
            secret_sha256: secret::sha256_hex(&key_secret),
            created_ms: now_ms,
            expires_ms,
            revoked_ms: None,
            last_used_ms: None,
        };
        self.store_key(record.clone()).await?;
        Ok(NewApiKey {
            key: format!("{API_KEY_PREFIX}{id}_{key_secret}"),
            record,
        })
    }

    /// Registers an admin key chosen by the operator (`clk_<16 hex>_<64 hex>`, so it carries
    /// as many random bits as a generated one), owned by `owner`.
    pub async fn register_key(&self, owner: &str, name: &str, key: &str) -> Result<(), AuthError> {
        let malformed = || {
            AuthError::invalid(
                "CRYPTOLENS_ADMIN_API_KEY",
                "an API key is clk_ followed by 16 hex digits, '_' and 64 hex digits",
            )
        };
        let (id, key_secret) = key
            .strip_prefix(API_KEY_PREFIX)
            .and_then(|rest| rest.split_once('_'))
            .ok_or_else(malformed)?;
        let hex = |text: &str, length: usize| {
            text.len() == length && text.bytes().all(|b| b.is_ascii_hexdigit())
        };
        if !hex(id, 16) || !hex(key_secret, 64) || distinct_bytes(key_secret) < 8 {
            return Err(malformed());
        }
        let role = self.user(owner)?.role;
        let record = ApiKeyRecord {
            id: id.to_owned(),
            name: name.to_owned(),
            owner: owner.to_owned(),
            role,
            secret_sha256: secret::sha256_hex(key_secret),
            created_ms: self.now_ms(),
            expires_ms: None,
            revoked_ms: None,
            last_used_ms: None,
        };
        self.store_key(record).await
    }

    async fn store_key(&self, record: ApiKeyRecord) -> Result<(), AuthError> {
        self.put_record(RecordTree::ApiKeys, record.id.clone(), record.clone())
            .await?;
        self.inner
            .keys
            .write()
            .insert(record.id.clone(), LiveKey::new(record));
        Ok(())
    }

    /// The keys `principal` may see (their own; an admin's: all), with their last use.
    pub fn keys_of(&self, principal: &Principal) -> Vec<ApiKeyRecord> {
        let keys = self.inner.keys.read();
        let mut visible: Vec<ApiKeyRecord> = keys
            .values()
            .filter(|live| principal.may_see_owned_by(&live.record.owner))
            .map(|live| {
                let mut record = live.record.clone();
                let used_ms = live.last_used_ms.load(std::sync::atomic::Ordering::Relaxed);
                if used_ms != i64::MIN {
                    record.last_used_ms = Some(used_ms);
                }
                record
            })
            .collect();
        visible.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
        visible
    }

    /// Revokes a key the principal may see; others' keys are reported as unknown.
    pub async fn revoke_key(&self, principal: &Principal, id: &str) -> Result<(), AuthError> {
        let _writing = self.inner.writes.lock().await;
        let mut record = self
            .inner
            .keys
            .read()
            .get(id)
            .filter(|live| principal.may_see_owned_by(&live.record.owner))
            .map(|live| live.record.clone())
            .ok_or_else(|| AuthError::UnknownKey(id.to_owned()))?;
        if record.revoked_ms.is_some() {
            return Ok(());
        }
        record.revoked_ms = Some(self.now_ms());
        self.put_record(RecordTree::ApiKeys, id.to_owned(), record.clone())
            .await?;
        if let Some(live) = self.inner.keys.write().get_mut(id) {
            live.record.revoked_ms = record.revoked_ms;
        }
        Ok(())
    }
}

impl Auth {
    /// Deletes keys revoked or expired more than the retention before `now_ms`; the caller
    /// holds the write lock.
    pub(super) async fn prune_dead_keys(&self, now_ms: i64) -> Result<(), AuthError> {
        let retention_ms =
            super::service::seconds_to_ms(self.inner.settings.revoked_keys_retention_s);
        let cutoff_ms = now_ms.saturating_sub(retention_ms);
        let dead: Vec<String> = self
            .inner
            .keys
            .read()
            .values()
            .filter(|live| {
                let record = &live.record;
                let stopped_ms = record
                    .revoked_ms
                    .or(record.expires_ms.filter(|at| *at <= now_ms));
                stopped_ms.is_some_and(|stopped| stopped < cutoff_ms)
            })
            .map(|live| live.record.id.clone())
            .collect();
        if dead.is_empty() {
            return Ok(());
        }
        self.remove_records(RecordTree::ApiKeys, dead.clone())
            .await?;
        let mut keys = self.inner.keys.write();
        for id in &dead {
            keys.remove(id);
        }
        self.inner
            .keys_pruned
            .fetch_add(dead.len() as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// Keys that work now, keys kept though revoked or expired, and keys deleted since start.
    pub fn key_counts(&self) -> KeyCounts {
        let now_ms = self.now_ms();
        let keys = self.inner.keys.read();
        let active = keys
            .values()
            .filter(|live| live.record.is_usable(now_ms))
            .count();
        KeyCounts {
            active,
            inactive: keys.len() - active,
            pruned: self
                .inner
                .keys_pruned
                .load(std::sync::atomic::Ordering::Relaxed),
        }
    }
}

/// API keys by state, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyCounts {
    pub active: usize,
    pub inactive: usize,
    pub pruned: u64,
}

fn distinct_bytes(text: &str) -> usize {
    text.bytes().collect::<std::collections::HashSet<_>>().len()
}

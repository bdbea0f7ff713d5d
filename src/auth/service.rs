//! The auth service: users, sessions and keys in memory for fast checks, every change
//! written through to the store (flushed) before it is acknowledged.

use super::lockout::{LockoutPolicy, Lockouts};
use super::password::PasswordHashing;
use super::records::{ApiKeyRecord, SessionRecord, UserRecord};
use super::totp::sealed::SealingKey;
use super::totp::TotpRecord;
use super::{secret, AuthError, Credential, Principal, Role};
use cryptolens_actors::clock::Clock;
use cryptolens_actors::store::{decode, encode, RecordTree, Store};
use parking_lot::{Mutex, RwLock};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

pub const SESSION_PREFIX: &str = "cls_";
pub const API_KEY_PREFIX: &str = "clk_";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    pub session_absolute_ttl_s: u64,
    pub session_idle_ttl_s: u64,
    pub lockout_failures: u32,
    pub lockout_window_s: u64,
    /// Failures on one account, from all addresses, within the window that put it under
    /// attack: new addresses are then slowed by `lockout_slow_ms` (never refused).
    pub lockout_account_failures: u32,
    pub lockout_slow_ms: u64,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub hashing_concurrency: usize,
    pub api_keys_per_user_max: usize,
    /// Revoked or expired keys are deleted this long after they stopped working (until then
    /// listings show them, so an owner sees what was revoked).
    pub revoked_keys_retention_s: u64,
    pub maintenance_interval_s: u64,
    /// Requests without credentials may use viewer routes (a public read-only scanner);
    /// routes about the caller's own objects still need credentials.
    pub anonymous_viewer: bool,
    /// Roles whose users must enrol in TOTP; their sessions reach only enrolment until then.
    #[serde(default)]
    pub totp_required_roles: Vec<Role>,
    /// The issuer an authenticator app shows next to the account name.
    #[serde(default = "default_issuer")]
    pub totp_issuer: String,
}

fn default_issuer() -> String {
    "cryptolens".to_owned()
}

/// A login's answer: the token is shown once and only its digest is kept.
#[derive(Debug, Clone, Serialize)]
pub struct NewSession {
    pub token: String,
    pub username: String,
    pub role: Role,
    pub expires_ms: i64,
}

/// A created key: `key` is shown once and only its digest is kept.
#[derive(Debug, Clone, Serialize)]
pub struct NewApiKey {
    pub key: String,
    pub record: ApiKeyRecord,
}

pub(super) struct LiveSession {
    pub record: SessionRecord,
    pub last_seen_ms: AtomicI64,
}

pub(super) struct LiveKey {
    pub record: ApiKeyRecord,
    pub last_used_ms: AtomicI64,
    /// From the record, kept ready for the per-request check: the secret's digest as bytes,
    /// and the shared strings every principal of this key carries.
    digest: [u8; 32],
    id: Arc<str>,
    owner: Arc<str>,
    rate_key: Arc<str>,
}

impl LiveKey {
    pub fn new(record: ApiKeyRecord) -> LiveKey {
        LiveKey {
            last_used_ms: AtomicI64::new(record.last_used_ms.unwrap_or(i64::MIN)),
            // A stored digest that does not parse matches nothing: all-zero is no SHA-256
            // anyone can produce.
            digest: secret::parse_hex32(&record.secret_sha256).unwrap_or([0; 32]),
            id: Arc::from(record.id.as_str()),
            owner: Arc::from(record.owner.as_str()),
            // One budget per user, however many keys: 50 keys are not 50 budgets.
            rate_key: Arc::from(format!("user:{}", record.owner)),
            record,
        }
    }
}

/// Cheap to clone; every clone shares the same state.
#[derive(Clone)]
pub struct Auth {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub store: Arc<Store>,
    pub clock: Arc<dyn Clock>,
    pub settings: AuthSettings,
    pub hashing: PasswordHashing,
    pub users: RwLock<HashMap<String, UserRecord>>,
    pub sessions: RwLock<HashMap<String, LiveSession>>,
    pub keys: RwLock<HashMap<String, LiveKey>>,
    /// Two-factor enrolments by username.
    pub totp: RwLock<HashMap<String, TotpRecord>>,
    pub sealing: SealingKey,
    pub lockouts: Mutex<Lockouts>,
    /// Held by every read-modify-write of a user or key record, from the read until memory
    /// and store both have the result, so concurrent changes never undo each other.
    pub writes: tokio::sync::Mutex<()>,
    /// Revoked or expired keys deleted since start.
    pub keys_pruned: std::sync::atomic::AtomicU64,
    /// A hash of a random password, verified for unknown users so that their answers take
    /// as long as a wrong password's.
    pub decoy_hash: String,
}

impl Auth {
    /// Loads every user, session and key from `store`. A record that does not verify is an
    /// error: silently dropping a user or a revocation would be worse than not starting.
    /// `data_dir` holds the key TOTP secrets are sealed with (`secrets/totp_key`).
    pub fn open(
        store: Arc<Store>,
        settings: &AuthSettings,
        clock: Arc<dyn Clock>,
        data_dir: &Path,
    ) -> Result<Auth, AuthError> {
        let hashing = PasswordHashing::new(
            settings.argon2_memory_kib,
            settings.argon2_iterations,
            settings.hashing_concurrency,
        )?;
        let users = load::<UserRecord>(&store, RecordTree::Users)?
            .into_iter()
            .map(|user| (user.username.clone(), user))
            .collect();
        let sessions = load::<SessionRecord>(&store, RecordTree::Sessions)?
            .into_iter()
            .map(|record| {
                let live = LiveSession {
                    last_seen_ms: AtomicI64::new(clock.now_ms()),
                    record,
                };
                (live.record.token_sha256.clone(), live)
            })
            .collect();
        let keys = load::<ApiKeyRecord>(&store, RecordTree::ApiKeys)?
            .into_iter()
            .map(|record| (record.id.clone(), LiveKey::new(record)))
            .collect();
        let totp = load::<TotpRecord>(&store, RecordTree::Totp)?
            .into_iter()
            .map(|record| (record.username.clone(), record))
            .collect();
        let sealing = SealingKey::load_or_generate(data_dir)?;
        let decoy_hash = hashing.hash_blocking(&super::password::generate())?;
        let lockout_window_ms = seconds_to_ms(settings.lockout_window_s);
        Ok(Auth {
            inner: Arc::new(Inner {
                store,
                clock,
                settings: settings.clone(),
                hashing,
                users: RwLock::new(users),
                sessions: RwLock::new(sessions),
                keys: RwLock::new(keys),
                totp: RwLock::new(totp),
                sealing,
                lockouts: Mutex::new(Lockouts::new(LockoutPolicy {
                    failures_max: settings.lockout_failures,
                    window_ms: lockout_window_ms,
                    account_failures_max: settings.lockout_account_failures,
                    slow_ms: i64::try_from(settings.lockout_slow_ms).unwrap_or(i64::MAX),
                })),
                writes: tokio::sync::Mutex::new(()),
                keys_pruned: std::sync::atomic::AtomicU64::new(0),
                decoy_hash,
            }),
        })
    }

    pub fn settings(&self) -> &AuthSettings {
        &self.inner.settings
    }

    pub fn now_ms(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    /// Who the `X-API-Key` or the `Authorization: Bearer` session token acts for; None when
    /// neither is given. Anything given and not valid is [`AuthError::InvalidCredentials`].
    pub fn authenticate(
        &self,
        api_key: Option<&str>,
        bearer: Option<&str>,
    ) -> Result<Option<Principal>, AuthError> {
        match (api_key, bearer) {
            (Some(key), _) => self.authenticate_key(key).map(Some),
            (None, Some(token)) => self.authenticate_session(token).map(Some),
            (None, None) => Ok(None),
        }
    }

    fn authenticate_key(&self, presented: &str) -> Result<Principal, AuthError> {
        let now_ms = self.now_ms();
        let (id, key_secret) = presented
            .strip_prefix(API_KEY_PREFIX)
            .and_then(|rest| rest.split_once('_'))
            .ok_or(AuthError::InvalidCredentials)?;
        let keys = self.inner.keys.read();
        let live = keys.get(id).ok_or(AuthError::InvalidCredentials)?;
        if !secret::digests_equal(&secret::sha256(key_secret), &live.digest)
            || !live.record.is_usable(now_ms)
        {
            return Err(AuthError::InvalidCredentials);
        }
        let owner_role = self.active_role(&live.owner)?;
        live.last_used_ms.fetch_max(now_ms, Ordering::Relaxed);
        Ok(Principal {
            username: Arc::clone(&live.owner),
            role: live.record.role.min(owner_role),
            credential: Credential::ApiKey {
                id: Arc::clone(&live.id),
            },
            rate_key: Arc::clone(&live.rate_key),
            second_factor_due: false,
        })
    }

    fn authenticate_session(&self, token: &str) -> Result<Principal, AuthError> {
        if !token.starts_with(SESSION_PREFIX) {
            return Err(AuthError::InvalidCredentials);
        }
        let now_ms = self.now_ms();
        let token_sha256 = secret::sha256_hex(token);
        let sessions = self.inner.sessions.read();
        let live = sessions
            .get(&token_sha256)
            .ok_or(AuthError::InvalidCredentials)?;
        let idle_ms = seconds_to_ms(self.inner.settings.session_idle_ttl_s);
        let last_seen_ms = live.last_seen_ms.load(Ordering::Relaxed);
        if now_ms >= live.record.expires_ms || now_ms >= last_seen_ms.saturating_add(idle_ms) {
            return Err(AuthError::InvalidCredentials);
        }
        let (role, password_changed_ms) = self.active_user(&live.record.username)?;
        // A login that raced a password change must not outlive it.
        if live.record.created_ms < password_changed_ms {
            return Err(AuthError::InvalidCredentials);
        }
        live.last_seen_ms.fetch_max(now_ms, Ordering::Relaxed);
        Ok(Principal {
            username: Arc::from(live.record.username.as_str()),
            role,
            credential: Credential::Session { token_sha256 },
            rate_key: Arc::from(format!("user:{}", live.record.username)),
            second_factor_due: self.second_factor_due(&live.record.username, role),
        })
    }

    /// The role of an enabled user; disabled or deleted users authenticate no more.
    fn active_role(&self, username: &str) -> Result<Role, AuthError> {
        self.active_user(username).map(|(role, _)| role)
    }

    /// An enabled user's role and the time of their last password change.
    fn active_user(&self, username: &str) -> Result<(Role, i64), AuthError> {
        match self.inner.users.read().get(username) {
            Some(user) if !user.disabled => Ok((user.role, user.password_changed_ms)),
            _ => Err(AuthError::InvalidCredentials),
        }
    }

    /// Periodic upkeep: forget passed lockout windows, delete expired sessions and keys dead
    /// for longer than the retention, persist keys' last use. Returns how many sessions were
    /// deleted.
    pub async fn maintain(&self) -> Result<usize, AuthError> {
        let now_ms = self.now_ms();
        self.inner.lockouts.lock().prune(now_ms);
        let idle_ms = seconds_to_ms(self.inner.settings.session_idle_ttl_s);
        let expired: Vec<String> = {
            let mut sessions = self.inner.sessions.write();
            let expired: Vec<String> = sessions
                .values()
                .filter(|live| {
                    now_ms >= live.record.expires_ms
                        || now_ms
                            >= live
                                .last_seen_ms
                                .load(Ordering::Relaxed)
                                .saturating_add(idle_ms)
                })
                .map(|live| live.record.token_sha256.clone())
                .collect();
            for digest in &expired {
                sessions.remove(digest);
            }
            expired
        };
        self.remove_records(RecordTree::Sessions, expired.clone())
            .await?;
        let _writing = self.inner.writes.lock().await;
        self.prune_dead_keys(now_ms).await?;
        for record in self.keys_used_since_stored() {
            self.put_record(RecordTree::ApiKeys, record.id.clone(), record)
                .await?;
        }
        Ok(expired.len())
    }

    /// Keys whose last use is newer in memory than in their stored record, updated.
    fn keys_used_since_stored(&self) -> Vec<ApiKeyRecord> {
        let mut keys = self.inner.keys.write();
        let mut changed = Vec::new();
        for live in keys.values_mut() {
            let used_ms = live.last_used_ms.load(Ordering::Relaxed);
            if used_ms != i64::MIN && live.record.last_used_ms != Some(used_ms) {
                live.record.last_used_ms = Some(used_ms);
                changed.push(live.record.clone());
            }
        }
        changed
    }

    pub(super) async fn put_record<T>(
        &self,
        tree: RecordTree,
        key: String,
        record: T,
    ) -> Result<(), AuthError>
    where
        T: Serialize + DeserializeOwned + PartialEq + Send + 'static,
    {
        let store = Arc::clone(&self.inner.store);
        run_blocking(move || {
            let bytes = encode(&record)?;
            store.put_record(tree, &key, bytes)?;
            Ok(())
        })
        .await
    }

    pub(super) async fn remove_records(
        &self,
        tree: RecordTree,
        keys: Vec<String>,
    ) -> Result<(), AuthError> {
        if keys.is_empty() {
            return Ok(());
        }
        let store = Arc::clone(&self.inner.store);
        run_blocking(move || Ok(store.remove_records(tree, &keys)?)).await
    }
}

/// Store writes flush to disk; they run on the blocking pool, off the reactor.
async fn run_blocking(
    work: impl FnOnce() -> Result<(), AuthError> + Send + 'static,
) -> Result<(), AuthError> {
    tokio::task::spawn_blocking(work).await?
}

fn load<T: DeserializeOwned>(store: &Store, tree: RecordTree) -> Result<Vec<T>, AuthError> {
    store
        .records(tree)?
        .into_iter()
        .map(|(_, bytes)| Ok(decode::<T>(&bytes)?))
        .collect()
}

pub(super) fn seconds_to_ms(seconds: u64) -> i64 {
    i64::try_from(seconds.saturating_mul(1000)).unwrap_or(i64::MAX)
}

//! Passwords: the policy every new password meets, and argon2id hashing. Hashing costs tens
//! of milliseconds of CPU and memory by design, so the async API runs it on the blocking
//! pool behind a semaphore: a burst of logins queues instead of starving the reactor or
//! exhausting memory.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::collections::HashSet;
use std::sync::{Arc, LazyLock};
use tokio::sync::Semaphore;

pub const LENGTH_MIN: usize = 10;
/// argon2 accepts longer input, but nobody types more, and it bounds the work per request.
pub const LENGTH_MAX: usize = 128;

/// Common passwords of at least `LENGTH_MIN` characters, lower case (see the generator in
/// `fixtures/common_passwords/`).
static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../fixtures/common_passwords/list.txt")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect()
});

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("a password needs at least {LENGTH_MIN} characters")]
    TooShort,
    #[error("a password has at most {LENGTH_MAX} characters")]
    TooLong,
    #[error("a password needs a lower-case letter, an upper-case letter and a digit")]
    TooSimple,
    #[error("this password is in a list of common passwords")]
    Common,
}

/// Whether `password` may be set: length, character classes, not a common password.
pub fn check_policy(password: &str) -> Result<(), PolicyError> {
    let length = password.chars().count();
    if length < LENGTH_MIN {
        return Err(PolicyError::TooShort);
    }
    if length > LENGTH_MAX {
        return Err(PolicyError::TooLong);
    }
    let has = |test: fn(char) -> bool| password.chars().any(test);
    if !(has(char::is_lowercase) && has(char::is_uppercase) && has(|c| c.is_ascii_digit())) {
        return Err(PolicyError::TooSimple);
    }
    if COMMON.contains(password.to_lowercase().as_str()) {
        return Err(PolicyError::Common);
    }
    Ok(())
}

/// A random password that meets the policy: 20 characters from an unambiguous alphabet
/// (about 115 bits), retried until it has every character class.
pub fn generate() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    loop {
        let mut rng = rand::rng();
        let password: String = (0..20)
            .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
            .collect();
        if check_policy(&password).is_ok() {
            return password;
        }
    }
}

/// Hashes that may wait for a permit; beyond, requests are refused at once (503) rather than
/// queued without bound by a flood of logins.
pub const WAITING_MAX: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("too many password checks are waiting; retry shortly")]
    Busy,
    #[error("password hashing failed: {0}")]
    Hashing(#[from] argon2::password_hash::Error),
    #[error("the argon2 parameters are invalid: {0}")]
    Parameters(#[from] argon2::Error),
    #[error("password hashing was interrupted: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("the password hashing pool is closed")]
    Closed(#[from] tokio::sync::AcquireError),
}

/// argon2id with fixed cost, shared by the server and the operator commands.
#[derive(Clone)]
pub struct PasswordHashing {
    params: Params,
    permits: Arc<Semaphore>,
    waiting: Arc<Semaphore>,
}

impl PasswordHashing {
    /// `memory_kib` and `iterations` are argon2's m and t; at most `concurrency` hashes run
    /// at once.
    pub fn new(
        memory_kib: u32,
        iterations: u32,
        concurrency: usize,
    ) -> Result<PasswordHashing, HashError> {
        let params = Params::new(memory_kib, iterations, 1, None)?;
        Ok(PasswordHashing {
            params,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            waiting: Arc::new(Semaphore::new(WAITING_MAX)),
        })
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// The PHC string (`$argon2id$v=19$m=...`) of `password` with a fresh salt.
    pub fn hash_blocking(&self, password: &str) -> Result<String, HashError> {
        let salt = SaltString::generate(&mut OsRng);
        self.argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(HashError::from)
    }

    /// Whether `password` matches `phc`. A malformed stored hash never matches.
    pub fn verify_blocking(&self, password: &str, phc: &str) -> bool {
        PasswordHash::new(phc).is_ok_and(|parsed| {
            self.argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    }

    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        let hashing = self.clone();
        self.bounded(move || hashing.hash_blocking(&password))
            .await?
    }

    pub async fn verify(&self, password: String, phc: String) -> Result<bool, HashError> {
        let hashing = self.clone();
        self.bounded(move || hashing.verify_blocking(&password, &phc))
            .await
    }

    async fn bounded<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let _in_line = self.waiting.try_acquire().map_err(|_| HashError::Busy)?;
        let _permit = self.permits.acquire().await?;
        Ok(tokio::task::spawn_blocking(work).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_wants_length_classes_and_an_uncommon_password() {
        assert_eq!(check_policy("Ab1defghi"), Err(PolicyError::TooShort));
        assert_eq!(check_policy(&"Ab1".repeat(50)), Err(PolicyError::TooLong));
        assert_eq!(check_policy("abcdefghij1"), Err(PolicyError::TooSimple));
        assert_eq!(check_policy("ABCDEFGHIJ1"), Err(PolicyError::TooSimple));
        assert_eq!(check_policy("Abcdefghijk"), Err(PolicyError::TooSimple));
        assert_eq!(check_policy("Password1234"), Err(PolicyError::Common));
        assert_eq!(check_policy("Tr4der-Quartz-Lamp"), Ok(()));
    }

    #[test]
    fn generated_passwords_meet_the_policy_and_differ() {
        let (first, second) = (generate(), generate());
        assert_eq!(check_policy(&first), Ok(()));
        assert_ne!(first, second);
    }

    #[tokio::test]
    async fn a_flood_of_hashes_beyond_the_waiting_line_is_refused_at_once() {
        let hashing = PasswordHashing::new(8 * 1024, 1, 1).expect("params");
        let flood: Vec<_> = (0..WAITING_MAX + 16)
            .map(|_| {
                let hashing = hashing.clone();
                tokio::spawn(async move { hashing.hash("Correct-Horse-9".into()).await })
            })
            .collect();
        let mut busy = 0;
        for outcome in flood {
            match outcome.await.expect("task") {
                Ok(_) => {}
                Err(HashError::Busy) => busy += 1,
                Err(other) => panic!("{other}"),
            }
        }
        assert!(busy >= 16, "{busy} refused");
        assert!(
            hashing.hash("Correct-Horse-9".into()).await.is_ok(),
            "served again after"
        );
    }

    #[test]
    fn argon2id_hashes_verify_only_their_password() {
        let hashing = PasswordHashing::new(8 * 1024, 1, 1).expect("params");
        let hash = hashing.hash_blocking("Correct-Horse-9").expect("hash");
        assert!(hash.starts_with("$argon2id$v=19$m=8192,t=1,p=1$"), "{hash}");
        assert!(hashing.verify_blocking("Correct-Horse-9", &hash));
        assert!(!hashing.verify_blocking("Correct-Horse-8", &hash));
        assert!(!hashing.verify_blocking("Correct-Horse-9", "not a hash"));
    }
}

//! TOTP secrets at rest: sealed with ChaCha20-Poly1305 under a key kept outside the store, in
//! `<data_dir>/secrets/totp_key` (0600). A copy of the store alone (a backup, a stolen disk
//! image of the sled files) does not give away anyone's second factor. The account name is
//! bound in as associated data, so a sealed secret moved to another user does not open.

use super::super::secret_files::{self, SecretFileError};
use super::super::{secret, AuthError};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;
use std::path::Path;

pub const KEY_FILE: &str = "totp_key";
const NONCE_BYTES: usize = 12;

/// The sealing key; cloning shares nothing mutable.
#[derive(Clone)]
pub struct SealingKey(Key);

impl SealingKey {
    /// The key in `<data_dir>/secrets/totp_key`, generated (256 random bits) on first use.
    pub fn load_or_generate(data_dir: &Path) -> Result<SealingKey, SecretFileError> {
        let text = secret_files::load_or_generate(data_dir, KEY_FILE)?;
        let bytes = secret::parse_hex32(&text).ok_or_else(|| SecretFileError::Malformed {
            path: data_dir.join("secrets").join(KEY_FILE),
            expected: "64 hex digits",
        })?;
        Ok(SealingKey::from_bytes(bytes))
    }

    pub fn from_bytes(bytes: [u8; 32]) -> SealingKey {
        SealingKey(Key::from(bytes))
    }

    /// A fresh random nonce, then the ciphertext with its tag.
    pub fn seal(&self, account: &str, plaintext: &[u8]) -> Result<Vec<u8>, AuthError> {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce);
        let payload = Payload {
            msg: plaintext,
            aad: account.as_bytes(),
        };
        let sealed = ChaCha20Poly1305::new(&self.0)
            .encrypt(Nonce::from_slice(&nonce), payload)
            .map_err(|_| AuthError::Sealing(account.to_owned()))?;
        Ok([nonce.as_slice(), &sealed].concat())
    }

    pub fn open(&self, account: &str, sealed: &[u8]) -> Result<Vec<u8>, AuthError> {
        let unreadable = || AuthError::Sealing(account.to_owned());
        if sealed.len() < NONCE_BYTES {
            return Err(unreadable());
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
        let payload = Payload {
            msg: ciphertext,
            aad: account.as_bytes(),
        };
        ChaCha20Poly1305::new(&self.0)
            .decrypt(Nonce::from_slice(nonce), payload)
            .map_err(|_| unreadable())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_sealed_secret_opens_with_its_key_and_account_only() {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = SealingKey::load_or_generate(dir.path()).expect("key");
        let mode = std::fs::metadata(dir.path().join("secrets").join(KEY_FILE))
            .expect("key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let sealed = key.seal("alice", b"the secret").expect("sealed");
        assert!(!sealed.windows(10).any(|window| window == b"the secret"));
        assert_eq!(key.open("alice", &sealed).expect("opens"), b"the secret");
        assert!(key.open("bob", &sealed).is_err());
        let again = SealingKey::load_or_generate(dir.path()).expect("same key");
        assert_eq!(again.open("alice", &sealed).expect("opens"), b"the secret");
        let other = SealingKey::from_bytes([9; 32]);
        assert!(other.open("alice", &sealed).is_err());
        let mut tampered = sealed.clone();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert!(key.open("alice", &tampered).is_err());
        assert!(key.open("alice", &sealed[..5]).is_err());
        assert_ne!(key.seal("alice", b"the secret").expect("sealed"), sealed);
    }

    #[test]
    fn a_malformed_key_file_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        secret_files::write_private(dir.path(), KEY_FILE, "not hex").expect("written");
        assert!(matches!(
            SealingKey::load_or_generate(dir.path()),
            Err(SecretFileError::Malformed { .. })
        ));
    }
}

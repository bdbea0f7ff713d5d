//! Secrets the server generates for itself on first start, kept in `<data_dir>/secrets/`
//! (mode 0700) in files only their owner may read (0600). A secret file others can read is
//! refused rather than used.

use super::secret;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum SecretFileError {
    #[error("cannot use the secret file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the secret file {path} is readable by others (mode {mode:o}); chmod 600 it")]
    Exposed { path: PathBuf, mode: u32 },
    #[error("the secret file {path} is empty; {RECOVERY}")]
    Empty { path: PathBuf },
    #[error("the secret file {path} does not hold {expected}; {RECOVERY}")]
    Malformed {
        path: PathBuf,
        expected: &'static str,
    },
}

/// What an operator can do about a damaged secret file.
const RECOVERY: &str = "to recover, restore it from a backup, or delete it to start over: a new \
one is made at the next start (a new metrics_token must then be given to the scraper; after a new \
totp_key, reset each enrolled user with `cryptolens user reset-totp --username NAME`)";

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SecretFileError {
    let path = path.to_owned();
    move |source| SecretFileError::Io { path, source }
}

/// `<data_dir>/secrets`, created 0700 if absent.
fn secrets_dir(data_dir: &Path) -> Result<PathBuf, SecretFileError> {
    let dir = data_dir.join("secrets");
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(io(&dir))?;
    Ok(dir)
}

/// Writes `value` to `<data_dir>/secrets/<name>` (0600, replacing an older file) and answers
/// its path: for a secret the operator must read once, kept out of the logs.
pub fn write_private(data_dir: &Path, name: &str, value: &str) -> Result<PathBuf, SecretFileError> {
    let path = secrets_dir(data_dir)?.join(name);
    if path.exists() {
        fs::remove_file(&path).map_err(io(&path))?;
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(io(&path))?;
    file.write_all(value.as_bytes()).map_err(io(&path))?;
    file.write_all(b"\n").map_err(io(&path))?;
    file.sync_all().map_err(io(&path))?;
    Ok(path)
}

/// The secret stored under `name`, generated (256 random bits, hex) if absent.
pub fn load_or_generate(data_dir: &Path, name: &str) -> Result<String, SecretFileError> {
    let path = secrets_dir(data_dir)?.join(name);
    if !path.exists() {
        let value = secret::random_hex(32);
        write_private(data_dir, name, &value)?;
        return Ok(value);
    }
    let mode = fs::metadata(&path).map_err(io(&path))?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(SecretFileError::Exposed { path, mode });
    }
    let bytes = fs::read(&path).map_err(io(&path))?;
    let Ok(text) = String::from_utf8(bytes) else {
        let expected = "text";
        return Err(SecretFileError::Malformed { path, expected });
    };
    let value = text.trim().to_owned();
    if value.is_empty() {
        return Err(SecretFileError::Empty { path });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_generated_once_private_then_reused_and_an_exposed_one_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = load_or_generate(dir.path(), "token").expect("generated");
        assert_eq!(first.len(), 64);
        let path = dir.path().join("secrets/token");
        let mode = fs::metadata(&path).expect("file").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = fs::metadata(dir.path().join("secrets"))
            .expect("dir")
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, 0o700);
        assert_eq!(
            load_or_generate(dir.path(), "token").expect("reused"),
            first
        );
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
        assert!(matches!(
            load_or_generate(dir.path(), "token"),
            Err(SecretFileError::Exposed { mode: 0o644, .. })
        ));
    }
}

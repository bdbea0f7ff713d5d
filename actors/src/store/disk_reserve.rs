//! The free space under the store, and the reserve that writes a user asks for leave alone.
//!
//! sled keeps the first I/O error it meets for good: after one "no space left on device" the
//! store refuses everything until the process restarts. So the store never lets sled run the
//! disk dry: below the reserve, the writes a client asks for (trades, snapshots, accounts) are
//! refused before sled sees them, and resume by themselves once space is freed. The reserve
//! itself stays for what must not fail: the exits that candles trigger on open trades.

use super::StoreError;
use std::path::{Path, PathBuf};

/// Measured at every write: one `statvfs`, about a microsecond, so a disk that just filled
/// is never taken for one with room.
#[derive(Debug)]
pub struct DiskReserve {
    path: PathBuf,
    reserve_bytes: u64,
}

impl DiskReserve {
    /// `reserve_bytes` 0 admits every write.
    pub fn new(path: &Path, reserve_bytes: u64) -> DiskReserve {
        DiskReserve {
            path: path.to_owned(),
            reserve_bytes,
        }
    }

    pub fn reserve_bytes(&self) -> u64 {
        self.reserve_bytes
    }

    /// Bytes an unprivileged writer may still use on the store's file system.
    pub fn available_bytes(&self) -> std::io::Result<u64> {
        let stats = rustix::fs::statvfs(&self.path).map_err(std::io::Error::from)?;
        Ok(stats.f_bavail.saturating_mul(stats.f_frsize))
    }

    /// Refuses a write while the free space is below the reserve. A file system that cannot
    /// be measured admits it (sled then answers for itself).
    pub fn admit(&self) -> Result<(), StoreError> {
        if self.reserve_bytes == 0 {
            return Ok(());
        }
        match self.available_bytes() {
            Ok(available_bytes) if available_bytes < self.reserve_bytes => {
                Err(StoreError::DiskFull {
                    available_bytes,
                    reserve_bytes: self.reserve_bytes,
                })
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reserve_larger_than_any_disk_refuses_and_none_admits() {
        let dir = tempfile::tempdir().unwrap();
        let refusing = DiskReserve::new(dir.path(), u64::MAX);
        let error = refusing.admit().unwrap_err();
        assert!(error.to_string().contains("writes are refused"), "{error}");
        assert!(DiskReserve::new(dir.path(), 0).admit().is_ok());
        assert!(DiskReserve::new(dir.path(), 1).admit().is_ok());
        assert!(refusing.available_bytes().unwrap() > 0);
    }
}

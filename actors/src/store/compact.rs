//! `cryptolens store compact`: copies every tree of a stopped server's store into a fresh
//! database and swaps it in, so whatever space sled still holds for old values (log
//! segments, the blob files of stores written before snapshots were chunked) is given back.
//!
//! Crash safety: the copy is flushed before the swap; the swap renames the old store aside,
//! renames the copy into place, then deletes the old one. Every open first runs
//! [`restore_interrupted`] (puts the old store back if a crash left none in place), then,
//! holding the lock, [`remove_leftovers`].

use super::{Store, StoreError};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// What a compaction did, in bytes on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompactReport {
    pub before_bytes: u64,
    pub after_bytes: u64,
    pub trees: usize,
    pub values: u64,
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// Bytes of every file under `dir`, as `du --apparent-size` counts them.
pub fn directory_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_dir() => directory_bytes(&entry.path()),
            _ => entry.metadata().map_or(0, |meta| meta.len()),
        })
        .sum()
}

/// Makes `dir` and everything in it its owner's only: directories 0700, files 0600.
pub fn restrict_to_owner(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            restrict_to_owner(&entry.path())?;
        } else {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

/// Puts the old store back when a compaction stopped between its two renames (no store is
/// in place, so nobody can hold it).
pub fn restore_interrupted(path: &Path) -> Result<(), StoreError> {
    let old = sibling(path, ".before-compact");
    if !path.exists() && old.exists() {
        std::fs::rename(&old, path).map_err(|source| StoreError::Compact {
            path: path.to_owned(),
            source,
        })?;
    }
    Ok(())
}

/// Removes a half-written copy or a left-over old store; called holding the store's lock,
/// so no compaction of it is under way.
pub fn remove_leftovers(path: &Path) -> Result<(), StoreError> {
    for leftover in [
        sibling(path, ".compacting"),
        sibling(path, ".before-compact"),
    ] {
        if leftover.exists() {
            std::fs::remove_dir_all(&leftover).map_err(|source| StoreError::Compact {
                path: path.to_owned(),
                source,
            })?;
        }
    }
    Ok(())
}

/// Compacts the store at `path` (which must not be in use).
pub fn compact(path: &Path) -> Result<CompactReport, StoreError> {
    let before_bytes = directory_bytes(path);
    let copy_path = sibling(path, ".compacting");
    let io = |source| StoreError::Compact {
        path: path.to_owned(),
        source,
    };
    let (trees, values) = {
        let store = Store::open(path)?;
        let copy = sled::Config::new().path(&copy_path).open()?;
        let counted = copy_trees(store.database(), &copy)?;
        copy.flush()?;
        counted
    };
    let old = sibling(path, ".before-compact");
    std::fs::rename(path, &old).map_err(io)?;
    std::fs::rename(&copy_path, path).map_err(io)?;
    std::fs::remove_dir_all(&old).map_err(io)?;
    Ok(CompactReport {
        before_bytes,
        after_bytes: directory_bytes(path),
        trees,
        values,
    })
}

/// Copies every tree of `from` into `to`; answers (trees, values) copied.
fn copy_trees(from: &sled::Db, to: &sled::Db) -> Result<(usize, u64), StoreError> {
    let (mut trees, mut values) = (0, 0);
    for name in from.tree_names() {
        let (source, target) = (from.open_tree(&name)?, to.open_tree(&name)?);
        let mut batch = sled::Batch::default();
        for entry in source.iter() {
            let (key, value) = entry?;
            batch.insert(key, value);
            values += 1;
        }
        target.apply_batch(batch)?;
        trees += 1;
    }
    Ok((trees, values))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{encode, RecordTree};

    /// Runs `open`, waiting out sled's background threads of a database this process just
    /// dropped, which release the file lock a moment after the drop.
    fn when_unlocked<T>(mut open: impl FnMut() -> Result<T, StoreError>) -> T {
        for _ in 0..100 {
            match open() {
                Err(StoreError::Locked { .. }) => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => return other.unwrap(),
            }
        }
        panic!("the store stayed locked");
    }

    fn reopen(path: &Path) -> Store {
        when_unlocked(|| Store::open(path))
    }

    #[test]
    fn a_compacted_store_holds_every_value_and_takes_no_more_space() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store");
        let (user, entry) = (
            encode(&"alice".to_string()).unwrap(),
            encode(&7_u64).unwrap(),
        );
        let big: Vec<u8> = (0..300_000_u32).map(|i| (i % 251) as u8).collect();
        {
            let store = Store::open(&path).unwrap();
            for round in 0..20_u8 {
                let mut value = big.clone();
                value[0] = round;
                store
                    .put_symbols(vec![("AAAUSDT".into(), encode(&value).unwrap())])
                    .unwrap();
            }
            store
                .put_record(RecordTree::Users, "alice", user.clone())
                .unwrap();
            store.append_ledger(7, 1, entry.clone()).unwrap();
            store.flush().unwrap();
        }
        let report = when_unlocked(|| compact(&path));
        assert!(report.after_bytes <= report.before_bytes, "{report:?}");
        assert!(report.values >= 3, "{report:?}");
        let store = reopen(&path);
        let mut expected = big.clone();
        expected[0] = 19;
        assert_eq!(store.symbol::<Vec<u8>>("AAAUSDT").unwrap(), Some(expected));
        assert_eq!(
            store.records(RecordTree::Users).unwrap(),
            [("alice".to_string(), user)]
        );
        assert_eq!(store.ledger_records().unwrap(), [(7, 1, entry)]);
        assert!(store.check().unwrap().problems.is_empty());
    }

    #[test]
    fn a_compaction_cut_between_its_renames_gets_the_old_store_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store");
        {
            let store = Store::open(&path).unwrap();
            store
                .put_record(RecordTree::Users, "alice", b"record".to_vec())
                .unwrap();
        }
        std::fs::rename(&path, sibling(&path, ".before-compact")).unwrap();
        std::fs::create_dir_all(sibling(&path, ".compacting")).unwrap();
        let store = reopen(&path);
        assert_eq!(store.records(RecordTree::Users).unwrap().len(), 1);
        assert!(!sibling(&path, ".compacting").exists());
        assert!(!sibling(&path, ".before-compact").exists());
    }

    #[test]
    fn compacting_a_store_in_use_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store");
        let _running = Store::open(&path).unwrap();
        assert!(matches!(compact(&path), Err(StoreError::Locked { .. })));
    }
}

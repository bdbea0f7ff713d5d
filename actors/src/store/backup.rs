//! `cryptolens store backup DIR` and `store restore DIR`.
//!
//! A backup is a directory holding a fresh sled store (`store`) and its ledger journal
//! (`store.journal`), taken from an open [`Store`] (the running server's, or the command's
//! own when no server runs) without stopping writes:
//!
//! - the journal is copied first, up to its last complete frame: every ledger entry
//!   acknowledged before the backup began is in it;
//! - then every tree is copied value by value; each symbol's snapshot is copied whole and
//!   verified (a snapshot round that rewrote it mid-copy is read again), so each symbol is
//!   as of one snapshot round at or after the backup began;
//! - records the copy of the ledger tree holds past the journal copy were acknowledged
//!   after the backup began, and are kept as a later, consistent continuation.
//!
//! Restoring moves the current store and journal aside (never deleting them) and copies the
//! backup's into place; the next open compares the two copies of the ledger as always.

use super::journal::{journal_path, scan};
use super::{Store, StoreError};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// What a backup holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupReport {
    pub dir: PathBuf,
    pub ledger_records: usize,
    pub symbols: usize,
    pub values: u64,
    pub bytes: u64,
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestoredBackup {
    pub from: PathBuf,
    /// Where the store that was in place went.
    pub previous_store_moved_to: Option<PathBuf>,
    pub ledger_records: usize,
}

fn io_at(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Compact {
        path: path.to_owned(),
        source,
    }
}

impl Store {
    /// Writes a consistent copy of this store into `dir`, which must not exist or be empty.
    pub fn backup_to(&self, dir: &Path) -> Result<BackupReport, StoreError> {
        let io = io_at(dir);
        if dir.exists() && std::fs::read_dir(dir).map_err(&io)?.next().is_some() {
            return Err(io(std::io::Error::other(
                "the backup directory is not empty; give a new one",
            )));
        }
        std::fs::create_dir_all(dir).map_err(&io)?;
        let target = dir.join("store");
        let journal = copy_journal(&journal_path(self.path()), &journal_path(&target))?;
        let copy = sled::Config::new().path(&target).open()?;
        let (symbols, values) = self.copy_into(&copy)?;
        copy.flush()?;
        drop(copy);
        Ok(BackupReport {
            dir: dir.to_owned(),
            ledger_records: journal,
            symbols,
            values,
            bytes: super::directory_bytes(dir),
        })
    }

    /// Copies every tree but the symbol chunks value by value, and every symbol snapshot
    /// whole and verified. Answers (symbols, values) copied.
    fn copy_into(&self, copy: &sled::Db) -> Result<(usize, u64), StoreError> {
        let mut values = 0;
        for name in self.database().tree_names() {
            if name.as_ref() == super::database::SYMBOL_CHUNKS_TREE.as_bytes() {
                continue;
            }
            let (source, target) = (self.database().open_tree(&name)?, copy.open_tree(&name)?);
            for entry in source.iter() {
                let (key, value) = entry?;
                target.insert(key, value)?;
                values += 1;
            }
        }
        let target = copy.open_tree(super::database::SYMBOL_CHUNKS_TREE)?;
        let mut symbols = 0;
        for name in self.symbol_names()? {
            let Some(bytes) = self.verified_symbol_bytes(&name)? else {
                continue;
            };
            let stored = super::packed::pack(&bytes);
            for (index, piece) in super::chunks::chunks(&stored).enumerate() {
                target.insert(super::chunks::chunk_key(&name, index as u32), piece)?;
                values += 1;
            }
            symbols += 1;
        }
        Ok((symbols, values))
    }

    /// A symbol's snapshot bytes, read again while a concurrent round leaves it torn (a
    /// damaged one is copied as it is: the restored store quarantines it at open).
    fn verified_symbol_bytes(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut last = None;
        for _ in 0..5 {
            last = self.raw_symbol(name)?;
            match &last {
                Some(bytes) if super::envelope::verify(bytes).is_err() => {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                _ => break,
            }
        }
        Ok(last)
    }
}

/// Copies the journal at `from` up to its last complete frame; answers the records copied.
fn copy_journal(from: &Path, to: &Path) -> Result<usize, StoreError> {
    let bytes = match std::fs::read(from) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(error) => return Err(io_at(from)(error)),
    };
    let scanned = scan(&bytes);
    let good = scanned.good_length(bytes.len() as u64) as usize;
    let io = io_at(to);
    std::fs::write(to, &bytes[..good]).map_err(&io)?;
    std::fs::File::open(to)
        .and_then(|file| file.sync_all())
        .map_err(&io)?;
    Ok(scanned.records.len())
}

/// Puts the backup in `from` in place of the store at `path` (which must not be in use).
pub fn restore(path: &Path, from: &Path) -> Result<RestoredBackup, StoreError> {
    let source = from.join("store");
    if !source.join("conf").exists() {
        return Err(io_at(from)(std::io::Error::other(
            "not a cryptolens backup (no store in it)",
        )));
    }
    // Refused while a server holds the store.
    drop(super::repair::open_when_unlocked(path)?);
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    let aside = path.with_extension(format!("before-restore-{stamp}"));
    let io = io_at(path);
    let previous = if path.exists() {
        std::fs::create_dir_all(&aside).map_err(&io)?;
        std::fs::rename(path, aside.join("store")).map_err(&io)?;
        let journal = journal_path(path);
        if journal.exists() {
            std::fs::rename(&journal, journal_path(&aside.join("store"))).map_err(&io)?;
        }
        Some(aside)
    } else {
        None
    };
    // The store in place now is not the one a clean stop was recorded for.
    let _ = std::fs::remove_file(path.with_extension("clean-stop"));
    copy_dir(&source, path).map_err(&io)?;
    std::fs::copy(journal_path(&source), journal_path(path)).map_err(&io)?;
    let store = super::repair::open_when_unlocked(path)?;
    Ok(RestoredBackup {
        from: from.to_owned(),
        previous_store_moved_to: previous,
        ledger_records: store.ledger_records()?.len(),
    })
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{encode, RecordTree};

    #[test]
    fn a_backup_taken_from_an_open_store_restores_every_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store");
        let store = Store::open(&path).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        for seq in 0..20 {
            store.append_ledger(3, seq, encode(&seq).unwrap()).unwrap();
        }
        runtime.block_on(store.sync_ledger(3)).unwrap();
        let snapshot = encode(&vec![9_u8; 200_000]).unwrap();
        store
            .put_symbols(vec![("BTCUSDT".into(), snapshot.clone())])
            .unwrap();
        store
            .put_record(RecordTree::Users, "alice", encode(&1_u8).unwrap())
            .unwrap();
        let backup = dir.path().join("backup");
        let report = store.backup_to(&backup).unwrap();
        assert_eq!(
            (report.ledger_records, report.symbols),
            (20, 1),
            "{report:?}"
        );
        assert!(
            store.backup_to(&backup).is_err(),
            "never over an old backup"
        );
        // Later changes are not in the backup: the restore takes the store back to it.
        store
            .append_ledger(3, 20, encode(&20_u64).unwrap())
            .unwrap();
        runtime.block_on(store.sync_ledger(3)).unwrap();
        drop(store);
        let restored = restore(&path, &backup).unwrap();
        assert_eq!(restored.ledger_records, 20);
        assert!(restored
            .previous_store_moved_to
            .unwrap()
            .join("store")
            .exists());
        let store = super::super::repair::open_when_unlocked(&path).unwrap();
        assert_eq!(store.raw_symbol("BTCUSDT").unwrap(), Some(snapshot));
        assert_eq!(store.records(RecordTree::Users).unwrap().len(), 1);
        assert!(
            store.ledger_findings().is_empty(),
            "{:?}",
            store.ledger_findings()
        );
    }
}

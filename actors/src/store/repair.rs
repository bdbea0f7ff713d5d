//! `cryptolens store repair`: the way back from a store sled cannot open or read.
//!
//! The damaged store is moved aside (never deleted), a fresh one is created in its place,
//! every value of the old one that can still be read and verified is copied in, and the
//! portfolios are rebuilt from the ledger journal (the old store's ledger filling in only
//! what the journal lacks). What could not be saved is listed: candles come back by
//! re-import or the exchange feed's gap repair; lost accounts by the first-admin start.

use super::chunks::split_chunk_key;
use super::envelope::verify;
use super::{Store, StoreError, StoreProblem};
use serde::Serialize;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};

/// What one tree of the old store gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TreeSalvage {
    pub tree: String,
    pub saved: u64,
    /// Values that did not verify, or could not be read at all.
    pub damaged: u64,
    /// Why reading the tree stopped early, if it did: the rest of it is lost.
    pub stopped: Option<String>,
}

/// What a repair did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepairReport {
    pub damaged_store_moved_to: PathBuf,
    /// Why the old store could not be opened at all (then only the journal was read).
    pub unreadable: Option<String>,
    pub trees: Vec<TreeSalvage>,
    /// Ledger records in the repaired store, from the journal and the old store together.
    pub ledger_records: usize,
    /// What comparing the journal with what the old store gave found (records restored
    /// from the journal, journal damage, records neither copy holds intact).
    pub ledger_findings: Vec<StoreProblem>,
}

/// Repairs the store at `path` (which must not be in use).
pub fn repair(path: &Path) -> Result<RepairReport, StoreError> {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    let aside = path.with_extension(format!("damaged-{stamp}"));
    let io = |source| StoreError::Compact {
        path: path.to_owned(),
        source,
    };
    let old = open_raw(path);
    if let Err(StoreError::Locked { .. }) = &old {
        return Err(StoreError::Locked {
            path: path.to_owned(),
        });
    }
    let repairing = path.with_extension("repairing");
    if repairing.exists() {
        // A repair cut short left it; the damaged store is still in place.
        std::fs::remove_dir_all(&repairing).map_err(io)?;
    }
    let fresh = sled::Config::new().path(&repairing).open()?;
    let (trees, unreadable) = match &old {
        Ok(old) => (salvage(old, &fresh), None),
        Err(error) => (Vec::new(), Some(error.to_string())),
    };
    fresh.flush()?;
    drop(fresh);
    drop(old);
    if path.exists() {
        std::fs::rename(path, &aside).map_err(io)?;
    }
    std::fs::rename(&repairing, path).map_err(io)?;
    // Whatever stop the damaged store had, the repaired one may lack candles.
    let _ = std::fs::remove_file(path.with_extension("clean-stop"));
    let store = open_when_unlocked(path)?;
    Ok(RepairReport {
        damaged_store_moved_to: aside,
        unreadable,
        trees,
        ledger_records: store.ledger_records()?.len(),
        ledger_findings: store.ledger_findings().to_vec(),
    })
}

/// sled's own database at `path`, without creating one; a panic while opening is an error.
fn open_raw(path: &Path) -> Result<sled::Db, StoreError> {
    if !path.join("conf").exists() && !path.join("db").exists() {
        return Err(StoreError::Unreadable {
            path: path.to_owned(),
            message: "no sled database there".into(),
        });
    }
    let opened = std::panic::catch_unwind(|| sled::Config::new().path(path).open());
    match opened {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(error)) => Err(super::database::open_error(path, error)),
        Err(_) => Err(StoreError::Unreadable {
            path: path.to_owned(),
            message: "opening it panicked".into(),
        }),
    }
}

/// Copies every tree of `old` into `fresh`, value by value, keeping what verifies.
fn salvage(old: &sled::Db, fresh: &sled::Db) -> Vec<TreeSalvage> {
    let mut salvaged = Vec::new();
    for name in old.tree_names() {
        let tree_name = String::from_utf8_lossy(&name).into_owned();
        if tree_name == "__sled__default" {
            continue;
        }
        let copied = std::panic::catch_unwind(AssertUnwindSafe(|| {
            copy_tree(old, fresh, &name, &tree_name)
        }));
        salvaged.push(copied.unwrap_or_else(|_| TreeSalvage {
            tree: tree_name,
            saved: 0,
            damaged: 0,
            stopped: Some("reading it panicked".into()),
        }));
    }
    salvaged
}

fn copy_tree(old: &sled::Db, fresh: &sled::Db, name: &[u8], tree_name: &str) -> TreeSalvage {
    let mut salvage = TreeSalvage {
        tree: tree_name.to_owned(),
        saved: 0,
        damaged: 0,
        stopped: None,
    };
    let (source, target) = match (old.open_tree(name), fresh.open_tree(name)) {
        (Ok(source), Ok(target)) => (source, target),
        (Err(error), _) | (_, Err(error)) => {
            salvage.stopped = Some(error.to_string());
            return salvage;
        }
    };
    // Snapshot chunks verify only when joined (`load_symbols` quarantines a bad one).
    let chunked = tree_name == "symbol_chunks";
    for entry in source.iter() {
        let (key, value) = match entry {
            Ok(entry) => entry,
            Err(error) => {
                salvage.stopped = Some(error.to_string());
                break;
            }
        };
        let intact = if chunked {
            split_chunk_key(&key).is_some()
        } else {
            verify(&value).is_ok()
        };
        if !intact {
            salvage.damaged += 1;
            continue;
        }
        match target.insert(key, value) {
            Ok(_) => salvage.saved += 1,
            Err(error) => {
                salvage.stopped = Some(error.to_string());
                break;
            }
        }
    }
    salvage
}

/// Opens the store at `path`, waiting out sled's threads of a database this process just
/// dropped (they release the lock a moment later).
pub(super) fn open_when_unlocked(path: &Path) -> Result<Store, StoreError> {
    for _ in 0..100 {
        match Store::open(path) {
            Err(StoreError::Locked { .. }) => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
    Store::open(path)
}

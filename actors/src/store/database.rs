//! The sled database and its trees.

use super::chunks::{chunk_key, chunks, split_chunk_key, symbol_prefix};
use super::envelope::{decode, verify};
use super::journal::{self, JournalWriter};
use super::packed;
use super::StoreError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The name symbol snapshots are reported under.
const SYMBOLS_TREE: &str = "symbols";
/// Where snapshots live, in chunks (see [`super::chunks`]).
pub(super) const SYMBOL_CHUNKS_TREE: &str = "symbol_chunks";
/// Where stores written before chunking kept whole snapshots; moved into chunks at open.
const LEGACY_SYMBOLS_TREE: &str = "symbols";
const LEDGER_TREE: &str = "ledger";
const QUARANTINE_TREE: &str = "quarantine";

/// Trees of small records written one at a time and flushed at once: the server's users,
/// login sessions (by token digest) and API keys (by id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordTree {
    Users,
    Sessions,
    ApiKeys,
    /// Two-factor enrolments: the TOTP secret sealed with a key kept outside the store.
    Totp,
    /// Backtest jobs the server ran or runs, with their results.
    Backtests,
    /// Users' notification channels, by id.
    NotifyChannels,
    /// The notifier's outbox and delivery history, by channel then subject.
    NotifyDeliveries,
    /// Users' own alerts (price, move, pattern, trade), by id.
    NotifyAlerts,
}

impl RecordTree {
    const ALL: [RecordTree; 8] = [
        RecordTree::Users,
        RecordTree::Sessions,
        RecordTree::ApiKeys,
        RecordTree::Totp,
        RecordTree::Backtests,
        RecordTree::NotifyChannels,
        RecordTree::NotifyDeliveries,
        RecordTree::NotifyAlerts,
    ];

    fn name(self) -> &'static str {
        match self {
            RecordTree::Users => "users",
            RecordTree::Sessions => "sessions",
            RecordTree::ApiKeys => "api_keys",
            RecordTree::Totp => "totp",
            RecordTree::Backtests => "backtests",
            RecordTree::NotifyChannels => "notify_channels",
            RecordTree::NotifyDeliveries => "notify_deliveries",
            RecordTree::NotifyAlerts => "notify_alerts",
        }
    }
}
/// sled's page cache for the commands that open the store (`store check`, `user add`);
/// the server sizes its own from `engine.store_cache_mib`.
pub const DEFAULT_CACHE_MIB: u64 = 32;

/// What a load found: the values that decoded (by key) and the ones that did not.
pub struct Loaded<T> {
    pub values: Vec<(String, T)>,
    pub problems: Vec<StoreProblem>,
}

/// A stored value that failed verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreProblem {
    pub tree: String,
    pub key: String,
    pub problem: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TreeCount {
    pub tree: String,
    pub values: usize,
    pub bytes: u64,
}

impl TreeCount {
    fn named(tree: &str) -> TreeCount {
        TreeCount {
            tree: tree.into(),
            values: 0,
            bytes: 0,
        }
    }

    /// Counts one value, and its problem if it has one.
    fn add<P: ToString>(
        &mut self,
        problems: &mut Vec<StoreProblem>,
        key: String,
        value: &[u8],
        problem: Option<P>,
    ) {
        self.values += 1;
        self.bytes += value.len() as u64;
        if let Some(problem) = problem {
            problems.push(StoreProblem {
                tree: self.tree.clone(),
                key,
                problem: problem.to_string(),
            });
        }
    }
}

/// What `cryptolens store check` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    pub trees: Vec<TreeCount>,
    pub problems: Vec<StoreProblem>,
}

pub struct Store {
    path: PathBuf,
    db: sled::Db,
    symbols: sled::Tree,
    quarantine: sled::Tree,
    /// Portfolio records, keyed by portfolio id then sequence number (both big-endian, so
    /// key order is log order).
    ledger: sled::Tree,
    /// In [`RecordTree::ALL`] order.
    records: Vec<sled::Tree>,
    /// The ledger's second copy, and the one a mutation's acknowledgement waits for.
    journal: JournalWriter,
    /// What comparing the ledger with its journal found at open.
    ledger_findings: Vec<StoreProblem>,
    reserve: super::disk_reserve::DiskReserve,
    last_stop: LastStop,
}

/// How the process that used the store before this one ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LastStop {
    /// The store was created by this process.
    Fresh,
    /// A shutdown that saved everything.
    Clean,
    /// A crash, `kill -9`, power loss or a shutdown that could not save everything: what was
    /// ingested after the last snapshot round may be missing (ledger entries never are).
    Unclean,
}

/// Where a shutdown that saved everything leaves its mark (removed at every open).
fn clean_stop_marker(path: &Path) -> PathBuf {
    path.with_extension("clean-stop")
}

impl Store {
    /// Opens (or creates) the database at `path`. A second process gets
    /// [`StoreError::Locked`] at once rather than waiting.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open_with_cache(path, DEFAULT_CACHE_MIB)
    }

    /// [`Store::open`] with a page cache of `cache_mib`.
    pub fn open_with_cache(path: &Path, cache_mib: u64) -> Result<Store, StoreError> {
        super::compact::restore_interrupted(path)?;
        let existed = path.join("conf").exists();
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(cache_mib.saturating_mul(1024 * 1024))
            .open()
            .map_err(|error| open_error(path, error))?;
        super::compact::remove_leftovers(path)?;
        // The candles, ledgers and account records are the owner's alone.
        super::compact::restrict_to_owner(path).map_err(|source| StoreError::Compact {
            path: path.to_owned(),
            source,
        })?;
        let symbols = db.open_tree(SYMBOL_CHUNKS_TREE)?;
        migrate_whole_snapshots(&db, &symbols)?;
        let quarantine = db.open_tree(QUARANTINE_TREE)?;
        let ledger = db.open_tree(LEDGER_TREE)?;
        let records = RecordTree::ALL
            .iter()
            .map(|tree| db.open_tree(tree.name()))
            .collect::<Result<Vec<_>, _>>()?;
        let (journal, ledger_findings) =
            journal::open_beside(path, &db, read_ledger(&ledger)?, |restored| {
                for record in restored {
                    let key = ledger_key(record.portfolio, record.seq);
                    ledger.insert(key, record.bytes.as_slice())?;
                }
                db.flush()?;
                Ok(())
            })?;
        Ok(Store {
            path: path.to_owned(),
            db,
            symbols,
            quarantine,
            ledger,
            records,
            journal,
            ledger_findings,
            reserve: super::disk_reserve::DiskReserve::new(path, 0),
            last_stop: take_clean_stop_marker(path, existed)?,
        })
    }

    /// Keeps `reserve_bytes` of the disk free: below it, the writes clients ask for are
    /// refused with [`StoreError::DiskFull`] (see `disk_reserve`).
    pub fn with_disk_reserve(mut self, reserve_bytes: u64) -> Store {
        self.reserve = super::disk_reserve::DiskReserve::new(&self.path, reserve_bytes);
        self
    }

    /// Whether a write a client asks for may go ahead now.
    pub fn admit_write(&self) -> Result<(), StoreError> {
        self.reserve.admit()
    }

    /// Free bytes on the store's disk and the reserve kept.
    pub fn disk_space(&self) -> (Option<u64>, u64) {
        let available = self.reserve.available_bytes().ok();
        (available, self.reserve.reserve_bytes())
    }

    fn record_tree(&self, tree: RecordTree) -> &sled::Tree {
        // `records` holds one tree per variant, in declaration order.
        &self.records[tree as usize]
    }

    /// Writes one record (already enveloped) and flushes it to disk before returning.
    pub fn put_record(
        &self,
        tree: RecordTree,
        key: &str,
        bytes: Vec<u8>,
    ) -> Result<(), StoreError> {
        self.admit_write()?;
        self.record_tree(tree).insert(key.as_bytes(), bytes)?;
        self.db.flush()?;
        Ok(())
    }

    /// Writes records (already enveloped) in one batch and flushes them before returning.
    pub fn put_records(
        &self,
        tree: RecordTree,
        records: Vec<(String, Vec<u8>)>,
    ) -> Result<(), StoreError> {
        self.admit_write()?;
        let mut batch = sled::Batch::default();
        for (key, bytes) in records {
            batch.insert(key.as_bytes(), bytes);
        }
        self.record_tree(tree).apply_batch(batch)?;
        self.db.flush()?;
        Ok(())
    }

    /// Removes records and flushes the removal to disk before returning.
    pub fn remove_records(&self, tree: RecordTree, keys: &[String]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for key in keys {
            batch.remove(key.as_bytes());
        }
        self.record_tree(tree).apply_batch(batch)?;
        self.db.flush()?;
        Ok(())
    }

    /// Every record of `tree` as (key, envelope bytes), in key order.
    pub fn records(&self, tree: RecordTree) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.record_tree(tree)
            .iter()
            .map(|entry| {
                let (key, value) = entry?;
                Ok((String::from_utf8_lossy(&key).into_owned(), value.to_vec()))
            })
            .collect()
    }

    /// What the database takes on disk, as sled counts it.
    pub fn size_on_disk_bytes(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk()?)
    }

    /// The sled database itself, for whole-store operations such as compaction.
    pub(super) fn database(&self) -> &sled::Db {
        &self.db
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes symbol snapshots (already enveloped) in one batch and flushes them to disk.
    pub fn put_symbols(&self, values: Vec<(String, Vec<u8>)>) -> Result<(), StoreError> {
        self.admit_write()?;
        let mut batch = sled::Batch::default();
        for (key, value) in values {
            self.batch_symbol(&mut batch, &key, &value)?;
        }
        self.symbols.apply_batch(batch)?;
        self.db.flush()?;
        Ok(())
    }

    /// Adds `value`'s chunks to `batch`, and the removal of any chunk an older, longer
    /// snapshot of `key` left beyond them.
    fn batch_symbol(
        &self,
        batch: &mut sled::Batch,
        key: &str,
        value: &[u8],
    ) -> Result<(), StoreError> {
        let mut count = 0_u32;
        for piece in chunks(&packed::pack(value)) {
            batch.insert(chunk_key(key, count), piece);
            count += 1;
        }
        // Only the tail past the new last chunk (usually nothing) is read, not the old value.
        for entry in self
            .symbols
            .range(chunk_key(key, count)..=chunk_key(key, u32::MAX))
        {
            batch.remove(entry?.0);
        }
        Ok(())
    }

    /// Deletes a symbol's snapshot and flushes: after a restart it is gone.
    pub fn remove_symbol(&self, key: &str) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for entry in self.symbols.scan_prefix(symbol_prefix(key)) {
            batch.remove(entry?.0);
        }
        self.symbols.apply_batch(batch)?;
        self.db.flush()?;
        Ok(())
    }

    /// The name of every stored snapshot, in order.
    pub(super) fn symbol_names(&self) -> Result<Vec<String>, StoreError> {
        let mut names: Vec<String> = Vec::new();
        for key in self.symbols.iter().keys() {
            let key = key?;
            if let Some((name, _)) = split_chunk_key(&key) {
                let name = String::from_utf8_lossy(name).into_owned();
                if names.last() != Some(&name) {
                    names.push(name);
                }
            }
        }
        Ok(names)
    }

    /// One symbol's snapshot bytes, its chunks joined; None if absent.
    fn symbol_bytes(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut bytes = None::<Vec<u8>>;
        for entry in self.symbols.scan_prefix(symbol_prefix(key)) {
            let (_, piece) = entry?;
            bytes.get_or_insert_with(Vec::new).extend_from_slice(&piece);
        }
        Ok(bytes.map(packed::unpack))
    }

    /// Calls `visit` with every stored snapshot (name, joined bytes) in name order, holding
    /// one snapshot in memory at a time.
    fn for_each_symbol(
        &self,
        mut visit: impl FnMut(String, Vec<u8>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut current: Option<(Vec<u8>, Vec<u8>)> = None;
        for entry in self.symbols.iter() {
            let (key, piece) = entry?;
            let Some((symbol, _)) = split_chunk_key(&key) else {
                return Err(StoreError::MalformedKey {
                    tree: SYMBOL_CHUNKS_TREE,
                    key: key.to_vec(),
                });
            };
            match &mut current {
                Some((name, bytes)) if name.as_slice() == symbol => bytes.extend_from_slice(&piece),
                _ => {
                    if let Some((name, bytes)) = current.take() {
                        visit(
                            String::from_utf8_lossy(&name).into_owned(),
                            packed::unpack(bytes),
                        )?;
                    }
                    current = Some((symbol.to_vec(), piece.to_vec()));
                }
            }
        }
        if let Some((name, bytes)) = current {
            visit(
                String::from_utf8_lossy(&name).into_owned(),
                packed::unpack(bytes),
            )?;
        }
        Ok(())
    }

    /// Writes one portfolio record (already enveloped) to the ledger tree and queues it for
    /// the journal. Not durable until [`Store::sync_ledger`] of its portfolio returns `Ok`:
    /// the portfolio actor acknowledges only then.
    pub fn append_ledger(
        &self,
        portfolio_id: u64,
        seq: u64,
        bytes: Vec<u8>,
    ) -> Result<(), StoreError> {
        // Into the store first: the journal's writer flushes the store before each fsync,
        // so whatever the journal holds, the store's log holds too (see `journal`).
        self.ledger
            .insert(ledger_key(portfolio_id, seq), bytes.as_slice())?;
        self.journal
            .append(portfolio_id, seq, &bytes)
            .map_err(|source| StoreError::JournalSync(std::sync::Arc::new(source)))
    }

    /// Makes every ledger record appended so far durable in the store and the journal;
    /// concurrent callers share one flush and one fsync.
    pub async fn sync_ledger(&self, portfolio_id: u64) -> Result<(), StoreError> {
        self.journal
            .sync(portfolio_id)
            .await
            .map_err(StoreError::JournalSync)
    }

    /// Every portfolio record as (portfolio id, sequence, envelope bytes), in log order.
    pub fn ledger_records(&self) -> Result<Vec<(u64, u64, Vec<u8>)>, StoreError> {
        read_ledger(&self.ledger)
    }

    /// What comparing the ledger with its journal found when the store was opened: records
    /// restored from either copy, and those neither holds intact.
    pub fn ledger_findings(&self) -> &[StoreProblem] {
        &self.ledger_findings
    }

    /// Every symbol snapshot that verifies and decodes. Any other value is moved to the
    /// quarantine tree (kept for inspection, never served) and reported.
    pub fn load_symbols<T: DeserializeOwned>(&self) -> Result<Loaded<T>, StoreError> {
        let (mut loaded, mut problems) = (Vec::new(), Vec::new());
        let mut damaged = Vec::new();
        self.for_each_symbol(|key, value| {
            match decode::<T>(&value) {
                Ok(snapshot) => loaded.push((key, snapshot)),
                Err(error) => {
                    problems.push(StoreProblem {
                        tree: SYMBOLS_TREE.into(),
                        key: key.clone(),
                        problem: error.to_string(),
                    });
                    damaged.push((key, value));
                }
            }
            Ok(())
        })?;
        for (key, value) in &damaged {
            self.quarantine.insert(key.as_bytes(), value.as_slice())?;
            self.remove_symbol(key)?;
        }
        Ok(Loaded {
            values: loaded,
            problems,
        })
    }

    /// One symbol's snapshot, verified and decoded; None if absent.
    pub fn symbol<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreProblem> {
        let problem = |problem: String| StoreProblem {
            tree: SYMBOLS_TREE.into(),
            key: key.into(),
            problem,
        };
        let value = self
            .symbol_bytes(key)
            .map_err(|error| problem(error.to_string()))?;
        value
            .map(|bytes| decode(&bytes).map_err(|error| problem(error.to_string())))
            .transpose()
    }

    /// Verifies every value's envelope; quarantined values count as problems too.
    pub fn check(&self) -> Result<CheckReport, StoreError> {
        let mut report = CheckReport {
            trees: Vec::new(),
            problems: Vec::new(),
        };
        let mut count = TreeCount::named(SYMBOLS_TREE);
        self.for_each_symbol(|key, value| {
            count.add(&mut report.problems, key, &value, verify(&value).err());
            Ok(())
        })?;
        report.trees.push(count);
        let mut trees = vec![
            (LEDGER_TREE, &self.ledger),
            (QUARANTINE_TREE, &self.quarantine),
        ];
        trees.extend(RecordTree::ALL.map(|tree| (tree.name(), self.record_tree(tree))));
        for (name, tree) in trees {
            let mut count = TreeCount::named(name);
            for entry in tree.iter() {
                let (key, value) = entry?;
                let problem = match (name, verify(&value)) {
                    (QUARANTINE_TREE, verified) => Some(format!(
                        "quarantined at start-up: {}",
                        verified
                            .err()
                            .map_or("decodes no more".into(), |e| e.to_string())
                    )),
                    (_, verified) => verified.err().map(|error| error.to_string()),
                };
                let key = match (name, split_ledger_key(&key)) {
                    (LEDGER_TREE, Some((portfolio, seq))) => format!("{portfolio}/{seq}"),
                    _ => String::from_utf8_lossy(&key).into_owned(),
                };
                count.add(&mut report.problems, key, &value, problem);
            }
            report.trees.push(count);
        }
        report.problems.extend(self.ledger_findings.iter().cloned());
        Ok(report)
    }

    /// Raw access for tests and operators' tools: the stored bytes under `key`.
    pub fn raw_symbol(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.symbol_bytes(key)
    }

    /// Replaces the stored bytes under `key` as they are (tests use it to damage values).
    pub fn put_raw_symbol(&self, key: &str, bytes: &[u8]) -> Result<(), StoreError> {
        self.put_symbols(vec![(key.to_owned(), bytes.to_vec())])
    }

    /// How the process before this one ended.
    pub fn last_stop(&self) -> LastStop {
        self.last_stop
    }

    /// Records that this process saved everything: the next open sees a clean stop.
    pub fn mark_clean_stop(&self) -> Result<(), StoreError> {
        let marker = clean_stop_marker(&self.path);
        let io = |source| StoreError::Compact {
            path: marker.clone(),
            source,
        };
        std::fs::File::create(&marker)
            .and_then(|file| file.sync_all())
            .map_err(io)?;
        if let Some(dir) = marker.parent() {
            std::fs::File::open(dir)
                .and_then(|dir| dir.sync_all())
                .map_err(io)?;
        }
        Ok(())
    }

    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }
}

/// How the last process ended, removing the mark of a clean stop so that this process ending
/// any other way is seen at the next open.
fn take_clean_stop_marker(path: &Path, existed: bool) -> Result<LastStop, StoreError> {
    let marker = clean_stop_marker(path);
    let io = |source| StoreError::Compact {
        path: marker.clone(),
        source,
    };
    if !existed {
        return Ok(LastStop::Fresh);
    }
    if !marker.exists() {
        return Ok(LastStop::Unclean);
    }
    std::fs::remove_file(&marker).map_err(io)?;
    Ok(LastStop::Clean)
}

/// Moves the whole snapshots of a store written before chunking into chunks, then drops
/// the old tree, so a store upgrades itself once at open.
fn migrate_whole_snapshots(db: &sled::Db, chunked: &sled::Tree) -> Result<(), StoreError> {
    let exists = db
        .tree_names()
        .iter()
        .any(|name| name.as_ref() == LEGACY_SYMBOLS_TREE.as_bytes());
    if !exists {
        return Ok(());
    }
    let legacy = db.open_tree(LEGACY_SYMBOLS_TREE)?;
    for entry in legacy.iter() {
        let (key, value) = entry?;
        let name = String::from_utf8_lossy(&key);
        let mut batch = sled::Batch::default();
        for (index, piece) in chunks(&value).enumerate() {
            batch.insert(chunk_key(&name, index as u32), piece);
        }
        chunked.apply_batch(batch)?;
    }
    db.flush()?;
    db.drop_tree(LEGACY_SYMBOLS_TREE)?;
    db.flush()?;
    Ok(())
}

fn read_ledger(ledger: &sled::Tree) -> Result<Vec<(u64, u64, Vec<u8>)>, StoreError> {
    let mut records = Vec::new();
    for entry in ledger.iter() {
        let (key, value) = entry?;
        let Some((portfolio_id, seq)) = split_ledger_key(&key) else {
            return Err(StoreError::MalformedKey {
                tree: LEDGER_TREE,
                key: key.to_vec(),
            });
        };
        records.push((portfolio_id, seq, value.to_vec()));
    }
    Ok(records)
}

fn ledger_key(portfolio_id: u64, seq: u64) -> [u8; 16] {
    let mut key = [0; 16];
    key[..8].copy_from_slice(&portfolio_id.to_be_bytes());
    key[8..].copy_from_slice(&seq.to_be_bytes());
    key
}

fn split_ledger_key(key: &[u8]) -> Option<(u64, u64)> {
    let portfolio_id = u64::from_be_bytes(key.get(..8)?.try_into().ok()?);
    let seq = u64::from_be_bytes(key.get(8..16)?.try_into().ok()?);
    Some((portfolio_id, seq))
}

pub(super) fn open_error(path: &Path, error: sled::Error) -> StoreError {
    let message = error.to_string();
    let locked = match &error {
        sled::Error::Io(io) => io.kind() == std::io::ErrorKind::WouldBlock,
        _ => false,
    } || message.contains("lock");
    if locked {
        StoreError::Locked {
            path: path.to_owned(),
        }
    } else {
        StoreError::Open {
            path: path.to_owned(),
            source: error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::encode;

    #[test]
    fn damaged_values_are_quarantined_and_reported_while_good_ones_load() {
        let dir = std::env::temp_dir().join(format!("cryptolens-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(&dir).unwrap();
        let good = encode(&vec![1_i64, 2, 3]).unwrap();
        let mut flipped = good.clone();
        *flipped.last_mut().unwrap() ^= 1;
        store
            .put_symbols(vec![
                ("AAAUSDT".into(), good.clone()),
                ("BBBUSDT".into(), flipped),
                ("CCCUSDT".into(), good[..good.len() - 2].to_vec()),
            ])
            .unwrap();
        assert_eq!(store.check().unwrap().problems.len(), 2);
        let loaded = store.load_symbols::<Vec<i64>>().unwrap();
        assert_eq!(loaded.values, [("AAAUSDT".to_string(), vec![1, 2, 3])]);
        let keys: Vec<&str> = loaded.problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["BBBUSDT", "CCCUSDT"]);
        let report = store.check().unwrap();
        assert_eq!(report.trees[2].values, 2, "both kept in quarantine");
        assert!(report.problems.iter().all(|p| p.tree == "quarantine"));
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::remove_file(dir.with_extension("journal"));
    }

    #[test]
    fn a_store_of_whole_snapshots_is_moved_into_chunks_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store");
        let value = encode(&vec![7_u8; 100_000]).unwrap();
        {
            let db = sled::open(&path).unwrap();
            db.open_tree(LEGACY_SYMBOLS_TREE)
                .unwrap()
                .insert("AAAUSDT", value.clone())
                .unwrap();
            db.flush().unwrap();
        }
        // sled's threads release the lock of a dropped database a moment later.
        let store = (0..100)
            .find_map(|_| match Store::open(&path) {
                Err(StoreError::Locked { .. }) => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    None
                }
                other => Some(other.unwrap()),
            })
            .unwrap();
        assert_eq!(store.raw_symbol("AAAUSDT").unwrap(), Some(value));
        let names = store.db.tree_names();
        assert!(!names
            .iter()
            .any(|n| n.as_ref() == LEGACY_SYMBOLS_TREE.as_bytes()));
        assert_eq!(
            store.symbols.len(),
            100_000 / super::super::chunks::CHUNK_BYTES + 1
        );
        store
            .put_symbols(vec![("AAAUSDT".into(), vec![1, 2, 3])])
            .unwrap();
        assert_eq!(
            store.symbols.len(),
            1,
            "a shorter snapshot leaves no stale chunk"
        );
        store.remove_symbol("AAAUSDT").unwrap();
        assert!(store.symbols.is_empty());
    }

    #[test]
    fn a_second_open_of_the_same_store_is_refused_at_once() {
        let dir = std::env::temp_dir().join(format!("cryptolens-lock-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = Store::open(&dir).unwrap();
        let second = Store::open(&dir);
        assert!(
            matches!(second, Err(StoreError::Locked { .. })),
            "{:?}",
            second.err()
        );
        drop(first);
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::remove_file(dir.with_extension("journal"));
    }
}

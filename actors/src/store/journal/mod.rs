//! The ledger journal: every ledger record a second time, in an append-only file beside the
//! sled database (`<data_dir>/store.journal`), each frame with its own checksum and ids.
//! A mutation is acknowledged only once its frame is fsynced (group commit, `writer.rs`), so
//! every acknowledged entry exists in a form checked independently of sled's log; at every
//! open the two copies are compared and each repaired from the other (`reconcile.rs`).

mod frame;
mod reconcile;
mod writer;

pub use frame::{frame, scan, JournalRecord, Scan};
pub use reconcile::{reconcile, Reconciliation};
pub use writer::{FlushStore, JournalWriter, SyncResult};

use std::io::Write;
use std::path::{Path, PathBuf};

/// Where the journal of the store at `store_path` lives.
pub fn journal_path(store_path: &Path) -> PathBuf {
    store_path.with_extension("journal")
}

/// The journal's bytes (empty when there is no file) and whether the file exists.
pub fn read(path: &Path) -> std::io::Result<(Vec<u8>, bool)> {
    match std::fs::read(path) {
        Ok(bytes) => Ok((bytes, true)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok((Vec::new(), false)),
        Err(error) => Err(error),
    }
}

/// Replaces the journal at `path` with `records`, crash-safely: a new file is written and
/// fsynced, the old one (when `keep_old_as` names a place) kept for inspection, then the
/// new one renamed into place and the directory fsynced. Answers the new length.
pub fn rewrite(
    path: &Path,
    records: &[JournalRecord],
    keep_old_as: Option<&Path>,
) -> std::io::Result<u64> {
    let fresh = path.with_extension("journal.new");
    let mut file = std::fs::File::create(&fresh)?;
    let mut length = 0;
    for record in records {
        let bytes = frame(record.portfolio, record.seq, &record.bytes);
        file.write_all(&bytes)?;
        length += bytes.len() as u64;
    }
    file.sync_all()?;
    if let (Some(old), true) = (keep_old_as, path.exists()) {
        std::fs::copy(path, old)?;
    }
    std::fs::rename(&fresh, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(length)
}

/// Opens the journal beside the store at `store_path`, compares it with the store's ledger
/// records (`stored`), writes into the store what it lost (`restore`, which must flush),
/// rewrites the journal when it lacks or damaged any, and starts its writer. Answers the
/// writer and what was found.
pub(in crate::store) fn open_beside(
    store_path: &Path,
    db: &sled::Db,
    stored: Vec<(u64, u64, Vec<u8>)>,
    restore: impl FnOnce(&[JournalRecord]) -> Result<(), crate::store::StoreError>,
) -> Result<(JournalWriter, Vec<crate::store::StoreProblem>), crate::store::StoreError> {
    let path = journal_path(store_path);
    let io = |source| crate::store::StoreError::Journal {
        path: path.clone(),
        source,
    };
    let (bytes, existed) = read(&path).map_err(io)?;
    let total = bytes.len() as u64;
    let scanned = scan(&bytes);
    drop(bytes);
    let mut good_length = scanned.good_length(total);
    let damaged = !scanned.damage.is_empty();
    let outcome = reconcile(scanned, existed, stored);
    for finding in &outcome.findings {
        tracing::error!(tree = %finding.tree, key = %finding.key, problem = %finding.problem,
            "ledger copies disagreed at open");
    }
    if !outcome.restore.is_empty() {
        restore(&outcome.restore)?;
    }
    if outcome.rewrite_journal {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());
        let kept = damaged.then(|| path.with_extension(format!("journal.damaged-{stamp}")));
        good_length = rewrite(&path, &outcome.merged, kept.as_deref()).map_err(io)?;
    }
    let flushed = db.clone();
    let flush: FlushStore = Box::new(move || {
        flushed
            .flush()
            .map(|_| ())
            .map_err(|error| std::io::Error::other(error.to_string()))
    });
    let writer = JournalWriter::start(&path, good_length, flush).map_err(io)?;
    Ok((writer, outcome.findings))
}

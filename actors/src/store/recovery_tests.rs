//! The store and its ledger journal repair each other at open, and `repair` gets a store
//! sled cannot open back from the journal.

use super::journal::{journal_path, read, rewrite, scan};
use super::repair::open_when_unlocked;
use super::{encode, repair, RecordTree, Store};
use std::path::Path;

fn record(seq: u64) -> Vec<u8> {
    encode(&format!("ledger record {seq}")).unwrap()
}

/// A store at `path` with `count` records of portfolio 1 and 2 records of portfolio 2, all
/// synced (acknowledged), and one user.
fn acknowledged_store(path: &Path, count: u64) {
    let store = Store::open(path).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for seq in 0..count {
        store.append_ledger(1, seq, record(seq)).unwrap();
    }
    for seq in 0..2 {
        store.append_ledger(2, seq, record(100 + seq)).unwrap();
    }
    runtime.block_on(store.sync_ledger(1)).unwrap();
    store
        .put_record(
            RecordTree::Users,
            "alice",
            encode(&"alice".to_string()).unwrap(),
        )
        .unwrap();
}

/// [`acknowledged_store`] in a fresh temporary directory: the directory and the store's path.
fn acknowledged_in_temp(count: u64) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    acknowledged_store(&path, count);
    (dir, path)
}

/// [`repair`], waiting out sled's threads of a database this process just dropped.
fn repair_when_unlocked(path: &Path) -> super::RepairReport {
    for _ in 0..100 {
        match repair(path) {
            Err(super::StoreError::Locked { .. }) => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other.unwrap(),
        }
    }
    panic!("the store stayed locked");
}

/// Changes the store's ledger tree behind its back, as damage to sled's files would.
fn with_raw_ledger(path: &Path, change: impl FnOnce(&sled::Tree)) {
    let db = loop {
        match sled::Config::new().path(path).open() {
            Ok(db) => break db,
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
        }
    };
    change(&db.open_tree("ledger").unwrap());
    db.flush().unwrap();
}

/// Record `seq` of `portfolio` damaged in the store (one bit flipped) and gone from the
/// journal: the loss neither copy can make good.
pub(crate) fn damage_in_both_copies(path: &Path, portfolio: u64, seq: u64) {
    with_raw_ledger(path, |ledger| {
        let mut value = ledger.get(key(portfolio, seq)).unwrap().unwrap().to_vec();
        *value.last_mut().unwrap() ^= 1;
        ledger.insert(key(portfolio, seq), value).unwrap();
    });
    let journal = journal_path(path);
    let mut records = scan(&read(&journal).unwrap().0).records;
    records.retain(|r| !(r.portfolio == portfolio && r.seq == seq));
    rewrite(&journal, &records, None).unwrap();
}

fn key(portfolio: u64, seq: u64) -> Vec<u8> {
    [portfolio.to_be_bytes(), seq.to_be_bytes()].concat()
}

fn problem_keys(store: &Store) -> Vec<String> {
    let findings = store.ledger_findings();
    findings
        .iter()
        .map(|p| format!("{} {}", p.tree, p.key))
        .collect()
}

#[test]
fn a_tail_the_store_lost_is_restored_from_the_journal_and_reported() {
    let (_dir, path) = acknowledged_in_temp(40);
    with_raw_ledger(&path, |ledger| {
        for seq in 4..40 {
            ledger.remove(key(1, seq)).unwrap();
        }
    });
    let store = open_when_unlocked(&path).unwrap();
    assert_eq!(problem_keys(&store), ["ledger 1/4..39"]);
    assert_eq!(store.ledger_records().unwrap().len(), 42);
    assert_eq!(
        store.check().unwrap().problems.len(),
        1,
        "check reports it too"
    );
    drop(store);
    let again = open_when_unlocked(&path).unwrap();
    assert!(
        again.ledger_findings().is_empty(),
        "repaired once and for all"
    );
}

#[test]
fn a_damaged_store_value_with_no_journal_copy_is_reported_unrecoverable() {
    let (_dir, path) = acknowledged_in_temp(5);
    damage_in_both_copies(&path, 1, 2);
    let store = open_when_unlocked(&path).unwrap();
    let findings = store.ledger_findings();
    assert_eq!(problem_keys(&store), ["ledger 1/2"]);
    assert!(
        findings[0].problem.contains("cannot be recovered"),
        "{findings:?}"
    );
}

#[test]
fn a_damaged_journal_is_rewritten_from_the_store_and_the_damaged_copy_kept() {
    let (dir, path) = acknowledged_in_temp(10);
    let journal = journal_path(&path);
    let mut bytes = std::fs::read(&journal).unwrap();
    bytes[100] ^= 0xff;
    std::fs::write(&journal, &bytes).unwrap();
    let store = open_when_unlocked(&path).unwrap();
    assert!(problem_keys(&store)
        .iter()
        .any(|k| k.starts_with("journal bytes")));
    let rewritten = scan(&std::fs::read(&journal).unwrap());
    assert_eq!(rewritten.records.len(), 12);
    assert!(rewritten.damage.is_empty());
    let kept = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .any(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .contains("journal.damaged-")
        });
    assert!(kept, "the damaged journal is kept for inspection");
}

#[test]
fn repair_rebuilds_a_store_sled_cannot_open_from_the_journal() {
    let (_dir, path) = acknowledged_in_temp(7);
    // Give sled a moment to let go of the lock, then destroy its files.
    drop(open_when_unlocked(&path).unwrap());
    for entry in std::fs::read_dir(&path).unwrap().filter_map(Result::ok) {
        if entry.path().is_file() {
            std::fs::write(entry.path(), vec![0xA5; 4096]).unwrap();
        }
    }
    let report = repair_when_unlocked(&path);
    assert_eq!(report.ledger_records, 9, "{report:?}");
    assert!(report.damaged_store_moved_to.exists());
    let store = open_when_unlocked(&path).unwrap();
    assert_eq!(store.ledger_records().unwrap().len(), 9);
    assert!(store.ledger_findings().is_empty());
}

#[test]
fn repair_of_a_readable_store_keeps_its_records_and_accounts() {
    let (_dir, path) = acknowledged_in_temp(3);
    drop(open_when_unlocked(&path).unwrap());
    let report = repair_when_unlocked(&path);
    assert_eq!(report.unreadable, None);
    assert!(report.ledger_findings.is_empty(), "{report:?}");
    let users = report.trees.iter().find(|t| t.tree == "users").unwrap();
    assert_eq!((users.saved, users.damaged), (1, 0));
    let store = open_when_unlocked(&path).unwrap();
    assert_eq!(store.records(RecordTree::Users).unwrap().len(), 1);
    assert_eq!(store.ledger_records().unwrap().len(), 5);
}

//! At open: the journal's copy of the ledger against the store's, record by record.
//!
//! The store is flushed before the journal is (see `writer.rs`), so:
//! - a record the journal holds and the store lacks (or holds damaged) was acknowledged and
//!   the store lost it: it is restored from the journal;
//! - a record the store holds and the journal lacks within the journal's range for its
//!   portfolio, or while the journal has damaged bytes, is journal damage: the journal is
//!   rewritten from the store;
//! - a store record past the journal's last one of its portfolio is one whose fsync never
//!   returned: never acknowledged, kept without a word (the portfolio's log continues);
//! - a record damaged in the store with no journal copy cannot be recovered: reported, and
//!   the portfolio's replay stops before it (`PortfolioBook` serves it read-only).

use super::frame::{JournalRecord, Scan};
use crate::store::envelope::verify;
use crate::store::StoreProblem;
use std::collections::{BTreeMap, BTreeSet};

/// What the store and the journal hold, and what to do about it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Reconciliation {
    /// Journal copies to write into the store.
    pub restore: Vec<JournalRecord>,
    /// Every verified record, in (portfolio, sequence) order: what the journal is rewritten
    /// to when `rewrite_journal`.
    pub merged: Vec<JournalRecord>,
    pub rewrite_journal: bool,
    /// What was found wrong, and what was done about it.
    pub findings: Vec<StoreProblem>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Finding {
    RestoredToStore,
    RestoredToJournal,
    Unrecoverable,
}

impl Finding {
    fn says(self) -> &'static str {
        match self {
            Finding::RestoredToStore => {
                "acknowledged, but lost or damaged in the store: restored from the journal"
            }
            Finding::RestoredToJournal => {
                "missing or damaged in the journal: rewritten from the store"
            }
            Finding::Unrecoverable => {
                "damaged in the store and not in the journal: cannot be recovered; the portfolio is read-only from here"
            }
        }
    }
}

type Key = (u64, u64);

/// Compares the journal's records (`journal`, read from a file that existed when
/// `journal_existed`) with the store's (`stored`: portfolio, sequence, bytes).
pub fn reconcile(
    journal: Scan,
    journal_existed: bool,
    stored: Vec<(u64, u64, Vec<u8>)>,
) -> Reconciliation {
    let journal_damaged = !journal.damage.is_empty() || (!journal_existed && !stored.is_empty());
    let mut journal_last: BTreeMap<u64, u64> = BTreeMap::new();
    let mut journaled: BTreeMap<Key, Vec<u8>> = BTreeMap::new();
    for record in journal.records {
        let last = journal_last.entry(record.portfolio).or_insert(record.seq);
        *last = (*last).max(record.seq);
        journaled.insert((record.portfolio, record.seq), record.bytes);
    }
    let stored: BTreeMap<Key, Vec<u8>> = stored
        .into_iter()
        .map(|(portfolio, seq, bytes)| ((portfolio, seq), bytes))
        .collect();
    let keys: BTreeSet<Key> = journaled.keys().chain(stored.keys()).copied().collect();
    let mut outcome = Reconciliation::default();
    let mut found: Vec<(Key, Finding)> = Vec::new();
    for key in keys {
        let store_copy = stored.get(&key).filter(|bytes| verify(bytes).is_ok());
        match (journaled.remove(&key), store_copy) {
            (Some(bytes), Some(copy)) if *copy == bytes => outcome.merged.push(record(key, bytes)),
            (Some(bytes), _) => {
                found.push((key, Finding::RestoredToStore));
                outcome.restore.push(record(key, bytes.clone()));
                outcome.merged.push(record(key, bytes));
            }
            (None, Some(copy)) => {
                outcome.rewrite_journal = true;
                let within = journal_last.get(&key.0).is_some_and(|last| key.1 < *last);
                if within || journal_damaged {
                    found.push((key, Finding::RestoredToJournal));
                }
                outcome.merged.push(record(key, copy.clone()));
            }
            (None, None) => found.push((key, Finding::Unrecoverable)),
        }
    }
    outcome.rewrite_journal |=
        !outcome.restore.is_empty() || journal_damaged || journal.torn_tail_at.is_some();
    outcome.findings = grouped(found);
    outcome
        .findings
        .extend(journal.damage.iter().map(|damage| StoreProblem {
            tree: "journal".into(),
            key: format!("bytes {}..{}", damage.offset, damage.offset + damage.length),
            problem: "unreadable: the journal was rewritten from every record that verifies".into(),
        }));
    if !journal_existed && journal_damaged {
        outcome.findings.push(StoreProblem {
            tree: "journal".into(),
            key: "ledger.journal".into(),
            problem: "missing while the store holds ledger records: rebuilt from the store".into(),
        });
    }
    outcome
}

fn record((portfolio, seq): Key, bytes: Vec<u8>) -> JournalRecord {
    JournalRecord {
        portfolio,
        seq,
        bytes,
    }
}

/// One problem per run of consecutive records of one portfolio with the same finding.
fn grouped(found: Vec<(Key, Finding)>) -> Vec<StoreProblem> {
    let mut runs: Vec<(u64, u64, u64, Finding)> = Vec::new();
    for ((portfolio, seq), finding) in found {
        match runs.last_mut() {
            Some((p, _, last, f)) if *p == portfolio && *f == finding && *last + 1 == seq => {
                *last = seq;
            }
            _ => runs.push((portfolio, seq, seq, finding)),
        }
    }
    runs.into_iter()
        .map(|(portfolio, first, last, finding)| StoreProblem {
            tree: "ledger".into(),
            key: if first == last {
                format!("{portfolio}/{first}")
            } else {
                format!("{portfolio}/{first}..{last}")
            },
            problem: finding.says().into(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::frame::Damage;
    use super::*;
    use crate::store::encode;

    fn value(text: &str) -> Vec<u8> {
        encode(&text.to_string()).unwrap()
    }

    fn journal_of(records: &[(u64, u64, &str)]) -> Scan {
        Scan {
            records: records
                .iter()
                .map(|(p, s, text)| record((*p, *s), value(text)))
                .collect(),
            ..Scan::default()
        }
    }

    fn stored_of(records: &[(u64, u64, &str)]) -> Vec<(u64, u64, Vec<u8>)> {
        records.iter().map(|(p, s, t)| (*p, *s, value(t))).collect()
    }

    fn keys(problems: &[StoreProblem]) -> Vec<String> {
        problems
            .iter()
            .map(|p| format!("{} {}", p.tree, p.key))
            .collect()
    }

    const LOG: [(u64, u64, &str); 4] = [(1, 0, "a"), (1, 1, "b"), (1, 2, "c"), (2, 0, "x")];

    #[test]
    fn matching_copies_find_nothing() {
        let outcome = reconcile(journal_of(&LOG), true, stored_of(&LOG));
        assert!(outcome.findings.is_empty());
        assert!(outcome.restore.is_empty());
        assert!(!outcome.rewrite_journal);
        assert_eq!(outcome.merged.len(), 4);
    }

    #[test]
    fn a_tail_the_store_lost_is_restored_from_the_journal_and_reported() {
        let outcome = reconcile(journal_of(&LOG), true, stored_of(&LOG[..1]));
        assert_eq!(keys(&outcome.findings), ["ledger 1/1..2", "ledger 2/0"]);
        assert_eq!(outcome.restore.len(), 3);
        assert_eq!(outcome.merged.len(), 4);
    }

    #[test]
    fn a_value_damaged_in_the_store_is_restored_and_one_without_a_copy_is_unrecoverable() {
        let mut stored = stored_of(&LOG);
        *stored[1].2.last_mut().unwrap() ^= 1;
        let outcome = reconcile(journal_of(&LOG), true, stored.clone());
        assert_eq!(keys(&outcome.findings), ["ledger 1/1"]);
        assert_eq!(outcome.restore, [record((1, 1), value("b"))]);
        let lost = reconcile(journal_of(&[]), true, stored);
        assert_eq!(keys(&lost.findings), ["ledger 1/1"]);
        assert!(lost.findings[0].problem.contains("cannot be recovered"));
        assert_eq!(
            lost.merged.len(),
            3,
            "the damaged value is not copied into the journal"
        );
    }

    #[test]
    fn store_records_past_the_journal_were_never_acknowledged_and_are_kept_quietly() {
        let outcome = reconcile(journal_of(&LOG[..2]), true, stored_of(&LOG));
        assert!(outcome.findings.is_empty(), "{:?}", outcome.findings);
        assert!(outcome.rewrite_journal);
        assert_eq!(outcome.merged.len(), 4);
    }

    #[test]
    fn journal_damage_is_reported_and_repaired_from_the_store() {
        let mut journal = journal_of(&[LOG[0], LOG[2], LOG[3]]);
        journal.damage.push(Damage {
            offset: 40,
            length: 30,
        });
        let outcome = reconcile(journal, true, stored_of(&LOG));
        assert_eq!(
            keys(&outcome.findings),
            ["ledger 1/1", "journal bytes 40..70"]
        );
        assert!(outcome.rewrite_journal);
        let missing = reconcile(Scan::default(), false, stored_of(&LOG));
        assert_eq!(missing.findings.len(), 3, "{:?}", missing.findings);
        assert_eq!(missing.merged.len(), 4);
        assert!(reconcile(Scan::default(), false, Vec::new())
            .findings
            .is_empty());
    }
}

//! The journal's one writer thread, with group commit.
//!
//! Appends and syncs arrive on a channel; the thread takes everything queued, writes the
//! frames in one go and, when anyone waits for durability, flushes the sled store and then
//! fsyncs the journal before answering them all. Flushing the store first means a record in
//! the journal is always also in the store's durable log: at start, a journal record the
//! store lacks is damage the store suffered (and is restored), while a store record the
//! journal lacks is one whose fsync never returned (never acknowledged).
//!
//! One thread calling sled's blocking flush replaces one `flush_async` per portfolio actor:
//! many concurrent `flush_async` calls deadlock sled 0.34's I/O thread pool (its issues
//! #1308 and #1241).
//!
//! A failed write cuts the journal back to its last good frame and fails every later sync of
//! the portfolios whose records it lost, until they are appended again: a sync never
//! answers for a record that is not on disk.

use super::frame::frame;
use std::collections::HashSet;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::{mpsc, Arc};
use tokio::sync::oneshot;

/// Why the journal could not make records durable.
pub type SyncResult = Result<(), Arc<std::io::Error>>;

/// Flushes the store's own log; run before each journal fsync.
pub type FlushStore = Box<dyn Fn() -> std::io::Result<()> + Send>;

enum Command {
    Append {
        portfolio: u64,
        frame: Vec<u8>,
    },
    Sync {
        portfolio: u64,
        reply: oneshot::Sender<SyncResult>,
    },
}

pub struct JournalWriter {
    commands: mpsc::Sender<Command>,
}

impl JournalWriter {
    /// Starts the writer on `path`, cut to `good_length` first (a torn tail goes).
    pub fn start(
        path: &Path,
        good_length: u64,
        flush_store: FlushStore,
    ) -> std::io::Result<JournalWriter> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        file.set_len(good_length)?;
        file.sync_all()?;
        let (commands, receiver) = mpsc::channel();
        let state = WriterState {
            file,
            length: good_length,
            flush_store,
            lost: HashSet::new(),
        };
        std::thread::Builder::new()
            .name("ledger-journal".into())
            .spawn(move || state.run(receiver))?;
        Ok(JournalWriter { commands })
    }

    /// Queues one record; durable once a later [`JournalWriter::sync`] of its portfolio
    /// answers `Ok`.
    pub fn append(&self, portfolio: u64, seq: u64, payload: &[u8]) -> std::io::Result<()> {
        let command = Command::Append {
            portfolio,
            frame: frame(portfolio, seq, payload),
        };
        self.commands.send(command).map_err(|_| stopped())
    }

    /// Answers once every record queued before it is durable (or why it is not).
    pub async fn sync(&self, portfolio: u64) -> SyncResult {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Sync { portfolio, reply })
            .map_err(|_| Arc::new(stopped()))?;
        answer.await.map_err(|_| Arc::new(stopped()))?
    }
}

fn stopped() -> std::io::Error {
    std::io::Error::other("the ledger journal's writer has stopped")
}

struct WriterState {
    file: File,
    /// The end of the last frame known written.
    length: u64,
    flush_store: FlushStore,
    /// Portfolios with a record a failed write lost: their syncs fail until they append
    /// again (a stopped actor's replacement starts from the durable log).
    lost: HashSet<u64>,
}

impl WriterState {
    fn run(mut self, commands: mpsc::Receiver<Command>) {
        while let Ok(first) = commands.recv() {
            let mut batch = vec![first];
            batch.extend(commands.try_iter());
            self.commit(batch);
        }
    }

    fn commit(&mut self, batch: Vec<Command>) {
        let mut bytes = Vec::new();
        let mut appended = HashSet::new();
        let mut waiting = Vec::new();
        for command in batch {
            match command {
                Command::Append { portfolio, frame } => {
                    bytes.extend_from_slice(&frame);
                    appended.insert(portfolio);
                }
                Command::Sync { portfolio, reply } => waiting.push((portfolio, reply)),
            }
        }
        let written = self.write(&bytes);
        match &written {
            Ok(()) => self.lost.retain(|portfolio| !appended.contains(portfolio)),
            Err(_) => self.lost.extend(appended),
        }
        if waiting.is_empty() {
            return;
        }
        let synced = written.and_then(|()| self.sync());
        for (portfolio, reply) in waiting {
            let answer = match &synced {
                Ok(()) if self.lost.contains(&portfolio) => Err(Arc::new(std::io::Error::other(
                    "a ledger record of this portfolio was not written to the journal",
                ))),
                Ok(()) => Ok(()),
                Err(error) => Err(Arc::clone(error)),
            };
            let _ = reply.send(answer);
        }
    }

    fn write(&mut self, bytes: &[u8]) -> SyncResult {
        if bytes.is_empty() {
            return Ok(());
        }
        match self.file.write_all(bytes) {
            Ok(()) => {
                self.length += bytes.len() as u64;
                Ok(())
            }
            Err(error) => {
                // A half-written frame would read as damage: cut it off (best effort; if
                // that fails too, the next start sees a torn tail and drops it).
                let _ = self.file.set_len(self.length);
                Err(Arc::new(error))
            }
        }
    }

    fn sync(&mut self) -> SyncResult {
        (self.flush_store)().map_err(Arc::new)?;
        self.file.sync_data().map_err(Arc::new)
    }
}

#[cfg(test)]
mod tests {
    use super::super::frame::scan;
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn synced_records_are_on_disk_in_order_after_the_store_flush() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.journal");
        std::fs::write(&path, b"torn tail").unwrap();
        let flushes = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&flushes);
        let flush: FlushStore = Box::new(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            Ok(())
        });
        let writer = JournalWriter::start(&path, 0, flush).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        for seq in 0..5 {
            writer
                .append(9, seq, format!("record {seq}").as_bytes())
                .unwrap();
        }
        runtime.block_on(writer.sync(9)).unwrap();
        assert!(flushes.load(Ordering::SeqCst) >= 1);
        let scan = scan(&std::fs::read(&path).unwrap());
        let seqs: Vec<u64> = scan.records.iter().map(|r| r.seq).collect();
        assert_eq!(seqs, [0, 1, 2, 3, 4]);
        assert_eq!(scan.torn_tail_at, None, "the torn tail was cut at start");
    }

    #[test]
    fn a_failed_store_flush_fails_the_sync() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.journal");
        let flush: FlushStore = Box::new(|| Err(std::io::Error::other("disk full")));
        let writer = JournalWriter::start(&path, 0, flush).unwrap();
        writer.append(1, 0, b"x").unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let error = runtime.block_on(writer.sync(1)).unwrap_err();
        assert_eq!(error.to_string(), "disk full");
    }

    #[test]
    fn a_portfolio_whose_record_a_write_lost_is_not_told_it_is_durable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.journal");
        std::fs::write(&path, b"").unwrap();
        let mut state = WriterState {
            file: File::open(&path).unwrap(),
            length: 0,
            flush_store: Box::new(|| Ok(())),
            lost: HashSet::new(),
        };
        // Opened read-only: the write fails.
        state.commit(vec![Command::Append {
            portfolio: 4,
            frame: frame(4, 1, b"lost"),
        }]);
        assert!(state.lost.contains(&4));
        let (reply, answer) = oneshot::channel();
        state.file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        state.commit(vec![Command::Sync {
            portfolio: 4,
            reply,
        }]);
        assert!(answer.blocking_recv().unwrap().is_err());
        let (reply, answer) = oneshot::channel();
        state.commit(vec![
            Command::Append {
                portfolio: 4,
                frame: frame(4, 1, b"again"),
            },
            Command::Sync {
                portfolio: 4,
                reply,
            },
        ]);
        assert!(answer.blocking_recv().unwrap().is_ok());
    }
}

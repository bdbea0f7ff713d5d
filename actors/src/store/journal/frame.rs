//! One journal record on disk, and reading a journal back:
//!
//! ```text
//! magic "CLJ1" (4) | payload length u32 LE | portfolio id u64 LE | sequence u64 LE |
//! CRC-32 of the length, ids and payload u32 LE | payload (the ledger record's envelope)
//! ```
//!
//! A damaged frame cannot be trusted for anything, its ids included: the scan skips to the
//! next magic whose frame verifies and reports the bytes in between. Bytes after the last
//! frame that verifies are a torn tail (a batch whose fsync never returned, so nothing in it
//! was acknowledged): reported apart, because the store holds a copy of anything there that
//! was (see `writer.rs`: the store is flushed before the journal).

const MAGIC: [u8; 4] = *b"CLJ1";
const HEADER_BYTES: usize = 4 + 4 + 8 + 8 + 4;

/// A record read back from the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalRecord {
    pub portfolio: u64,
    pub seq: u64,
    pub bytes: Vec<u8>,
}

/// Bytes of the journal that hold no verifiable frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    pub offset: u64,
    pub length: u64,
}

/// What a journal holds.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Scan {
    pub records: Vec<JournalRecord>,
    pub damage: Vec<Damage>,
    /// Where the unverifiable bytes after the last good frame begin, if there are any.
    pub torn_tail_at: Option<u64>,
}

impl Scan {
    /// The length of the journal up to the end of its last good frame.
    pub fn good_length(&self, total: u64) -> u64 {
        self.torn_tail_at.unwrap_or(total)
    }
}

/// The frame of one record.
pub fn frame(portfolio: u64, seq: u64, payload: &[u8]) -> Vec<u8> {
    let length = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    let mut bytes = Vec::with_capacity(HEADER_BYTES + payload.len());
    bytes.extend_from_slice(&MAGIC);
    bytes.extend_from_slice(&length.to_le_bytes());
    bytes.extend_from_slice(&portfolio.to_le_bytes());
    bytes.extend_from_slice(&seq.to_le_bytes());
    let checksum = checksum(&bytes[4..], payload);
    bytes.extend_from_slice(&checksum.to_le_bytes());
    bytes.extend_from_slice(payload);
    bytes
}

fn checksum(header: &[u8], payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(header);
    hasher.update(payload);
    hasher.finalize()
}

/// The frame at the start of `bytes` and its length, if one is there and verifies.
fn read_frame(bytes: &[u8]) -> Option<(JournalRecord, usize)> {
    let header = bytes.get(..HEADER_BYTES)?;
    if header[..4] != MAGIC {
        return None;
    }
    let field = |range: std::ops::Range<usize>| header.get(range);
    let length = u32::from_le_bytes(field(4..8)?.try_into().ok()?) as usize;
    let portfolio = u64::from_le_bytes(field(8..16)?.try_into().ok()?);
    let seq = u64::from_le_bytes(field(16..24)?.try_into().ok()?);
    let stored = u32::from_le_bytes(field(24..28)?.try_into().ok()?);
    let payload = bytes.get(HEADER_BYTES..HEADER_BYTES.checked_add(length)?)?;
    if checksum(&header[4..24], payload) != stored {
        return None;
    }
    let record = JournalRecord {
        portfolio,
        seq,
        bytes: payload.to_vec(),
    };
    Some((record, HEADER_BYTES + length))
}

/// Every frame of `bytes` that verifies, in file order, and where the others were.
pub fn scan(bytes: &[u8]) -> Scan {
    let mut scan = Scan::default();
    let mut offset = 0;
    while offset < bytes.len() {
        if let Some((record, length)) = read_frame(&bytes[offset..]) {
            scan.records.push(record);
            offset += length;
            continue;
        }
        match next_frame(bytes, offset + 1) {
            Some(next) => {
                scan.damage.push(Damage {
                    offset: offset as u64,
                    length: (next - offset) as u64,
                });
                offset = next;
            }
            None => {
                scan.torn_tail_at = Some(offset as u64);
                break;
            }
        }
    }
    scan
}

/// The offset of the first frame at or after `from` that verifies.
fn next_frame(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while at + MAGIC.len() <= bytes.len() {
        let found = bytes[at..].windows(MAGIC.len()).position(|w| w == MAGIC)?;
        let candidate = at + found;
        if read_frame(&bytes[candidate..]).is_some() {
            return Some(candidate);
        }
        at = candidate + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal(records: &[(u64, u64, &[u8])]) -> Vec<u8> {
        records
            .iter()
            .flat_map(|(portfolio, seq, payload)| frame(*portfolio, *seq, payload))
            .collect()
    }

    fn ids(scan: &Scan) -> Vec<(u64, u64)> {
        scan.records.iter().map(|r| (r.portfolio, r.seq)).collect()
    }

    #[test]
    fn frames_read_back_as_written() {
        let bytes = journal(&[(1, 0, b"open"), (2, 0, b""), (1, 1, b"trade")]);
        let scan = scan(&bytes);
        assert_eq!(ids(&scan), [(1, 0), (2, 0), (1, 1)]);
        assert_eq!(scan.records[2].bytes, b"trade");
        assert!(scan.damage.is_empty());
        assert_eq!(scan.torn_tail_at, None);
        assert_eq!(scan.good_length(bytes.len() as u64), bytes.len() as u64);
    }

    #[test]
    fn a_damaged_frame_is_skipped_and_reported_and_the_rest_is_read() {
        let mut bytes = journal(&[(1, 0, b"first"), (1, 1, b"second"), (1, 2, b"third")]);
        let second = frame(1, 0, b"first").len();
        bytes[second + HEADER_BYTES + 2] ^= 0x40;
        let scan = scan(&bytes);
        assert_eq!(ids(&scan), [(1, 0), (1, 2)]);
        assert_eq!(
            scan.damage,
            [Damage {
                offset: second as u64,
                length: frame(1, 1, b"second").len() as u64
            }]
        );
        assert_eq!(scan.torn_tail_at, None);
    }

    #[test]
    fn a_cut_or_damaged_last_frame_is_a_torn_tail() {
        let whole = journal(&[(3, 0, b"kept"), (3, 1, b"cut short")]);
        let kept = frame(3, 0, b"kept").len();
        for cut in [kept + 1, kept + HEADER_BYTES, whole.len() - 1] {
            let scan = scan(&whole[..cut]);
            assert_eq!(ids(&scan), [(3, 0)], "cut at {cut}");
            assert_eq!(scan.torn_tail_at, Some(kept as u64));
            assert_eq!(scan.good_length(cut as u64), kept as u64);
        }
        let mut flipped = whole.clone();
        flipped[kept + 9] ^= 1;
        assert_eq!(scan(&flipped).torn_tail_at, Some(kept as u64));
    }

    #[test]
    fn a_magic_inside_a_payload_does_not_confuse_the_scan() {
        let bytes = journal(&[(1, 0, b"CLJ1CLJ1 inside"), (1, 1, b"next")]);
        assert_eq!(ids(&scan(&bytes)), [(1, 0), (1, 1)]);
        let mut zeroed = bytes.clone();
        zeroed[..8].fill(0);
        let scan = scan(&zeroed);
        assert_eq!(ids(&scan), [(1, 1)]);
        assert_eq!(scan.damage.len(), 1);
    }
}

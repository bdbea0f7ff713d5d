//! Symbol snapshots stored as small chunks.
//!
//! Why: sled writes a whole leaf (up to 16 entries) as one log item, and an item larger than a
//! quarter of a segment (128 KiB) goes to a blob file that sled 0.34 never deletes (its issue
//! #786): a snapshot of ~1 MB per symbol, rewritten every round, grew the data directory by
//! about a gigabyte an hour. Chunks of [`CHUNK_BYTES`] keep every leaf inline in the log,
//! whose segments sled does reclaim.
//!
//! Key of a chunk: the symbol's name, a 0 byte, the chunk's index (u32, big-endian), so one
//! symbol's chunks are adjacent and in order. The envelope inside still carries the
//! checksum over the whole snapshot: a missing or damaged chunk fails verification.

/// Bytes per chunk: 16 chunks and their keys fit well inside one 128 KiB log item.
pub const CHUNK_BYTES: usize = 4 * 1024;

/// The key of chunk `index` of `symbol`.
pub fn chunk_key(symbol: &str, index: u32) -> Vec<u8> {
    let mut key = Vec::with_capacity(symbol.len() + 5);
    key.extend_from_slice(symbol.as_bytes());
    key.push(0);
    key.extend_from_slice(&index.to_be_bytes());
    key
}

/// Every key of `symbol`'s chunks starts with this.
pub fn symbol_prefix(symbol: &str) -> Vec<u8> {
    let mut prefix = symbol.as_bytes().to_vec();
    prefix.push(0);
    prefix
}

/// The symbol and chunk index of a chunk key.
pub fn split_chunk_key(key: &[u8]) -> Option<(&[u8], u32)> {
    let separator = key.len().checked_sub(5)?;
    if key[separator] != 0 {
        return None;
    }
    let index = u32::from_be_bytes(key[separator + 1..].try_into().ok()?);
    Some((&key[..separator], index))
}

/// `bytes` cut into chunks of at most [`CHUNK_BYTES`] (an empty value is one empty chunk).
pub fn chunks(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let empty: &[u8] = &[];
    let pieces = bytes.chunks(CHUNK_BYTES);
    let first_if_empty = bytes.is_empty().then_some(empty);
    first_if_empty.into_iter().chain(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_by_symbol_then_index_and_split_back() {
        let mut keys = [
            chunk_key("BTCUSDT", 256),
            chunk_key("BTC", 1),
            chunk_key("BTCUSDT", 2),
        ];
        keys.sort();
        let split: Vec<_> = keys.iter().map(|k| split_chunk_key(k).unwrap()).collect();
        assert_eq!(
            split,
            [
                (&b"BTC"[..], 1),
                (&b"BTCUSDT"[..], 2),
                (&b"BTCUSDT"[..], 256)
            ]
        );
        assert!(chunk_key("BTCUSDT", 3).starts_with(&symbol_prefix("BTCUSDT")));
        assert!(!chunk_key("BTCUSDTX", 3).starts_with(&symbol_prefix("BTCUSDT")));
        assert_eq!(split_chunk_key(b"BTC"), None);
        assert_eq!(split_chunk_key(b"BTCUSDT1234"), None);
    }

    #[test]
    fn chunks_cover_the_value_exactly() {
        let value: Vec<u8> = (0..CHUNK_BYTES * 2 + 7).map(|i| i as u8).collect();
        let pieces: Vec<&[u8]> = chunks(&value).collect();
        assert_eq!(pieces.len(), 3);
        assert_eq!(pieces.concat(), value);
        assert_eq!(chunks(&[]).count(), 1);
    }
}

//! Symbol snapshots compressed before they are cut into chunks.
//!
//! Why: sled 0.34 keeps every page it writes or reads in memory until its lazy LRU catches up,
//! and with a few large values per symbol it never does (256 shards each wait for 64 accesses
//! before evicting anything), so the snapshot bytes of every symbol stay resident whatever
//! `cache_capacity` says: 0.4 MiB per symbol with full rings, a third of the server's memory
//! (measured with heaptrack; see issue 14's note). LZ4 shrinks what sled holds, on disk and in
//! memory, at a cost of well under a millisecond per snapshot.
//!
//! Layout: `CLZ4`, the uncompressed size (u32 LE), then the LZ4 block. A value that does
//! not shrink, and every value written before this layout, is the plain envelope (it starts
//! with `CLNS`), so old stores read as they are.

use std::borrow::Cow;

const MAGIC: [u8; 4] = *b"CLZ4";
/// Far above any snapshot (one with full rings is under 1 MB): a damaged size field must not
/// make the reader allocate gigabytes.
const UNPACKED_BYTES_MAX: usize = 64 * 1024 * 1024;

/// What is stored for the enveloped snapshot `value`: compressed when that is smaller, built
/// in one buffer (header, then the block compressed in place behind it).
pub fn pack(value: &[u8]) -> Cow<'_, [u8]> {
    let Ok(size) = u32::try_from(value.len()) else {
        return Cow::Borrowed(value);
    };
    let header = MAGIC.len() + 4;
    let mut packed = vec![0; header + lz4_flex::block::get_maximum_output_size(value.len())];
    let Ok(written) = lz4_flex::block::compress_into(value, &mut packed[header..]) else {
        return Cow::Borrowed(value);
    };
    if header + written >= value.len() {
        return Cow::Borrowed(value);
    }
    packed[..MAGIC.len()].copy_from_slice(&MAGIC);
    packed[MAGIC.len()..header].copy_from_slice(&size.to_le_bytes());
    packed.truncate(header + written);
    Cow::Owned(packed)
}

/// The enveloped snapshot stored as `stored`. Bytes that are not a valid LZ4 block are handed
/// back as they are: the envelope check then reports them damaged, as any other damage.
pub fn unpack(stored: Vec<u8>) -> Vec<u8> {
    let Some(block) = stored.strip_prefix(&MAGIC) else {
        return stored;
    };
    match lz4_flex::block::uncompressed_size(block) {
        Ok((size, body)) if size <= UNPACKED_BYTES_MAX => {
            lz4_flex::decompress(body, size).unwrap_or(stored)
        }
        _ => stored,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::analysis::{AnalysisEvents, AnalysisSettings};
    use crate::domain::market::{Symbol, Timeframe};
    use crate::domain::scanner::SymbolScanner;
    use crate::domain::test_candles::raw_candle;
    use crate::store::{decode, encode};

    #[test]
    fn a_full_snapshot_shrinks_and_comes_back_whole() {
        let settings = std::sync::Arc::new(AnalysisSettings::default());
        let symbol = Symbol::parse("BTCUSDT").unwrap();
        let mut scanner = SymbolScanner::new(symbol, Timeframe::M1, 1000, settings);
        let (mut closed, mut events) = (Vec::new(), AnalysisEvents::default());
        for day in 0..1_001 {
            let price = 100 + (day * 7_919) % 50;
            let candle = raw_candle(day * 1_440, price, price + 2, price - 2, price + 1);
            scanner.on_candle(candle, &mut closed, &mut events);
        }
        let value = encode(&scanner).unwrap();
        let packed = pack(&value);
        assert!(packed.starts_with(b"CLZ4"));
        assert!(
            packed.len() * 2 < value.len(),
            "{} of {}",
            packed.len(),
            value.len()
        );
        let back: SymbolScanner = decode(&unpack(packed.into_owned())).unwrap();
        assert_eq!(back, scanner);
    }

    #[test]
    fn incompressible_and_old_values_are_stored_plain() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let noise: Vec<u8> = (0..5_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 56) as u8
            })
            .collect();
        assert_eq!(&*pack(&noise), &noise[..]);
        assert_eq!(unpack(noise.clone()), noise);
        assert_eq!(unpack(b"CLNSplain".to_vec()), b"CLNSplain");
    }

    #[test]
    fn a_damaged_block_is_handed_back_for_the_envelope_to_refuse() {
        let huge_size = b"CLZ4\xff\xff\xff\x7fnot lz4".to_vec();
        assert_eq!(unpack(huge_size.clone()), huge_size);
        let mut cut = pack(&encode(&vec![7_u64; 2_000]).unwrap()).into_owned();
        cut.truncate(cut.len() / 2);
        assert_eq!(unpack(cut.clone()), cut);
        assert!(decode::<Vec<u64>>(&cut).is_err());
    }
}

//! The envelope around every stored value:
//!
//! ```text
//! magic "CLNS" (4) | format version u16 LE | CRC-32 of the payload u32 LE |
//! payload length u32 LE | payload: bincode 2 (serde, standard config)
//! ```
//!
//! Encoding asserts the value round-trips before it is handed out; decoding verifies magic,
//! version, length and checksum before the payload is read.

use serde::de::DeserializeOwned;
use serde::Serialize;

const MAGIC: [u8; 4] = *b"CLNS";
/// Bumped whenever a stored type changes shape; older values are then reported, not misread.
pub const FORMAT_VERSION: u16 = 1;
const HEADER_BYTES: usize = 4 + 2 + 4 + 4;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("truncated: {0} bytes, shorter than its header or declared payload")]
    Truncated(usize),
    #[error("not a cryptolens value (bad magic)")]
    BadMagic,
    #[error("unknown format version {0} (this build reads {FORMAT_VERSION})")]
    UnknownVersion(u16),
    #[error("checksum mismatch: stored {stored:08x}, computed {computed:08x}")]
    ChecksumMismatch { stored: u32, computed: u32 },
    #[error("payload does not decode: {0}")]
    Undecodable(String),
    #[error("value does not encode: {0}")]
    Unencodable(String),
    #[error("value does not survive its own round trip")]
    RoundTrip,
}

fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// Encodes `value` in an envelope, after checking that the bytes decode back to it.
pub fn encode<T>(value: &T) -> Result<Vec<u8>, EnvelopeError>
where
    T: Serialize + DeserializeOwned + PartialEq,
{
    let payload = bincode::serde::encode_to_vec(value, config())
        .map_err(|error| EnvelopeError::Unencodable(error.to_string()))?;
    let length = u32::try_from(payload.len())
        .map_err(|_| EnvelopeError::Unencodable("payload over 4 GiB".into()))?;
    let mut bytes = Vec::with_capacity(HEADER_BYTES + payload.len());
    bytes.extend_from_slice(&MAGIC);
    bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    bytes.extend_from_slice(&length.to_le_bytes());
    bytes.extend_from_slice(&payload);
    let back: T = decode(&bytes)?;
    if back != *value {
        return Err(EnvelopeError::RoundTrip);
    }
    Ok(bytes)
}

/// Verifies the envelope and decodes its payload.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, EnvelopeError> {
    let payload = verify(bytes)?;
    let (value, read) = bincode::serde::decode_from_slice(payload, config())
        .map_err(|error| EnvelopeError::Undecodable(error.to_string()))?;
    if read != payload.len() {
        return Err(EnvelopeError::Undecodable(format!(
            "{} trailing bytes",
            payload.len() - read
        )));
    }
    Ok(value)
}

/// The payload, once magic, version, length and checksum are right.
pub fn verify(bytes: &[u8]) -> Result<&[u8], EnvelopeError> {
    let header = bytes
        .get(..HEADER_BYTES)
        .ok_or(EnvelopeError::Truncated(bytes.len()))?;
    if header[..4] != MAGIC {
        return Err(EnvelopeError::BadMagic);
    }
    let field = |range: std::ops::Range<usize>| -> [u8; 4] {
        let mut out = [0; 4];
        out[..range.len()].copy_from_slice(&header[range]);
        out
    };
    let version = u16::from_le_bytes([header[4], header[5]]);
    if version != FORMAT_VERSION {
        return Err(EnvelopeError::UnknownVersion(version));
    }
    let stored = u32::from_le_bytes(field(6..10));
    let length = u32::from_le_bytes(field(10..14)) as usize;
    let payload = &bytes[HEADER_BYTES..];
    if payload.len() != length {
        return Err(EnvelopeError::Truncated(bytes.len()));
    }
    let computed = crc32fast::hash(payload);
    if computed != stored {
        return Err(EnvelopeError::ChecksumMismatch { stored, computed });
    }
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Sample {
        name: String,
        values: Vec<i64>,
    }

    fn sample() -> Vec<u8> {
        encode(&Sample {
            name: "BTCUSDT".into(),
            values: vec![1, -2, 3],
        })
        .unwrap()
    }

    #[test]
    fn a_value_round_trips() {
        let back: Sample = decode(&sample()).unwrap();
        assert_eq!(back.values, [1, -2, 3]);
    }

    #[test]
    fn each_kind_of_damage_is_named() {
        let good = sample();
        let mut flipped = good.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0x40;
        assert!(matches!(
            decode::<Sample>(&flipped),
            Err(EnvelopeError::ChecksumMismatch { .. })
        ));
        assert_eq!(
            decode::<Sample>(&good[..good.len() - 3]).unwrap_err(),
            EnvelopeError::Truncated(good.len() - 3)
        );
        assert_eq!(
            decode::<Sample>(&good[..5]).unwrap_err(),
            EnvelopeError::Truncated(5)
        );
        let mut version = good.clone();
        version[4] = 9;
        assert_eq!(
            decode::<Sample>(&version).unwrap_err(),
            EnvelopeError::UnknownVersion(9)
        );
        let mut magic = good;
        magic[0] = b'X';
        assert_eq!(
            decode::<Sample>(&magic).unwrap_err(),
            EnvelopeError::BadMagic
        );
    }
}

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
    Undecodable(#[source] Codec<bincode::error::DecodeError>),
    #[error("payload does not decode: {0} trailing bytes")]
    TrailingBytes(usize),
    #[error("value does not encode: {0}")]
    Unencodable(#[source] Codec<bincode::error::EncodeError>),
    #[error("value does not encode: payload of {0} bytes is over 4 GiB")]
    TooLarge(usize),
    #[error("value does not survive its own round trip")]
    RoundTrip,
}

/// bincode's own error, kept as the source. Shared so problems can be cloned into reports;
/// two are equal when they say the same (bincode's errors have no equality of their own).
#[derive(Debug)]
pub struct Codec<E>(pub std::sync::Arc<E>);

impl<E> Clone for Codec<E> {
    fn clone(&self) -> Codec<E> {
        Codec(std::sync::Arc::clone(&self.0))
    }
}

impl<E: std::fmt::Display> std::fmt::Display for Codec<E> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(formatter)
    }
}

impl<E: std::error::Error + 'static> std::error::Error for Codec<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.0.as_ref())
    }
}

impl<E: std::fmt::Display> PartialEq for Codec<E> {
    fn eq(&self, other: &Codec<E>) -> bool {
        self.to_string() == other.to_string()
    }
}

impl<E: std::fmt::Display> Eq for Codec<E> {}

fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// Encodes `value` in an envelope, after checking that the bytes decode back to it.
pub fn encode<T>(value: &T) -> Result<Vec<u8>, EnvelopeError>
where
    T: Serialize + DeserializeOwned + PartialEq,
{
    let payload = bincode::serde::encode_to_vec(value, config())
        .map_err(|error| EnvelopeError::Unencodable(Codec(std::sync::Arc::new(error))))?;
    let length =
        u32::try_from(payload.len()).map_err(|_| EnvelopeError::TooLarge(payload.len()))?;
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

/// A CRC-32 of `value`'s encoding: what a record keeps instead of a value that replay
/// recomputes, to check the recomputed one is the same.
pub fn digest<T: Serialize>(value: &T) -> Result<u32, EnvelopeError> {
    let payload = bincode::serde::encode_to_vec(value, config())
        .map_err(|error| EnvelopeError::Unencodable(Codec(std::sync::Arc::new(error))))?;
    Ok(crc32fast::hash(&payload))
}

/// Verifies the envelope and decodes its payload.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, EnvelopeError> {
    let payload = verify(bytes)?;
    let (value, read) = bincode::serde::decode_from_slice(payload, config())
        .map_err(|error| EnvelopeError::Undecodable(Codec(std::sync::Arc::new(error))))?;
    if read != payload.len() {
        return Err(EnvelopeError::TrailingBytes(payload.len() - read));
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

    /// Bytes with a valid envelope around a payload that is not a `Sample`.
    fn wrapped(payload: &[u8]) -> Vec<u8> {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        bytes.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
        bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        bytes.extend_from_slice(payload);
        bytes
    }

    #[test]
    fn an_undecodable_payload_keeps_bincodes_error_as_its_source() {
        use std::error::Error;
        let error = decode::<Sample>(&wrapped(&[0xff, 0xff, 0xff])).unwrap_err();
        assert!(matches!(error, EnvelopeError::Undecodable(_)), "{error:?}");
        assert!(error.source().is_some(), "the bincode error is kept");
        assert_eq!(error.clone(), error);
        let trailing = encode(&7_u8).unwrap();
        let mut longer = verify(&trailing).unwrap().to_vec();
        longer.push(0);
        assert_eq!(
            decode::<u8>(&wrapped(&longer)),
            Err(EnvelopeError::TrailingBytes(1))
        );
    }

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

//! The one canonical binary encoding (bincode 2 over serde, standard config, with a size
//! limit). Signatures and hashes are computed over these bytes; keeping every call here
//! means the encoding can be swapped in one place.
//!
//! # Bounded decoding
//!
//! Decoding reads bytes from peers, clients and files, so a hostile length prefix must not
//! make it allocate: bincode checks every claimed length against the configured limit
//! *before* allocating (a string's bytes, a primitive's in-memory size), and [`decode`]
//! picks that limit from the input's own length ([`decode_limit`]): at most
//! [`CLAIM_FACTOR`] times the input, rounded up to a tier, and never more than
//! [`MAX_DECODE_BYTES`]. A 10-byte message that claims a 60 MiB string is refused as over
//! its limit without the 60 MiB being allocated. Sequences allocate ahead through serde's
//! cautious size hint (at most 1 MiB, whatever the claimed length).

use serde::de::DeserializeOwned;
use serde::Serialize;

/// The largest value [`decode`] accepts, in bytes (a transaction, a block, a record).
pub const MAX_DECODE_BYTES: usize = 64 * 1024 * 1024;

/// How many bytes bincode may claim per byte of input. Every claim is backed by at least
/// one input byte and is at most 16 bytes (a `u128` in one varint byte); strings and byte
/// strings claim exactly their encoded length. So a valid encoding never claims more than
/// 16 times its length.
pub const CLAIM_FACTOR: usize = 16;

/// Why bytes could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Not a valid encoding of the expected type.
    #[error("malformed encoding: {0}")]
    Malformed(String),
    /// Valid prefix followed by extra bytes.
    #[error("{0} trailing bytes after the encoded value")]
    Trailing(usize),
    /// A length prefix claims more than the limit for an input of this size
    /// ([`decode_limit`]): refused before anything is allocated for it.
    #[error("a length in the encoding claims more than the {0}-byte limit for its input")]
    OverLimit(usize),
}

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<MAX_DECODE_BYTES>()
}

/// The limits [`decode`] chooses from, ascending; the last is [`MAX_DECODE_BYTES`].
const TIERS: [usize; 4] = [64 * 1024, 1024 * 1024, 16 * 1024 * 1024, MAX_DECODE_BYTES];

/// The claim limit [`decode`] applies to an input of `len` bytes: the smallest tier at least
/// [`CLAIM_FACTOR`] times `len`, or [`MAX_DECODE_BYTES`] for inputs larger than that allows.
pub fn decode_limit(len: usize) -> usize {
    let want = len.saturating_mul(CLAIM_FACTOR);
    TIERS
        .iter()
        .copied()
        .find(|&t| t >= want)
        .unwrap_or(MAX_DECODE_BYTES)
}

fn decode_with<T: DeserializeOwned, const LIMIT: usize>(
    bytes: &[u8],
) -> Result<(T, usize), bincode::error::DecodeError> {
    bincode::serde::decode_from_slice(bytes, bincode::config::standard().with_limit::<LIMIT>())
}

/// Encodes `value` canonically.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    bincode::serde::encode_to_vec(value, config())
        .expect("encoding an in-memory value to a Vec cannot fail for Custody's types")
}

/// The length of `value`'s canonical encoding, bytes, without keeping the encoding.
pub fn encoded_len<T: Serialize + ?Sized>(value: &T) -> usize {
    /// Counts what is written.
    struct Count(usize);
    impl bincode::enc::write::Writer for Count {
        fn write(&mut self, bytes: &[u8]) -> Result<(), bincode::error::EncodeError> {
            self.0 += bytes.len();
            Ok(())
        }
    }
    let mut count = Count(0);
    bincode::serde::encode_into_writer(value, &mut count, config())
        .expect("encoding an in-memory value cannot fail for Custody's types");
    count.0
}

/// Decodes a value, refusing trailing bytes, within the claim limit [`decode_limit`] gives
/// for the input's length (see the module documentation).
///
/// Bincode's decoder accepts some non-canonical encodings (a varint written in more bytes
/// than needed, an identifier in another GS1 text form), so two byte strings may decode to
/// one value. Hashes and signatures are over the value's re-encoding, so this changes no
/// identity; a reader that needs the bytes themselves canonical checks
/// `encode(&value) == bytes`, as [`ProofBundle::from_bytes`](crate::proof::ProofBundle::from_bytes)
/// does.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    const T0: usize = TIERS[0];
    const T1: usize = TIERS[1];
    const T2: usize = TIERS[2];
    let limit = decode_limit(bytes.len());
    let decoded = match limit {
        T0 => decode_with::<T, T0>(bytes),
        T1 => decode_with::<T, T1>(bytes),
        T2 => decode_with::<T, T2>(bytes),
        _ => decode_with::<T, MAX_DECODE_BYTES>(bytes),
    };
    let (v, used) = decoded.map_err(|e| match e {
        bincode::error::DecodeError::LimitExceeded => DecodeError::OverLimit(limit),
        e => DecodeError::Malformed(e.to_string()),
    })?;
    if used != bytes.len() {
        return Err(DecodeError::Trailing(bytes.len() - used));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_trailing_bytes() {
        let v = (42u64, "hello".to_string(), vec![1u8, 2, 3]);
        let mut b = encode(&v);
        assert_eq!(decode::<(u64, String, Vec<u8>)>(&b).unwrap(), v);
        b.push(0);
        assert!(matches!(
            decode::<(u64, String, Vec<u8>)>(&b),
            Err(DecodeError::Trailing(1))
        ));
        assert!(decode::<(u64, String, Vec<u8>)>(&b[..3]).is_err());
    }

    #[test]
    fn encoded_len_is_the_encoding_length() {
        let v = (300u64, "hello".to_string(), vec![7u8; 1000]);
        assert_eq!(encoded_len(&v), encode(&v).len());
    }

    #[test]
    fn limit_grows_with_the_input_and_stops_at_the_maximum() {
        assert_eq!(decode_limit(0), 64 * 1024);
        assert_eq!(decode_limit(4 * 1024), 64 * 1024);
        assert_eq!(decode_limit(4 * 1024 + 1), 1024 * 1024);
        assert_eq!(decode_limit(1024 * 1024), 16 * 1024 * 1024);
        assert_eq!(decode_limit(usize::MAX), MAX_DECODE_BYTES);
    }

    #[test]
    fn a_length_prefix_past_the_limit_is_refused_before_allocating() {
        // A string claiming 60 MiB (varint: 0xFC, then a little-endian u32), in 10 bytes.
        let mut b = vec![0xFC];
        b.extend_from_slice(&(60u32 * 1024 * 1024).to_le_bytes());
        b.extend_from_slice(b"abcde");
        assert!(matches!(
            decode::<String>(&b),
            Err(DecodeError::OverLimit(l)) if l == 64 * 1024
        ));
        // A u64 length prefix near usize::MAX for a byte string.
        let mut b = vec![0xFD];
        b.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(
            decode::<String>(&b),
            Err(DecodeError::OverLimit(_))
        ));
        // Within the limit but past the input: an ordinary error, not an allocation.
        let mut b = vec![0xFB];
        b.extend_from_slice(&1000u16.to_le_bytes());
        assert!(matches!(
            decode::<String>(&b),
            Err(DecodeError::Malformed(_))
        ));
    }
}

//! The one canonical binary encoding (bincode 2 over serde, standard config, with a size
//! limit). Signatures and hashes are computed over these bytes; keeping every call here
//! means the encoding can be swapped in one place.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// The largest value [`decode`] accepts, in bytes (a transaction, a block, a record).
pub const MAX_DECODE_BYTES: usize = 64 * 1024 * 1024;

/// Why bytes could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Not a valid encoding of the expected type (or over the size limit).
    #[error("malformed encoding: {0}")]
    Malformed(String),
    /// Valid prefix followed by extra bytes.
    #[error("{0} trailing bytes after the encoded value")]
    Trailing(usize),
}

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<MAX_DECODE_BYTES>()
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

/// Decodes a value, refusing trailing bytes so every value has exactly one encoding.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    let (v, used) = bincode::serde::decode_from_slice(bytes, config())
        .map_err(|e| DecodeError::Malformed(e.to_string()))?;
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
}

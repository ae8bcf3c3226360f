//! Fixed-size byte strings (keys, signatures, hashes) that serialize as lowercase hex in
//! human-readable formats (JSON) and as raw bytes in binary ones (bincode).

use serde::de::{Error as _, Visitor};
use serde::{Deserializer, Serializer};
use std::fmt;

/// Serde helpers for `[u8; N]`, usable as `#[serde(with = "custody_consensus::bytes::hex_array")]`.
pub mod hex_array {
    use super::*;

    /// Serializes as hex (human-readable) or bytes (binary).
    pub fn serialize<S: Serializer, const N: usize>(v: &[u8; N], s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&hex::encode(v))
        } else {
            s.serialize_bytes(v)
        }
    }

    /// Deserializes from hex (human-readable) or bytes (binary), checking the length.
    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<[u8; N], D::Error> {
        struct V<const N: usize>;
        impl<'de, const N: usize> Visitor<'de> for V<N> {
            type Value = [u8; N];
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "{N} bytes, or {} hex digits", N * 2)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                let mut out = [0u8; N];
                hex::decode_to_slice(v, &mut out)
                    .map_err(|e| E::custom(format!("expected {} hex digits: {e}", N * 2)))?;
                Ok(out)
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
                v.try_into().map_err(|_| E::invalid_length(v.len(), &self))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                let mut out = [0u8; N];
                for (i, b) in out.iter_mut().enumerate() {
                    *b = seq
                        .next_element()?
                        .ok_or_else(|| A::Error::invalid_length(i, &self))?;
                }
                if seq.next_element::<u8>()?.is_some() {
                    return Err(A::Error::invalid_length(N + 1, &self));
                }
                Ok(out)
            }
        }
        if d.is_human_readable() {
            d.deserialize_str(V::<N>)
        } else {
            d.deserialize_bytes(V::<N>)
        }
    }
}

macro_rules! fixed_bytes {
    ($(#[$m:meta])* $name:ident, $n:expr) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        pub struct $name(#[serde(with = "crate::bytes::hex_array")] pub [u8; $n]);

        impl $name {
            /// The raw bytes.
            pub fn as_bytes(&self) -> &[u8; $n] {
                &self.0
            }
            /// Lowercase hex.
            pub fn to_hex(&self) -> String {
                hex::encode(self.0)
            }
            /// Parses lowercase or uppercase hex of the exact length.
            pub fn from_hex(s: &str) -> Result<Self, hex::FromHexError> {
                let mut out = [0u8; $n];
                hex::decode_to_slice(s.trim(), &mut out)?;
                Ok(Self(out))
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({}…)", stringify!($name), &self.to_hex()[..12])
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.to_hex())
            }
        }

        impl AsRef<[u8]> for $name {
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }
    };
}

fixed_bytes!(
    /// An ed25519 public key (32 bytes).
    PublicKey,
    32
);
fixed_bytes!(
    /// An ed25519 signature (64 bytes).
    Signature,
    64
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_hex_and_round_trips() {
        let k = PublicKey([7u8; 32]);
        let j = serde_json::to_string(&k).unwrap();
        assert_eq!(j, format!("\"{}\"", "07".repeat(32)));
        assert_eq!(serde_json::from_str::<PublicKey>(&j).unwrap(), k);
    }

    #[test]
    fn wrong_length_is_an_error() {
        assert!(serde_json::from_str::<PublicKey>("\"0707\"").is_err());
        assert!(serde_json::from_str::<Signature>(&format!("\"{}\"", "07".repeat(32))).is_err());
    }
}

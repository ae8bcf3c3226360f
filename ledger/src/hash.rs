//! SHA-256 hashes with domain separation: every hash Custody computes starts with a tag
//! naming what is hashed, so a transaction hash can never be mistaken for a block hash.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// A 32-byte SHA-256 digest, hex in JSON.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Hash32(#[serde(with = "custody_consensus::bytes::hex_array")] pub [u8; 32]);

impl Hash32 {
    /// The all-zero hash, used as "no previous event".
    pub const ZERO: Hash32 = Hash32([0; 32]);

    /// Hashes `parts` under a domain `tag`: `sha256(tag || 0x00 || parts...)`.
    pub fn tagged(tag: &str, parts: &[&[u8]]) -> Hash32 {
        let mut h = Sha256::new();
        h.update(tag.as_bytes());
        h.update([0u8]);
        for p in parts {
            h.update(p);
        }
        Hash32(h.finalize().into())
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex digits.
    pub fn from_hex(s: &str) -> Result<Hash32, hex::FromHexError> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s.trim(), &mut out)?;
        Ok(Hash32(out))
    }

    /// True for [`Hash32::ZERO`].
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 32]
    }
}

impl AsRef<[u8]> for Hash32 {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash32({}…)", &self.to_hex()[..12])
    }
}

/// Domain tags, one per kind of hashed object.
pub mod tag {
    /// A signed transaction.
    pub const TX: &str = "custody/tx/v1";
    /// The bytes a member signs for a transaction.
    pub const TX_SIGN: &str = "custody/tx-sign/v1";
    /// A block header.
    pub const BLOCK: &str = "custody/block/v1";
    /// An item history event.
    pub const EVENT: &str = "custody/event/v1";
    /// A genesis document.
    pub const GENESIS: &str = "custody/genesis/v1";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_separate_domains() {
        assert_ne!(Hash32::tagged("a", &[b"x"]), Hash32::tagged("b", &[b"x"]));
        assert_ne!(Hash32::tagged("a", &[b"x"]), Hash32::tagged("ax", &[]));
    }

    #[test]
    fn hex_round_trip() {
        let h = Hash32::tagged("t", &[b"data"]);
        assert_eq!(Hash32::from_hex(&h.to_hex()).unwrap(), h);
    }
}

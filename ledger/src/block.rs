//! Blocks: a header (with its format version) that commits to its parent and to its
//! transactions (`tx_root`), the ordered signed transactions, and the commit certificate
//! that makes it final.

use crate::encoding;
use crate::hash::{tag, Hash32};
use crate::merkle;
use crate::transaction::SignedTransaction;
use custody_consensus::{CertificateError, CommitCertificate, ValidatorIndex};
use serde::{Deserialize, Serialize};

/// A block's commit certificate: 2f+1 precommits over the block hash.
pub type BlockCertificate = CommitCertificate<Hash32>;

/// The block header format this build writes and accepts ([`BlockHeader::version`]).
pub const BLOCK_FORMAT_VERSION: u16 = 1;

/// The part of a block that is hashed and certified.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct BlockHeader {
    /// The header format ([`BLOCK_FORMAT_VERSION`]): first, so that any reader can tell
    /// which layout follows. Hashed and certified with the rest; a node refuses a block,
    /// and a verifier a header, of another version.
    pub version: u16,
    /// Chain id.
    pub chain_id: String,
    /// Height, from 1.
    pub height: u64,
    /// Hash of the previous header (the genesis hash for block 1).
    pub parent: Hash32,
    /// Proposer's time, Unix milliseconds; later than the parent's.
    pub time_ms: u64,
    /// The proposer's index in the validator set.
    pub proposer: ValidatorIndex,
    /// Merkle root over the transaction hashes.
    pub tx_root: Hash32,
    /// Number of transactions.
    pub tx_count: u32,
    /// Root of the sparse Merkle tree of every item's state after this block
    /// ([`crate::smt`], keyed by [`Smt::item_key`](crate::smt::Smt::item_key), valued by
    /// [`ItemState::leaf_hash`](crate::state::ItemState::leaf_hash)).
    pub state_root: Hash32,
}

impl BlockHeader {
    /// The block hash: what validators vote on.
    pub fn hash(&self) -> Hash32 {
        Hash32::tagged(tag::BLOCK, &[&encoding::encode(self)])
    }

    /// Checks that the header is of format [`BLOCK_FORMAT_VERSION`], the one this build
    /// reads: a header of another format is refused before anything else in it is trusted.
    pub fn check_version(&self) -> Result<(), HeaderError> {
        if self.version != BLOCK_FORMAT_VERSION {
            return Err(HeaderError::Version {
                found: self.version,
                supported: BLOCK_FORMAT_VERSION,
            });
        }
        Ok(())
    }
}

/// Why a header is not accepted: by a node ([`BlockHeader::check_version`]) or as decided
/// by a verifier with its certificate
/// ([`CertifiedHeader::verify`](crate::proof::CertifiedHeader::verify)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// Written in a block header format this build does not read.
    #[error("block header format version {found} is not supported; this build reads version {supported}")]
    Version {
        /// The header's version.
        found: u16,
        /// The one this build reads ([`BLOCK_FORMAT_VERSION`]).
        supported: u16,
    },
    /// The certificate does not prove the header was decided.
    #[error(transparent)]
    Certificate(#[from] CertificateError),
}

/// A header with its transactions.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Block {
    /// Header.
    pub header: BlockHeader,
    /// Transactions in order.
    pub txs: Vec<SignedTransaction>,
}

/// A block is not consistent with its header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// Transaction count differs.
    #[error("header says {header} transactions, block has {actual}")]
    TxCount {
        /// In the header.
        header: u32,
        /// In the block.
        actual: usize,
    },
    /// tx_root differs.
    #[error("tx_root does not match the block's transactions")]
    TxRoot,
}

impl Block {
    /// Assembles a block of format [`BLOCK_FORMAT_VERSION`], computing `tx_root` and
    /// `tx_count`; `state_root` is left empty (the empty tree's root) for
    /// [`Block::with_state_root`] to set.
    pub fn new(
        chain_id: &str,
        height: u64,
        parent: Hash32,
        time_ms: u64,
        proposer: ValidatorIndex,
        txs: Vec<SignedTransaction>,
    ) -> Block {
        let hashes: Vec<Hash32> = txs.iter().map(|t| t.hash()).collect();
        Block {
            header: BlockHeader {
                version: BLOCK_FORMAT_VERSION,
                chain_id: chain_id.to_string(),
                height,
                parent,
                time_ms,
                proposer,
                tx_root: merkle::tx_root(&hashes),
                tx_count: txs.len() as u32,
                state_root: crate::smt::Smt::empty_root(),
            },
            txs,
        }
    }

    /// The same block committing to `state_root`.
    pub fn with_state_root(mut self, state_root: Hash32) -> Block {
        self.header.state_root = state_root;
        self
    }

    /// The block hash.
    pub fn hash(&self) -> Hash32 {
        self.header.hash()
    }

    /// Its size in the canonical encoding, bytes (what [`ChainParams::max_block_bytes`]
    /// bounds). Computed from the parts, as the encoding lays them out: the header, the
    /// transaction count and each transaction.
    ///
    /// [`ChainParams::max_block_bytes`]: crate::genesis::ChainParams::max_block_bytes
    pub fn encoded_len(&self) -> usize {
        Block::encoded_len_of(&self.header, self.txs.iter().map(encoding::encoded_len))
    }

    /// The encoded size of a block with `header` and transactions of the given encoded
    /// sizes (lets a proposer stop adding transactions before the limit).
    pub fn encoded_len_of(header: &BlockHeader, tx_lens: impl IntoIterator<Item = usize>) -> usize {
        let (count, bytes) = tx_lens
            .into_iter()
            .fold((0u64, 0usize), |(n, b), l| (n + 1, b.saturating_add(l)));
        encoding::encoded_len(header)
            .saturating_add(encoding::encoded_len(&count))
            .saturating_add(bytes)
    }

    /// Hashes of its transactions, in order.
    pub fn tx_hashes(&self) -> Vec<Hash32> {
        self.txs.iter().map(|t| t.hash()).collect()
    }

    /// Checks the header's count and root against the transactions.
    pub fn check_body(&self) -> Result<(), BlockError> {
        if self.header.tx_count as usize != self.txs.len() {
            return Err(BlockError::TxCount {
                header: self.header.tx_count,
                actual: self.txs.len(),
            });
        }
        if merkle::tx_root(&self.tx_hashes()) != self.header.tx_root {
            return Err(BlockError::TxRoot);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::tests::{commission, Harness};

    #[test]
    fn encoded_len_is_the_length_of_the_canonical_encoding() {
        let h = Harness::new();
        let txs: Vec<SignedTransaction> = (0..3)
            .map(|i| {
                let serial = format!("{i}");
                h.sign("manufacturer", commission(&[serial.as_str()]))
            })
            .collect();
        for n in [0, 1, 3] {
            let b = Block::new("c", 7, Hash32::ZERO, 1, 0, txs[..n].to_vec());
            assert_eq!(b.encoded_len(), encoding::encode(&b).len(), "{n} txs");
        }
    }

    #[test]
    fn new_blocks_carry_the_format_version_first_and_it_is_hashed() {
        let mut b = Block::new("c", 7, Hash32::ZERO, 1, 0, vec![]);
        assert_eq!(b.header.version, BLOCK_FORMAT_VERSION);
        assert_eq!(
            encoding::encode(&b.header)[..1],
            [BLOCK_FORMAT_VERSION as u8]
        );
        assert_eq!(b.header.check_version(), Ok(()));
        let hash = b.hash();
        b.header.version = 2;
        assert_ne!(b.hash(), hash);
        let e = b.header.check_version().unwrap_err();
        assert_eq!(
            e,
            HeaderError::Version {
                found: 2,
                supported: BLOCK_FORMAT_VERSION
            }
        );
        assert_eq!(
            e.to_string(),
            "block header format version 2 is not supported; this build reads version 1"
        );
    }
}

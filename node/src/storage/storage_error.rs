//! Why storage failed. Every variant names the record or key involved: storage failure is
//! fatal to the node, and the operator needs to know where to look.

use custody_ledger::hash::Hash32;

/// A storage failure.
///
/// `Backend` and `Corrupt` are fatal (the node must stop); `NotNext`, `WrongParent` and
/// `BadBlock` mean the caller offered the wrong block and nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The key-value engine failed (IO error, lock held by another process, ...).
    #[error("storage backend failed: {0}")]
    Backend(String),
    /// A stored record or key could not be decoded.
    #[error("corrupt {what}: {detail}")]
    Corrupt {
        /// Which record or key (e.g. "item state of (01)…(21)…").
        what: String,
        /// What is wrong with it.
        detail: String,
    },
    /// The data directory was created for another chain.
    #[error(
        "data directory belongs to genesis {found}, but this node was started with genesis {expected}"
    )]
    GenesisMismatch {
        /// Hash of the genesis the node was started with.
        expected: Hash32,
        /// Hash recorded in the data directory.
        found: Hash32,
    },
    /// The data directory was written in another storage format (by another release of
    /// Custody). Nothing in it is read: there is no migration.
    #[error(
        "data folder was written in storage format {found}; this custody-node reads format {supported} (no migration: start from an empty data folder, or run the release that wrote it)"
    )]
    UnsupportedFormat {
        /// Version recorded in the data directory.
        found: u32,
        /// Version this build reads and writes.
        supported: u32,
    },
    /// The block is not at the next height.
    #[error("block at height {found} is not the next one: expected height {expected}")]
    NotNext {
        /// The next height (head + 1).
        expected: u64,
        /// The block's height.
        found: u64,
    },
    /// The block's parent is not the current head.
    #[error("block {height} names parent {found}, but the head (or genesis) hash is {expected}")]
    WrongParent {
        /// The block's height.
        height: u64,
        /// The head's hash (the genesis hash before block 1).
        expected: Hash32,
        /// The block's `parent`.
        found: Hash32,
    },
    /// The block, its certificate or its chain id do not fit together.
    #[error("block {height} is inconsistent: {detail}")]
    BadBlock {
        /// The block's height.
        height: u64,
        /// What does not fit.
        detail: String,
    },
    /// A variable-length key part is too long to be length-prefixed.
    #[error("{what} is {len} bytes, longer than a key part may be ({max})")]
    KeyTooLong {
        /// Which key part.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
}

impl StorageError {
    /// A [`StorageError::Corrupt`] for `what`.
    pub fn corrupt(what: impl Into<String>, detail: impl std::fmt::Display) -> Self {
        StorageError::Corrupt {
            what: what.into(),
            detail: detail.to_string(),
        }
    }
}

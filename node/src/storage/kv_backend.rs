//! The key-value backend trait: the only thing that differs between the sled store and the
//! in-memory one. Everything above it (keys, encoding, indexes, checks) is shared, so one
//! conformance suite covers both.

use crate::storage::storage_error::StorageError;

/// Key-value pairs, as scans return them.
pub type KvPairs = Vec<(Vec<u8>, Vec<u8>)>;

/// One operation of a [`WriteBatch`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BatchOp {
    /// Set `key` to `value`.
    Put {
        /// The key.
        key: Vec<u8>,
        /// The value.
        value: Vec<u8>,
    },
    /// Remove `key` (no effect if absent).
    Delete {
        /// The key.
        key: Vec<u8>,
    },
}

/// Puts and deletes applied together, in order: when a key appears twice, the later
/// operation wins.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteBatch {
    ops: Vec<BatchOp>,
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> Self {
        WriteBatch::default()
    }

    /// Adds a put.
    pub fn put(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.ops.push(BatchOp::Put {
            key: key.into(),
            value: value.into(),
        });
    }

    /// Adds a delete.
    pub fn delete(&mut self, key: impl Into<Vec<u8>>) {
        self.ops.push(BatchOp::Delete { key: key.into() });
    }

    /// The operations, in order.
    pub fn ops(&self) -> &[BatchOp] {
        &self.ops
    }

    /// Gives up the batch, returning its operations in order.
    pub fn into_ops(self) -> Vec<BatchOp> {
        self.ops
    }

    /// Number of operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// True if there are no operations.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

/// An ordered byte-key, byte-value store with atomic batches.
///
/// # Correctness
/// Implementations must guarantee:
/// - **Atomic batches.** [`write_batch`](Self::write_batch) applies all of its operations
///   or none, both for concurrent readers (a reader sees the state before or after the
///   batch, never part of it) and across a crash (recovery finds all or none of it).
/// - **Durable on `Ok`.** When `write_batch` returns `Ok`, the batch survives the process
///   being killed. (What survives power loss is the implementation's to document.)
/// - **Order.** Within a batch, a later operation on the same key wins.
/// - **Key order.** Scans return entries in ascending bytewise key order, only keys that
///   start with `prefix`, only keys strictly greater than `start_after` when given, and at
///   most `limit` entries.
/// - **Errors, not panics.** IO failures are [`StorageError::Backend`] naming the
///   operation; a backend never panics on stored data.
pub trait KvBackend: Send + Sync + 'static {
    /// The value of `key`.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError>;

    /// Up to `limit` entries whose key starts with `prefix`, in key order.
    fn scan_prefix(&self, prefix: &[u8], limit: usize) -> Result<KvPairs, StorageError> {
        self.scan_prefix_from(prefix, None, limit)
    }

    /// Up to `limit` entries whose key starts with `prefix` and is strictly greater than
    /// `start_after` (if given), in key order: a page of a prefix scan.
    fn scan_prefix_from(
        &self,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Result<KvPairs, StorageError>;

    /// Applies `batch` atomically and durably (see the trait's contract).
    fn write_batch(&self, batch: WriteBatch) -> Result<(), StorageError>;

    /// Bytes used on disk (for the in-memory backend: bytes of keys and values).
    fn size_on_disk(&self) -> Result<u64, StorageError>;
}

//! The sled backend: one sled database, one tree (the default one), every committed block
//! one `apply_batch` followed by `flush()`.
//!
//! Durability: sled 0.34's `flush` writes its log with `pwrite` and, on Linux,
//! `sync_file_range(WAIT_BEFORE | WRITE | WAIT_AFTER)` rather than `fsync`: the data reaches
//! the device, so a flushed batch survives the process being killed (`kill -9`) at any
//! moment, but file metadata and the device's write cache are not flushed, so surviving
//! power loss or a kernel crash is **not** promised.

use crate::storage::kv_backend::{BatchOp, KvBackend, KvPairs, WriteBatch};
use crate::storage::storage_error::StorageError;
use std::ops::Bound;
use std::path::{Path, PathBuf};

/// A [`KvBackend`] on a sled database in a directory.
#[derive(Debug)]
pub struct SledKv {
    db: sled::Db,
    path: PathBuf,
}

/// The page cache sled may use.
const CACHE_BYTES: u64 = 256 * 1024 * 1024;

impl SledKv {
    /// Opens (or creates) the database in `dir`. Fails if another process has it open.
    pub fn open(dir: &Path) -> Result<SledKv, StorageError> {
        let db = sled::Config::new()
            .path(dir)
            .mode(sled::Mode::HighThroughput)
            // sled's page cache, 1 GiB by default: a node's memory must stay well under
            // that with everything else it holds.
            .cache_capacity(CACHE_BYTES)
            .open()
            .map_err(|e| {
                StorageError::Backend(format!("opening sled database in {}: {e}", dir.display()))
            })?;
        Ok(SledKv {
            db,
            path: dir.to_path_buf(),
        })
    }

    /// Writes everything sled still buffers to its files: for a clean stop (every committed
    /// block is flushed already).
    pub fn flush(&self) -> Result<(), StorageError> {
        self.db
            .flush()
            .map(|_| ())
            .map_err(|e| self.fail("flush on stop", e))
    }

    /// The directory the database lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn fail(&self, op: &str, e: impl std::fmt::Display) -> StorageError {
        StorageError::Backend(format!("sled {op} in {}: {e}", self.path.display()))
    }
}

impl KvBackend for SledKv {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.db
            .get(key)
            .map(|v| v.map(|v| v.to_vec()))
            .map_err(|e| self.fail(&format!("get of key {}", hex::encode(key)), e))
    }

    fn scan_prefix_from(
        &self,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Result<KvPairs, StorageError> {
        let lower = match start_after {
            Some(s) if s >= prefix => Bound::Excluded(s),
            _ => Bound::Included(prefix),
        };
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        for entry in self.db.range::<&[u8], _>((lower, Bound::Unbounded)) {
            let (k, v) = entry
                .map_err(|e| self.fail(&format!("scan of prefix {}", hex::encode(prefix)), e))?;
            if !k.starts_with(prefix) {
                break;
            }
            out.push((k.to_vec(), v.to_vec()));
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    fn write_batch(&self, batch: WriteBatch) -> Result<(), StorageError> {
        let n = batch.len();
        let mut b = sled::Batch::default();
        for op in batch.into_ops() {
            match op {
                BatchOp::Put { key, value } => b.insert(key, value),
                BatchOp::Delete { key } => b.remove(key),
            }
        }
        self.db
            .apply_batch(b)
            .map_err(|e| self.fail(&format!("apply_batch of {n} operations"), e))?;
        self.db
            .flush()
            .map_err(|e| self.fail(&format!("flush after a batch of {n} operations"), e))?;
        Ok(())
    }

    fn size_on_disk(&self) -> Result<u64, StorageError> {
        self.db
            .size_on_disk()
            .map_err(|e| self.fail("size_on_disk", e))
    }
}

//! The in-memory backend: a `BTreeMap` behind a mutex. For tests and for tools that need a
//! throwaway ledger; nothing survives the process.

use crate::storage::kv_backend::{BatchOp, KvBackend, KvPairs, WriteBatch};
use crate::storage::storage_error::StorageError;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Mutex, MutexGuard};

/// An in-memory [`KvBackend`]. Batches are atomic (applied under one lock); "durable" means
/// only "visible to later reads in this process".
#[derive(Debug, Default)]
pub struct MemKv {
    map: Mutex<BTreeMap<Vec<u8>, Vec<u8>>>,
}

impl MemKv {
    /// An empty store.
    pub fn new() -> Self {
        MemKv::default()
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<Vec<u8>, Vec<u8>>> {
        // Nothing that runs under this lock panics (BTreeMap inserts and removes do not;
        // allocation failure aborts), so even a poisoned lock guards a consistent map.
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl KvBackend for MemKv {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.lock().get(key).cloned())
    }

    fn scan_prefix_from(
        &self,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Result<KvPairs, StorageError> {
        let map = self.lock();
        let lower = match start_after {
            Some(s) if s >= prefix => Bound::Excluded(s),
            _ => Bound::Included(prefix),
        };
        Ok(map
            .range::<[u8], _>((lower, Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
            .take(limit)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn write_batch(&self, batch: WriteBatch) -> Result<(), StorageError> {
        let mut map = self.lock();
        for op in batch.into_ops() {
            match op {
                BatchOp::Put { key, value } => {
                    map.insert(key, value);
                }
                BatchOp::Delete { key } => {
                    map.remove(&key);
                }
            }
        }
        Ok(())
    }

    fn size_on_disk(&self) -> Result<u64, StorageError> {
        Ok(self
            .lock()
            .iter()
            .map(|(k, v)| (k.len() + v.len()) as u64)
            .sum())
    }
}

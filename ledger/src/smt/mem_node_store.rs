//! [`MemNodeStore`]: tree nodes in a hash map, for tests and in-memory nodes.

use super::{Node, NodeStore, SmtError, SmtUpdate};
use crate::hash::Hash32;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Tree nodes in memory, keyed by node hash.
///
/// Keeps every version written to it unless told to [`MemNodeStore::prune`]; a store that
/// is pruned after each update holds exactly the nodes reachable from the latest root.
#[derive(Clone, Debug, Default)]
pub struct MemNodeStore {
    nodes: HashMap<Hash32, Node, BuildHasherDefault<PrefixHasher>>,
}

impl MemNodeStore {
    /// An empty store (holds the empty tree, whose root needs no node).
    pub fn new() -> MemNodeStore {
        MemNodeStore::default()
    }

    /// Stores `node` under `hash`.
    pub fn insert(&mut self, hash: Hash32, node: Node) {
        self.nodes.insert(hash, node);
    }

    /// Writes an update's new nodes, making its root readable; keeps the old ones.
    pub fn write(&mut self, update: &SmtUpdate) {
        self.nodes.reserve(update.new_nodes.len());
        for (hash, node) in &update.new_nodes {
            self.nodes.insert(*hash, *node);
        }
    }

    /// Removes an update's stale nodes: roots before it may become unreadable.
    pub fn prune(&mut self, update: &SmtUpdate) {
        for hash in &update.stale_nodes {
            self.nodes.remove(hash);
        }
    }

    /// Number of stored nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True if no node is stored.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Every stored node hash, in no particular order.
    pub fn hashes(&self) -> impl Iterator<Item = &Hash32> {
        self.nodes.keys()
    }
}

impl NodeStore for MemNodeStore {
    fn get(&self, hash: &Hash32) -> Result<Option<Node>, SmtError> {
        Ok(self.nodes.get(hash).copied())
    }
}

/// Hashes a [`Hash32`] map key by its first bytes. Node hashes are SHA-256 outputs, already
/// uniform, so this is enough; unlike the standard `RandomState` it draws no randomness,
/// which keeps the crate deterministic.
#[derive(Default)]
struct PrefixHasher(u64);

impl Hasher for PrefixHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut word = [0u8; 8];
        let n = bytes.len().min(8);
        word[..n].copy_from_slice(&bytes[..n]);
        self.0 =
            (self.0.rotate_left(29) ^ u64::from_le_bytes(word)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

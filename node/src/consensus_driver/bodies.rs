//! The bodies of blocks proposed at the current height, by hash: kept only for proposals the
//! state machine accepted from their round's proposer (so a validator that is not the
//! proposer cannot fill it), and for bodies the driver is waiting for. Shared with the
//! network side, which serves them to peers that ask for a body they lack (a proposal they
//! saw without it, or missed).
//!
//! Bounded in bytes: bodies nothing depends on (not validated, not ours, not awaited) are
//! refused past the bound; the ones that are *pinned* (validated, proposed by us, locked or
//! awaited) are bounded by the state machine itself, which accepts at most
//! `MAX_PROPOSALS_PER_ROUND` proposals per round, and only for a few rounds ahead.

use custody_ledger::block::Block;
use custody_ledger::hash::Hash32;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

struct Entry {
    block: Arc<Block>,
    bytes: usize,
    pinned: bool,
}

#[derive(Default)]
struct Inner {
    height: u64,
    map: HashMap<Hash32, Entry>,
    /// Bytes of the unpinned entries (what the bound applies to).
    unpinned: usize,
}

/// Proposed block bodies of one height.
pub struct ProposalBodies {
    inner: Mutex<Inner>,
    max_unpinned_bytes: usize,
}

impl ProposalBodies {
    /// An empty cache that refuses unpinned bodies past `max_unpinned_bytes` in all.
    pub fn new(max_unpinned_bytes: usize) -> ProposalBodies {
        ProposalBodies {
            inner: Mutex::new(Inner::default()),
            max_unpinned_bytes,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets every body and keeps only bodies of `height` from now on.
    pub fn reset(&self, height: u64) {
        let mut i = self.lock();
        i.height = height;
        i.map.clear();
        i.unpinned = 0;
    }

    /// Keeps `block` (of the current height). A pinned body is always kept; an unpinned one
    /// only while there is room. Returns whether it is kept.
    pub fn insert(&self, block: Arc<Block>, pinned: bool) -> bool {
        let mut i = self.lock();
        if block.header.height != i.height {
            return false;
        }
        let hash = block.hash();
        if pinned {
            if let Some(e) = i.map.get_mut(&hash) {
                if !e.pinned {
                    e.pinned = true;
                    let b = e.bytes;
                    i.unpinned -= b;
                }
                return true;
            }
        } else if i.map.contains_key(&hash) {
            return true;
        }
        let bytes = block.encoded_len();
        if !pinned {
            if i.unpinned.saturating_add(bytes) > self.max_unpinned_bytes {
                return false;
            }
            i.unpinned += bytes;
        }
        i.map.insert(
            hash,
            Entry {
                block,
                bytes,
                pinned,
            },
        );
        true
    }

    /// Marks a kept body as needed (validated, ours, locked or awaited).
    pub fn pin(&self, hash: &Hash32) {
        let mut i = self.lock();
        if let Some(e) = i.map.get_mut(hash) {
            if !e.pinned {
                e.pinned = true;
                let b = e.bytes;
                i.unpinned -= b;
            }
        }
    }

    /// Forgets one body (found invalid).
    pub fn remove(&self, hash: &Hash32) {
        let mut i = self.lock();
        if let Some(e) = i.map.remove(hash) {
            if !e.pinned {
                i.unpinned -= e.bytes;
            }
        }
    }

    /// The body with this hash, if kept.
    pub fn get(&self, hash: &Hash32) -> Option<Arc<Block>> {
        self.lock().map.get(hash).map(|e| Arc::clone(&e.block))
    }

    /// Whether the body with this hash is kept.
    pub fn contains(&self, hash: &Hash32) -> bool {
        self.lock().map.contains_key(hash)
    }

    /// Bodies and bytes kept now.
    #[cfg(test)]
    fn usage(&self) -> (usize, usize) {
        let i = self.lock();
        (i.map.len(), i.map.values().map(|e| e.bytes).sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(height: u64, time: u64) -> Arc<Block> {
        Arc::new(Block::new("c", height, Hash32::ZERO, time, 0, vec![]))
    }

    #[test]
    fn unpinned_bodies_are_refused_past_the_bound_pinned_ones_never() {
        let one = block(5, 1).encoded_len();
        let bodies = ProposalBodies::new(2 * one);
        bodies.reset(5);
        assert!(bodies.insert(block(5, 1), false));
        assert!(bodies.insert(block(5, 2), false));
        assert!(!bodies.insert(block(5, 3), false), "no room left");
        assert!(bodies.insert(block(5, 4), true), "a pinned body is kept");
        assert!(!bodies.insert(block(6, 5), true), "another height");
        bodies.pin(&block(5, 1).hash());
        assert!(
            bodies.insert(block(5, 6), false),
            "pinning freed unpinned room"
        );
        bodies.remove(&block(5, 2).hash());
        assert_eq!(bodies.usage().0, 3);
        assert!(bodies.get(&block(5, 4).hash()).is_some());
        bodies.reset(6);
        assert_eq!(bodies.usage(), (0, 0));
    }
}

//! [`SmtUpdate`] and [`Smt::update`]: a batch of changes to the tree, computed without
//! writing.

use super::node::leaf_hash;
use super::tree::load;
use super::{bit, Node, NodeStore, Smt, SmtError, KEY_BITS};
use crate::hash::Hash32;
use std::cmp::Reverse;

/// The result of [`Smt::update`]: the new root, the nodes to write for it and the nodes it no
/// longer reaches.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SmtUpdate {
    /// The tree's new root.
    pub root: Hash32,
    /// Nodes to write (each under its hash) before or atomically with recording `root`.
    /// Nodes the store already holds (an unchanged leaf that moved up or down) are not
    /// repeated.
    pub new_nodes: Vec<(Hash32, Node)>,
    /// Nodes reachable from the old root but not from the new one. A store that serves only
    /// the latest root may delete them; one that serves proofs at older roots must keep
    /// them. Nodes are shared between versions, never within one tree, so deleting these
    /// never breaks the new root.
    pub stale_nodes: Vec<Hash32>,
}

/// What a rebuilt subtree turned out to be; a parent needs it to collapse a lone leaf.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Empty,
    Leaf,
    Inner,
}

/// An entry to place: `(key, value)`.
type Entry = (Hash32, Hash32);
/// A change: `(key, Some(value))` to set, `(key, None)` to delete.
type Change = (Hash32, Option<Hash32>);

impl Smt {
    /// Applies a batch of changes to the tree `root`: `(key, Some(value))` inserts or
    /// replaces, `(key, None)` deletes (deleting an absent key does nothing). When a key
    /// appears more than once, its last change wins.
    ///
    /// Reads only the nodes on the changed keys' paths (and, where a delete collapses a
    /// subtree, the sibling it collapses into), so the cost is proportional to the number of
    /// changed keys times the depth, not to the size of the tree. An empty batch reads
    /// nothing and returns `root`. Writes nothing:
    /// the caller stores [`SmtUpdate::new_nodes`] (and may drop
    /// [`SmtUpdate::stale_nodes`]) in the same atomic batch as whatever records the root.
    ///
    /// The new root depends only on the resulting key → value set.
    pub fn update<S: NodeStore + ?Sized>(
        store: &S,
        root: Hash32,
        changes: &[(Hash32, Option<Hash32>)],
    ) -> Result<SmtUpdate, SmtError> {
        // Sort by key, the last change of each key first, then keep that one.
        let mut batch: Vec<(usize, Change)> = changes.iter().copied().enumerate().collect();
        batch.sort_unstable_by_key(|(i, (key, _))| (*key, Reverse(*i)));
        batch.dedup_by_key(|(_, (key, _))| *key);
        let batch: Vec<Change> = batch.into_iter().map(|(_, c)| c).collect();
        if batch.is_empty() {
            return Ok(SmtUpdate {
                root,
                new_nodes: Vec::new(),
                stale_nodes: Vec::new(),
            });
        }

        let mut updater = Updater {
            store,
            new_nodes: Vec::new(),
            stale_nodes: Vec::new(),
        };
        let (root, _) = updater.subtree(root, 0, &batch)?;
        Ok(SmtUpdate {
            root,
            new_nodes: updater.new_nodes,
            stale_nodes: updater.stale_nodes,
        })
    }
}

/// One update's walk: reads from `store`, collects what to write and what went stale.
struct Updater<'s, S: ?Sized> {
    store: &'s S,
    new_nodes: Vec<(Hash32, Node)>,
    stale_nodes: Vec<Hash32>,
}

impl<S: NodeStore + ?Sized> Updater<'_, S> {
    /// Applies `changes` (sorted, one per key, all under this subtree's path) to the subtree
    /// `at` at `depth`; returns its new hash and kind.
    fn subtree(
        &mut self,
        at: Hash32,
        depth: usize,
        changes: &[Change],
    ) -> Result<(Hash32, Kind), SmtError> {
        if at.is_zero() {
            let entries: Vec<Entry> = changes
                .iter()
                .filter_map(|(k, v)| v.map(|v| (*k, v)))
                .collect();
            return self.build(&entries, depth, None);
        }
        match load(self.store, &at)? {
            Node::Leaf { key, value } => self.merge_leaf(at, (key, value), depth, changes),
            Node::Inner { left, right } => {
                if depth >= KEY_BITS {
                    return Err(SmtError::TooDeep { key: changes[0].0 });
                }
                let split = changes.partition_point(|(k, _)| !bit(k, depth));
                let (to_left, to_right) = changes.split_at(split);
                let new_left = self.child(left, depth + 1, to_left)?;
                let new_right = self.child(right, depth + 1, to_right)?;
                if new_left.0 == left && new_right.0 == right {
                    return Ok((at, Kind::Inner));
                }
                self.stale_nodes.push(at);
                self.join(new_left, new_right)
            }
        }
    }

    /// A child subtree after its changes; an unchanged one keeps its hash and its kind is
    /// looked up only if its parent might collapse into it.
    fn child(
        &mut self,
        at: Hash32,
        depth: usize,
        changes: &[Change],
    ) -> Result<(Hash32, Option<Kind>), SmtError> {
        if changes.is_empty() {
            return Ok((at, None));
        }
        let (hash, kind) = self.subtree(at, depth, changes)?;
        Ok((hash, Some(kind)))
    }

    /// The subtree whose children became `left` and `right`: empty if both are empty, the
    /// leaf if one is empty and the other a leaf, otherwise a new inner node.
    fn join(
        &mut self,
        left: (Hash32, Option<Kind>),
        right: (Hash32, Option<Kind>),
    ) -> Result<(Hash32, Kind), SmtError> {
        let lone = match (left.0.is_zero(), right.0.is_zero()) {
            (true, true) => return Ok((Hash32::ZERO, Kind::Empty)),
            (true, false) => Some(right),
            (false, true) => Some(left),
            (false, false) => None,
        };
        if let Some((hash, kind)) = lone {
            let kind = match kind {
                Some(kind) => kind,
                None if load(self.store, &hash)?.is_leaf() => Kind::Leaf,
                None => Kind::Inner,
            };
            if kind == Kind::Leaf {
                return Ok((hash, Kind::Leaf));
            }
        }
        Ok(self.inner(left.0, right.0))
    }

    /// The subtree that held only the leaf `leaf` (stored under `at`), after `changes`.
    fn merge_leaf(
        &mut self,
        at: Hash32,
        leaf: Entry,
        depth: usize,
        changes: &[Change],
    ) -> Result<(Hash32, Kind), SmtError> {
        let found = changes.binary_search_by_key(&leaf.0, |(k, _)| *k);
        let mut entries: Vec<Entry> = Vec::with_capacity(changes.len() + 1);
        for (i, (k, v)) in changes.iter().enumerate() {
            if found == Err(i) {
                entries.push(leaf);
            }
            if let Some(v) = v {
                entries.push((*k, *v));
            }
        }
        if found == Err(changes.len()) {
            entries.push(leaf);
        }
        let kept = match found {
            Ok(i) => changes[i].1 == Some(leaf.1),
            Err(_) => true,
        };
        if !kept {
            self.stale_nodes.push(at);
        }
        self.build(&entries, depth, Some(at))
    }

    /// The subtree at `depth` holding exactly `entries` (sorted, distinct keys); `existing`
    /// is a leaf the store already holds, which is not written again.
    fn build(
        &mut self,
        entries: &[Entry],
        depth: usize,
        existing: Option<Hash32>,
    ) -> Result<(Hash32, Kind), SmtError> {
        match entries {
            [] => Ok((Hash32::ZERO, Kind::Empty)),
            [(key, value)] => {
                let hash = leaf_hash(key, value);
                if existing != Some(hash) {
                    self.new_nodes.push((
                        hash,
                        Node::Leaf {
                            key: *key,
                            value: *value,
                        },
                    ));
                }
                Ok((hash, Kind::Leaf))
            }
            _ => {
                // Distinct keys differ within 256 bits, so this holds for sorted, deduplicated
                // batches; a corrupt store could break it.
                if depth >= KEY_BITS {
                    return Err(SmtError::TooDeep { key: entries[0].0 });
                }
                let split = entries.partition_point(|(k, _)| !bit(k, depth));
                let (left, _) = self.build(&entries[..split], depth + 1, existing)?;
                let (right, _) = self.build(&entries[split..], depth + 1, existing)?;
                Ok(self.inner(left, right))
            }
        }
    }

    /// A new inner node over `left` and `right`, queued for writing.
    fn inner(&mut self, left: Hash32, right: Hash32) -> (Hash32, Kind) {
        let node = Node::Inner { left, right };
        let hash = node.hash();
        self.new_nodes.push((hash, node));
        (hash, Kind::Inner)
    }
}

//! [`Node`]: what the tree stores under a node hash.

use super::tag;
use crate::hash::Hash32;
use serde::{Deserialize, Serialize};

/// A stored node of the sparse Merkle tree, kept under its own [`Node::hash`].
///
/// Empty subtrees are [`Hash32::ZERO`] and are never stored.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum Node {
    /// A subtree holding two or more entries. A child is [`Hash32::ZERO`] when empty; at
    /// most one is, and then the other is an inner node.
    Inner {
        /// The subtree of keys whose next bit is 0.
        left: Hash32,
        /// The subtree of keys whose next bit is 1.
        right: Hash32,
    },
    /// A subtree holding exactly one entry.
    Leaf {
        /// The entry's key.
        key: Hash32,
        /// The entry's value (Custody: the hash of the item's encoded state).
        value: Hash32,
    },
}

impl Node {
    /// The node's hash, under which it is stored and which its parent holds.
    pub fn hash(&self) -> Hash32 {
        match self {
            Node::Inner { left, right } => inner_hash(left, right),
            Node::Leaf { key, value } => leaf_hash(key, value),
        }
    }

    /// True for [`Node::Leaf`].
    pub fn is_leaf(&self) -> bool {
        matches!(self, Node::Leaf { .. })
    }
}

/// `H("custody/smt-leaf/v1", key, value)`.
pub(crate) fn leaf_hash(key: &Hash32, value: &Hash32) -> Hash32 {
    Hash32::tagged(tag::LEAF, &[&key.0, &value.0])
}

/// `H("custody/smt-node/v1", left, right)`.
pub(crate) fn inner_hash(left: &Hash32, right: &Hash32) -> Hash32 {
    Hash32::tagged(tag::NODE, &[&left.0, &right.0])
}

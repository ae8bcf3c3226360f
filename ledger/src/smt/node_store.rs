//! [`NodeStore`]: where the tree reads its nodes from.

use super::{Node, SmtError};
use crate::hash::Hash32;

/// Read access to content-addressed tree nodes. The tree never writes: the caller writes
/// what [`Smt::update`](super::Smt::update) returns.
///
/// # Correctness
/// - `get(h)` returns exactly the node that was written under `h` (a node is written under
///   its own [`Node::hash`]), or `None` if no node was. The tree checks the hash of every
///   node it reads and reports a mismatch as [`SmtError::CorruptNode`].
/// - A root is usable only while every node reachable from it is present: write all of an
///   update's `new_nodes` before (or atomically with) recording its root, and delete
///   `stale_nodes` only once no root that still reaches them will be read.
/// - Backend failures are returned as [`SmtError::Store`]; they are fatal to the caller.
/// - The tree never asks for [`Hash32::ZERO`] (the empty subtree).
pub trait NodeStore {
    /// The node stored under `hash`, if any.
    fn get(&self, hash: &Hash32) -> Result<Option<Node>, SmtError>;
}

impl<S: NodeStore + ?Sized> NodeStore for &S {
    fn get(&self, hash: &Hash32) -> Result<Option<Node>, SmtError> {
        (**self).get(hash)
    }
}

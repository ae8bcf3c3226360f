//! The authenticated map behind every block header's `state_root`: a binary sparse Merkle
//! tree over 256-bit keys with compressed paths.
//!
//! # Shape
//! - Keys are [`Hash32`]s, read most significant bit first: bit `d` chooses the child at
//!   depth `d` (0 = left). Custody keys items by [`Smt::item_key`].
//! - An empty subtree is the constant [`Hash32::ZERO`] and is never stored.
//! - A subtree holding exactly one entry is that entry's leaf, wherever it sits:
//!   `leaf = H("custody/smt-leaf/v1", key, value)`. So a tree of `n` random keys is about
//!   `log2(n)` deep, not 256.
//! - A subtree holding two or more entries is an inner node
//!   `H("custody/smt-node/v1", left, right)`; one of the children may be empty when all the
//!   entries share the next bit (a long common prefix makes a chain of such nodes).
//!
//! The shape is canonical: the root is a pure function of the key → value set, independent
//! of insertion order, batching and history (deletes collapse a subtree left with one entry
//! back into its leaf).
//!
//! # Storage
//! Nodes are content-addressed (stored under their own hash) and read through the
//! [`NodeStore`] trait. [`Smt::update`] never writes: it returns the nodes to write and the
//! nodes the new root no longer reaches ([`SmtUpdate`]), so the caller can put them in the
//! same atomic batch as the block. [`MemNodeStore`] keeps them in memory.
//!
//! # Proofs
//! [`Smt::prove`] gives one [`SmtProof`] for membership (key → value) and non-membership
//! (the key's path ends in an empty subtree or in another key's leaf); [`SmtProof::verify`]
//! checks it against a root alone, with no store.
//!
//! This module must stay pure like the rest of the crate: no IO, no clock, no randomness.

mod error;
mod mem_node_store;
mod node;
mod node_store;
mod proof;
mod tree;
mod update;

pub use error::{ProofDefect, SmtError};
pub use mem_node_store::MemNodeStore;
pub use node::Node;
pub use node_store::NodeStore;
pub use proof::SmtProof;
pub use tree::Smt;
pub use update::SmtUpdate;

#[cfg(test)]
mod tests;

/// Domain tags of the tree's hashes.
pub mod tag {
    /// A leaf: `H(LEAF, key, value)`.
    pub const LEAF: &str = "custody/smt-leaf/v1";
    /// An inner node: `H(NODE, left, right)`.
    pub const NODE: &str = "custody/smt-node/v1";
    /// An item's key: `H(KEY, item_id.key_bytes())`.
    pub const KEY: &str = "custody/smt-key/v1";
}

/// Number of bits in a key, and so the greatest depth a leaf can sit at.
pub const KEY_BITS: usize = 256;

use crate::hash::Hash32;

/// Bit `depth` of `key`, most significant bit of byte 0 first; `false` is left.
///
/// Callers keep `depth < KEY_BITS`.
pub(crate) fn bit(key: &Hash32, depth: usize) -> bool {
    (key.0[depth / 8] >> (7 - depth % 8)) & 1 == 1
}

/// True if `a` and `b` agree on their first `bits` bits.
pub(crate) fn same_prefix(a: &Hash32, b: &Hash32, bits: usize) -> bool {
    let whole = bits / 8;
    if a.0[..whole] != b.0[..whole] {
        return false;
    }
    let rest = bits % 8;
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    (a.0[whole] ^ b.0[whole]) & mask == 0
}

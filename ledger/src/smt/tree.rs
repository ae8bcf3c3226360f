//! [`Smt`]: reading the tree — lookups and proofs. Updates are in `update.rs`.

use super::{bit, tag, Node, NodeStore, SmtError, SmtProof, KEY_BITS};
use crate::gs1::ItemId;
use crate::hash::Hash32;

/// The sparse Merkle tree's operations. A tree is named by its root hash and read from a
/// [`NodeStore`]; `Smt` itself holds nothing.
///
/// See the [module docs](super) for the shape and the hashes.
#[derive(Clone, Copy, Debug)]
pub struct Smt;

impl Smt {
    /// The root of the empty tree: [`Hash32::ZERO`].
    pub fn empty_root() -> Hash32 {
        Hash32::ZERO
    }

    /// The key Custody files an item under: `H("custody/smt-key/v1", item_id.key_bytes())`.
    pub fn item_key(item_id: &ItemId) -> Hash32 {
        Hash32::tagged(tag::KEY, &[&item_id.key_bytes()])
    }

    /// The value stored under `key` in the tree `root`, or `None` if absent.
    ///
    /// Reads one node per level of the key's path.
    pub fn get<S: NodeStore + ?Sized>(
        store: &S,
        root: Hash32,
        key: &Hash32,
    ) -> Result<Option<Hash32>, SmtError> {
        let mut at = root;
        let mut depth = 0;
        loop {
            if at.is_zero() {
                return Ok(None);
            }
            match load(store, &at)? {
                Node::Leaf { key: k, value } => return Ok((k == *key).then_some(value)),
                Node::Inner { left, right } => {
                    if depth >= KEY_BITS {
                        return Err(SmtError::TooDeep { key: *key });
                    }
                    at = if bit(key, depth) { right } else { left };
                    depth += 1;
                }
            }
        }
    }

    /// A proof of what the tree `root` holds under `key`: its value, or that it has none.
    ///
    /// Reads one node per level of the key's path.
    pub fn prove<S: NodeStore + ?Sized>(
        store: &S,
        root: Hash32,
        key: &Hash32,
    ) -> Result<SmtProof, SmtError> {
        let mut siblings = Vec::new();
        let mut at = root;
        let leaf = loop {
            if at.is_zero() {
                break None;
            }
            match load(store, &at)? {
                Node::Leaf { key: k, value } => break Some((k, value)),
                Node::Inner { left, right } => {
                    if siblings.len() >= KEY_BITS {
                        return Err(SmtError::TooDeep { key: *key });
                    }
                    let (next, sibling) = if bit(key, siblings.len()) {
                        (right, left)
                    } else {
                        (left, right)
                    };
                    siblings.push(sibling);
                    at = next;
                }
            }
        };
        Ok(SmtProof::from_path(&siblings, leaf))
    }
}

/// Reads the node stored under `hash` and checks that it hashes to `hash`.
pub(super) fn load<S: NodeStore + ?Sized>(store: &S, hash: &Hash32) -> Result<Node, SmtError> {
    let node = store.get(hash)?.ok_or(SmtError::MissingNode(*hash))?;
    let found = node.hash();
    if found != *hash {
        return Err(SmtError::CorruptNode {
            expected: *hash,
            found,
        });
    }
    Ok(node)
}

//! [`SmtProof`]: what the tree holds under one key, checkable against the root alone.

use super::node::{inner_hash, leaf_hash};
use super::{bit, same_prefix, ProofDefect, SmtError, KEY_BITS};
use crate::hash::Hash32;
use serde::{Deserialize, Serialize};

/// A proof that a tree with a given root holds `key → value`, or holds nothing under `key`.
///
/// It is the key's path from the root down to where it ends — in the key's leaf
/// (membership), in an empty subtree, or in another key's leaf (non-membership) — as the
/// siblings met on the way. Empty siblings are left out and marked in a bitmap, so the proof
/// is about `depth / 8 + 32 × non-empty siblings (+ 64 for a leaf)` bytes: for random keys,
/// `log2(n)` siblings.
///
/// Every encoding is canonical: [`SmtProof::verify`] rejects stray bitmap bits, a bitmap or
/// sibling list of the wrong length, and paths a canonical tree cannot have, so no two
/// encodings verify to the same answer.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct SmtProof {
    /// Levels from the root to where the path ends (0 = the root itself is empty or a leaf).
    pub(super) depth: u16,
    /// Bit `i` (most significant bit of byte 0 first) is set if the sibling at depth `i` is
    /// not empty; `ceil(depth / 8)` bytes, unused bits zero.
    pub(super) non_empty: Vec<u8>,
    /// The non-empty siblings, root side first.
    pub(super) siblings: Vec<Hash32>,
    /// The leaf the path ends in as `(key, value)`, or `None` for an empty subtree.
    pub(super) leaf: Option<(Hash32, Hash32)>,
}

impl SmtProof {
    /// Builds a proof from the siblings met from the root down (`Hash32::ZERO` for empty
    /// ones) and the leaf the path ends in.
    pub(super) fn from_path(path: &[Hash32], leaf: Option<(Hash32, Hash32)>) -> SmtProof {
        let mut non_empty = vec![0u8; path.len().div_ceil(8)];
        let mut siblings = Vec::new();
        for (i, sibling) in path.iter().enumerate() {
            if !sibling.is_zero() {
                non_empty[i / 8] |= 0x80 >> (i % 8);
                siblings.push(*sibling);
            }
        }
        SmtProof {
            depth: u16::try_from(path.len()).expect("a path has at most 256 levels"),
            non_empty,
            siblings,
            leaf,
        }
    }

    /// Levels from the root to where the path ends.
    pub fn depth(&self) -> usize {
        usize::from(self.depth)
    }

    /// The leaf the path ends in as `(key, value)`: the key's own for a membership proof,
    /// another key's or `None` (an empty subtree) for a non-membership proof. Unverified.
    pub fn leaf(&self) -> Option<(Hash32, Hash32)> {
        self.leaf
    }

    /// The siblings from the root down, [`Hash32::ZERO`] for empty ones. Unverified; only
    /// meaningful for a proof that passes the length checks of [`SmtProof::verify`].
    pub fn siblings(&self) -> Vec<Hash32> {
        let mut listed = self.siblings.iter();
        (0..self.depth())
            .map(|i| {
                if self.marked(i) {
                    listed.next().copied().unwrap_or(Hash32::ZERO)
                } else {
                    Hash32::ZERO
                }
            })
            .collect()
    }

    fn marked(&self, level: usize) -> bool {
        self.non_empty
            .get(level / 8)
            .is_some_and(|b| b & (0x80 >> (level % 8)) != 0)
    }

    /// Checks the proof for `key` against `root`: `Ok(Some(value))` if the tree holds
    /// `key → value`, `Ok(None)` if it holds nothing under `key`, and
    /// [`SmtError::BadProof`] if the proof does not lead to `root` along `key`'s path.
    ///
    /// Needs no store: this is what an offline verifier calls.
    pub fn verify(&self, root: &Hash32, key: &Hash32) -> Result<Option<Hash32>, SmtError> {
        let bad = |defect| SmtError::BadProof { key: *key, defect };
        let depth = self.depth();
        if depth > KEY_BITS {
            return Err(bad(ProofDefect::TooDeep(self.depth)));
        }
        if self.non_empty.len() != depth.div_ceil(8) {
            return Err(bad(ProofDefect::BitmapLength {
                depth: self.depth,
                expected: depth.div_ceil(8),
                found: self.non_empty.len(),
            }));
        }
        let padding = match depth % 8 {
            0 => 0,
            used => 0xffu8 >> used,
        };
        if padding != 0 && self.non_empty[depth / 8] & padding != 0 {
            return Err(bad(ProofDefect::BitmapPadding));
        }
        let marked: usize = self.non_empty.iter().map(|b| b.count_ones() as usize).sum();
        if marked != self.siblings.len() {
            return Err(bad(ProofDefect::SiblingCount {
                marked,
                present: self.siblings.len(),
            }));
        }
        // A lone leaf or an empty subtree beside an empty sibling would have been collapsed
        // into its parent.
        if depth > 0 && !self.marked(depth - 1) {
            return Err(bad(ProofDefect::NotCanonical));
        }
        let (mut at, answer) = match &self.leaf {
            None => (Hash32::ZERO, None),
            Some((k, v)) if k == key => (leaf_hash(k, v), Some(*v)),
            Some((k, v)) => {
                if !same_prefix(k, key, depth) {
                    return Err(bad(ProofDefect::LeafOffPath { leaf: *k }));
                }
                (leaf_hash(k, v), None)
            }
        };
        let mut listed = self.siblings.iter().rev();
        for level in (0..depth).rev() {
            let sibling = if self.marked(level) {
                *listed
                    .next()
                    .expect("the bitmap marks exactly as many siblings as are listed")
            } else {
                Hash32::ZERO
            };
            at = if bit(key, level) {
                inner_hash(&sibling, &at)
            } else {
                inner_hash(&at, &sibling)
            };
        }
        if at != *root {
            return Err(bad(ProofDefect::RootMismatch {
                computed: at,
                expected: *root,
            }));
        }
        Ok(answer)
    }

    /// Checks that the proof shows `key → value` under `root`.
    pub fn verify_member(
        &self,
        root: &Hash32,
        key: &Hash32,
        value: &Hash32,
    ) -> Result<(), SmtError> {
        let bad = |defect| SmtError::BadProof { key: *key, defect };
        match self.verify(root, key)? {
            Some(v) if v == *value => Ok(()),
            Some(v) => Err(bad(ProofDefect::OtherValue {
                found: v,
                expected: *value,
            })),
            None => Err(bad(ProofDefect::Absent)),
        }
    }

    /// Checks that the proof shows nothing under `key` in `root`.
    pub fn verify_absent(&self, root: &Hash32, key: &Hash32) -> Result<(), SmtError> {
        match self.verify(root, key)? {
            None => Ok(()),
            Some(v) => Err(SmtError::BadProof {
                key: *key,
                defect: ProofDefect::Present(v),
            }),
        }
    }
}

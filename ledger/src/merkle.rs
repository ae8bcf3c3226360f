//! Merkle roots over transaction hashes (merkle-cbt's complete binary tree with SHA-256),
//! with domain separation: leaves and inner nodes are hashed under different tags, so an
//! inner node can never be passed off as a leaf (second-preimage attack).

use crate::hash::Hash32;
use merkle_cbt::merkle_tree::Merge;
use merkle_cbt::{MerkleProof, CBMT};
use serde::{Deserialize, Serialize};

const LEAF_TAG: &str = "custody/merkle-leaf/v1";
const NODE_TAG: &str = "custody/merkle-node/v1";

/// merkle-cbt merge with the inner-node tag.
pub struct MergeSha256;

impl Merge for MergeSha256 {
    type Item = Hash32;
    fn merge(left: &Hash32, right: &Hash32) -> Hash32 {
        Hash32::tagged(NODE_TAG, &[&left.0, &right.0])
    }
}

type Tree = CBMT<Hash32, MergeSha256>;

/// The leaf hash of a transaction hash.
pub fn leaf(tx_hash: &Hash32) -> Hash32 {
    Hash32::tagged(LEAF_TAG, &[&tx_hash.0])
}

/// The Merkle root over `tx_hashes` in block order; zero for an empty block.
pub fn tx_root(tx_hashes: &[Hash32]) -> Hash32 {
    if tx_hashes.is_empty() {
        return Hash32::ZERO;
    }
    let leaves: Vec<Hash32> = tx_hashes.iter().map(leaf).collect();
    Tree::build_merkle_root(&leaves)
}

/// Proof that one transaction is at `index` among `leaf_count` in a block.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct InclusionProof {
    /// Position of the transaction in the block.
    pub index: u32,
    /// Number of transactions in the block.
    pub leaf_count: u32,
    /// Sibling hashes from the leaf up.
    pub lemmas: Vec<Hash32>,
}

/// Builds the inclusion proof of `tx_hashes[index]`.
pub fn prove(tx_hashes: &[Hash32], index: u32) -> Option<InclusionProof> {
    if index as usize >= tx_hashes.len() {
        return None;
    }
    let leaves: Vec<Hash32> = tx_hashes.iter().map(leaf).collect();
    let p = Tree::build_merkle_proof(&leaves, &[index])?;
    Some(InclusionProof {
        index,
        leaf_count: u32::try_from(tx_hashes.len()).ok()?,
        lemmas: p.lemmas().to_vec(),
    })
}

/// True if `proof` shows `tx_hash` at `proof.index` under `root`.
pub fn verify(root: &Hash32, tx_hash: &Hash32, proof: &InclusionProof) -> bool {
    if proof.leaf_count == 0 || proof.index >= proof.leaf_count {
        return false;
    }
    // Position of the leaf in merkle-cbt's array layout: leaves follow the n - 1 inner nodes.
    // The proof comes from outside (a bundle file): a count past u32's half has no such
    // position, so it proves nothing rather than overflowing.
    let Some(tree_index) = (proof.leaf_count - 1).checked_add(proof.index) else {
        return false;
    };
    let p: MerkleProof<Hash32, MergeSha256> =
        MerkleProof::new(vec![tree_index], proof.lemmas.clone());
    p.verify(root, &[leaf(tx_hash)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hashes(n: usize) -> Vec<Hash32> {
        (0..n)
            .map(|i| Hash32::tagged("t", &[&(i as u64).to_be_bytes()]))
            .collect()
    }

    #[test]
    fn leaf_and_node_are_separated() {
        let h = hashes(2);
        // The root of two leaves is not the leaf hash of anything a caller can pass.
        let root = tx_root(&h);
        assert_ne!(root, MergeSha256::merge(&h[0], &h[1]));
        assert_ne!(tx_root(&h[..1]), h[0]);
    }

    proptest! {
        #[test]
        fn every_leaf_proves_and_no_other(n in 1usize..40, pick in 0usize..40) {
            let h = hashes(n);
            let root = tx_root(&h);
            let i = pick % n;
            let p = prove(&h, i as u32).unwrap();
            prop_assert!(verify(&root, &h[i], &p));
            // Wrong leaf, wrong position, wrong root all fail.
            let other = Hash32::tagged("other", &[]);
            prop_assert!(!verify(&root, &other, &p));
            if n > 1 {
                let mut q = p.clone();
                q.index = ((i + 1) % n) as u32;
                prop_assert!(!verify(&root, &h[i], &q) || h[i] == h[(i + 1) % n]);
            }
            prop_assert!(!verify(&other, &h[i], &p));
        }
    }
}

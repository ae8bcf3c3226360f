//! [`SmtError`]: why a tree operation or a proof check failed.

use crate::hash::Hash32;

/// Why a sparse Merkle tree operation failed.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
pub enum SmtError {
    /// A node reachable from the root is not in the store: the store is incomplete or
    /// corrupt (or the root is not one this store holds).
    #[error("tree node {0} is missing from the node store")]
    MissingNode(Hash32),
    /// The store returned a node that does not hash to the hash it was asked for.
    #[error(
        "the node store returned a node hashing to {found} for {expected}: the store is corrupt"
    )]
    CorruptNode {
        /// The hash asked for.
        expected: Hash32,
        /// The hash of what came back.
        found: Hash32,
    },
    /// Following the nodes goes deeper than 256 levels: the store is corrupt.
    #[error("the path to key {key} goes deeper than 256 levels: the node store is corrupt")]
    TooDeep {
        /// The key being looked up, proven or updated.
        key: Hash32,
    },
    /// The storage backend failed.
    #[error("node store failure: {0}")]
    Store(String),
    /// A proof does not show what it was checked for.
    #[error("bad state proof for key {key}: {defect}")]
    BadProof {
        /// The key the proof was checked for.
        key: Hash32,
        /// What is wrong with it.
        defect: ProofDefect,
    },
}

/// What is wrong with a rejected [`SmtProof`](super::SmtProof).
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
pub enum ProofDefect {
    /// The path is longer than a key has bits.
    #[error("path depth {0} exceeds 256")]
    TooDeep(u16),
    /// The bitmap of non-empty siblings does not have one bit per level.
    #[error("sibling bitmap has {found} bytes, a path of depth {depth} needs {expected}")]
    BitmapLength {
        /// The path depth.
        depth: u16,
        /// Bytes needed.
        expected: usize,
        /// Bytes present.
        found: usize,
    },
    /// The bitmap has bits set past the path depth.
    #[error("sibling bitmap has bits set past the path depth")]
    BitmapPadding,
    /// The bitmap and the sibling list disagree on how many siblings are non-empty.
    #[error("sibling bitmap marks {marked} non-empty siblings, the proof has {present}")]
    SiblingCount {
        /// Set bits in the bitmap.
        marked: usize,
        /// Siblings listed.
        present: usize,
    },
    /// The path ends below an empty sibling, which a canonical tree would have collapsed.
    #[error("the path ends below an empty sibling (not a canonical tree)")]
    NotCanonical,
    /// The leaf the path ends in is not on the key's path.
    #[error("the proof's leaf {leaf} is not on the key's path")]
    LeafOffPath {
        /// The leaf's key.
        leaf: Hash32,
    },
    /// Hashing the path up does not give the root.
    #[error("the proof hashes to root {computed}, not {expected}")]
    RootMismatch {
        /// The root the proof leads to.
        computed: Hash32,
        /// The root it was checked against.
        expected: Hash32,
    },
    /// A membership check found the key absent.
    #[error("the proof shows the key absent")]
    Absent,
    /// A membership check found the key with another value.
    #[error("the proof shows value {found}, not {expected}")]
    OtherValue {
        /// The value the proof shows.
        found: Hash32,
        /// The value checked for.
        expected: Hash32,
    },
    /// A non-membership check found the key present.
    #[error("the proof shows the key present with value {0}")]
    Present(Hash32),
}

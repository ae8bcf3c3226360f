//! The provenance bundle: one self-contained file that proves an item's state and whole
//! history (or that it was never commissioned) to anyone holding the genesis file.
//!
//! # File format (version 1)
//!
//! `MAGIC` (the 8 bytes `CUSTODY\x01`) followed by the canonical encoding
//! ([`crate::encoding`], bincode 2) of a [`ProofBundle`]:
//!
//! | field | what |
//! | --- | --- |
//! | `version` | 1 |
//! | `chain_id`, `genesis_hash` | the chain it is about |
//! | `item` | the identifier (canonical element string) |
//! | `headers` | every block header the proofs need, ascending, each with its commit certificate |
//! | `state` | the height of the state proof, the item's state there (absent for a serial never commissioned) and its sparse-Merkle proof against that header's `state_root` |
//! | `events` | every history event, oldest first, each with the signed transaction that caused it and its inclusion proof against its block's `tx_root` |
//!
//! A bundle is read only in its canonical encoding: decoding then re-encoding must give the
//! same bytes, so no two files mean the same bundle.

use crate::encoding;
use crate::gs1::ItemId;
use crate::hash::Hash32;
use crate::merkle::InclusionProof;
use crate::proof::header_chain::CertifiedHeader;
use crate::smt::SmtProof;
use crate::state::{ItemEvent, ItemState};
use crate::transaction::SignedTransaction;
use serde::{Deserialize, Serialize};

/// The first bytes of every bundle file.
pub const MAGIC: &[u8; 8] = b"CUSTODY\x01";
/// The bundle format version this code writes and reads.
pub const VERSION: u32 = 1;

/// An item's state at some height, with its proof against that height's state root.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateProof {
    /// Height of the header whose `state_root` the proof is against.
    pub height: u64,
    /// The item's state there; `None` proves it was never commissioned.
    pub state: Option<ItemState>,
    /// Membership (or absence) proof.
    pub proof: SmtProof,
}

/// One history event with the transaction that caused it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventProof {
    /// The event.
    pub event: ItemEvent,
    /// The signed transaction (its hash is `event.tx`).
    pub tx: SignedTransaction,
    /// Its inclusion in the block at `event.height`.
    pub inclusion: InclusionProof,
}

/// A provenance bundle (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofBundle {
    /// Format version.
    pub version: u32,
    /// Chain id.
    pub chain_id: String,
    /// Hash of the genesis the chain started from.
    pub genesis_hash: Hash32,
    /// The item.
    pub item: ItemId,
    /// Certified headers, ascending by height.
    pub headers: Vec<CertifiedHeader>,
    /// The item's state and its proof.
    pub state: StateProof,
    /// The item's history, oldest first.
    pub events: Vec<EventProof>,
}

/// A file that is not a bundle this code can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleFormatError {
    /// Wrong magic bytes.
    #[error("not a Custody proof bundle (bad magic bytes)")]
    Magic,
    /// Undecodable.
    #[error("malformed bundle: {0}")]
    Malformed(String),
    /// Decodes, but not from its canonical encoding.
    #[error("bundle is not in canonical encoding")]
    NotCanonical,
    /// Another format version.
    #[error("bundle format version {0} is not supported (this reader knows {VERSION})")]
    Version(u32),
}

impl ProofBundle {
    /// The file bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&encoding::encode(self));
        out
    }

    /// Reads a bundle file, accepting only its canonical encoding.
    pub fn from_bytes(bytes: &[u8]) -> Result<ProofBundle, BundleFormatError> {
        let body = bytes.strip_prefix(MAGIC).ok_or(BundleFormatError::Magic)?;
        let bundle: ProofBundle =
            encoding::decode(body).map_err(|e| BundleFormatError::Malformed(e.to_string()))?;
        if encoding::encode(&bundle) != body {
            return Err(BundleFormatError::NotCanonical);
        }
        if bundle.version != VERSION {
            return Err(BundleFormatError::Version(bundle.version));
        }
        Ok(bundle)
    }

    /// The header at `height`, if the bundle carries it.
    pub fn header(&self, height: u64) -> Option<&CertifiedHeader> {
        self.headers
            .binary_search_by_key(&height, |h| h.header.height)
            .ok()
            .and_then(|i| self.headers.get(i))
    }
}

//! The provenance bundle: one self-contained file that proves an item's state and whole
//! history (or that it was never commissioned) to anyone holding the genesis file.
//!
//! # File format (version 2)
//!
//! `MAGIC` (the 8 bytes `CUSTODY\x01`) followed by the canonical encoding
//! ([`crate::encoding`], bincode 2) of a [`ProofBundle`]:
//!
//! | field | what |
//! | --- | --- |
//! | `version` | 2 |
//! | `chain_id`, `genesis_hash` | the chain it is about |
//! | `item` | the identifier (canonical element string) |
//! | `headers` | every block header the proofs need, ascending, each with its commit certificate |
//! | `state` | the height every state proof is against, the item's own state there (absent for a serial never commissioned) and its sparse-Merkle proof against that header's `state_root` |
//! | `events` | the item's own history, oldest first |
//! | `containers` | every case or pallet its story passes through (the containers of those too), by SSCC: its state and proof at the same height and its whole history — a unit's custody, place and shipments while packed are its outermost container's |
//! | `lot` | for a unit: its lot's record (expiry, recall) and proof at the same height |
//! | `transactions` | every transaction the events and the lot's recall name, once each, ascending by block and position, with its inclusion proof against its block's `tx_root` |
//!
//! Version 1 (before containers and lots were proven) is refused by name.
//!
//! A bundle is read only in its canonical encoding: decoding then re-encoding must give the
//! same bytes, so no two files mean the same bundle.

use crate::encoding;
use crate::gs1::ItemId;
use crate::hash::Hash32;
use crate::merkle::InclusionProof;
use crate::proof::header_chain::CertifiedHeader;
use crate::smt::SmtProof;
use crate::state::{ItemEvent, ItemState, LotRecord};
use crate::transaction::SignedTransaction;
use serde::{Deserialize, Serialize};

/// The first bytes of every bundle file.
pub const MAGIC: &[u8; 8] = b"CUSTODY\x01";
/// The bundle format version this code writes and reads.
pub const VERSION: u32 = 2;

/// An item's own state at some height, with its proof against that height's state root.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateProof {
    /// Height of the header whose `state_root` every proof of the bundle is against.
    pub height: u64,
    /// The item's state there; `None` proves it was never commissioned.
    pub state: Option<ItemState>,
    /// Membership (or absence) proof.
    pub proof: SmtProof,
}

/// A case or pallet of the item's story: its state, proof and whole history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerProof {
    /// Its state at the bundle's height.
    pub state: ItemState,
    /// Its membership proof.
    pub proof: SmtProof,
    /// Its history, oldest first.
    pub events: Vec<ItemEvent>,
}

/// A unit's lot record with its proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotProof {
    /// The record at the bundle's height.
    pub record: LotRecord,
    /// Its membership proof.
    pub proof: SmtProof,
}

/// A transaction with where it is on the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxProof {
    /// The signed transaction.
    pub tx: SignedTransaction,
    /// The height of its block.
    pub height: u64,
    /// Its inclusion in that block (`inclusion.index` is its position).
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
    /// The item's own state and its proof.
    pub state: StateProof,
    /// The item's own history, oldest first.
    pub events: Vec<ItemEvent>,
    /// The containers of its story, ascending by SSCC.
    pub containers: Vec<ContainerProof>,
    /// A unit's lot.
    pub lot: Option<LotProof>,
    /// The transactions named, ascending by (height, position).
    pub transactions: Vec<TxProof>,
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
        // The version leads the encoding (a varint of it is one byte for any version so
        // far): another version is refused by name, not as a malformed file.
        if let Some(&v) = body.first() {
            if u32::from(v) != VERSION && v < 251 {
                return Err(BundleFormatError::Version(u32::from(v)));
            }
        }
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

//! Verification that needs nothing but the genesis file: chains of certified block headers
//! (a regulator following a network it does not trust) and provenance bundles (an item's
//! proven state and whole history, or proof it was never commissioned). Pure; no node, no
//! network, so a regulator's verifier can embed it anywhere.

mod bundle;
mod bundle_verify;
mod header_chain;

pub use bundle::{
    BundleFormatError, ContainerProof, LotProof, ProofBundle, StateProof, TxProof, MAGIC, VERSION,
};
pub use bundle_verify::{verify_bundle, verify_bundle_bytes, BundleError, Provenance};
pub use header_chain::{verify_header_chain, CertifiedHeader, ChainError};

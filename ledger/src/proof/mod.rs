//! Verification that needs nothing but the genesis file: chains of certified block headers
//! (a regulator following a network it does not trust). Pure; no node, no network.

mod header_chain;

pub use header_chain::{verify_header_chain, CertifiedHeader, ChainError};

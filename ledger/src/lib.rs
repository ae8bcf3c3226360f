//! Custody's domain model: GS1 identifiers, members and genesis, signed transactions, the
//! ledger rules that turn a transaction into state changes, blocks with Merkle roots, and
//! (later) provenance proofs and their offline verification.
//!
//! This crate must stay pure: no IO, no clock, no randomness, no async runtime, no storage
//! engine. Everything here is a function of its inputs, so a regulator's verifier can embed
//! it anywhere.

pub mod block;
pub mod crypto;
pub mod encoding;
pub mod genesis;
pub mod gs1;
pub mod hash;
pub mod merkle;
pub mod proof;
pub mod smt;
pub mod state;
pub mod time;
pub mod transaction;
